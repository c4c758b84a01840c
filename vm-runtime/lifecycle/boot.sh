#!/usr/bin/env bash
# Runs on every boot (claw-boot.service), and again by hand whenever wanted: every step
# checks before it acts, so a second run in the same boot changes nothing.
#
#   data disk at LUN 0 -> filesystem (format only when verifiably blank) -> mount by UUID
#   -> grow -> seed defaults (first boot only) -> [Key Vault: fetch the claw's secret into the
#   staging file] -> .env from the staged secrets (every boot)
#   -> bind ~/.openclaw and ~/workspace -> Tailscale -> updates -> ownership -> services
#   -> record "boot completed" with this boot's id.
#
# Exit status: 0 done (a failed update or service is reported, not fatal); 2 no data disk;
# 3 the data disk holds something this script will not touch (nothing was changed).
set -euo pipefail

LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LIFECYCLE_DIR/lib.sh"
CLAW_LOG_TAG=boot

: "${CLAW_LIGHTDM_AUTOLOGIN_CONF:=/etc/lightdm/lightdm.conf.d/60-claw-autologin.conf}"
: "${CLAW_RANDOM_SOURCE:=/dev/urandom}"
# How long start_services waits for the services to come up, and how often it looks.
: "${CLAW_SERVICE_SETTLE_SECONDS:=120}"
: "${CLAW_SERVICE_POLL_SECONDS:=1}"
# The unit whose display the units after it need (Sunshine captures it).
: "${CLAW_DISPLAY_MANAGER:=lightdm.service}"

EXIT_NO_DISK=2
EXIT_REFUSED=3
SUPPORTED_FS_RE='^(ext2|ext3|ext4|xfs)$'

# Set by prepare_filesystem.
DATA_DISK='' DATA_FS_DEV='' DATA_FS_TYPE='' DATA_FS_UUID='' DATA_PARTITION_NUMBER=''
PROBE_TYPE='' PROBE_UUID='' PROBE_PTTYPE=''

refuse() {
  record_boot_failed "$*"
  CLAW_DIE_CODE=$EXIT_REFUSED die "$* -- refusing to format or mount it; nothing was changed. Inspect the disk by hand."
}

record_boot_failed() {
  mkdir -p "$CLAW_STATE_DIR"
  printf '%s\n%s\n' "$(current_boot_id)" "$*" | write_atomically "$CLAW_STATE_DIR/boot-failed" 0644
}

# ---------------------------------------------------------------- waiting for the disk

# The disk may still be attaching when the VM boots (a create request attaches it, but a
# recover or a manual attach can lag): poll with a deadline instead of failing at once.
wait_for_data_disk() {
  local deadline dev
  deadline=$(($(date +%s) + CLAW_DISK_WAIT_SECONDS))
  while :; do
    if dev=$(locate_lun0); then
      printf '%s\n' "$dev"
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      return 1
    fi
    sleep "$CLAW_DISK_POLL_SECONDS"
  done
}

# ---------------------------------------------------------------- filesystem

accept_filesystem() {
  local dev=$1
  if [[ -z "$PROBE_TYPE" ]]; then
    refuse "data disk $dev carries a signature blkid cannot name as a filesystem"
  fi
  if [[ ! "$PROBE_TYPE" =~ $SUPPORTED_FS_RE ]]; then
    refuse "data disk $dev holds an unsupported filesystem '$PROBE_TYPE' (expected ext4 or xfs)"
  fi
  if [[ -z "$PROBE_UUID" ]]; then
    refuse "filesystem '$PROBE_TYPE' on $dev has no UUID to mount it by"
  fi
  DATA_FS_DEV=$dev DATA_FS_TYPE=$PROBE_TYPE DATA_FS_UUID=$PROBE_UUID
  log "data disk: $PROBE_TYPE filesystem on $dev (UUID $PROBE_UUID)"
}

