#!/usr/bin/env bash
# Baseline image (Packer): Google Chrome, the agent's browser on display :0, from the .deb
# pinned in versions.env and installed only when its sha256 matches. Baked, not installed per
# VM: Google's repository keeps only the current stable build, so a pin installed on every VM
# creation would stop installing (fleet-wide) the day Google moves on. The image keeps it.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
# shellcheck source=../lib/pinned-download.sh
source "$CLAW_INSTALL_DIR/lib/pinned-download.sh"
load_versions

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
fetch_verified "Google Chrome $CHROME_VERSION" "$CHROME_DEB_URL" CHROME_DEB_SHA256 "$tmp/google-chrome.deb"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "$tmp/google-chrome.deb"
apt-mark hold google-chrome-stable >/dev/null
# The package adds Google's apt source for its own updates; the image is the update path
# (a new pin, a new bake), so the source goes.
sources=${CLAW_APT_SOURCES:-/etc/apt/sources.list.d}
rm -f -- "$sources/google-chrome.list" "$sources/google-chrome.list.save"
record_in_image "CHROME_VERSION=$CHROME_VERSION" "CHROME_DEB_SHA256=$CHROME_DEB_SHA256"
