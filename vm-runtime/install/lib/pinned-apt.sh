# shellcheck shell=bash
# Third-party apt repositories trusted through a signing key pinned by fingerprint.
# Sourced by install/os/*.sh and install/desktop/*.sh.

: "${CLAW_APT_KEYRINGS:=/etc/apt/keyrings}"
: "${CLAW_APT_SOURCES:=/etc/apt/sources.list.d}"

ubuntu_codename() {
  local codename
  # shellcheck source=/dev/null
  codename=$(. "${CLAW_OS_RELEASE:-/etc/os-release}" && printf '%s' "${VERSION_CODENAME:-}")
  [[ -n "$codename" ]] || {
    echo "cannot tell the Ubuntu codename from ${CLAW_OS_RELEASE:-/etc/os-release}" >&2
    return 1
  }
  printf '%s\n' "$codename"
}

# Primary-key fingerprints of an OpenPGP key file (armored or binary), one per line.
primary_fingerprints() {
  gpg --batch --show-keys --with-colons -- "$1" 2>/dev/null |
    awk -F: '$1 == "pub" { want = 1; next } $1 == "sub" { want = 0; next } $1 == "fpr" && want { print $10; want = 0 }'
}

# install_pinned_key NAME URL "FPR [FPR...]": downloads the key, refuses it unless every
# primary key in it is one of the pinned fingerprints, installs it as a keyring.
install_pinned_key() {
  local name=$1 url=$2 allowed=$3 tmp fpr found=0
  tmp=$(mktemp -d)
  curl -fsSL --retry 3 --proto '=https' -o "$tmp/key" -- "$url"
  while IFS= read -r fpr; do
    found=$((found + 1))
    if [[ " $allowed " != *" $fpr "* ]]; then
      echo "refusing the $name signing key from $url: primary key $fpr is not pinned ($allowed)" >&2
      rm -rf -- "$tmp"
      return 1
    fi
  done < <(primary_fingerprints "$tmp/key")
  if ((found == 0)); then
    echo "refusing the $name signing key from $url: no OpenPGP key in it" >&2
    rm -rf -- "$tmp"
    return 1
  fi
  mkdir -p "$CLAW_APT_KEYRINGS"
  if grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$tmp/key"; then
    gpg --batch --yes --dearmor -o "$tmp/key.gpg" -- "$tmp/key"
  else
    cp -- "$tmp/key" "$tmp/key.gpg"
  fi
  install -m 0644 -- "$tmp/key.gpg" "$CLAW_APT_KEYRINGS/$name.gpg"
  rm -rf -- "$tmp"
}

# add_apt_source NAME "deb-line-without-signed-by-options" (URL SUITE COMPONENTS).
add_apt_source() {
  local name=$1 rest=$2
  mkdir -p "$CLAW_APT_SOURCES"
  printf 'deb [arch=amd64 signed-by=%s/%s.gpg] %s\n' "$CLAW_APT_KEYRINGS" "$name" "$rest" \
    >"$CLAW_APT_SOURCES/$name.list"
}

# apt_install_pinned PACKAGE VERSION: exactly that version, then held so unattended
# upgrades do not move it.
apt_install_pinned() {
  local package=$1 version=$2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades \
    "$package=$version"
  apt-mark hold "$package" >/dev/null
}
