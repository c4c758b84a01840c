#!/usr/bin/env bash
# build-image.sh OUT VERSIONS_ENV [DEFECT]: builds the image layer of one gallery image
# version, the stand-in for what the Packer bake installs: the desktop and service stand-ins
# (image/), Node, Chrome, OpenClaw and Claude Code at the versions pinned in VERSIONS_ENV
# (vm-runtime/install/versions.env at the time of the "bake"), and for the app layer cloud-init
# installs on each VM an offline apt repository holding exactly the pinned Tailscale, behind a
# throwaway signing key. DEFECT (optional) breaks one part on purpose:
#   xrdp   the xrdp stand-in exits at start (services.xrdp and network.port-3389 fail)
set -euo pipefail
OUT=$1 VERSIONS=$2 DEFECT=${3:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[[ -r $VERSIONS ]] || { echo "build-image: cannot read $VERSIONS" >&2; exit 1; }
rm -rf -- "$OUT"
mkdir -p "$OUT"
cp -a "$HERE/image/." "$OUT/"
# The host's /usr/local is not part of the image: an opaque directory hides the lower layer's.
# Likewise the host's systemd units and their enablement: the guest runs the image's units only.
python3 -c 'import os, sys; [os.setxattr(p, "trusted.overlay.opaque", b"y") for p in sys.argv[1:]]' \
  "$OUT/usr/local" "$OUT/etc/systemd/system"

set -a
# shellcheck source=/dev/null
source "$VERSIONS"
set +a
lib=$OUT/usr/lib/local-azure-guest
mkdir -p "$lib/apt" "$lib/npm" "$lib/keys"

# place KIND NAME VERSION TEMPLATE [SOURCE]: copies a package template with @VERSION@ (and the
# Node versions) filled in.
place() {
  local kind=$1 name=$2 version=$3 template=$4 source=${5:-} dest
  if [[ $kind == apt ]]; then
    dest=$lib/apt/$name/$version/root
    mkdir -p "$dest"
    printf '%s\n' "$source" >"$lib/apt/$name/source"
  else
    dest=$lib/npm/$name/$version
    mkdir -p "$dest"
  fi
  cp -a "$HERE/packages/$template/." "$dest/"
  find "$dest" -type f -exec sed -i \
    -e "s/@VERSION@/$version/g" -e "s/@NODE_SEMVER@/${NODE_VERSION%%-*}/g" -e "s/@NPM_VERSION@/11.6.2/g" {} +
}

place apt tailscale "$TAILSCALE_VERSION" tailscale "$TAILSCALE_KEY_URL_BASE"

# What the Packer bake installs into the image (vm-runtime/install/desktop): Node, Chrome and
# the npm tree of OpenClaw and Claude Code at the pinned versions, and the record of those pins
# the app layer reads back (install/lib/pinned-download.sh, record_in_image).
bake_in() {
  local version=$1 template=$2 tmp
  tmp=$(mktemp -d)
  cp -a "$HERE/packages/$template/." "$tmp/"
  find "$tmp" -type f -exec sed -i \
    -e "s/@VERSION@/$version/g" -e "s/@NODE_SEMVER@/${NODE_VERSION%%-*}/g" -e "s/@NPM_VERSION@/11.6.2/g" {} +
  cp -a "$tmp/." "$OUT/"
  rm -rf -- "$tmp"
}
for pair in "$NODE_VERSION:nodejs" "$CHROME_VERSION:google-chrome-stable" "$OPENCLAW_VERSION:openclaw" "$CLAUDE_CODE_VERSION:claude-code"; do
  bake_in "${pair%%:*}" "${pair##*:}"
done
mkdir -p "$OUT/usr/lib/claw"
printf '%s\n' "NODE_VERSION=$NODE_VERSION" "CHROME_VERSION=$CHROME_VERSION" "OPENCLAW_VERSION=$OPENCLAW_VERSION" \
  "CLAUDE_CODE_VERSION=$CLAUDE_CODE_VERSION" "NPM_LOCK_SHA256=$NPM_LOCK_SHA256" >"$OUT/usr/lib/claw/image.env"

# One throwaway signing key per repository, served at the key URL versions.env names.
gnupg=$(mktemp -d)
trap 'rm -rf -- "$gnupg"' EXIT
: >"$lib/keys.tsv"
: >"$lib/fingerprints.tsv"
key() {
  local name=$1 pattern=$2 pinned=$3 armor=$4 fpr file
  gpg --batch --quiet --homedir "$gnupg" --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "local-azure stand-in for the $name repository" ed25519 sign never 2>/dev/null
  fpr=$(gpg --batch --homedir "$gnupg" --with-colons --list-keys "stand-in for the $name" 2>/dev/null |
    awk -F: '$1 == "fpr" { print $10; exit }')
  file=/usr/lib/local-azure-guest/keys/$name.gpg
  if [[ $armor == armor ]]; then
    gpg --batch --homedir "$gnupg" --armor --export "$fpr" >"$OUT$file"
  else
    gpg --batch --homedir "$gnupg" --export "$fpr" >"$OUT$file"
  fi
  printf '%s\t%s\n' "$pattern" "$file" >>"$lib/keys.tsv"
  printf '%s\t%s\n' "$fpr" "${pinned%% *}" >>"$lib/fingerprints.tsv"
}
key tailscale "$TAILSCALE_KEY_URL_BASE/*.noarmor.gpg" "$TAILSCALE_KEY_FINGERPRINTS" binary

case $DEFECT in
  '') ;;
  xrdp)
    cat >"$OUT/usr/sbin/xrdp" <<'XRDP'
#!/bin/bash
# Defective image: xrdp cannot start.
echo "xrdp: error loading /etc/xrdp/rsakeys.ini: No such file or directory" >&2
exit 1
XRDP
    ;;
  *) echo "build-image: unknown defect '$DEFECT' (known: xrdp)" >&2; exit 2 ;;
esac
