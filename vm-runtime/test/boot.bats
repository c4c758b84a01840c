#!/usr/bin/env bats
# boot.sh in a sandboxed VM (helpers/sandbox.bash): real script, stubbed system commands.

load helpers/sandbox

setup() {
  setup_sandbox
}

@test "a blank disk is formatted, seeded and marked on its first boot" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]

  assert_called "^wipefs --no-act --noheadings --output TYPE -- $CLAW_LUN0_PATH$"
  [ "$(grep -c '^mkfs.ext4 ' "$STUB_STATE/calls")" -eq 1 ]
  assert_called "^mkfs.ext4 -q -L claw-data $CLAW_LUN0_PATH$"
  uuid=$(cat "$STUB_STATE/devices/sdc/uuid")
  assert_called "^mount -o noatime UUID=$uuid $CLAW_DATA_MOUNT$"

  fs=$(disk_fs sdc)
  assert_file_contains "$fs/.claw-initialized" "how=seeded"
  cmp "$VM_RUNTIME/defaults/openclaw/openclaw.json" "$fs/openclaw/openclaw.json"
  cmp "$VM_RUNTIME/defaults/workspace/SOUL.md" "$fs/workspace/SOUL.md"
  [ "$(stat -c %a "$fs/openclaw")" = 700 ]

  # The shipped updates ran against the fresh disk.
  [ -f "$fs/.claw-updates/001-workspace-layout.sh.ok" ]
  [ -f "$fs/.claw-updates/018-private-credentials.sh.ok" ]
  [ -d "$fs/workspace/memory" ]

  assert_called "^mount --bind $CLAW_DATA_MOUNT/openclaw $CLAW_USER_HOME/.openclaw$"
  assert_called "^mount --bind $CLAW_DATA_MOUNT/workspace $CLAW_USER_HOME/workspace$"
  assert_called "^systemctl start openclaw-gateway@$CLAW_USER.service$"
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test ".env on the disk carries the settings and secrets, is private, and leaves the Tailscale key out" {
  stage_secrets TELEGRAM_BOT_TOKEN=111:telegram-canary XAI_API_KEY=xai-canary-1 TAILSCALE_AUTHKEY=tskey-canary
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  env_file="$(disk_fs sdc)/openclaw/.env"
  [ "$(stat -c %a "$env_file")" = 600 ]
  assert_file_contains "$env_file" "TELEGRAM_BOT_TOKEN=111:telegram-canary"
  assert_file_contains "$env_file" "XAI_API_KEY=xai-canary-1"
  assert_file_contains "$env_file" "CLAW_MODEL=xai/grok-4"
  assert_file_contains "$env_file" "TELEGRAM_USER_ID=424242"
  refute_file_contains "$env_file" "tskey-canary"
  grep -Eq '^OPENCLAW_GATEWAY_TOKEN=[0-9a-f]{64}$' "$env_file"
}

@test "an existing disk is never formatted nor reseeded, and its files stay byte-for-byte" {
  make_disk sdc ext4
  fs=$(disk_fs sdc)
  mkdir -p "$fs/openclaw/agents/main/sessions" "$fs/workspace/memory" "$fs/.claw-updates"
  printf '{"gateway":{"mode":"local"},"mine":true}\n' >"$fs/openclaw/openclaw.json"
  printf 'I am Alice, not the default soul.\n' >"$fs/workspace/SOUL.md"
  head -c 4096 /dev/urandom >"$fs/openclaw/lcm.db"
  printf 'remember the milk\n' >"$fs/workspace/memory/2026-01-01.md"
  printf 'initialized_at=2026-01-01T00:00:00Z\nhow=seeded\n' >"$fs/.claw-initialized"
  : >"$fs/.claw-updates/001-workspace-layout.sh.ok"
  : >"$fs/.claw-updates/018-private-credentials.sh.ok"
  before=$(tree_state "$fs")

  boot
  [ "$status" -eq 0 ]
  refute_called '^mkfs'
  refute_called '^wipefs'
  assert_called "^resize2fs $CLAW_LUN0_PATH$"
  [ ! -e "$fs/workspace/AGENTS.md" ] # not reseeded
  # Everything that was there is unchanged; the only new files are .env and the gateway
  # token made for a disk whose secrets have none.
  diff <(echo "$before") <(tree_state "$fs" | grep -Ev ' \./(openclaw/\.env|\.claw-gateway-token)$')
}

