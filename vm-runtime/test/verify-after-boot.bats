#!/usr/bin/env bats
# verify.sh against what the real boot.sh and run-updates.sh leave behind, in the boot
# sandbox (helpers/sandbox.bash): proves the two sides agree on the environment contract
# (mount point, first-boot marker, boot-completed record, bind mounts, .env, update ledger).
# Display, GPU, binaries, ports and the gateway have nothing real behind them in this
# sandbox; verify.bats covers those checks with its own stubs.
#
# shellcheck disable=SC2154 # $stderr is set by `run --separate-stderr`

bats_require_minimum_version 1.5.0

load helpers/sandbox

VERIFY="$BATS_TEST_DIRNAME/../lifecycle/verify.sh"

setup() {
  setup_sandbox
  # A size without a GPU: no IMDS request leaves the sandbox.
  export CLAW_VM_SIZE=Standard_D4s_v5
  # A minute per check, not the default 10 s: on a loaded machine a stub can wait that long for a core.
  export CLAW_CHECK_TIMEOUT=60
}

verify_json() {
  run --separate-stderr "$VERIFY" --json
}

# not_passing GROUP...: "id=status" of every check in GROUPs that did not pass.
not_passing() {
  local groups
  groups=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
  jq -r --argjson g "$groups" 'select(.group as $x | $g | index($x)) | select(.status != "pass") | "\(.id)=\(.status)"' <<<"$output"
}

CONTRACT_GROUPS=(disk boot config secrets updates)

@test "a claw booted by boot.sh passes every check of the disk, boot, config, secrets and updates groups" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  verify_json
  [ -z "$(not_passing "${CONTRACT_GROUPS[@]}")" ] || { not_passing "${CONTRACT_GROUPS[@]}" >&2; false; }
  # every shipped update script was counted as applied
  local shipped
  shipped=$(find "$CLAW_UPDATES_DIR" -name '[0-9][0-9][0-9]-*.sh' | wc -l)
  [ "$shipped" -ge 1 ]
  [ "$(jq -r 'select(.id == "updates.applied") | .label' <<<"$output")" = "Update scripts applied ($shipped)" ]
}

@test "after a reboot and before boot.sh has run again, verify reports the disk unmounted and boot not completed" {
  make_disk sdc
  boot
  reboot_vm
  verify_json
  [ "$status" -eq 1 ]
  [ "$(jq -r 'select(.id == "disk.mounted") | .status' <<<"$output")" = fail ]
  [ "$(jq -r 'select(.id == "boot.completed") | .status' <<<"$output")" = fail ]
  [[ $(jq -r 'select(.id == "boot.completed") | .detail' <<<"$output") == *"this is boot $(cat "$CLAW_BOOT_ID_FILE")"* ]]
  boot
  verify_json
  [ -z "$(not_passing "${CONTRACT_GROUPS[@]}")" ]
}

@test "an update script that fails at boot is named by verify" {
  printf '#!/bin/bash\necho broken >&2\nexit 4\n' >"$CLAW_UPDATES_DIR/900-broken.sh"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  verify_json
  [ "$(not_passing "${CONTRACT_GROUPS[@]}")" = "updates.applied=fail" ]
  [[ $(jq -r 'select(.id == "updates.applied") | .detail' <<<"$output") == "failed: 900-broken.sh (exit 4) "* ]]
}

@test "a boot without a data disk is reported with the reason boot.sh recorded" {
  boot
  [ "$status" -eq 2 ]
  verify_json
  [[ $(jq -r 'select(.id == "boot.completed") | .detail' <<<"$output") == "boot.sh failed during this boot: no data disk at LUN 0"* ]]
}

# mounted_instead TARGET LABEL: what is mounted at TARGET is replaced (the mount stub's record).
mounted_instead() {
  sed -i "\|^$1\t|d" "$STUB_STATE/mounts"
  printf '%s\t%s\n' "$1" "$2" >>"$STUB_STATE/mounts"
}

@test "verify accepts the filesystem boot.sh mounted from LUN 0 and nothing else at the mount point" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  verify_json
  [ "$(jq -r 'select(.id == "disk.mounted") | .status' <<<"$output")" = pass ]

  mounted_instead "$CLAW_DATA_MOUNT" tmpfs
  verify_json
  [ "$(not_passing disk)" = "disk.mounted=fail" ]
  [[ $(jq -r 'select(.id == "disk.mounted") | .detail' <<<"$output") == "$CLAW_DATA_MOUNT holds tmpfs (tmpfs, no UUID), not LUN 0's filesystem (UUID $(cat "$STUB_STATE/devices/sdc/uuid") on $CLAW_LUN0_PATH)" ]]

  # another managed disk's filesystem (attached at another LUN) mounted by hand
  make_device sdd ext4
  mounted_instead "$CLAW_DATA_MOUNT" "UUID=$(cat "$STUB_STATE/devices/sdd/uuid")"
  verify_json
  [ "$(not_passing disk)" = "disk.mounted=fail" ]
  [[ $(jq -r 'select(.id == "disk.mounted") | .detail' <<<"$output") == "$CLAW_DATA_MOUNT holds $SANDBOX/dev/sdd (ext4, UUID $(cat "$STUB_STATE/devices/sdd/uuid")), not LUN 0's"* ]]
}

@test "verify accepts a partitioned data disk's only partition, which boot.sh mounted" {
  make_disk sdc
  echo gpt >"$STUB_STATE/devices/sdc/pttype"
  make_device sdc1 ext4
  printf '%s disk\n%s part\n' "$CLAW_LUN0_PATH" "$SANDBOX/dev/sdc1" >"$STUB_STATE/devices/sdc/lsblk"
  boot
  [ "$status" -eq 0 ]
  verify_json
  [ -z "$(not_passing "${CONTRACT_GROUPS[@]}")" ] || { not_passing "${CONTRACT_GROUPS[@]}" >&2; false; }
}
