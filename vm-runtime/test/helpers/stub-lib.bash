# shellcheck shell=bash
# Shared by the command stubs in stubs/. The sandbox models block devices as files under
# $SANDBOX/dev named by a device id, whose content is the disk's raw bytes (what a read of
# the device returns: zeros for a new blank disk); each device's state is a directory
# $STUB_STATE/devices/<id>/ with optional files: type, uuid, pttype, signatures (what
# wipefs reports beyond type/pttype), blkid-status (forced exit status), lsblk (children
# listing) and fs/ (the filesystem's content, what a mount shows).
set -euo pipefail
: "${STUB_STATE:?the sandbox sets STUB_STATE}"

record_call() {
  printf '%s\n' "${0##*/} $*" >>"$STUB_STATE/calls"
}

# Device id of a sandbox device path (follows the /dev/disk/... symlinks): its file name.
device_id() {
  local path
  path=$(readlink -f -- "$1") || return 1
  [[ -e "$path" && -d "$STUB_STATE/devices/${path##*/}" ]] || return 1
  printf '%s\n' "${path##*/}"
}

device_dir() {
  local id
  id=$(device_id "$1") || return 1
  printf '%s\n' "$STUB_STATE/devices/$id"
}

device_by_uuid() {
  local dir
  for dir in "$STUB_STATE"/devices/*/; do
    if [[ -f "$dir/uuid" && "$(cat "$dir/uuid")" == "$1" ]]; then
      printf '%s\n' "${dir%/}"
      return 0
    fi
  done
  return 1
}

# A mount replaces the (empty) mount point with a symlink to what is mounted.
attach() {
  local source_dir=$1 target=$2 label=$3
  if [[ -d "$target" && ! -L "$target" ]]; then
    rmdir -- "$target" || {
      echo "stub mount: $target is not empty" >&2
      exit 32
    }
  fi
  ln -s -- "$source_dir" "$target"
  printf '%s\t%s\n' "$target" "$label" >>"$STUB_STATE/mounts"
}

# count_call NAME: how many times NAME was counted, this call included.
count_call() {
  local file="$STUB_STATE/count-$1" n
  n=$(($(cat "$file" 2>/dev/null || echo 0) + 1))
  echo "$n" >"$file"
  echo "$n"
}