@test "a disk with an unknown filesystem is refused and nothing is changed" {
  make_disk sdc ntfs
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"unsupported filesystem 'ntfs'"* ]]
  [[ "$output" == *"refusing to format or mount"* ]]
  refute_called '^mkfs'
  refute_called '^mount '
  refute_called '^systemctl start'
  [ ! -e "$CLAW_STATE_DIR/boot-completed" ]
  assert_file_contains "$CLAW_STATE_DIR/boot-failed" "ntfs"
}

@test "a disk with a partition table and no single usable partition is refused" {
  make_disk sdc
  echo gpt >"$STUB_STATE/devices/sdc/pttype"
  printf '%s disk\n' "$CLAW_LUN0_PATH" >"$STUB_STATE/devices/sdc/lsblk"
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"gpt partition table with 0 partitions"* ]]
  refute_called '^mkfs'
}

@test "a disk where wipefs sees a signature blkid did not report is refused" {
  make_disk sdc
  echo LVM2_member >"$STUB_STATE/devices/sdc/signatures"
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"wipefs lists signatures: LVM2_member"* ]]
  refute_called '^mkfs'
}

@test "an ambivalent low-level probe is refused, not taken for blank" {
  make_disk sdc
  echo 8 >"$STUB_STATE/devices/sdc/blkid-status"
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"blkid status 8"* ]]
  refute_called '^mkfs'
  refute_called '^wipefs'
}

@test "a disk holding data that neither blkid nor wipefs can name is refused, not taken for blank" {
  make_disk sdc
  # Bytes in the first MiB with no signature either probe knows (blkid answers 2, wipefs
  # lists nothing): a filesystem blkid does not know, or what is left of a wiped one.
  printf 'notes the agent wrote\n' | dd of="$SANDBOX/dev/sdc" bs=1 seek=65536 conv=notrunc status=none
  before=$(sha256sum <"$SANDBOX/dev/sdc")
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"does not read back as zeros"* ]]
  refute_called '^mkfs'
  refute_called '^mount '
  [ "$(sha256sum <"$SANDBOX/dev/sdc")" = "$before" ]
  assert_file_contains "$CLAW_STATE_DIR/boot-failed" "zeros"
}

@test "a disk that cannot be read is refused, although blkid and wipefs report nothing on it" {
  # blkid -p exits 2 ("nothing identified") when it cannot open or read the device, and
  # wipefs stops listing at a read error: neither proves the disk blank.
  make_disk sdc
  rm "$SANDBOX/dev/sdc"
  mkdir "$SANDBOX/dev/sdc" # reading it fails (EISDIR), as a device with I/O errors does
  boot
  [ "$status" -eq 3 ]
  [[ "$output" == *"could not read"* ]]
  refute_called '^mkfs'
  refute_called '^mount '
}

@test "a disk with one partition holding ext4 is mounted by the partition's UUID and grown" {
  make_disk sdc
  echo gpt >"$STUB_STATE/devices/sdc/pttype"
  make_device sdc1 ext4
  echo 0b5e0c1a-0000-4000-8000-000000000001 >"$STUB_STATE/devices/sdc1/uuid"
  printf '%s disk\n%s part\n' "$CLAW_LUN0_PATH" "$SANDBOX/dev/sdc1" >"$STUB_STATE/devices/sdc/lsblk"
  boot
  [ "$status" -eq 0 ]
  refute_called '^mkfs'
  assert_called "^mount -o noatime UUID=0b5e0c1a-0000-4000-8000-000000000001 $CLAW_DATA_MOUNT$"
  assert_called "^growpart $CLAW_LUN0_PATH 1$"
  assert_called "^resize2fs $SANDBOX/dev/sdc1$"
}

@test "booting twice more leaves exactly the same state" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  fs=$(disk_fs sdc)
  printf 'work in progress\n' >"$fs/workspace/notes.md"

  reboot_vm
  boot
  [ "$status" -eq 0 ]
  disk_after_second=$(tree_state "$fs")
  home_after_second=$(tree_state "$CLAW_USER_HOME")
  calls_after_second=$(calls)

  reboot_vm
  boot
  [ "$status" -eq 0 ]
  [ "$(tree_state "$fs")" = "$disk_after_second" ]
  [ "$(tree_state "$CLAW_USER_HOME")" = "$home_after_second" ]
  [ "$(calls)" = "$calls_after_second" ]
  refute_called '^mkfs'
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "running boot.sh again in the same boot changes nothing" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  state=$(tree_state "$(disk_fs sdc)")
  : >"$STUB_STATE/calls"
  boot
  [ "$status" -eq 0 ]
  [ "$(tree_state "$(disk_fs sdc)")" = "$state" ]
  refute_called '^mount '
  refute_called '^mkfs'
}

