# shellcheck shell=bash
# Shared by boot.sh, run-updates.sh and install-app-layer.sh: the environment contract
# (every path overridable, so the bats tests run the real scripts in a sandbox) and small
# helpers. Sourced, never executed. See vm-runtime/README.md "Environment contract".

# ---------------------------------------------------------------- the environment contract
# Payload root staged by cloud-init: lifecycle scripts at $CLAW_HOME/*.sh.
: "${CLAW_HOME:=/opt/claw}"
: "${CLAW_UPDATES_DIR:=$CLAW_HOME/updates}"
: "${CLAW_DEFAULTS_DIR:=$CLAW_HOME/defaults}"
: "${CLAW_INSTALL_DIR:=$CLAW_HOME/install}"
# Where the portable data disk is mounted.
: "${CLAW_DATA_MOUNT:=/mnt/claw-data}"
# Per-VM state (OS disk): boot-completed record, lock, app-layer status.
: "${CLAW_STATE_DIR:=/var/lib/claw}"
: "${CLAW_LOG_DIR:=/var/log/claw}"
: "${CLAW_BOOT_ID_FILE:=/proc/sys/kernel/random/boot_id}"
# Written by cloud-init: secrets (0600 root) and the claw's non-secret settings.
: "${CLAW_SECRETS_STAGING:=/etc/claw/secrets.env}"
: "${CLAW_SETTINGS_FILE:=/etc/claw/claw.env}"
# Key Vault secrets only: where the claw's secret is (keyvault-secrets.sh fetches it).
: "${CLAW_KEY_VAULT_ENV:=/etc/claw/keyvault.env}"

# The disk at LUN 0. SCSI sizes: WALinuxAgent's udev rules create scsi1/lun<N>.
# NVMe sizes: azure-vm-utils' rules create data/by-lun/<N>; without them we scan for the
# "MSFT NVMe Accelerator v1.0" namespace whose id is LUN + 2 (namespace 1 is the OS disk).
# https://learn.microsoft.com/azure/virtual-machines/linux/azure-virtual-machine-utilities
# https://github.com/Azure/azure-vm-utils/blob/main/udev/80-azure-disk.rules
: "${CLAW_LUN0_PATH:=/dev/disk/azure/scsi1/lun0}"
: "${CLAW_NVME_LUN0_PATH:=/dev/disk/azure/data/by-lun/0}"
: "${CLAW_SYSFS_BLOCK:=/sys/block}"
: "${CLAW_DISK_WAIT_SECONDS:=120}"
: "${CLAW_DISK_POLL_SECONDS:=2}"
: "${CLAW_FS_LABEL:=claw-data}"

# Data disk layout (relative to CLAW_DATA_MOUNT). Used by the scripts that source this file.
# shellcheck disable=SC2034
CLAW_MARKER_NAME=.claw-initialized
CLAW_LEDGER_NAME=.claw-updates
# shellcheck disable=SC2034
CLAW_SEED_VERSION_FILE_NAME=update-version.txt

# The names run-updates.sh applies, in number order (NNN-name.sh); verify.sh counts the same
# ones. The deploy side's copy is cloud-init's UPDATE_SCRIPT_NAME (a test pins the two together).
# shellcheck disable=SC2034 # used by the scripts that source this file
CLAW_UPDATE_NAME_RE='^([0-9]{3})-[A-Za-z0-9][A-Za-z0-9._-]*\.sh$'

claw_marker() { printf '%s/%s\n' "$CLAW_DATA_MOUNT" "$CLAW_MARKER_NAME"; }
claw_ledger_dir() { printf '%s/%s\n' "$CLAW_DATA_MOUNT" "$CLAW_LEDGER_NAME"; }

# ---------------------------------------------------------------- the data disk
# Shared by boot.sh (which formats and mounts it) and verify.sh (which checks that what is
# mounted is this disk's filesystem): one rule for which device is LUN 0.

