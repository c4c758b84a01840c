#!/usr/bin/env bash
# Baseline image (Packer): display :0 always exists, with or without a GPU. Sizes without a
# display-capable GPU use the dummy X driver at a fixed resolution; the autologin user is
# written by boot.sh (it is the manifest's admin_username, not known at bake time).
set -euo pipefail

install -d -m 0755 /etc/X11/xorg.conf.d /etc/lightdm/lightdm.conf.d
if ! lspci 2>/dev/null | grep -Eqi 'vga|display|3d controller'; then
  cat >/etc/X11/xorg.conf.d/10-claw-dummy.conf <<'CONF'
Section "Device"
    Identifier  "ClawDummy"
    Driver      "dummy"
    VideoRam    256000
EndSection
Section "Monitor"
    Identifier  "ClawMonitor"
    HorizSync   28.0-80.0
    VertRefresh 48.0-75.0
    Modeline    "1920x1080" 172.80 1920 2040 2248 2576 1080 1081 1084 1118
EndSection
Section "Screen"
    Identifier  "ClawScreen"
    Device      "ClawDummy"
    Monitor     "ClawMonitor"
    DefaultDepth 24
    SubSection "Display"
        Depth   24
        Modes   "1920x1080"
    EndSubSection
EndSection
CONF
fi
cat >/etc/lightdm/lightdm.conf.d/50-claw-session.conf <<'CONF'
[Seat:*]
user-session=xfce
autologin-session=xfce
CONF
# The screen must not lock under the agent.
install -d -m 0755 /etc/xdg/autostart
cat >/etc/xdg/autostart/claw-no-blank.desktop <<'CONF'
[Desktop Entry]
Type=Application
Name=Keep display :0 awake
Exec=sh -c 'xset s off; xset -dpms; xset s noblank'
CONF
