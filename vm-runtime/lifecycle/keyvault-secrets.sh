#!/usr/bin/env bash
# Key Vault secrets (claws.yaml `secrets: { key_vault: ... }`): the claw reads its own secret with
# its VM's managed identity and stages it where boot.sh expects secrets, so nothing secret is in
# customData and a rotation needs no new VM.
#
#   keyvault-secrets.sh            fetch -> $CLAW_SECRETS_STAGING (boot.sh runs this before .env)
#   keyvault-secrets.sh --refresh  fetch, then boot.sh (rebuilds .env) and restart the gateway:
#                                  what deploy-fleet runs through Run Command after a rotation
#
#   $CLAW_KEY_VAULT_ENV (cloud-init) names the vault URL and the secret; a token for
#   https://vault.azure.net comes from the instance metadata service (IMDS); the secret's value
#   is a JSON object with CLAW_SECRETS_JSON's keys for this claw; $CLAW_SECRET_KEYS maps each key
#   to its variable name.
#   https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
#   https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret
#
# Exit status: 0 staged; 1 no Key Vault configured or a malformed secret (nothing written);
# 4 IMDS or Key Vault refused or could not be reached after the retries (nothing written).
# Never prints a secret value or a token.
set -euo pipefail

LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LIFECYCLE_DIR/lib.sh"
CLAW_LOG_TAG=keyvault-secrets

: "${CLAW_IMDS_ENDPOINT:=http://169.254.169.254}"
: "${CLAW_KEY_VAULT_RESOURCE:=https://vault.azure.net}"
: "${CLAW_KEY_VAULT_API_VERSION:=7.4}"
# IMDS and a role assignment made moments ago (RBAC propagation) both deserve retries: IMDS asks
# for exponential back-off on 404, 429 and 5xx (same page, "Retry guidance").
: "${CLAW_FETCH_ATTEMPTS:=8}"
: "${CLAW_FETCH_BACKOFF_SECONDS:=2}"

EXIT_UNREACHABLE=4
WORK=''

cleanup() { [[ -z "$WORK" ]] || rm -rf -- "$WORK"; }

# GET url [header] -> body in $WORK/body, HTTP status on stdout ("000" when unreachable).
http_get() {
  local url=$1 header=${2:-}
  local -a args=(-sS --max-time 20 -o "$WORK/body" -w '%{http_code}')
  # The header (a bearer token) goes through a file, never the command line (visible in ps).
  if [[ -n "$header" ]]; then
    printf '%s\n' "$header" >"$WORK/header"
    args+=(-H "@$WORK/header")
  fi
  local code
  # A curl that fails before writing out (no status printed) counts as unreachable: retried.
  code=$(curl "${args[@]}" "$url" 2>"$WORK/curl-error") || true
  printf '%s\n' "${code:-000}"
}

# Retries while the answer is worth retrying; returns the last status.
get_with_retries() {
  local url=$1 header=${2:-} what=$3 status attempt=1 delay=$CLAW_FETCH_BACKOFF_SECONDS
  while :; do
    status=$(http_get "$url" "$header")
    case "$status" in
      200) printf '%s\n' "$status"; return 0 ;;
      000 | 403 | 404 | 408 | 429 | 5??) ;;
      *) printf '%s\n' "$status"; return 0 ;;
    esac
    if ((attempt >= CLAW_FETCH_ATTEMPTS)); then
      printf '%s\n' "$status"
      return 0
    fi
    log "$what answered ${status/#000/no connection}; retrying in ${delay}s ($attempt/$CLAW_FETCH_ATTEMPTS)"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

# Key Vault and IMDS error bodies carry codes and messages, never the secret: safe to log.
error_of() {
  python3 - "$WORK/body" <<'PY' 2>/dev/null || true
import json, sys
try:
    b = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
e = b.get("error")
if isinstance(e, dict):
    inner = (e.get("innererror") or {}).get("code", "")
    print(f'{e.get("code", "")}{" (" + inner + ")" if inner else ""}: {str(e.get("message", "")).splitlines()[0][:200]}')
elif e:
    print(f'{e}: {b.get("error_description", "")}')
PY
}