# NVMe sizes without azure-vm-utils' udev rules: the remote-disk controller exposes the OS
# disk as namespace 1 and data disk LUN n as namespace n+2 (80-azure-disk.rules, above).
nvme_lun0_by_scan() {
  local name model nsid
  while read -r name model; do
    [[ "$model" == "MSFT NVMe Accelerator v1.0" ]] || continue
    nsid=$(cat "$CLAW_SYSFS_BLOCK/${name##*/}/nsid" 2>/dev/null) || continue
    if [[ "$nsid" == 2 ]]; then
      printf '%s\n' "$name"
      return 0
    fi
  done < <(lsblk -dnpo NAME,MODEL 2>/dev/null || true)
  return 1
}

locate_lun0() {
  local path
  if [[ -n "${CLAW_DATA_DEVICE:-}" ]]; then
    [[ -e "$CLAW_DATA_DEVICE" ]] && printf '%s\n' "$CLAW_DATA_DEVICE"
    return
  fi
  for path in "$CLAW_LUN0_PATH" "$CLAW_NVME_LUN0_PATH"; do
    if [[ -e "$path" ]]; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  nvme_lun0_by_scan
}

# Low-level probe (-p reads the device itself, not the blkid cache). Sets PROBE_*; returns
# blkid's status: 0 something identified, 2 nothing identified, 8 ambivalent, other errors.
# shellcheck disable=SC2034 # PROBE_* are read by the scripts that source this file
probe_device() {
  local dev=$1 out status=0 line
  PROBE_TYPE='' PROBE_UUID='' PROBE_PTTYPE=''
  out=$(blkid -p -o export -- "$dev") || status=$?
  while IFS= read -r line; do
    case $line in
      TYPE=*) PROBE_TYPE=${line#TYPE=} ;;
      UUID=*) PROBE_UUID=${line#UUID=} ;;
      PTTYPE=*) PROBE_PTTYPE=${line#PTTYPE=} ;;
    esac
  done <<<"$out"
  return "$status"
}

# The partitions of disk DEV, one device path a line. boot.sh uses a partitioned data disk only
# when it has exactly one (use_single_partition), and verify.sh expects that one mounted.
disk_partitions() {
  lsblk -lnpo NAME,TYPE -- "$1" | awk '$2 == "part" { print $1 }'
}

# ---------------------------------------------------------------- services, ports, display
# Shared by boot.sh (which starts the services and waits for them) and verify.sh (which checks
# them): one list of units, ports and display for both.

# Ports that must be listening (any address): xrdp, Sunshine's HTTP port. The gateway listens
# on the loopback only.
: "${CLAW_PORTS:=3389 47989}"
: "${CLAW_GATEWAY_PORT:=18789}"
# The desktop session's X display (lightdm's: Sunshine captures it, the agent's browser uses it).
: "${CLAW_DISPLAY:=:0}"
# Seconds any one external command may take (a wedged X server must not hang a script).
: "${CLAW_CHECK_TIMEOUT:=10}"

# The units boot.sh starts and verify.sh checks (CLAW_USER resolved first: load_claw_settings).
claw_service_units() {
  printf '%s\n' "${CLAW_SERVICES:-lightdm.service xrdp.service claw-sunshine@$CLAW_USER.service openclaw-gateway@$CLAW_USER.service}"
}

# Prints "address port" for every listening TCP socket (`ss -H -ltn`; addresses unbracketed,
# interface suffix removed).
listeners() {
  local local_addr addr
  while read -r _ _ _ local_addr _; do
    [[ -n ${local_addr:-} ]] || continue
    addr=${local_addr%:*}
    addr=${addr#[}
    addr=${addr%]}
    printf '%s %s\n' "${addr%%%*}" "${local_addr##*:}"
  done < <(timeout "$CLAW_CHECK_TIMEOUT" ss -H -ltn 2>/dev/null || true)
}

