#!/usr/bin/env bash
# verify.sh — prove this claw healthy. Runs on the VM as root (`sudo /opt/claw/verify.sh`).
#
#   verify.sh           human report: "[PASS] label", "[FAIL] label — detail", "[WARN] label — detail",
#                       then "=== Results: N passed, N failed, N warnings ==="
#   verify.sh --json    one JSON object per line per check, then one summary object:
#                       {"id":"disk.mounted","group":"disk","status":"pass","label":"...","detail":"..."}
#                       {"summary":true,"passed":N,"failed":N,"warnings":N}
#   verify.sh --json --compact
#                       the same lines, shorter, for channels that keep only the end of the
#                       output (Azure Run Command keeps the last 4,096 bytes): a passed check
#                       is {"id","group","status"} only; a failed or warned one keeps its label
#                       and a detail of at most 160 characters.
#
# Exit status: 0 when no check failed (warnings allowed), 1 when any failed, 2 on a usage error
# (an unknown argument, or a malformed CLAW_SERVICE_SAMPLES / CLAW_SERVICE_SAMPLE_SECONDS).
# Check ids, groups and every environment variable are documented in vm-runtime/VERIFY.md.
# Every path and command is overridable so the bats suite runs this script in
# a sandbox with stubbed system commands; commands are found through PATH.
#
# Details never contain secret values: checks on .env name the variable, never its value.
set -euo pipefail

# Byte-wise string handling (JSON escaping below) and stable, English command output.
export LC_ALL=C

# The environment contract and the rule for which device is LUN 0, shared with boot.sh.
# verify.sh defines its own warn() below, after this.
LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LIFECYCLE_DIR/lib.sh"

