#!/usr/bin/env bash
# Baseline image (Packer): xrdp gives a separate XFCE session per RDP connection (the agent's
# own session :0 is reached with Moonlight instead).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends xrdp xorgxrdp
adduser xrdp ssl-cert
printf 'startxfce4\n' >/etc/skel/.xsession
# Started by boot.sh with the other services.
systemctl disable xrdp.service || true
