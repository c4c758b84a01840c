#!/usr/bin/env bash
# Applies $CLAW_UPDATES_DIR/NNN-name.sh in order, each one until it succeeds once, and
# records every attempt in a ledger on the data disk (one file per script), so the state
# travels with the disk to the next VM. Called by boot.sh after the disk is mounted and the
# home directories are bound; safe to run again at any time.
#
# Ledger ($CLAW_DATA_MOUNT/.claw-updates/):
#   NNN-name.sh.ok      applied; KEY=VALUE lines: applied_at, sha256, boot_id
#                       (or migrated_from=update-version.txt:<mark> for a seed-era disk)
#   NNN-name.sh.failed  last attempt failed; KEY=VALUE lines: failed_at, exit_code, sha256, boot_id
#   NNN-name.sh.log     output of the last attempt
#   .seed-high-water-mark  the seed's update-version.txt value, once migrated
#
# Scripts run in name order (so two scripts may share a number). The first failure stops
# the run: later scripts may depend on it. A failed script is tried again at the next boot.
# Exit status: 0 nothing left to apply; 1 a script failed (recorded).
set -euo pipefail

LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LIFECYCLE_DIR/lib.sh"
CLAW_LOG_TAG=updates

: "${CLAW_UPDATE_TIMEOUT:=900}"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

sha256_of() { sha256sum -- "$1" | cut -d' ' -f1; }

# The update scripts, sorted by name (C collation: digits first, stable across locales).
list_updates() {
  local path name
  [[ -d "$CLAW_UPDATES_DIR" ]] || return 0
  while IFS= read -r -d '' path; do
    name=${path##*/}
    if [[ "$name" =~ $CLAW_UPDATE_NAME_RE ]]; then
      printf '%s\n' "$name"
    else
      warn "ignoring $path: update scripts are named NNN-name.sh"
    fi
  done < <(find "$CLAW_UPDATES_DIR" -mindepth 1 -maxdepth 1 -type f -name '*.sh' -print0) | LC_ALL=C sort
}

# The seed kept one number (update-version.txt) and skipped every script at or below it;
# two of its scripts shared 017. Every script numbered at or below that mark is recorded
# as applied, once, without running it.
migrate_seed_high_water_mark() {
  local ledger=$1 seed_file="$CLAW_DATA_MOUNT/$CLAW_SEED_VERSION_FILE_NAME" raw mark name count=0
  [[ -f "$seed_file" && ! -e "$ledger/.seed-high-water-mark" ]] || return 0
  raw=$(tr -d '[:space:]' <"$seed_file")
  if [[ ! "$raw" =~ ^[0-9]+$ ]]; then
    warn "$seed_file holds '$raw', not a number: not migrating it (every update will run)"
    return 0
  fi
  mark=$((10#$raw))
  while IFS= read -r name; do
    [[ "$name" =~ $CLAW_UPDATE_NAME_RE ]] || continue
    if ((10#${BASH_REMATCH[1]} <= mark)) && [[ ! -e "$ledger/$name.ok" ]]; then
      printf 'applied_at=%s\nmigrated_from=%s:%s\n' "$(now)" "$CLAW_SEED_VERSION_FILE_NAME" "$raw" |
        write_atomically "$ledger/$name.ok" 0644
      rm -f -- "$ledger/$name.failed"
      count=$((count + 1))
    fi
  done < <(list_updates)
  printf '%s\n' "$raw" | write_atomically "$ledger/.seed-high-water-mark" 0644
  log "migrated the seed's update-version.txt ($raw): $count script(s) recorded as applied, none run"
}

apply_one() {
  local ledger=$1 name=$2 script="$CLAW_UPDATES_DIR/$2" sum status=0
  sum=$(sha256_of "$script")
  log "applying $name"
  (
    cd "$CLAW_DATA_MOUNT"
    timeout "$CLAW_UPDATE_TIMEOUT" bash "$script"
  ) </dev/null >"$ledger/$name.log" 2>&1 || status=$?
  if ((status == 0)); then
    printf 'applied_at=%s\nsha256=%s\nboot_id=%s\n' "$(now)" "$sum" "$(current_boot_id)" |
      write_atomically "$ledger/$name.ok" 0644
    rm -f -- "$ledger/$name.failed"
    log "applied $name"
    return 0
  fi
  printf 'failed_at=%s\nexit_code=%s\nsha256=%s\nboot_id=%s\n' "$(now)" "$status" "$sum" "$(current_boot_id)" |
    write_atomically "$ledger/$name.failed" 0644
  warn "$name failed with status $status (124: timed out after ${CLAW_UPDATE_TIMEOUT}s); log: $ledger/$name.log"
  return 1
}

main() {
  local ledger name applied=0
  open_log updates.log
  load_claw_settings
  export_contract
  ledger=$(claw_ledger_dir)
  mkdir -p "$ledger"
  migrate_seed_high_water_mark "$ledger"
  while IFS= read -r name; do
    [[ -e "$ledger/$name.ok" ]] && continue
    if ! apply_one "$ledger" "$name"; then
      log "stopping at $name: later updates run after it succeeds"
      return 1
    fi
    applied=$((applied + 1))
  done < <(list_updates)
  log "$applied update(s) applied this run"
}

main "$@"