# CLAW_DATA_MOUNT, CLAW_HOME, CLAW_PORTS, CLAW_DISPLAY, CLAW_CHECK_TIMEOUT, ...: lib.sh.
CLAW_UPDATE_LEDGER=${CLAW_UPDATE_LEDGER:-$CLAW_DATA_MOUNT/.claw-updates}
CLAW_OPENCLAW_DIR=${CLAW_OPENCLAW_DIR:-$CLAW_DATA_MOUNT/openclaw}
CLAW_WORKSPACE_DIR=${CLAW_WORKSPACE_DIR:-$CLAW_DATA_MOUNT/workspace}
CLAW_ENV_FILE=${CLAW_ENV_FILE:-$CLAW_OPENCLAW_DIR/.env}
CLAW_OPENCLAW_CONFIG=${CLAW_OPENCLAW_CONFIG:-$CLAW_OPENCLAW_DIR/openclaw.json}
CLAW_EXEC_APPROVALS=${CLAW_EXEC_APPROVALS:-$CLAW_OPENCLAW_DIR/exec-approvals.json}
# The app layer (install/os) and the baseline image (install/desktop) put these on PATH.
CLAW_BINARIES=${CLAW_BINARIES:-node npm openclaw claude google-chrome tailscale sunshine}
CLAW_BINARY_PATH=${CLAW_BINARY_PATH:-$PATH}
# VM size decides whether a GPU is expected; read from IMDS when not given.
CLAW_VM_SIZE=${CLAW_VM_SIZE:-}
CLAW_IMDS_URL=${CLAW_IMDS_URL:-http://169.254.169.254}
CLAW_SYS_MODULE_DIR=${CLAW_SYS_MODULE_DIR:-/sys/module}
# .env variable names (the keys cloud-init writes).
CLAW_PROVIDER_KEYS=${CLAW_PROVIDER_KEYS:-XAI_API_KEY OPENAI_API_KEY ANTHROPIC_API_KEY MOONSHOT_API_KEY DEEPSEEK_API_KEY}
CLAW_TELEGRAM_KEY=${CLAW_TELEGRAM_KEY:-TELEGRAM_BOT_TOKEN}
CLAW_TAILSCALE_KEY=${CLAW_TAILSCALE_KEY:-TAILSCALE_AUTHKEY}
CLAW_GATEWAY_TOKEN_KEY=${CLAW_GATEWAY_TOKEN_KEY:-OPENCLAW_GATEWAY_TOKEN}
# python3 or jq; empty: python3 when installed, else jq.
CLAW_JSON_PARSER=${CLAW_JSON_PARSER:-}
# services.*: how many times each unit is sampled, and the seconds between two rounds.
CLAW_SERVICE_SAMPLES=${CLAW_SERVICE_SAMPLES:-3}
CLAW_SERVICE_SAMPLE_SECONDS=${CLAW_SERVICE_SAMPLE_SECONDS:-1}

# The admin user as boot.sh resolves it: the environment, then claw.env, then azureuser.
load_claw_settings
CLAW_SERVICES=$(claw_service_units)

JSON=0
COMPACT=0
# Longest detail in --compact output: a whole report of failures still fits in 4 KB.
COMPACT_DETAIL_MAX=160
PASSED=0
FAILED=0
WARNINGS=0
CURRENT_GROUP=""
WORK_DIR=""

usage() {
  printf 'usage: %s [--json [--compact]]\n' "${0##*/}" >&2
}

# ------------------------------------------------------------------ output

# JSON string body for any bytes: escapes quotes, backslashes and control characters, and
# replaces bytes outside ASCII with "?" (command output may not be valid UTF-8, and invalid
# UTF-8 makes the whole line unparseable for strict readers).
json_escape() {
  local s=$1 out="" c i
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=${s//[$'\x80'-$'\xff']/?}
  if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
    for ((i = 0; i < ${#s}; i++)); do
      c=${s:i:1}
      if [[ $c == [$'\x01'-$'\x1f'] ]]; then
        printf -v c '\\u%04x' "'$c"
      fi
      out+=$c
    done
    s=$out
  fi
  printf '%s' "$s"
}

# record STATUS ID GROUP LABEL [DETAIL]
record() {
  local status=$1 id=$2 group=$3 label=$4 detail=${5:-}
  case $status in
    pass) PASSED=$((PASSED + 1)) ;;
    fail) FAILED=$((FAILED + 1)) ;;
    warn) WARNINGS=$((WARNINGS + 1)) ;;
    *) printf 'verify.sh: bad status %s for %s\n' "$status" "$id" >&2; exit 70 ;;
  esac
  if ((JSON && COMPACT)); then
    if [[ $status == pass ]]; then
      printf '{"id":"%s","group":"%s","status":"pass"}\n' "$(json_escape "$id")" "$(json_escape "$group")"
      return
    fi
    if ((${#detail} > COMPACT_DETAIL_MAX)); then detail="${detail:0:COMPACT_DETAIL_MAX-3}..."; fi
  fi
  if ((JSON)); then
    printf '{"id":"%s","group":"%s","status":"%s","label":"%s","detail":"%s"}\n' \
      "$(json_escape "$id")" "$(json_escape "$group")" "$status" \
      "$(json_escape "$label")" "$(json_escape "$detail")"
    return
  fi
  if [[ $group != "$CURRENT_GROUP" ]]; then
    CURRENT_GROUP=$group
    printf '\n--- %s ---\n' "$group"
  fi
  local tag
  case $status in pass) tag=PASS ;; fail) tag=FAIL ;; *) tag=WARN ;; esac
  if [[ $status == pass || -z $detail ]]; then
    printf '[%s] %s\n' "$tag" "$label"
  else
    # Continuation lines of a multi-line detail are indented under their check.
    printf '[%s] %s — %s\n' "$tag" "$label" "${detail//$'\n'/$'\n       '}"
  fi
}

pass() { record pass "$@"; }
fail() { record fail "$@"; }
warn() { record warn "$@"; }

summary() {
  if ((JSON)); then
    printf '{"summary":true,"passed":%d,"failed":%d,"warnings":%d}\n' "$PASSED" "$FAILED" "$WARNINGS"
  else
    printf '\n=== Results: %d passed, %d failed, %d warnings ===\n' "$PASSED" "$FAILED" "$WARNINGS"
  fi
}

# ------------------------------------------------------------------ helpers

# Runs a command with the per-command time limit; output as the command's.
bounded() {
  timeout "$CLAW_CHECK_TIMEOUT" "$@"
}

# First line of a command's combined output, trimmed, for failure details.
first_line() {
  local text=$1
  text=${text%%$'\n'*}
  printf '%s' "${text:0:200}"
}

# join_by SEPARATOR WORD...
join_by() {
  local sep=$1 out=$2
  shift 2
  local w
  for w in "$@"; do out+=$sep$w; done
  printf '%s' "$out"
}

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

# env_value KEY [FILE]: prints the value of KEY in FILE (default CLAW_ENV_FILE; last assignment
# wins, surrounding quotes removed; the file is read, never sourced). Returns 1 when absent.
env_value() {
  local key=$1 file=${2:-$CLAW_ENV_FILE} line value="" found=1
  [[ -r $file ]] || return 1
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$ ]] || continue
    [[ ${BASH_REMATCH[2]} == "$key" ]] || continue
    value=$(trim "${BASH_REMATCH[3]}")
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    found=0
  done <"$file"
  ((found == 0)) || return 1
  printf '%s' "$value"
}

# A value nobody would deploy on purpose: empty, or a template's stand-in.
is_placeholder() {
  local v
  v=$(trim "$1")
  v=${v,,}
  [[ -z $v ]] && return 0
  case $v in
    changeme | change-me | change_me | placeholder | todo | tbd | none | null | dummy | example | test | fake | ... | xxx*) return 0 ;;
    *placeholder* | *changeme* | *replace-me* | *replace_me* | *your-*-here* | *your_*_here* | "<"*">" | *"\${"*) return 0 ;;
  esac
  return 1
}

# same_dir A B: A and B resolve to the same directory (a bind mount or symlink of B at A).
same_dir() {
  local a b
  a=$(stat -L -c '%d:%i' -- "$1" 2>/dev/null) || return 1
  b=$(stat -L -c '%d:%i' -- "$2" 2>/dev/null) || return 1
  [[ $a == "$b" ]]
}

# JSON is read with python3, which every Ubuntu cloud image has (cloud-init is written in it),
# or jq where python3 is absent (jq is not on the image by default).
json_parser() {
  if [[ -n $CLAW_JSON_PARSER ]]; then
    printf '%s' "$CLAW_JSON_PARSER"
  elif command -v python3 >/dev/null 2>&1; then
    printf python3
  elif command -v jq >/dev/null 2>&1; then
    printf jq
  fi
}