fetch_token() {
  local status
  status=$(get_with_retries \
    "$CLAW_IMDS_ENDPOINT/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$CLAW_KEY_VAULT_RESOURCE" \
    "Metadata: true" "the instance metadata service")
  if [[ "$status" != 200 ]]; then
    CLAW_DIE_CODE=$EXIT_UNREACHABLE die "no token from the instance metadata service (HTTP ${status/#000/unreachable}$(
      e=$(error_of) && [[ -n "$e" ]] && printf ', %s' "$e"
    )): does the VM have a system-assigned identity?"
  fi
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$WORK/body" >"$WORK/token"
}

fetch_secret() {
  local url=$1 name=$2 status token
  token=$(<"$WORK/token")
  status=$(get_with_retries "${url%/}/secrets/$name?api-version=$CLAW_KEY_VAULT_API_VERSION" \
    "Authorization: Bearer $token" "Key Vault")
  if [[ "$status" != 200 ]]; then
    CLAW_DIE_CODE=$EXIT_UNREACHABLE die "Key Vault refused secret $name (HTTP ${status/#000/unreachable}$(
      e=$(error_of) && [[ -n "$e" ]] && printf ', %s' "$e"
    )); the VM's identity needs Key Vault Secrets User on that secret (deploy-fleet grants it)"
  fi
}

# The secret's JSON object -> KEY=VALUE lines in the staging file's format. Unknown keys are
# named (never their values) and left out; a value that would break the .env is refused.
stage() {
  local out=$1
  python3 - "$WORK/body" "$CLAW_SECRET_KEYS" >"$WORK/staged" <<'PY'
import json, sys
bundle = json.load(open(sys.argv[1]))
names = dict(pair.split(":", 1) for pair in sys.argv[2].split(",") if ":" in pair)
try:
    secrets = json.loads(bundle.get("value", ""))
except ValueError:
    sys.exit("the secret's value is not JSON: store the claw's CLAW_SECRETS_JSON entry (an object)")
if not isinstance(secrets, dict):
    sys.exit("the secret's value is not a JSON object of secret keys")
for key in secrets:
    if key not in names:
        print(f"ignoring a key that is not a secret key ({len(key)} characters)", file=sys.stderr)
for key, name in names.items():
    value = secrets.get(key)
    if value is None or value == "":
        continue
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        sys.exit(f"{key} must be a one-line string")
    print(f"{name}={value}")
PY
  mkdir -p "$(dirname "$out")"
  write_atomically "$out" 0600 <"$WORK/staged"
}

main() {
  local refresh=0 url name
  [[ "${1:-}" == --refresh ]] && refresh=1
  open_log keyvault-secrets.log
  url=$(env_file_get "$CLAW_KEY_VAULT_ENV" CLAW_KEY_VAULT_URL) ||
    die "no CLAW_KEY_VAULT_URL in $CLAW_KEY_VAULT_ENV: this claw's secrets do not come from Key Vault"
  name=$(env_file_get "$CLAW_KEY_VAULT_ENV" CLAW_KEY_VAULT_SECRET) ||
    die "no CLAW_KEY_VAULT_SECRET in $CLAW_KEY_VAULT_ENV"
  : "${CLAW_SECRET_KEYS:=$(env_file_get "$CLAW_KEY_VAULT_ENV" CLAW_SECRET_KEYS)}"
  WORK=$(mktemp -d)
  chmod 700 "$WORK"
  trap cleanup EXIT
  fetch_token
  fetch_secret "$url" "$name"
  stage "$CLAW_SECRETS_STAGING"
  log "staged secret $name from $url into $CLAW_SECRETS_STAGING"
  if ((refresh)); then
    load_claw_settings
    CLAW_KEY_VAULT_FETCHED=1 "$LIFECYCLE_DIR/boot.sh"
    # The gateway reads .env when it starts.
    systemctl try-restart "openclaw-gateway@$CLAW_USER.service" || warn "could not restart the gateway"
    log "refreshed: .env rebuilt from secret $name"
  fi
}

main "$@"
