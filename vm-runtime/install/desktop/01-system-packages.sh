#!/usr/bin/env bash
# Baseline image (Packer): the desktop and the tools boot.sh calls. Packages come from the
# Ubuntu archive of the base image's release; third-party software is pinned in
# versions.env. Run as root with CLAW_INSTALL_DIR pointing at a copy of vm-runtime/install.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  xfce4 xfce4-goodies xfce4-terminal dbus-x11 lightdm lightdm-gtk-greeter \
  xserver-xorg-core xserver-xorg-video-dummy x11-xserver-utils \
  ca-certificates curl gnupg jq git unzip build-essential \
  e2fsprogs xfsprogs util-linux cloud-guest-utils \
  fonts-noto fonts-noto-color-emoji pulseaudio
# The display manager is started by boot.sh once the data disk is in place.
systemctl disable lightdm.service || true
# Package timers that restart services under a running agent (a known cause of tailnet
# flaps); updates come with new images and app-layer pins instead.
systemctl disable --now apt-daily.timer apt-daily-upgrade.timer unattended-upgrades.service || true