# json_valid FILE: succeeds when FILE parses; prints the parser's complaint otherwise.
json_valid() {
  case $(json_parser) in
    python3) bounded python3 -c 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$1" 2>&1 ;;
    jq) bounded jq empty -- "$1" 2>&1 ;;
    *) printf 'neither python3 nor jq is installed to read JSON'; return 1 ;;
  esac
}

# json_gateway_token FILE: prints gateway.auth.token when it is a string.
json_gateway_token() {
  case $(json_parser) in
    python3)
      bounded python3 -c '
import json, sys
try:
    token = json.load(open(sys.argv[1], encoding="utf-8"))["gateway"]["auth"]["token"]
except Exception:
    sys.exit(0)
if isinstance(token, str):
    print(token)
' "$1" 2>/dev/null
      ;;
    jq) bounded jq -r '.gateway.auth.token? // empty | strings' -- "$1" 2>/dev/null ;;
  esac
}

# ------------------------------------------------------------------ checks: disk

check_disk() {
  local out
  check_disk_mounted

  # Never probe-write an unmounted mount point: that would write to the OS disk.
  local probe="$CLAW_DATA_MOUNT/.claw-verify-write-test.$$"
  if ! mountpoint -q -- "$CLAW_DATA_MOUNT" 2>/dev/null; then
    fail disk.writable disk "Data disk writable" "not checked: the data disk is not mounted"
  elif out=$( { printf 'ok\n' >"$probe" && [[ $(<"$probe") == ok ]] && rm -f -- "$probe"; } 2>&1); then
    pass disk.writable disk "Data disk writable"
  else
    rm -f -- "$probe" 2>/dev/null || true
    fail disk.writable disk "Data disk writable" "cannot write $probe${out:+: $(first_line "$out")}"
  fi

  check_bind disk.bind-openclaw "$CLAW_USER_HOME/.openclaw" "$CLAW_OPENCLAW_DIR"
  check_bind disk.bind-workspace "$CLAW_USER_HOME/workspace" "$CLAW_WORKSPACE_DIR"
}

