#!/usr/bin/env bash
# Baseline image (Packer): Sunshine, the Moonlight host that streams display :0. A release
# .deb at the version pinned in versions.env, installed only when its sha256 matches.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
# shellcheck source=../lib/pinned-download.sh
source "$CLAW_INSTALL_DIR/lib/pinned-download.sh"
load_versions

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
fetch_verified "Sunshine $SUNSHINE_VERSION" "$SUNSHINE_DEB_URL" SUNSHINE_DEB_SHA256 "$tmp/sunshine.deb"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "$tmp/sunshine.deb"
apt-mark hold sunshine >/dev/null
record_in_image "SUNSHINE_VERSION=$SUNSHINE_VERSION" "SUNSHINE_DEB_SHA256=$SUNSHINE_DEB_SHA256"