@test "without a disk at LUN 0 the boot stops after the wait and starts nothing" {
  boot
  [ "$status" -eq 2 ]
  [[ "$output" == *"no data disk at LUN 0"* ]]
  refute_called '^systemctl start'
  [ ! -e "$CLAW_STATE_DIR/boot-completed" ]
  assert_file_contains "$CLAW_STATE_DIR/boot-failed" "no data disk"
}

@test "on NVMe sizes without the by-lun link the disk is found as namespace 2" {
  make_device nvme0n2
  mkdir -p "$CLAW_SYSFS_BLOCK/nvme0n1" "$CLAW_SYSFS_BLOCK/nvme0n2" "$CLAW_SYSFS_BLOCK/nvme1n1"
  echo 1 >"$CLAW_SYSFS_BLOCK/nvme0n1/nsid"
  echo 2 >"$CLAW_SYSFS_BLOCK/nvme0n2/nsid"
  echo 2 >"$CLAW_SYSFS_BLOCK/nvme1n1/nsid"
  # nvme1n1 is a local NVMe disk: namespace 2 too, but another model.
  printf '%s Microsoft NVMe Direct Disk v2\n%s MSFT NVMe Accelerator v1.0\n%s MSFT NVMe Accelerator v1.0\n' \
    "$SANDBOX/dev/nvme1n1" "$SANDBOX/dev/nvme0n1" "$SANDBOX/dev/nvme0n2" >"$STUB_STATE/lsblk-disks"
  boot
  [ "$status" -eq 0 ]
  assert_called "^mkfs.ext4 -q -L claw-data $SANDBOX/dev/nvme0n2$"
  [ -f "$(disk_fs nvme0n2)/.claw-initialized" ]
}

@test "the by-lun link of azure-vm-utils is used when the SCSI link is missing" {
  make_disk nvme0n2 ext4
  rm "$CLAW_LUN0_PATH"
  mkdir -p "${CLAW_NVME_LUN0_PATH%/*}"
  ln -s "$SANDBOX/dev/nvme0n2" "$CLAW_NVME_LUN0_PATH"
  boot
  [ "$status" -eq 0 ]
  assert_called "^resize2fs $CLAW_NVME_LUN0_PATH$"
}

@test "files already in the home directories are moved aside, never deleted" {
  mkdir -p "$CLAW_USER_HOME/.openclaw/agents"
  printf 'made before the disk was mounted\n' >"$CLAW_USER_HOME/.openclaw/agents/early.json"
  ln -s /nowhere "$CLAW_USER_HOME/workspace"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  aside=("$CLAW_USER_HOME"/.openclaw.pre-claw.*)
  [ "${#aside[@]}" -eq 1 ]
  [ "$(cat "${aside[0]}/agents/early.json")" = "made before the disk was mounted" ]
  [ -L /nowhere ] || [ ! -e /nowhere ] # the symlink's target was never touched
  assert_called "^mount --bind $CLAW_DATA_MOUNT/workspace $CLAW_USER_HOME/workspace$"
}

@test "secrets rotated in staging reach .env at the next boot and nothing else on the disk changes" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  fs=$(disk_fs sdc)
  printf 'notes\n' >"$fs/workspace/notes.md"
  before=$(tree_state "$fs" | grep -v ' ./openclaw/.env$')
  token_before=$(grep '^OPENCLAW_GATEWAY_TOKEN=' "$fs/openclaw/.env")

  stage_secrets TELEGRAM_BOT_TOKEN=222:rotated-canary ANTHROPIC_API_KEY=anthropic-canary-2
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  assert_file_contains "$fs/openclaw/.env" "TELEGRAM_BOT_TOKEN=222:rotated-canary"
  assert_file_contains "$fs/openclaw/.env" "ANTHROPIC_API_KEY=anthropic-canary-2"
  refute_file_contains "$fs/openclaw/.env" "xai-canary-1"
  [ "$(grep '^OPENCLAW_GATEWAY_TOKEN=' "$fs/openclaw/.env")" = "$token_before" ]
  diff <(echo "$before") <(tree_state "$fs" | grep -v ' ./openclaw/.env$')
}