# A disk partitioned by hand (or by an older tool) is used when it has exactly one partition
# holding a supported filesystem; anything more elaborate is left for a human.
use_single_partition() {
  local dev=$1 pttype=$PROBE_PTTYPE status=0
  local -a parts
  mapfile -t parts < <(disk_partitions "$dev")
  if ((${#parts[@]} != 1)); then
    refuse "data disk $dev has a $pttype partition table with ${#parts[@]} partitions (expected exactly one)"
  fi
  probe_device "${parts[0]}" || status=$?
  if ((status != 0)); then
    refuse "partition ${parts[0]} of $dev could not be identified (blkid status $status)"
  fi
  accept_filesystem "${parts[0]}"
  [[ "${parts[0]}" =~ ([0-9]+)$ ]] && DATA_PARTITION_NUMBER=${BASH_REMATCH[1]}
}

format_blank() {
  local dev=$1 status=0
  log "data disk $dev is blank (no partition table, no signature, reads as zeros): creating ext4 labelled $CLAW_FS_LABEL"
  mkfs.ext4 -q -L "$CLAW_FS_LABEL" "$dev"
  probe_device "$dev" || status=$?
  if ((status != 0)) || [[ "$PROBE_TYPE" != ext4 || -z "$PROBE_UUID" ]]; then
    die "mkfs.ext4 on $dev did not leave a readable ext4 filesystem (blkid status $status)"
  fi
  DATA_FS_DEV=$dev DATA_FS_TYPE=ext4 DATA_FS_UUID=$PROBE_UUID
}

# An empty managed disk reads back as zeros. blkid -p also answers 2 ("nothing identified")
# when it cannot open or read the device, and wipefs stops listing at a read error, so neither
# proves a disk blank: the first MiB (where partition tables, LVM, LUKS, RAID and filesystem
# superblocks sit) must also read back in full, all zeros.
# https://github.com/util-linux/util-linux/blob/master/misc-utils/blkid.c (lowprobe_device)
BLANK_CHECK_BYTES=1048576

assert_reads_as_zeros() {
  local dev=$1 out status=0
  out=$(cmp -n "$BLANK_CHECK_BYTES" -- "$dev" /dev/zero 2>&1) || status=$?
  case $status in
    0) ;;
    1) refuse "blkid and wipefs find no signature on $dev, but its first MiB does not read back as zeros ($out)" ;;
    *) refuse "could not read $dev to confirm it is blank ($out)" ;;
  esac
}

# Format only what is verifiably blank: blkid's low-level probe finds nothing, wipefs lists
# no signature, and the first MiB reads back as zeros. Any other answer, including an error,
# means "do not touch".
prepare_filesystem() {
  local dev=$1 status=0 signatures
  DATA_DISK=$dev
  probe_device "$dev" || status=$?
  case $status in
    0)
      if [[ -n "$PROBE_PTTYPE" ]]; then
        use_single_partition "$dev"
      else
        accept_filesystem "$dev"
      fi
      ;;
    2)
      if ! signatures=$(wipefs --no-act --noheadings --output TYPE -- "$dev"); then
        refuse "wipefs could not read $dev to confirm it is blank"
      fi
      if [[ -n "${signatures//[[:space:]]/}" ]]; then
        refuse "blkid found nothing on $dev but wipefs lists signatures: ${signatures//$'\n'/ }"
      fi
      assert_reads_as_zeros "$dev"
      format_blank "$dev"
      ;;
    *)
      refuse "low-level probe of $dev failed with blkid status $status (8: several conflicting signatures)"
      ;;
  esac
}

mount_data_disk() {
  mkdir -p "$CLAW_DATA_MOUNT"
  if mountpoint -q "$CLAW_DATA_MOUNT"; then
    log "$CLAW_DATA_MOUNT is already mounted"
    return
  fi
  if [[ -n "$(ls -A -- "$CLAW_DATA_MOUNT")" ]]; then
    warn "$CLAW_DATA_MOUNT has files on the OS disk; they stay hidden (not deleted) under the mounted data disk"
  fi
  mount -o noatime "UUID=$DATA_FS_UUID" "$CLAW_DATA_MOUNT"
  log "mounted UUID=$DATA_FS_UUID at $CLAW_DATA_MOUNT"
}

