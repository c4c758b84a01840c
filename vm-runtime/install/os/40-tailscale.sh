#!/usr/bin/env bash
# Tailscale at the pinned version. boot.sh joins the tailnet when a key is set.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?run by install-app-layer.sh}" "${TAILSCALE_VERSION:?}"
# shellcheck source=../lib/pinned-apt.sh
source "$CLAW_INSTALL_DIR/lib/pinned-apt.sh"

codename=$(ubuntu_codename)
install_pinned_key tailscale "$TAILSCALE_KEY_URL_BASE/$codename.noarmor.gpg" "$TAILSCALE_KEY_FINGERPRINTS"
add_apt_source tailscale "$TAILSCALE_KEY_URL_BASE $codename main"
apt-get update -q
apt_install_pinned tailscale "$TAILSCALE_VERSION"
systemctl enable --now tailscaled.service