# A mount point is not enough: a tmpfs, the OS disk's own directory bind-mounted, or another
# data disk would pass that. The filesystem mounted there must be the one boot.sh mounts: the
# one on the disk at LUN 0 (the same UUID).
check_disk_mounted() {
  local label="Data disk mounted at $CLAW_DATA_MOUNT" uuid source
  if ! mountpoint -q -- "$CLAW_DATA_MOUNT" 2>/dev/null; then
    fail disk.mounted disk "$label" "$CLAW_DATA_MOUNT is not a mount point"
    return
  fi
  if ! lun0_filesystem; then
    fail disk.mounted disk "$label" "$LUN0_PROBLEM"
    return
  fi
  uuid=$(mounted_column UUID)
  source=$(mounted_column SOURCE)
  # findmnt reads UUIDs from udev's database; where that has none, ask the device itself.
  if [[ -z $uuid && $source == /* && -e $source ]] && probe_device "$source" 2>/dev/null; then
    uuid=$PROBE_UUID
  fi
  if [[ -n $uuid && ${uuid,,} == "${LUN0_FS_UUID,,}" ]]; then
    pass disk.mounted disk "$label"
    return
  fi
  local fstype
  fstype=$(mounted_column FSTYPE)
  fail disk.mounted disk "$label" "$CLAW_DATA_MOUNT holds ${source:-an unknown source} (${fstype:-unknown type}, ${uuid:+UUID }${uuid:-no UUID}), not LUN 0's filesystem (UUID $LUN0_FS_UUID on $LUN0_FS_DEV)"
}

# mounted_column COLUMN: findmnt's COLUMN for the filesystem mounted at $CLAW_DATA_MOUNT (the
# last listed, the one on top, when several are stacked there); empty when findmnt has none.
mounted_column() {
  # mapfile, not $(...): command substitution drops trailing empty lines, and an empty last line
  # is the top mount's empty column (a tmpfs has no UUID), not the one beneath it.
  local -a lines=()
  mapfile -t lines < <(bounded findmnt -n -o "$1" --mountpoint "$CLAW_DATA_MOUNT" 2>/dev/null || true)
  ((${#lines[@]})) || return 0
  trim "${lines[-1]}"
}

# Sets LUN0_FS_DEV and LUN0_FS_UUID to the filesystem boot.sh mounts: on the disk lib.sh's
# locate_lun0 finds, or on its only partition (boot.sh's use_single_partition). Otherwise
# returns 1 with the reason in LUN0_PROBLEM.
LUN0_FS_DEV='' LUN0_FS_UUID='' LUN0_PROBLEM=''
lun0_filesystem() {
  local dev status=0
  local -a parts
  if ! dev=$(locate_lun0); then
    LUN0_PROBLEM="no disk at LUN 0 ($CLAW_LUN0_PATH, $CLAW_NVME_LUN0_PATH, NVMe namespace 2)"
    return 1
  fi
  probe_device "$dev" 2>/dev/null || status=$?
  if ((status == 0)) && [[ -n $PROBE_PTTYPE ]]; then
    mapfile -t parts < <(disk_partitions "$dev" 2>/dev/null)
    if ((${#parts[@]} != 1)); then
      LUN0_PROBLEM="the disk at LUN 0 ($dev) has a $PROBE_PTTYPE partition table with ${#parts[@]} partitions: boot.sh mounts only a disk with exactly one"
      return 1
    fi
    dev=${parts[0]}
    probe_device "$dev" 2>/dev/null || status=$?
  fi
  if ((status != 0)) || [[ -z $PROBE_UUID ]]; then
    LUN0_PROBLEM="no filesystem with a UUID on the disk at LUN 0 ($dev, blkid status $status): the mounted filesystem cannot be LUN 0's"
    return 1
  fi
  LUN0_FS_DEV=$dev LUN0_FS_UUID=$PROBE_UUID
}

# check_bind ID PATH SOURCE: PATH shows the data disk's SOURCE directory.
check_bind() {
  local id=$1 path=$2 source=$3 label="$2 is on the data disk"
  if [[ ! -d $source ]]; then
    fail "$id" disk "$label" "$source does not exist"
  elif [[ ! -e $path ]]; then
    fail "$id" disk "$label" "$path does not exist"
  elif same_dir "$path" "$source"; then
    pass "$id" disk "$label"
  else
    fail "$id" disk "$label" "$path is a different directory from $source: data written there would not reach the data disk"
  fi
}

# ------------------------------------------------------------------ checks: boot

check_boot() {
  local marker="$CLAW_DATA_MOUNT/.claw-initialized"
  if [[ -e $marker ]]; then
    pass boot.initialized boot "First-boot marker present"
  else
    fail boot.initialized boot "First-boot marker present" "$marker missing: defaults were never seeded onto this disk"
  fi

  local label="boot.sh completed during this boot" done_file="$CLAW_STATE_DIR/boot-completed" current recorded
  if ! current=$(trim "$(cat -- "$CLAW_BOOT_ID_FILE" 2>/dev/null)") || [[ -z $current ]]; then
    fail boot.completed boot "$label" "cannot read the boot id from $CLAW_BOOT_ID_FILE"
  elif [[ $(head -n 1 -- "$CLAW_STATE_DIR/boot-failed" 2>/dev/null) == "$current" ]]; then
    # boot.sh records why it stopped: line 1 the boot id, line 2 the reason.
    fail boot.completed boot "$label" "boot.sh failed during this boot: $(sed -n 2p -- "$CLAW_STATE_DIR/boot-failed")"
  elif [[ ! -e $done_file ]]; then
    fail boot.completed boot "$label" "$done_file missing: boot.sh has not finished since the VM started"
  else
    recorded=$(trim "$(cat -- "$done_file" 2>/dev/null || true)")
    if [[ $recorded == "$current" ]]; then
      pass boot.completed boot "$label"
    else
      fail boot.completed boot "$label" "$done_file is from boot ${recorded:-<empty>}, this is boot $current: boot.sh has not finished since the VM started"
    fi
  fi
}

# ------------------------------------------------------------------ checks: config

check_config() {
  check_json_file config.openclaw-json "openclaw.json is valid JSON" "$CLAW_OPENCLAW_CONFIG"
  check_json_file config.exec-approvals "exec-approvals.json present and valid JSON" "$CLAW_EXEC_APPROVALS"
}

check_json_file() {
  local id=$1 label=$2 file=$3 out
  if [[ ! -f $file ]]; then
    fail "$id" config "$label" "$file missing"
  elif out=$(json_valid "$file"); then
    pass "$id" config "$label"
  else
    fail "$id" config "$label" "$file: $(last_line "$out")"
  fi
}

last_line() {
  local text
  text=$(trim "$1")
  printf '%s' "${text##*$'\n'}"
}

# ------------------------------------------------------------------ checks: secrets

check_secrets() {
  if [[ -f $CLAW_ENV_FILE ]]; then
    pass secrets.env-file secrets ".env present"
  else
    fail secrets.env-file secrets ".env present" "$CLAW_ENV_FILE missing"
  fi

  local key value found=() placeholders=()
  for key in $CLAW_PROVIDER_KEYS; do
    value=$(env_value "$key") || continue
    if is_placeholder "$value"; then
      [[ -n $(trim "$value") ]] && placeholders+=("$key")
    else
      found+=("$key")
    fi
  done
  if ((${#found[@]})); then
    pass secrets.provider-key secrets "Provider API key set (${found[*]})"
  elif ((${#placeholders[@]})); then
    fail secrets.provider-key secrets "Provider API key set" "only placeholder values: ${placeholders[*]}"
  else
    fail secrets.provider-key secrets "Provider API key set" "none of $CLAW_PROVIDER_KEYS is set in $CLAW_ENV_FILE"
  fi

  local label="Telegram bot token set"
  if ! value=$(env_value "$CLAW_TELEGRAM_KEY") || [[ -z $(trim "$value") ]]; then
    fail secrets.telegram-token secrets "$label" "$CLAW_TELEGRAM_KEY is not set in $CLAW_ENV_FILE"
  elif is_placeholder "$value"; then
    fail secrets.telegram-token secrets "$label" "$CLAW_TELEGRAM_KEY is a placeholder"
  elif [[ ! $value =~ ^[0-9]+:[A-Za-z0-9_-]+$ ]]; then
    # Bot API tokens are "<bot id>:<secret>" (https://core.telegram.org/bots/api#authorizing-your-bot).
    fail secrets.telegram-token secrets "$label" "$CLAW_TELEGRAM_KEY is not of the form <bot id>:<secret>"
  else
    pass secrets.telegram-token secrets "$label"
  fi
}

# ------------------------------------------------------------------ checks: services

# One `systemctl is-active` answer proves little: a unit with Restart=on-failure that crashes
# every few seconds is "active" most of the time. Every unit is sampled CLAW_SERVICE_SAMPLES
# times, CLAW_SERVICE_SAMPLE_SECONDS apart (all units in each round, so the window is the same
# for all and verify takes that long once), and its restart counter is read at the first and
# the last round. NRestarts counts automatic restarts by Restart= (systemd.exec(5),
# "$NRESTARTS"; a property since systemd 235).
check_services() {
  local -a units
  local unit round name detail start_us elapsed
  local -A restarts_first=() restarts_last=() inactive=() inactive_count=()
  read -r -a units <<<"$CLAW_SERVICES"
  ((${#units[@]})) || return 0
  start_us=${EPOCHREALTIME/./}
  for ((round = 1; round <= CLAW_SERVICE_SAMPLES; round++)); do
    for unit in "${units[@]}"; do
      ((round == 1)) && restarts_first[$unit]=$(unit_restarts "$unit")
      sample_unit "$unit"
      ((round == CLAW_SERVICE_SAMPLES)) && restarts_last[$unit]=$(unit_restarts "$unit")
    done
    ((round == CLAW_SERVICE_SAMPLES)) || sleep "$CLAW_SERVICE_SAMPLE_SECONDS"
  done
  elapsed=$(((${EPOCHREALTIME/./} - start_us + 500000) / 1000000))

  local first last unreadable not_active
  for unit in "${units[@]}"; do
    name=${unit%.service}
    detail=""
    if [[ -n ${inactive[$unit]:-} ]]; then
      detail="systemctl is-active: ${inactive[$unit]}"
      not_active=${inactive_count[$unit]}
      if ((not_active < CLAW_SERVICE_SAMPLES)); then
        detail+=" ($not_active of $CLAW_SERVICE_SAMPLES samples in $elapsed s were not active)"
      fi
    fi
    first=${restarts_first[$unit]} last=${restarts_last[$unit]} unreadable=""
    [[ $last =~ ^[0-9]+$ ]] || unreadable=${last:-no answer}
    [[ $first =~ ^[0-9]+$ ]] || unreadable=${first:-no answer}
    if [[ -n $unreadable ]]; then
      detail+="${detail:+; }cannot read its restart count: systemctl show -p NRestarts: $(first_line "$unreadable")"
    elif ((last > first)); then
      detail+="${detail:+; }restarted $((last - first)) times in $elapsed s (NRestarts $first -> $last): it keeps failing"
    fi
    if [[ -z $detail ]]; then
      pass "services.$name" services "$name active"
    else
      fail "services.$name" services "$name active" "$detail"
    fi
  done
}

# sample_unit UNIT: one `is-active` sample; the first answer that was not "active" is kept.
sample_unit() {
  local unit=$1 out
  if out=$(bounded systemctl is-active "$unit" 2>&1); then
    return
  fi
  inactive_count[$unit]=$((${inactive_count[$unit]:-0} + 1))
  [[ -n ${inactive[$unit]:-} ]] || inactive[$unit]=$(first_line "${out:-no answer}")
}

# unit_restarts UNIT: systemd's count of automatic restarts of UNIT (or what systemctl said).
unit_restarts() {
  local out
  out=$(bounded systemctl show -p NRestarts --value "$1" 2>&1) || true
  trim "$out"
}

# ------------------------------------------------------------------ checks: network

check_network() {
  local all port addrs
  all=$(listeners)
  for port in $CLAW_PORTS; do
    if grep -q " $port\$" <<<"$all"; then
      pass "network.port-$port" network "Port $port listening"
    else
      fail "network.port-$port" network "Port $port listening" "nothing listens on TCP $port"
    fi
  done

  local label="Gateway port $CLAW_GATEWAY_PORT listening on loopback only" exposed=()
  addrs=$(awk -v p="$CLAW_GATEWAY_PORT" '$2 == p { print $1 }' <<<"$all")
  if [[ -z $addrs ]]; then
    fail network.gateway-loopback network "$label" "nothing listens on TCP $CLAW_GATEWAY_PORT"
  else
    local a
    while read -r a; do
      case $a in
        127.* | ::1 | ::ffff:127.*) ;;
        *) exposed+=("$a") ;;
      esac
    done <<<"$addrs"
    if ((${#exposed[@]})); then
      fail network.gateway-loopback network "$label" "also listening on ${exposed[*]}: the gateway must only be reachable through SSH or Tailscale"
    else
      pass network.gateway-loopback network "$label"
    fi
  fi
}

# ------------------------------------------------------------------ checks: binaries

check_binaries() {
  local bin label="App layer installed"
  # install-app-layer.sh records its outcome: app-layer.ok, or app-layer.failed with
  # script= and exit_code= lines.
  if [[ -e $CLAW_STATE_DIR/app-layer.ok ]]; then
    pass binaries.app-layer binaries "$label"
  elif [[ -e $CLAW_STATE_DIR/app-layer.failed ]]; then
    local script code
    script=$(sed -n 's/^script=//p' "$CLAW_STATE_DIR/app-layer.failed" | head -n 1)
    code=$(sed -n 's/^exit_code=//p' "$CLAW_STATE_DIR/app-layer.failed" | head -n 1)
    fail binaries.app-layer binaries "$label" "${script:-an install script} failed with exit code ${code:-?} (log: $CLAW_LOG_DIR/install-${script%.sh}.log)"
  else
    fail binaries.app-layer binaries "$label" "$CLAW_STATE_DIR/app-layer.ok missing: cloud-init has not installed the app layer"
  fi
  for bin in $CLAW_BINARIES; do
    if PATH=$CLAW_BINARY_PATH command -v -- "$bin" >/dev/null 2>&1; then
      pass "binaries.$bin" binaries "$bin installed"
    else
      fail "binaries.$bin" binaries "$bin installed" "$bin not found on the search path (CLAW_BINARY_PATH)"
    fi
  done
}

# ------------------------------------------------------------------ checks: display

check_display() {
  local out label="Display $CLAW_DISPLAY up"
  if out=$(display_answers); then
    pass display.up display "$label"
  else
    fail display.up display "$label" "xdpyinfo: $(first_line "${out:-no answer}")"
  fi
}

# ------------------------------------------------------------------ checks: gpu

vm_size() {
  if [[ -n $CLAW_VM_SIZE ]]; then
    printf '%s' "$CLAW_VM_SIZE"
    return
  fi
  # Azure Instance Metadata Service; never through a proxy
  # (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service#proxies).
  bounded curl -sf --max-time 3 --noproxy '*' -H 'Metadata: true' \
    "$CLAW_IMDS_URL/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text" 2>/dev/null || true
}

# GPU vendor of an Azure size: N-series sizes have GPUs
# (https://learn.microsoft.com/azure/virtual-machines/sizes/overview#gpu-accelerated); the AMD
# ones are NVv4 (MI25), NGads V620 and NVads V710. Prints nothing for sizes without a GPU.
gpu_vendor() {
  local size=${1,,}
  case $size in
    standard_n*v710* | standard_n*v620* | standard_nv*_v4) printf amd ;;
    standard_n*) printf nvidia ;;
  esac
}

check_gpu() {
  local size vendor out
  size=$(vm_size)
  if [[ -z $size ]]; then
    warn gpu.present gpu "GPU present" "VM size unknown (IMDS unreachable and CLAW_VM_SIZE unset): GPU not checked"
    return
  fi
  vendor=$(gpu_vendor "$size")
  if [[ -z $vendor ]]; then
    warn gpu.present gpu "GPU present" "$size has no GPU: not checked"
    return
  fi

  local pattern='NVIDIA'
  [[ $vendor == amd ]] && pattern='(AMD|ATI|Advanced Micro Devices)'
  if out=$(bounded lspci 2>&1) && grep -Eq "(VGA|3D|Display).*$pattern" <<<"$out"; then
    pass gpu.present gpu "GPU present ($size)"
  else
    fail gpu.present gpu "GPU present ($size)" "no $vendor display controller in lspci"
  fi

  if [[ $vendor == nvidia ]]; then
    if out=$(bounded nvidia-smi -L 2>&1); then
      pass gpu.driver gpu "NVIDIA driver loaded"
    else
      fail gpu.driver gpu "NVIDIA driver loaded" "nvidia-smi: $(first_line "${out:-failed}")"
    fi
  elif [[ -d $CLAW_SYS_MODULE_DIR/amdgpu ]]; then
    pass gpu.driver gpu "amdgpu driver loaded"
  else
    fail gpu.driver gpu "amdgpu driver loaded" "kernel module amdgpu is not loaded"
  fi
}

# ------------------------------------------------------------------ checks: updates

check_updates() {
  local label="Update scripts applied" script name applied=0 failed=() pending=()
  if [[ ! -d $CLAW_UPDATES_DIR ]]; then
    fail updates.applied updates "$label" "$CLAW_UPDATES_DIR missing: the vm-runtime payload is incomplete"
    return
  fi
  for script in "$CLAW_UPDATES_DIR"/*.sh; do
    [[ -f $script ]] || continue
    name=${script##*/}
    # The names run-updates.sh applies (lib.sh); it ignores anything else.
    [[ $name =~ $CLAW_UPDATE_NAME_RE ]] || continue
    if [[ -e $CLAW_UPDATE_LEDGER/$name.ok ]]; then
      applied=$((applied + 1))
    elif [[ -e $CLAW_UPDATE_LEDGER/$name.failed ]]; then
      local code
      code=$(sed -n 's/^exit_code=//p' "$CLAW_UPDATE_LEDGER/$name.failed" | head -n 1)
      failed+=("$name${code:+ (exit $code)}")
    else
      pending+=("$name")
    fi
  done
  if ((${#failed[@]} == 0 && ${#pending[@]} == 0)); then
    pass updates.applied updates "$label ($applied)"
    return
  fi
  local detail=""
  if ((${#failed[@]})); then
    detail="failed: $(join_by ', ' "${failed[@]}") (log: $CLAW_UPDATE_LEDGER/<script>.log)"
  fi
  if ((${#pending[@]})); then
    detail+="${detail:+; }not applied: ${pending[*]}"
  fi
  fail updates.applied updates "$label" "$detail"
}

# ------------------------------------------------------------------ checks: gateway

# The token the gateway accepts: gateway.auth.token in openclaw.json (a "${VAR}" reference is
# resolved from .env), else OPENCLAW_GATEWAY_TOKEN in .env.
gateway_token() {
  local token=""
  if [[ -r $CLAW_OPENCLAW_CONFIG ]]; then
    token=$(json_gateway_token "$CLAW_OPENCLAW_CONFIG" || true)
  fi
  if [[ $token =~ ^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$ ]]; then
    token=$(env_value "${BASH_REMATCH[1]}" || true)
  fi
  [[ -n $token ]] || token=$(env_value "$CLAW_GATEWAY_TOKEN_KEY" || true)
  [[ -n $token ]] || return 1
  printf '%s' "$token"
}

# gateway.health asks the gateway itself, over its authenticated RPC, with the token the claw is
# configured with. Its HTTP probes (/healthz, /readyz) answer 200 with any token or none (they
# are unauthenticated by design), so they cannot show that the gateway accepts the claw's token.
#
# `openclaw health --json --timeout <ms>` (https://docs.openclaw.ai/cli/health) calls the
# gateway's "health" method over its WebSocket and prints the health summary, whose top-level
# "ok" is true whenever the call succeeded (openclaw src/commands/health.ts, HealthSummary);
# a failed call exits non-zero. It has no --token option (`openclaw gateway health` takes one,
# on its command line). A CLI in local mode takes OPENCLAW_GATEWAY_TOKEN from its environment
# before gateway.auth.token from openclaw.json ("env-first" in src/gateway/credentials.ts;
# "config-first" only with OPENCLAW_SERVICE_KIND=gateway). So the token goes into the child's
# environment, never onto a command line (the process list is world-readable), and the
# variables that would redirect the call or change which credential wins are removed.
#
# It runs as the admin user with the user's home: the CLI reads ~/.openclaw (the data disk's
# openclaw/ directory) and keeps its device identity there. As root it would read
# /root/.openclaw, or leave root-owned files on the user's disk. runuser is util-linux's
# (Essential on Debian 12 and Ubuntu 24.04), for root only, and asks no password.
GATEWAY_HEALTH_TIMEOUT_MS=5000

check_gateway() {
  local label="Gateway answers an authenticated health request" token openclaw code=0 out err line
  if ! token=$(gateway_token); then
    fail gateway.health gateway "$label" "no gateway token: neither gateway.auth.token in $CLAW_OPENCLAW_CONFIG nor $CLAW_GATEWAY_TOKEN_KEY in $CLAW_ENV_FILE"
    return
  fi
  if ! openclaw=$(PATH=$CLAW_BINARY_PATH command -v openclaw 2>/dev/null); then
    fail gateway.health gateway "$label" "openclaw is not on the search path (CLAW_BINARY_PATH): nothing to ask the gateway with"
    return
  fi
  OPENCLAW_GATEWAY_TOKEN=$token timeout "$CLAW_CHECK_TIMEOUT" runuser -u "$CLAW_USER" -- \
    env -u OPENCLAW_GATEWAY_URL -u CLAWDBOT_GATEWAY_URL -u CLAWDBOT_GATEWAY_TOKEN \
    -u OPENCLAW_GATEWAY_PASSWORD -u CLAWDBOT_GATEWAY_PASSWORD -u OPENCLAW_SERVICE_KIND \
    HOME="$CLAW_USER_HOME" PATH="$CLAW_BINARY_PATH:$PATH" NO_COLOR=1 \
    "$openclaw" health --json --timeout "$GATEWAY_HEALTH_TIMEOUT_MS" \
    </dev/null >"$WORK_DIR/health-out" 2>"$WORK_DIR/health-err" || code=$?
  out=$(untrusted "$WORK_DIR/health-out" "$token")
  err=$(untrusted "$WORK_DIR/health-err" "$token")
  line=$(first_nonempty_line "$err"$'\n'"$out")

  if ((code == 124)); then
    fail gateway.health gateway "$label" "unreachable: openclaw health had no answer within ${CLAW_CHECK_TIMEOUT}s"
  elif ((code != 0)); then
    if ! gateway_listening; then
      fail gateway.health gateway "$label" "unreachable: nothing listens on TCP $CLAW_GATEWAY_PORT (openclaw health: ${line:-exit $code})"
    elif [[ $err$out =~ ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT ]]; then
      # Node's system error codes (not prose): the connection itself failed.
      fail gateway.health gateway "$label" "unreachable: openclaw health could not connect to the gateway: ${line:-exit $code}"
    else
      fail gateway.health gateway "$label" "refused: the gateway did not answer the health request made with the claw's configured token (openclaw health exited $code: ${line:-no output})"
    fi
  else
    case $(health_answer "$WORK_DIR/health-out") in
      ok) pass gateway.health gateway "$label" ;;
      not-ok) fail gateway.health gateway "$label" "bad output: the health answer does not say \"ok\": true: $(first_nonempty_line "$out")" ;;
      no-parser) fail gateway.health gateway "$label" "bad output: neither python3 nor jq is installed to read the health answer" ;;
      *) fail gateway.health gateway "$label" "bad output: openclaw health --json printed no JSON object: ${line:-nothing}" ;;
    esac
  fi
}

# gateway_listening: something listens on the gateway port (any address).
gateway_listening() {
  [[ -n $(awk -v p="$CLAW_GATEWAY_PORT" '$2 == p' <<<"$(listeners)") ]]
}

# untrusted FILE TOKEN: what a command printed, made safe for a detail: at most 4 KiB, terminal
# escape sequences removed, other control characters (but newline and tab) as "?", and the
# token, should the command echo it, replaced.
untrusted() {
  local text
  text=$(head -c 4096 -- "$1" 2>/dev/null | sed -E $'s#\x1b\\[[0-?]*[ -/]*[@-~]##g' | tr '\000-\010\013-\037\177' '?') || true
  [[ -n $2 ]] && text=${text//"$2"/<redacted>}
  printf '%s' "$text"
}

# The first line with something on it, trimmed, for failure details.
first_nonempty_line() {
  local line
  while IFS= read -r line; do
    line=$(trim "$line")
    if [[ -n $line ]]; then
      first_line "$line"
      return
    fi
  done <<<"$1"
}

# health_answer FILE: "ok" when FILE holds one JSON object with "ok": true (after any lines
# printed before it, such as a runtime warning), "not-ok" for another object, "invalid" for
# anything else, "no-parser" without python3 and jq.
health_answer() {
  local json
  json=$(sed -n '/^[[:space:]]*{/,$p' -- "$1")
  if [[ -z $json ]]; then
    printf invalid
    return
  fi
  case $(json_parser) in
    python3)
      printf '%s' "$json" | bounded python3 -c '
import json, sys
try:
    answer = json.load(sys.stdin)
except ValueError:
    print("invalid")
    sys.exit(0)
print("ok" if isinstance(answer, dict) and answer.get("ok") is True else "not-ok" if isinstance(answer, dict) else "invalid")
' 2>/dev/null || printf invalid
      ;;
    jq)
      printf '%s' "$json" | bounded jq -r -s \
        'if length != 1 or (.[0] | type) != "object" then "invalid" elif .[0].ok == true then "ok" else "not-ok" end' \
        2>/dev/null || printf invalid
      ;;
    *) printf no-parser ;;
  esac
}

# ------------------------------------------------------------------ checks: tailscale

check_tailscale() {
  local label="Tailscale joined" key out
  # The key stays in the root-only staging file; boot.sh keeps it out of .env.
  if ! key=$(env_value "$CLAW_TAILSCALE_KEY" "$CLAW_SECRETS_STAGING") || is_placeholder "$key"; then
    pass tailscale.joined tailscale "Tailscale not configured (no $CLAW_TAILSCALE_KEY): nothing to join"
    return
  fi
  # `tailscale ip` prints the node's addresses only once it is logged in to a tailnet.
  if out=$(bounded tailscale ip -4 2>&1) && [[ -n $(trim "$out") ]]; then
    pass tailscale.joined tailscale "$label"
  else
    fail tailscale.joined tailscale "$label" "tailscale ip: $(first_line "${out:-no address}")"
  fi
}

# ------------------------------------------------------------------ main

main() {
  while (($#)); do
    case $1 in
      --json) JSON=1 ;;
      --compact) COMPACT=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage; exit 2 ;;
    esac
    shift
  done

  if ((COMPACT && !JSON)); then
    usage
    exit 2
  fi
  if [[ ! $CLAW_SERVICE_SAMPLES =~ ^[1-9][0-9]*$ ]]; then
    printf 'verify.sh: CLAW_SERVICE_SAMPLES must be a whole number of at least 1, not "%s"\n' "$CLAW_SERVICE_SAMPLES" >&2
    exit 2
  fi
  if [[ ! $CLAW_SERVICE_SAMPLE_SECONDS =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    printf 'verify.sh: CLAW_SERVICE_SAMPLE_SECONDS must be a number of seconds (e.g. 1 or 0.5), not "%s"\n' "$CLAW_SERVICE_SAMPLE_SECONDS" >&2
    exit 2
  fi

  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/claw-verify.XXXXXX")
  trap 'rm -rf -- "$WORK_DIR"' EXIT

  check_disk
  check_boot
  check_config
  check_secrets
  check_services
  check_network
  check_binaries
  check_display
  check_gpu
  check_updates
  check_gateway
  check_tailscale

  summary
  ((FAILED == 0))
}

main "$@"
