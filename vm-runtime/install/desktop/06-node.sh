#!/usr/bin/env bash
# Node.js from NodeSource at the pinned version (the runtime of OpenClaw and Claude Code).
set -euo pipefail
: "${CLAW_INSTALL_DIR:?run by install-app-layer.sh}" "${NODE_MAJOR:?}" "${NODE_VERSION:?}"
# shellcheck source=../lib/pinned-apt.sh
source "$CLAW_INSTALL_DIR/lib/pinned-apt.sh"

install_pinned_key nodesource "$NODESOURCE_KEY_URL" "$NODESOURCE_KEY_FINGERPRINTS"
add_apt_source nodesource "https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
apt-get update -q
apt_install_pinned nodejs "$NODE_VERSION"
node --version
