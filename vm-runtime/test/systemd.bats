#!/usr/bin/env bats
# The shipped systemd units, read as systemd reads their ordering. No systemd runs here, so
# these check the unit files' text for the two orderings a boot depends on.

UNITS="$BATS_TEST_DIRNAME/../systemd"

# Every unit named in After= lines of FILE, one per line.
after_of() {
  sed -n 's/^After=//p' "$1" | tr ' ' '\n' | sed '/^$/d'
}

@test "no unit that boot.sh starts is ordered after claw-boot.service, which would deadlock the boot" {
  # boot.sh runs inside claw-boot.service's start job and waits for each `systemctl start`.
  # A unit ordered After=claw-boot.service queues its start job behind that running job,
  # so boot.sh would wait for itself until TimeoutStartSec kills it.
  for unit in "$UNITS"/*.service; do
    [[ "${unit##*/}" == claw-boot.service ]] && continue
    if after_of "$unit" | grep -qxF claw-boot.service; then
      echo "${unit##*/} is ordered After=claw-boot.service" >&2
      return 1
    fi
  done
}

@test "claw-boot.service waits for the Azure resource disk's mount at /mnt, above the data disk's mount point" {
  # cloud-init mounts the resource disk at /mnt with nofail,_netdev, so no target orders it;
  # mounted after boot.sh, it would hide /mnt/claw-data.
  after_of "$UNITS/claw-boot.service" | grep -qxF mnt.mount
}
