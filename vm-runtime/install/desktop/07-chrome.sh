#!/usr/bin/env bash
# Google Chrome at the pinned version: the agent's browser on display :0.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?run by install-app-layer.sh}" "${CHROME_VERSION:?}"
# shellcheck source=../lib/pinned-apt.sh
source "$CLAW_INSTALL_DIR/lib/pinned-apt.sh"

install_pinned_key google-chrome "$GOOGLE_KEY_URL" "$GOOGLE_KEY_FINGERPRINTS"
add_apt_source google-chrome "https://dl.google.com/linux/chrome/deb/ stable main"
apt-get update -q
apt_install_pinned google-chrome-stable "$CHROME_VERSION"
# Chrome's package re-adds its own source list on install/upgrade; ours (signed-by the
# pinned key) is the one that counts.
rm -f "${CLAW_APT_SOURCES}/google-chrome.list.save"
