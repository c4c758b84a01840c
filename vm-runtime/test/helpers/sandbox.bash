# shellcheck shell=bash
# A sandboxed VM for the real lifecycle scripts: every path of the environment contract
# points into a temporary directory, and the system commands that touch disks, mounts,
# services or the network are stubs (helpers/stubs/) that record their calls. Only those
# commands are faked; the scripts, coreutils, find, flock and bash are real.

VM_RUNTIME=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
STUBS="$BATS_TEST_DIRNAME/helpers/stubs"

setup_sandbox() {
  SANDBOX="$BATS_TEST_TMPDIR/vm"
  export STUB_STATE="$SANDBOX/stub-state"
  mkdir -p "$STUB_STATE/devices" "$SANDBOX"/{dev/disk/azure/scsi1,proc,etc/claw,mnt,sys/block,home,var/log}
  : >"$STUB_STATE/calls"

  export PATH="$STUBS:$PATH"
  local cmd
  for cmd in mount mountpoint findmnt blkid wipefs mkfs.ext4 mkfs.xfs resize2fs xfs_growfs growpart chown systemctl tailscale lsblk runuser xdpyinfo ss; do
    [[ "$(command -v "$cmd")" == "$STUBS/$cmd" ]] || {
      echo "sandbox: $cmd does not resolve to its stub" >&2
      return 1
    }
  done

  export CLAW_HOME="$SANDBOX/opt/claw"
  export CLAW_UPDATES_DIR="$CLAW_HOME/updates"
  export CLAW_DEFAULTS_DIR="$CLAW_HOME/defaults"
  export CLAW_INSTALL_DIR="$CLAW_HOME/install"
  export CLAW_DATA_MOUNT="$SANDBOX/mnt/claw-data"
  export CLAW_STATE_DIR="$SANDBOX/var/lib/claw"
  export CLAW_LOG_DIR="$SANDBOX/var/log/claw"
  export CLAW_BOOT_ID_FILE="$SANDBOX/proc/boot_id"
  export CLAW_SECRETS_STAGING="$SANDBOX/etc/claw/secrets.env"
  export CLAW_SETTINGS_FILE="$SANDBOX/etc/claw/claw.env"
  CLAW_USER=$(id -un)
  export CLAW_USER
  export CLAW_USER_HOME="$SANDBOX/home/$CLAW_USER"
  export CLAW_LUN0_PATH="$SANDBOX/dev/disk/azure/scsi1/lun0"
  export CLAW_NVME_LUN0_PATH="$SANDBOX/dev/disk/azure/data/by-lun/0"
  export CLAW_SYSFS_BLOCK="$SANDBOX/sys/block"
  export CLAW_DISK_WAIT_SECONDS=1 CLAW_DISK_POLL_SECONDS=0.1
  # The services come up at once here (stubs/systemctl, ss, xdpyinfo) unless a test says otherwise.
  export CLAW_SERVICE_SETTLE_SECONDS=30 CLAW_SERVICE_POLL_SECONDS=0.1
  export CLAW_LIGHTDM_AUTOLOGIN_CONF="$SANDBOX/etc/lightdm/lightdm.conf.d/60-claw-autologin.conf"
  unset CLAW_DATA_DEVICE CLAW_SERVICES CLAW_NAME CLAW_PORTS CLAW_GATEWAY_PORT CLAW_DISPLAY CLAW_XAUTHORITY CLAW_DISPLAY_MANAGER

  # The payload as cloud-init stages it: the shipped defaults and updates.
  mkdir -p "$CLAW_HOME" "$CLAW_USER_HOME"
  cp -R "$VM_RUNTIME/defaults" "$CLAW_DEFAULTS_DIR"
  cp -R "$VM_RUNTIME/updates" "$CLAW_UPDATES_DIR"

  new_boot_id
  stage_settings
  stage_secrets TELEGRAM_BOT_TOKEN=111:telegram-canary XAI_API_KEY=xai-canary-1
}

