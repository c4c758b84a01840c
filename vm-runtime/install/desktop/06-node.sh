#!/usr/bin/env bash
# Baseline image (Packer): Node.js from NodeSource at the pinned version (the runtime of
# OpenClaw and Claude Code, and what 08-openclaw-npm.sh installs them with).
set -euo pipefail
: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
# shellcheck source=../lib/pinned-download.sh
source "$CLAW_INSTALL_DIR/lib/pinned-download.sh"
# shellcheck source=../lib/pinned-apt.sh
source "$CLAW_INSTALL_DIR/lib/pinned-apt.sh"
load_versions

install_pinned_key nodesource "$NODESOURCE_KEY_URL" "$NODESOURCE_KEY_FINGERPRINTS"
add_apt_source nodesource "https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
apt-get update -q
apt_install_pinned nodejs "$NODE_VERSION"
node --version
record_in_image "NODE_VERSION=$NODE_VERSION"