# deploy-fleet grows the managed disk in Azure; the filesystem follows here. Both tools
# compare the filesystem with the device and do nothing when the disk did not grow.
grow_filesystem() {
  local out
  if [[ -n "$DATA_PARTITION_NUMBER" ]]; then
    if out=$(growpart "$DATA_DISK" "$DATA_PARTITION_NUMBER" 2>&1); then
      log "grew partition $DATA_PARTITION_NUMBER of $DATA_DISK: $out"
    elif [[ "$out" != *NOCHANGE* ]]; then
      warn "growpart $DATA_DISK $DATA_PARTITION_NUMBER failed: $out"
    fi
  fi
  case $DATA_FS_TYPE in
    ext*) out=$(resize2fs "$DATA_FS_DEV" 2>&1) || warn "resize2fs $DATA_FS_DEV failed: $out" ;;
    xfs) out=$(xfs_growfs "$CLAW_DATA_MOUNT" 2>&1) || warn "xfs_growfs $CLAW_DATA_MOUNT failed: $out" ;;
  esac
}

# ---------------------------------------------------------------- first boot: seed

# Copy every default that is not there yet; never overwrites a file.
copy_missing() {
  local src=$1 dst=$2 rel path
  while IFS= read -r -d '' path; do
    rel=${path#"$src"/}
    if [[ -d "$path" ]]; then
      mkdir -p -- "$dst/$rel"
    elif [[ ! -e "$dst/$rel" && ! -L "$dst/$rel" ]]; then
      mkdir -p -- "$(dirname -- "$dst/$rel")"
      cp -p -- "$path" "$dst/$rel"
    fi
  done < <(find "$src" -mindepth 1 -print0 | sort -z)
}

# Seed only a disk without claw data. A disk with data but no marker (seed-era, or first
# boot before the marker existed) is adopted as it is. An interrupted seeding (the
# in-progress file is still there) resumes.
initialize_disk() {
  local marker seeding how
  marker=$(claw_marker)
  seeding="$CLAW_DATA_MOUNT/.claw-seeding"
  if [[ -e "$marker" ]]; then
    log "data disk already initialized ($(tr '\n' ' ' <"$marker"))"
    return
  fi
  if [[ -e "$seeding" || (! -e "$CLAW_DATA_MOUNT/openclaw" && ! -e "$CLAW_DATA_MOUNT/workspace") ]]; then
    : >"$seeding"
    log "first boot of this data disk: seeding defaults from $CLAW_DEFAULTS_DIR"
    copy_missing "$CLAW_DEFAULTS_DIR" "$CLAW_DATA_MOUNT"
    mkdir -p "$CLAW_DATA_MOUNT/openclaw" "$CLAW_DATA_MOUNT/workspace"
    chmod 700 "$CLAW_DATA_MOUNT/openclaw"
    how=seeded
  else
    log "data disk has claw data but no marker: adopting it as it is (no defaults copied)"
    how=adopted
  fi
  printf 'initialized_at=%s\nhow=%s\nboot_id=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$how" "$(current_boot_id)" |
    write_atomically "$marker" 0644
  rm -f -- "$seeding"
}

# ---------------------------------------------------------------- every boot: secrets

gateway_token() {
  local token file="$CLAW_DATA_MOUNT/.claw-gateway-token"
  if token=$(env_file_get "$CLAW_SECRETS_STAGING" OPENCLAW_GATEWAY_TOKEN) && [[ -n "$token" ]]; then
    printf '%s\n' "$token"
    return
  fi
  # No token in the secrets: one is made once per disk and kept there, so it survives VM
  # replacements and the rendered customData (and its hash) stays free of random material.
  if [[ ! -s "$file" ]]; then
    od -An -tx1 -N32 "$CLAW_RANDOM_SOURCE" | tr -d ' \n' | write_atomically "$file" 0600
    log "generated a gateway token for this data disk"
  fi
  IFS= read -r token <"$file" || true
  printf '%s\n' "$token"
}

# KEY=VALUE lines of an env file, comments and blank lines dropped.
env_lines() {
  grep -E '^[A-Z_][A-Z0-9_]*=' -- "$1" || true
}

ENV_HEADER='# Rebuilt by /opt/claw/boot.sh on every boot'

# A .env this script did not write (a seed-era disk's, which may hold keys added by hand) is
# copied aside, private, before its first rebuild: nothing on the disk is lost.
keep_foreign_env() {
  local env_file=$1 first='' aside
  [[ -f "$env_file" ]] || return 0
  IFS= read -r first <"$env_file" || true
  [[ "$first" == "$ENV_HEADER"* ]] && return 0
  aside="$env_file.pre-claw.$(date -u +%Y%m%dT%H%M%SZ)"
  write_atomically "$aside" 0600 <"$env_file"
  warn "$env_file was not written by boot.sh: kept a copy at $aside before rebuilding it"
}

# Key Vault secrets: the claw's own secret, fetched with its identity, becomes the staging file.
# When the vault cannot be reached the staged secrets of the last fetch stay (the claw keeps
# running as it was); verify reports a claw without its keys.
fetch_key_vault_secrets() {
  [[ -r "$CLAW_KEY_VAULT_ENV" ]] || return 0
  [[ -z "${CLAW_KEY_VAULT_FETCHED:-}" ]] || return 0
  if "$LIFECYCLE_DIR/keyvault-secrets.sh"; then return 0; fi
  warn "could not fetch this claw's secret from Key Vault: keeping the secrets staged before"
}

# .env is rebuilt from the staging files on every boot, so a rotated secret (a VM replaced
# with new customData) takes effect. Only .env is written; nothing else on the disk.
install_secrets() {
  local env_file="$CLAW_DATA_MOUNT/openclaw/.env"
  if [[ ! -r "$CLAW_SECRETS_STAGING" ]]; then
    warn "no secrets staging file at $CLAW_SECRETS_STAGING: keeping the existing $env_file"
    return
  fi
  mkdir -p "$CLAW_DATA_MOUNT/openclaw"
  keep_foreign_env "$env_file"
  {
    printf '%s from %s and %s; edits here are lost.\n' "$ENV_HEADER" \
      "$CLAW_SETTINGS_FILE" "$CLAW_SECRETS_STAGING"
    if [[ -r "$CLAW_SETTINGS_FILE" ]]; then env_lines "$CLAW_SETTINGS_FILE"; fi
    # The Tailscale key is for joining the tailnet at boot, not for the agent.
    env_lines "$CLAW_SECRETS_STAGING" | grep -Ev '^(TAILSCALE_AUTHKEY|OPENCLAW_GATEWAY_TOKEN)=' || true
    printf 'OPENCLAW_GATEWAY_TOKEN=%s\n' "$(gateway_token)"
  } | write_atomically "$env_file" 0600
  log "installed fresh secrets into $env_file"
}

# ---------------------------------------------------------------- home directories

# ~/.openclaw and ~/workspace are bind mounts of the disk's directories. Whatever was in
# the home directory's copy is moved aside, never deleted (the seed's rm -rf lost data).
bind_home_dir() {
  local src=$1 dst=$2 aside n=0
  mkdir -p -- "$src" "$CLAW_USER_HOME"
  if mountpoint -q "$dst"; then
    log "$dst is already mounted"
    return
  fi
  if [[ -L "$dst" ]]; then
    log "replacing the symlink $dst -> $(readlink -- "$dst") with a bind mount (the link only)"
    rm -f -- "$dst"
  elif [[ -e "$dst" ]] && { [[ ! -d "$dst" ]] || [[ -n "$(ls -A -- "$dst")" ]]; }; then
    aside="$dst.pre-claw.$(date -u +%Y%m%dT%H%M%SZ)"
    while [[ -e "$aside.$n" ]]; do n=$((n + 1)); done
    warn "$dst holds files that are not on the data disk: moving them to $aside.$n (nothing deleted)"
    mv -- "$dst" "$aside.$n"
  fi
  mkdir -p -- "$dst"
  mount --bind "$src" "$dst"
  log "bound $src at $dst"
}

# chown only what is not owned by the user already: a whole-tree chown -R on every boot
# rewrites the inode of every file in a large workspace for nothing. A path that cannot be
# walked or given away (vanished meanwhile, immutable) is reported; the boot goes on.
fix_ownership() {
  local uid gid dir list count
  if ! uid=$(id -u "$CLAW_USER" 2>/dev/null) || ! gid=$(id -g "$CLAW_USER" 2>/dev/null); then
    warn "user $CLAW_USER does not exist: ownership left as it is"
    return
  fi
  list=$(mktemp)
  for dir in "$CLAW_DATA_MOUNT/openclaw" "$CLAW_DATA_MOUNT/workspace"; do
    [[ -d "$dir" ]] || continue
    find "$dir" \( ! -uid "$uid" -o ! -gid "$gid" \) -print0 >"$list" ||
      warn "could not walk all of $dir to check ownership"
    count=$(tr -cd '\0' <"$list" | wc -c)
    if ((count > 0)); then
      if xargs -0 -r chown -h "$uid:$gid" -- <"$list"; then
        log "gave $count path(s) under $dir to $CLAW_USER"
      else
        warn "could not give every one of $count path(s) under $dir to $CLAW_USER (see above)"
      fi
    fi
  done
  rm -f -- "$list"
}

# ---------------------------------------------------------------- network, updates, services

join_tailscale() {
  local key keyfile
  key=$(env_file_get "$CLAW_SECRETS_STAGING" TAILSCALE_AUTHKEY 2>/dev/null) || key=''
  if [[ -z "$key" ]]; then
    log "no Tailscale auth key: not joining a tailnet"
    return
  fi
  if ! command -v tailscale >/dev/null; then
    warn "a Tailscale auth key is set but tailscale is not installed"
    return
  fi
  if tailscale status >/dev/null 2>&1; then
    log "already on the tailnet"
    return
  fi
  # file: keeps the key out of the process list (tailscale up --auth-key docs).
  keyfile=$(mktemp "$CLAW_STATE_DIR/tailscale-authkey.XXXXXX")
  chmod 600 "$keyfile"
  printf '%s\n' "$key" >"$keyfile"
  if tailscale up --auth-key="file:$keyfile" --hostname="$CLAW_NAME" --timeout=120s; then
    log "joined the tailnet as $CLAW_NAME"
  else
    warn "tailscale up failed; the claw runs without the tailnet"
  fi
  rm -f -- "$keyfile"
}

run_updates() {
  if "$LIFECYCLE_DIR/run-updates.sh"; then
    log "updates: all applied"
  else
    warn "updates: at least one failed (see $(claw_ledger_dir)); starting services anyway"
  fi
}

configure_autologin() {
  local dir=${CLAW_LIGHTDM_AUTOLOGIN_CONF%/*} want
  [[ -d "${dir%/*}" ]] || return 0 # no lightdm on this image
  want=$(printf '[Seat:*]\nautologin-user=%s\nautologin-user-timeout=0\n' "$CLAW_USER")
  if [[ "$(cat "$CLAW_LIGHTDM_AUTOLOGIN_CONF" 2>/dev/null)" != "$want" ]]; then
    mkdir -p "$dir"
    printf '%s\n' "$want" | write_atomically "$CLAW_LIGHTDM_AUTOLOGIN_CONF" 0644
    log "desktop session :0 logs in $CLAW_USER automatically"
  fi
}

# The units start in order, then boot.sh waits for them to come up before it records the boot
# completed: that record is what verification waits for, and a claw verified while its desktop
# still starts would be judged unhealthy and rolled back onto its old image. The wait is bounded
# by CLAW_SERVICE_SETTLE_SECONDS from the first start and never fails the boot: whatever is still
# down after it, verify.sh reports.
start_services() {
  local svc failed=0 deadline=$((SECONDS + CLAW_SERVICE_SETTLE_SECONDS))
  local -a services
  read -r -a services <<<"$(claw_service_units)"
  for svc in "${services[@]}"; do
    if systemctl start "$svc"; then
      log "started $svc"
      # Sunshine captures the display manager's display and exits when it cannot open it.
      [[ $svc != "$CLAW_DISPLAY_MANAGER" ]] || wait_for_display "$deadline"
    else
      warn "could not start $svc"
      failed=$((failed + 1))
    fi
  done
  ((failed == 0)) || warn "$failed service(s) did not start"
  ((${#services[@]} == 0)) || wait_for_services "$deadline" "${services[@]}"
}

# wait_for_display DEADLINE: until CLAW_DISPLAY answers xdpyinfo, or SECONDS reaches DEADLINE.
wait_for_display() {
  local deadline=$1 out
  until out=$(display_answers); do
    if ((SECONDS >= deadline)); then
      warn "display $CLAW_DISPLAY does not answer: ${out%%$'\n'*}"
      return 0
    fi
    sleep "$CLAW_SERVICE_POLL_SECONDS"
  done
  log "display $CLAW_DISPLAY answers"
}

# wait_for_services DEADLINE UNIT...: until every UNIT is active (none starting or waiting to
# restart: "activating") and every port verify.sh checks listens, or SECONDS reaches DEADLINE. A
# UNIT that failed or stopped ends the wait at once: it does not come up by itself, and verify.sh
# names it.
wait_for_services() {
  local deadline=$1 unit state port listening
  local -a down
  shift
  while :; do
    down=()
    for unit in "$@"; do
      state=$(systemctl is-active "$unit") || true
      case $state in
        active) ;;
        activating | deactivating | reloading) down+=("$unit $state") ;;
        *)
          warn "$unit is ${state:-unknown}: not waiting for the services"
          return 0
          ;;
      esac
    done
    if ((${#down[@]} == 0)); then
      listening=$(listeners)
      for port in $CLAW_PORTS $CLAW_GATEWAY_PORT; do
        grep -q " $port\$" <<<"$listening" || down+=("nothing listens on TCP $port")
      done
    fi
    if ((${#down[@]} == 0)); then
      log "services up"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      printf -v state '%s; ' "${down[@]}"
      warn "services not up after ${CLAW_SERVICE_SETTLE_SECONDS}s: ${state%; }"
      return 0
    fi
    sleep "$CLAW_SERVICE_POLL_SECONDS"
  done
}

record_boot_completed() {
  mkdir -p "$CLAW_STATE_DIR"
  current_boot_id | write_atomically "$CLAW_STATE_DIR/boot-completed" 0644
  rm -f -- "$CLAW_STATE_DIR/boot-failed"
  log "boot completed (boot id $(current_boot_id))"
}

main() {
  local dev
  mkdir -p "$CLAW_STATE_DIR"
  open_log boot.log
  load_claw_settings
  export_contract

  # One boot.sh at a time (the unit and an operator running it by hand).
  exec 9>"$CLAW_STATE_DIR/boot.lock"
  flock 9

  log "boot $(current_boot_id): claw $CLAW_NAME, user $CLAW_USER"
  if ! dev=$(wait_for_data_disk); then
    record_boot_failed "no data disk at LUN 0 after ${CLAW_DISK_WAIT_SECONDS}s"
    CLAW_DIE_CODE=$EXIT_NO_DISK die "no data disk at LUN 0 ($CLAW_LUN0_PATH, $CLAW_NVME_LUN0_PATH, NVMe namespace 2) after ${CLAW_DISK_WAIT_SECONDS}s; the agent is not started without its disk"
  fi
  log "data disk at LUN 0: $dev"
  prepare_filesystem "$dev"
  mount_data_disk
  grow_filesystem
  initialize_disk
  fetch_key_vault_secrets
  install_secrets
  bind_home_dir "$CLAW_DATA_MOUNT/openclaw" "$CLAW_USER_HOME/.openclaw"
  bind_home_dir "$CLAW_DATA_MOUNT/workspace" "$CLAW_USER_HOME/workspace"
  join_tailscale
  run_updates
  fix_ownership
  configure_autologin
  start_services
  record_boot_completed
}

main "$@"