@test "a .env that boot.sh did not write (a seed-era disk's) is kept aside, private, before the first rebuild" {
  make_disk sdc ext4
  fs=$(disk_fs sdc)
  mkdir -p "$fs/openclaw" "$fs/workspace"
  printf 'XAI_API_KEY=old\nGITHUB_TOKEN=ghp-added-by-hand-canary\n' >"$fs/openclaw/.env"
  chmod 644 "$fs/openclaw/.env"
  original=$(sha256sum <"$fs/openclaw/.env")
  boot
  [ "$status" -eq 0 ]
  assert_file_contains "$fs/openclaw/.env" "XAI_API_KEY=xai-canary-1"
  aside=("$fs"/openclaw/.env.pre-claw.*)
  [ "${#aside[@]}" -eq 1 ]
  [ "$(sha256sum <"${aside[0]}")" = "$original" ]
  [ "$(stat -c %a "${aside[0]}")" = 600 ]

  # .env is now boot.sh's own: later rebuilds keep nothing aside.
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  aside=("$fs"/openclaw/.env.pre-claw.*)
  [ "${#aside[@]}" -eq 1 ]
}

@test "a gateway token from the secrets wins over the one kept on the disk" {
  stage_secrets TELEGRAM_BOT_TOKEN=1:t OPENCLAW_GATEWAY_TOKEN=from-secrets-canary
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  assert_file_contains "$(disk_fs sdc)/openclaw/.env" "OPENCLAW_GATEWAY_TOKEN=from-secrets-canary"
  [ ! -e "$(disk_fs sdc)/.claw-gateway-token" ]
}

@test "without a staging file the existing .env is kept" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  env_before=$(sha256sum <"$(disk_fs sdc)/openclaw/.env")
  rm "$CLAW_SECRETS_STAGING"
  reboot_vm
  boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"keeping the existing"* ]]
  [ "$(sha256sum <"$(disk_fs sdc)/openclaw/.env")" = "$env_before" ]
}

@test "a failing update is recorded and the services still start" {
  printf '#!/usr/bin/env bash\necho "migrating config"\necho "broken" >&2\nexit 7\n' >"$CLAW_UPDATES_DIR/003-breaks.sh"
  # shellcheck disable=SC2016 # expanded by the update script, not here
  printf '#!/usr/bin/env bash\ntouch "$CLAW_DATA_MOUNT/004-ran"\n' >"$CLAW_UPDATES_DIR/004-after.sh"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  ledger="$(disk_fs sdc)/.claw-updates"
  assert_file_contains "$ledger/003-breaks.sh.failed" "exit_code=7"
  assert_file_contains "$ledger/003-breaks.sh.log" "migrating config"
  assert_file_contains "$ledger/003-breaks.sh.log" "broken"
  [ ! -e "$ledger/003-breaks.sh.ok" ]
  [ ! -e "$ledger/004-after.sh.ok" ]
  [ ! -e "$(disk_fs sdc)/004-ran" ]
  assert_called "^systemctl start openclaw-gateway@$CLAW_USER.service$"
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "a service that fails to start is reported and the others still start" {
  echo lightdm.service >"$STUB_STATE/failing-units"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"could not start lightdm.service"* ]]
  assert_called "^systemctl start openclaw-gateway@$CLAW_USER.service$"
}

# line_of REGEX: the number of the first recorded call matching REGEX.
line_of() {
  grep -nE -m 1 -- "$1" "$STUB_STATE/calls" | cut -d: -f1
}

