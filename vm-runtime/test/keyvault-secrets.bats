#!/usr/bin/env bats
# keyvault-secrets.sh and boot.sh with Key Vault secrets, in the sandboxed VM, against a local
# stand-in for IMDS and the vault (helpers/keyvault-server.py) reached with the real curl.

load helpers/sandbox

setup() {
  setup_sandbox
  rm -f "$CLAW_SECRETS_STAGING"
  KV_STATE="$BATS_TEST_TMPDIR/kv"
  mkdir -p "$KV_STATE/secrets"
  python3 "$BATS_TEST_DIRNAME/helpers/keyvault-server.py" "$KV_STATE" &
  KV_PID=$!
  for _ in $(seq 100); do [[ -s "$KV_STATE/port" ]] && break; sleep 0.05; done
  port=$(cat "$KV_STATE/port")
  export CLAW_IMDS_ENDPOINT="http://127.0.0.1:$port"
  export CLAW_KEY_VAULT_ENV="$SANDBOX/etc/claw/keyvault.env"
  export CLAW_FETCH_ATTEMPTS=2 CLAW_FETCH_BACKOFF_SECONDS=0
  write_keyvault_env claw-alice
  echo claw-alice >"$KV_STATE/readable"
  set_secret claw-alice '{"telegram_bot_token":"111:tg-kv-canary","xai_api_key":"xai-kv-canary-1","tailscale_authkey":"tskey-kv-canary"}'
}

teardown() {
  kill "$KV_PID" 2>/dev/null || true
}

write_keyvault_env() {
  printf 'CLAW_KEY_VAULT_URL=http://127.0.0.1:%s/\nCLAW_KEY_VAULT_SECRET=%s\nCLAW_SECRET_KEYS=%s\n' \
    "$port" "$1" \
    "telegram_bot_token:TELEGRAM_BOT_TOKEN,xai_api_key:XAI_API_KEY,tailscale_authkey:TAILSCALE_AUTHKEY,gateway_token:OPENCLAW_GATEWAY_TOKEN" \
    >"$CLAW_KEY_VAULT_ENV"
}

set_secret() {
  printf '%s' "$2" >"$KV_STATE/secrets/$1"
}

# Fails when grep finds the pattern (bats ignores a bare `!`).
refute_grep() {
  if grep -q "$@"; then
    echo "found what must not be there: grep $*" >&2
    return 1
  fi
}

fetch() {
  run "$VM_RUNTIME/lifecycle/keyvault-secrets.sh" "$@"
}

@test "boot fetches the claw's own secret with its identity and .env carries it" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  [ "$(stat -c %a "$CLAW_SECRETS_STAGING")" = 600 ]
  env_file="$CLAW_DATA_MOUNT/openclaw/.env"
  assert_file_contains "$env_file" "XAI_API_KEY=xai-kv-canary-1"
  assert_file_contains "$env_file" "TELEGRAM_BOT_TOKEN=111:tg-kv-canary"
  # As with CLAW_SECRETS_JSON: the Tailscale key is for joining, not for the agent.
  refute_grep TAILSCALE_AUTHKEY "$env_file"
  grep -q '^GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net auth=no$' "$KV_STATE/requests"
  grep -q '^GET /secrets/claw-alice?api-version=7.4 auth=yes$' "$KV_STATE/requests"
  # Neither the token nor a value reaches the log.
  [[ ! "$output" =~ canary|token-for-this-vm ]]
  refute_grep -rE 'canary|token-for-this-vm' "$CLAW_LOG_DIR"
}

@test "refresh after a rotation rebuilds .env and restarts the gateway, with no new VM" {
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  set_secret claw-alice '{"telegram_bot_token":"111:tg-kv-canary","xai_api_key":"xai-kv-canary-2"}'
  fetch --refresh
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_DATA_MOUNT/openclaw/.env" "XAI_API_KEY=xai-kv-canary-2"
  refute_grep xai-kv-canary-1 "$CLAW_DATA_MOUNT/openclaw/.env"
  assert_called "^systemctl try-restart openclaw-gateway@$CLAW_USER.service$"
  # The refresh's boot run fetched nothing twice.
  [ "$(grep -c '^GET /secrets/' "$KV_STATE/requests")" -eq 2 ]
}

@test "another claw's secret is refused with ForbiddenByRbac and nothing is written" {
  stage_secrets XAI_API_KEY=before
  write_keyvault_env claw-bob
  set_secret claw-bob '{"xai_api_key":"bob-canary"}'
  fetch
  [ "$status" -eq 4 ]
  grep -q "ForbiddenByRbac" <<<"$output"
  grep -q "Key Vault Secrets User" <<<"$output"
  [ "$(cat "$CLAW_SECRETS_STAGING")" = "XAI_API_KEY=before" ]
  [[ "$output" != *bob-canary* ]]
}

@test "a VM without an identity says so, and boot keeps the secrets staged before" {
  echo yes >"$KV_STATE/no-identity"
  fetch
  [ "$status" -eq 4 ]
  grep -q "Identity not found" <<<"$output"
  grep -q "system-assigned identity" <<<"$output"
  stage_secrets XAI_API_KEY=kept-canary
  make_disk sdc
  boot
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_DATA_MOUNT/openclaw/.env" "XAI_API_KEY=kept-canary"
}

@test "a secret that is not a JSON object of keys is refused without echoing it" {
  stage_secrets XAI_API_KEY=before
  set_secret claw-alice 'plain-canary-value'
  fetch
  [ "$status" -eq 1 ]
  grep -q "not JSON" <<<"$output"
  [[ "$output" != *plain-canary-value* ]]
  set_secret claw-alice '{"xai_api_key":"two\nlines-canary"}'
  fetch
  [ "$status" -eq 1 ]
  grep -q "xai_api_key must be a one-line string" <<<"$output"
  [ "$(cat "$CLAW_SECRETS_STAGING")" = "XAI_API_KEY=before" ]
}

@test "a curl that fails without printing a status counts as unreachable and is retried" {
  # A curl wrapper that gives up before the transfer (as an offline stand-in does) prints no
  # %{http_code}: that is no connection, retried, never an empty status.
  mkdir -p "$BATS_TEST_TMPDIR/bin"
  printf '#!/bin/sh\necho "curl: (7) Failed to connect" >&2\nexit 7\n' >"$BATS_TEST_TMPDIR/bin/curl"
  chmod +x "$BATS_TEST_TMPDIR/bin/curl"
  PATH="$BATS_TEST_TMPDIR/bin:$PATH" fetch
  [ "$status" -eq 4 ]
  [[ "$output" =~ "the instance metadata service answered no connection; retrying" ]]
  [[ "$output" == *"(HTTP unreachable)"* ]]
  [ ! -e "$CLAW_SECRETS_STAGING" ]
}