# display_answers: whether CLAW_DISPLAY answers xdpyinfo as the desktop user's session sees it
# (with CLAW_XAUTHORITY, default the user's .Xauthority, when readable). When it does not, prints
# what xdpyinfo said ("no answer" when it said nothing).
display_answers() {
  local xa=${CLAW_XAUTHORITY:-$CLAW_USER_HOME/.Xauthority} out
  local -a vars=("DISPLAY=$CLAW_DISPLAY")
  [[ -r $xa ]] && vars+=("XAUTHORITY=$xa")
  out=$(env "${vars[@]}" timeout "$CLAW_CHECK_TIMEOUT" xdpyinfo 2>&1 >/dev/null) && return
  printf '%s\n' "${out:-no answer}"
  return 1
}

# ---------------------------------------------------------------- logging
# One line per event, to stderr (journald) and to a log file when its directory is usable.
CLAW_LOG_FILE=${CLAW_LOG_FILE:-}

log() {
  local line
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) ${CLAW_LOG_TAG:-claw}: $*"
  printf '%s\n' "$line" >&2
  if [[ -n "$CLAW_LOG_FILE" ]]; then
    printf '%s\n' "$line" >>"$CLAW_LOG_FILE" 2>/dev/null || true
  fi
}

warn() { log "WARNING: $*"; }

die() {
  log "ERROR: $*"
  exit "${CLAW_DIE_CODE:-1}"
}

open_log() {
  local name=$1
  if mkdir -p "$CLAW_LOG_DIR" 2>/dev/null; then
    CLAW_LOG_FILE="$CLAW_LOG_DIR/$name"
  fi
}

# ---------------------------------------------------------------- env files
# KEY=VALUE lines, VALUE verbatim to the end of the line. Never `source`d: a value is data.
# Prints the value of KEY from FILE; nothing (and status 1) when absent.
env_file_get() {
  local file=$1 key=$2 line
  [[ -r "$file" ]] || return 1
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" == "$key="* ]]; then
      printf '%s\n' "${line#"$key="}"
      return 0
    fi
  done <"$file"
  return 1
}

# Settings from the staged claw.env, unless the caller's environment already set them.
load_claw_settings() {
  local value
  if [[ -z "${CLAW_USER:-}" ]] && value=$(env_file_get "$CLAW_SETTINGS_FILE" CLAW_USER); then
    CLAW_USER=$value
  fi
  : "${CLAW_USER:=azureuser}"
  : "${CLAW_USER_HOME:=/home/$CLAW_USER}"
  if [[ -z "${CLAW_NAME:-}" ]] && value=$(env_file_get "$CLAW_SETTINGS_FILE" CLAW_NAME); then
    CLAW_NAME=$value
  fi
  : "${CLAW_NAME:=$(hostname 2>/dev/null || echo claw)}"
  export CLAW_USER CLAW_USER_HOME CLAW_NAME
}

current_boot_id() {
  local id
  if [[ -r "$CLAW_BOOT_ID_FILE" ]]; then
    IFS= read -r id <"$CLAW_BOOT_ID_FILE" || true
  fi
  printf '%s\n' "${id:-unknown}"
}

# Write FILE atomically (same directory, then rename) from stdin, with MODE.
write_atomically() {
  local file=$1 mode=$2 tmp
  tmp=$(mktemp "${file%/*}/.${file##*/}.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"
  mv -f -- "$tmp" "$file"
}

# Export the contract for child scripts (run-updates.sh, updates/NNN-*.sh).
export_contract() {
  export CLAW_HOME CLAW_UPDATES_DIR CLAW_DEFAULTS_DIR CLAW_INSTALL_DIR CLAW_DATA_MOUNT \
    CLAW_STATE_DIR CLAW_LOG_DIR CLAW_BOOT_ID_FILE CLAW_SECRETS_STAGING CLAW_SETTINGS_FILE
}
