#!/usr/bin/env bats
# run-updates.sh and its ledger, through boot.sh (as on a VM) and on its own.

load helpers/sandbox

setup() {
  setup_sandbox
  rm -f "$CLAW_UPDATES_DIR"/*.sh
}

# add_update NAME: an update that appends its name to $CLAW_DATA_MOUNT/ran, once per run.
add_update() {
  # shellcheck disable=SC2016 # expanded by the update script, not here
  printf '#!/usr/bin/env bash\nset -eu\necho "%s" >>"$CLAW_DATA_MOUNT/ran"\n' "$1" >"$CLAW_UPDATES_DIR/$1"
}

run_updates() {
  run "$VM_RUNTIME/lifecycle/run-updates.sh"
}

@test "a new update script is applied once, however many boots follow" {
  add_update 001-first.sh
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  fs=$(disk_fs sdc)
  [ "$(cat "$fs/ran")" = 001-first.sh ]

  add_update 002-new.sh
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  [ "$(cat "$fs/ran")" = "$(printf '001-first.sh\n002-new.sh')" ]
  ok="$fs/.claw-updates/002-new.sh.ok"
  assert_file_contains "$ok" "sha256=$(sha256sum "$CLAW_UPDATES_DIR/002-new.sh" | cut -d' ' -f1)"
  grep -q '^applied_at=20[0-9][0-9]-' "$ok"
}

@test "a seed-era disk (high-water mark 017) is migrated into the ledger and nothing re-runs" {
  for name in 001-tools.sh 016-chrome-flags.sh 017-gateway-plugin.sh 017-lcm-db.sh 018-new-here.sh; do
    add_update "$name"
  done
  make_disk sdc ext4
  fs=$(disk_fs sdc)
  mkdir -p "$fs/openclaw" "$fs/workspace"
  printf '{"seed":true}\n' >"$fs/openclaw/openclaw.json"
  printf '017\n' >"$fs/update-version.txt"

  boot
  [ "$status" -eq 0 ]
  ledger="$fs/.claw-updates"
  for name in 001-tools.sh 016-chrome-flags.sh 017-gateway-plugin.sh 017-lcm-db.sh; do
    assert_file_contains "$ledger/$name.ok" "migrated_from=update-version.txt:017"
  done
  assert_file_contains "$ledger/018-new-here.sh.ok" "sha256="
  [ "$(cat "$fs/ran")" = 018-new-here.sh ]
  [ "$(cat "$ledger/.seed-high-water-mark")" = 017 ]
  # The seed's files are kept as they were: the disk is adopted, not seeded.
  [ "$(cat "$fs/update-version.txt")" = 017 ]
  [ "$(cat "$fs/openclaw/openclaw.json")" = '{"seed":true}' ]
  assert_file_contains "$fs/.claw-initialized" "how=adopted"

  reboot_vm
  boot
  [ "$status" -eq 0 ]
  [ "$(cat "$fs/ran")" = 018-new-here.sh ]
}

@test "a failed update is tried again at the next boot and recorded applied once it passes" {
  # shellcheck disable=SC2016 # expanded by the update script, not here
  printf '#!/usr/bin/env bash\n[ -e "$CLAW_DATA_MOUNT/fixed" ] || { echo "not yet" >&2; exit 3; }\necho "done"\n' \
    >"$CLAW_UPDATES_DIR/001-flaky.sh"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  ledger="$(disk_fs sdc)/.claw-updates"
  assert_file_contains "$ledger/001-flaky.sh.failed" "exit_code=3"
  assert_file_contains "$ledger/001-flaky.sh.log" "not yet"

  touch "$(disk_fs sdc)/fixed"
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  [ -f "$ledger/001-flaky.sh.ok" ]
  [ ! -e "$ledger/001-flaky.sh.failed" ]
  assert_file_contains "$ledger/001-flaky.sh.log" "done"
}

@test "scripts that share a number run in name order" {
  add_update 017-b.sh
  add_update 017-a.sh
  add_update 002-z.sh
  mkdir -p "$CLAW_DATA_MOUNT"
  run_updates
  [ "$status" -eq 0 ]
  [ "$(cat "$CLAW_DATA_MOUNT/ran")" = "$(printf '002-z.sh\n017-a.sh\n017-b.sh')" ]
}

@test "running run-updates.sh again changes nothing" {
  add_update 001-a.sh
  add_update 002-b.sh
  mkdir -p "$CLAW_DATA_MOUNT"
  run_updates
  [ "$status" -eq 0 ]
  state=$(tree_state "$CLAW_DATA_MOUNT")
  run_updates
  [ "$status" -eq 0 ]
  [ "$(tree_state "$CLAW_DATA_MOUNT")" = "$state" ]
}

@test "a failing script exits non-zero and stops the run before later scripts" {
  add_update 001-a.sh
  printf '#!/usr/bin/env bash\nexit 9\n' >"$CLAW_UPDATES_DIR/002-fails.sh"
  add_update 003-c.sh
  mkdir -p "$CLAW_DATA_MOUNT"
  run_updates
  [ "$status" -eq 1 ]
  [ "$(cat "$CLAW_DATA_MOUNT/ran")" = 001-a.sh ]
  [ -f "$CLAW_DATA_MOUNT/.claw-updates/002-fails.sh.failed" ]
  [ ! -e "$CLAW_DATA_MOUNT/.claw-updates/003-c.sh.ok" ]
}

@test "an update that runs too long is stopped and recorded as timed out" {
  printf '#!/usr/bin/env bash\nsleep 30\n' >"$CLAW_UPDATES_DIR/001-hangs.sh"
  mkdir -p "$CLAW_DATA_MOUNT"
  CLAW_UPDATE_TIMEOUT=1 run_updates
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_DATA_MOUNT/.claw-updates/001-hangs.sh.failed" "exit_code=124"
}

@test "files in updates/ not named NNN-name.sh are ignored with a warning" {
  add_update 001-a.sh
  add_update 1-short.sh
  add_update 002_underscore.sh
  mkdir -p "$CLAW_DATA_MOUNT"
  run_updates
  [ "$status" -eq 0 ]
  [ "$(cat "$CLAW_DATA_MOUNT/ran")" = 001-a.sh ]
  [[ "$output" == *"ignoring $CLAW_UPDATES_DIR/1-short.sh"* ]]
}

@test "a seed version file that is not a number is not migrated" {
  add_update 001-a.sh
  mkdir -p "$CLAW_DATA_MOUNT"
  printf 'latest\n' >"$CLAW_DATA_MOUNT/update-version.txt"
  run_updates
  [ "$status" -eq 0 ]
  [[ "$output" == *"not a number"* ]]
  [ "$(cat "$CLAW_DATA_MOUNT/ran")" = 001-a.sh ]
}

@test "the shipped updates apply cleanly to a freshly seeded disk and again change nothing" {
  cp "$VM_RUNTIME"/updates/*.sh "$CLAW_UPDATES_DIR/"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  fs=$(disk_fs sdc)
  for script in "$VM_RUNTIME"/updates/*.sh; do
    [ -f "$fs/.claw-updates/${script##*/}.ok" ]
  done
  [ "$(stat -c %a "$fs/openclaw/exec-approvals.json")" = 600 ]
  state=$(tree_state "$fs")
  for script in "$VM_RUNTIME"/updates/*.sh; do
    (cd "$fs" && CLAW_DATA_MOUNT="$fs" bash "$script" >/dev/null)
  done
  [ "$(tree_state "$fs")" = "$state" ]
}