new_boot_id() {
  cat /proc/sys/kernel/random/uuid >"$CLAW_BOOT_ID_FILE"
}

stage_settings() {
  printf 'CLAW_NAME=alice\nCLAW_USER=%s\nCLAW_MODEL=xai/grok-4\nTELEGRAM_USER_ID=424242\n' "$CLAW_USER" >"$CLAW_SETTINGS_FILE"
}

# stage_secrets KEY=VALUE...: what cloud-init writes into the staging file.
stage_secrets() {
  printf '%s\n' "$@" >"$CLAW_SECRETS_STAGING"
  chmod 600 "$CLAW_SECRETS_STAGING"
}

# make_device ID [TYPE]: a block device $SANDBOX/dev/ID and its state (TYPE empty: blank,
# reading back as zeros like a new managed disk; otherwise it holds a TYPE filesystem).
make_device() {
  local id=$1 type=${2:-} dir
  dir="$STUB_STATE/devices/$id"
  mkdir -p "$dir/fs"
  truncate -s 4M "$SANDBOX/dev/$id"
  if [[ -n "$type" ]]; then
    printf '%s superblock of %s\n' "$type" "$id" | dd of="$SANDBOX/dev/$id" bs=1 seek=1024 conv=notrunc status=none
    printf '%s\n' "$type" >"$dir/type"
    cat /proc/sys/kernel/random/uuid >"$dir/uuid"
  fi
}

# make_disk ID [TYPE]: make_device, attached at LUN 0. Prints nothing.
make_disk() {
  make_device "$@"
  ln -sfn "../../../$1" "$CLAW_LUN0_PATH"
}

# Content of the filesystem on device ID (what the VM sees when it is mounted).
disk_fs() {
  printf '%s\n' "$STUB_STATE/devices/$1/fs"
}

boot() {
  run "$VM_RUNTIME/lifecycle/boot.sh"
}

# A reboot: mounts go away (mount points are empty directories again), new boot id,
# the OS disk (home, state, staging) stays.
reboot_vm() {
  local target
  if [[ -f "$STUB_STATE/mounts" ]]; then
    while IFS=$'\t' read -r target _; do
      rm -f -- "$target"
      mkdir -p -- "$target"
    done <"$STUB_STATE/mounts"
    : >"$STUB_STATE/mounts"
  fi
  new_boot_id
  : >"$STUB_STATE/calls"
}

calls() {
  cat "$STUB_STATE/calls"
}

# sha256 and mode of every file under DIR (relative paths), sorted; symlinks as targets.
tree_state() {
  local dir=$1
  (
    cd "$dir" || exit 1
    find . \( -type f -o -type l \) ! -path './lost+found/*' -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' f; do
        if [[ -L "$f" ]]; then
          printf 'link %s -> %s\n' "$f" "$(readlink "$f")"
        else
          printf '%s %s %s\n' "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
        fi
      done
    find . -type d ! -path './lost+found*' | LC_ALL=C sort | sed 's/^/dir /'
  )
}

# Assertion helpers: print what was expected on failure (bats shows the output).
assert_file_contains() {
  grep -qF -- "$2" "$1" || {
    echo "expected $1 to contain: $2" >&2
    echo "--- $1:" >&2
    cat "$1" >&2
    return 1
  }
}

refute_file_contains() {
  ! grep -qF -- "$2" "$1" || {
    echo "expected $1 not to contain: $2" >&2
    return 1
  }
}

assert_called() {
  grep -qE -- "$1" "$STUB_STATE/calls" || {
    echo "expected a call matching /$1/; calls were:" >&2
    cat "$STUB_STATE/calls" >&2
    return 1
  }
}

refute_called() {
  ! grep -qE -- "$1" "$STUB_STATE/calls" || {
    echo "expected no call matching /$1/; calls were:" >&2
    cat "$STUB_STATE/calls" >&2
    return 1
  }
}
