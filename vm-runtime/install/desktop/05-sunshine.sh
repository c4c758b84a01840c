#!/usr/bin/env bash
# Baseline image (Packer): Sunshine, the Moonlight host that streams display :0. A release
# .deb at the version pinned in versions.env, installed only when its sha256 matches.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
set -a
# shellcheck source=../versions.env
source "$CLAW_INSTALL_DIR/versions.env"
set +a

if [[ ! "${SUNSHINE_DEB_SHA256:-}" =~ ^[0-9a-f]{64}$ ]]; then
  echo "SUNSHINE_DEB_SHA256 is not set in versions.env: refusing to install an unverified Sunshine $SUNSHINE_VERSION" >&2
  echo "fix: set it to the sha256 of $SUNSHINE_DEB_URL" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
curl -fsSL --retry 3 --proto '=https' -o "$tmp/sunshine.deb" -- "$SUNSHINE_DEB_URL"
echo "$SUNSHINE_DEB_SHA256  $tmp/sunshine.deb" | sha256sum --check --strict -
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "$tmp/sunshine.deb"
apt-mark hold sunshine >/dev/null