@test "the units after the display manager start once its display answers, and the boot completes once all are up" {
  echo 2 >"$STUB_STATE/display-down"
  echo 2 >"$STUB_STATE/ports-down"
  mkdir -p "$STUB_STATE/is-active"
  printf 'activating\nactivating\nactive\n' >"$STUB_STATE/is-active/claw-sunshine@$CLAW_USER.service"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]

  # Sunshine (and xrdp, the gateway) start after the third xdpyinfo, the first that answered.
  [ "$(grep -c '^xdpyinfo' "$STUB_STATE/calls")" -eq 3 ]
  lightdm=$(line_of '^systemctl start lightdm\.service$')
  answered=$(grep -n '^xdpyinfo' "$STUB_STATE/calls" | tail -n 1 | cut -d: -f1)
  xrdp=$(line_of '^systemctl start xrdp\.service$')
  sunshine=$(line_of "^systemctl start claw-sunshine@$CLAW_USER\.service$")
  ((lightdm < answered && answered < xrdp && xrdp < sunshine))
  [[ $output == *"display :0 answers"* ]]

  # Ports are read once every unit is active (the third round), until they listen (third read).
  [ "$(grep -c "^systemctl is-active claw-sunshine@$CLAW_USER.service$" "$STUB_STATE/calls")" -eq 5 ]
  [ "$(grep -c '^ss -H -ltn$' "$STUB_STATE/calls")" -eq 3 ]
  ((sunshine < $(line_of '^ss ')))
  [[ $output == *"services up"* ]]
  # Recorded only once they were up.
  up=$(grep -n "services up" <<<"$output" | cut -d: -f1)
  completed=$(grep -n "boot completed" <<<"$output" | cut -d: -f1)
  ((up < completed))
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "a unit that failed ends the wait for the services at once: verify names it" {
  echo 1000 >"$STUB_STATE/ports-down"
  mkdir -p "$STUB_STATE/is-active"
  echo failed >"$STUB_STATE/is-active/xrdp.service"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  [[ $output == *"WARNING: xrdp.service is failed: not waiting for the services"* ]]
  refute_called '^ss '
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "services still down after CLAW_SERVICE_SETTLE_SECONDS: the boot completes, naming what is down" {
  export CLAW_SERVICE_SETTLE_SECONDS=1
  echo 1000 >"$STUB_STATE/display-down"
  echo 'LISTEN 0 16 0.0.0.0:3389 0.0.0.0:*' >"$STUB_STATE/ss-listen"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  [[ $output == *'WARNING: display :0 does not answer: xdpyinfo:  unable to open display ":0".'* ]]
  assert_called "^systemctl start claw-sunshine@$CLAW_USER.service$"
  [[ $output == *"WARNING: services not up after 1s: nothing listens on TCP 47989; nothing listens on TCP 18789"* ]]
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "Tailscale is joined once, with the key passed in a file, when a key is set" {
  stage_secrets TELEGRAM_BOT_TOKEN=1:t TAILSCALE_AUTHKEY=tskey-auth-canary
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  assert_called "^tailscale up --auth-key=file:$CLAW_STATE_DIR/tailscale-authkey\.[A-Za-z0-9]+ --hostname=alice --timeout=120s$"
  refute_called "tskey-auth-canary"
  [ "$(cat "$STUB_STATE/tailscale-key-seen")" = tskey-auth-canary ]
  leftover=("$CLAW_STATE_DIR"/tailscale-authkey.*)
  [ ! -e "${leftover[0]}" ] # the key file is removed after use

  reboot_vm
  boot
  [ "$status" -eq 0 ]
  refute_called '^tailscale up'
}

@test "without a Tailscale key no tailnet is joined" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  refute_called '^tailscale'
}

@test "ownership is changed only for the paths the user does not own" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to create a file owned by another user"
  make_disk sdc ext4
  fs=$(disk_fs sdc)
  mkdir -p "$fs/openclaw" "$fs/workspace"
  printf 'initialized_at=x\n' >"$fs/.claw-initialized"
  touch "$fs/workspace/mine.md" "$fs/workspace/foreign.md"
  /bin/chown 4242:4242 "$fs/workspace/foreign.md"
  boot
  [ "$status" -eq 0 ]
  assert_called "^chown -h $(id -u):$(id -g) -- $CLAW_DATA_MOUNT/workspace/foreign.md$"
  refute_called "^chown .*mine.md"
}

@test "a path whose owner cannot be changed is reported and the services still start" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to create a file owned by another user"
  make_disk sdc ext4
  fs=$(disk_fs sdc)
  mkdir -p "$fs/openclaw" "$fs/workspace"
  printf 'initialized_at=x\n' >"$fs/.claw-initialized"
  touch "$fs/workspace/immutable.md"
  /bin/chown 4242:4242 "$fs/workspace/immutable.md"
  touch "$STUB_STATE/chown-fails"
  boot
  [ "$status" -eq 0 ]
  [[ "$output" == *"could not give"* ]]
  assert_called "^systemctl start openclaw-gateway@$CLAW_USER.service$"
  [ "$(cat "$CLAW_STATE_DIR/boot-completed")" = "$(cat "$CLAW_BOOT_ID_FILE")" ]
}

@test "the desktop session logs the claw's user in automatically" {
  mkdir -p "$SANDBOX/etc/lightdm"
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_LIGHTDM_AUTOLOGIN_CONF" "autologin-user=$CLAW_USER"
}
