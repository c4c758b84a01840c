#!/usr/bin/env bats
# install-app-layer.sh running the real install/os scripts: package managers and downloads
# are stubbed (helpers/install-stubs); gpg is real, with keys generated for the test.

load helpers/sandbox

setup_file() {
  command -v gpg >/dev/null || skip "gpg is not installed"
  export KEYS="$BATS_FILE_TMPDIR/keys"
  mkdir -p "$KEYS/home"
  chmod 700 "$KEYS/home"
  for who in vendor intruder; do
    gpg --homedir "$KEYS/home" --batch --pinentry-mode loopback --passphrase '' \
      --quick-gen-key "$who <$who@example.invalid>" ed25519 sign never 2>/dev/null
    gpg --homedir "$KEYS/home" --armor --export "$who@example.invalid" >"$KEYS/$who.asc"
    gpg --homedir "$KEYS/home" --with-colons --fingerprint "$who@example.invalid" |
      awk -F: '$1 == "fpr" { print $10; exit }' >"$KEYS/$who.fpr"
  done
  cat "$KEYS/vendor.asc" "$KEYS/intruder.asc" >"$KEYS/both.asc"
}

setup() {
  setup_sandbox
  export PATH="$BATS_TEST_DIRNAME/helpers/install-stubs:$PATH"
  cp -R "$VM_RUNTIME/install" "$CLAW_INSTALL_DIR"
  export CLAW_APT_KEYRINGS="$SANDBOX/etc/apt/keyrings" CLAW_APT_SOURCES="$SANDBOX/etc/apt/sources.list.d"
  export CLAW_OS_RELEASE="$SANDBOX/etc/os-release"
  printf 'ID=ubuntu\nVERSION_CODENAME=noble\n' >"$CLAW_OS_RELEASE"
  # shellcheck source=../install/versions.env
  source "$VM_RUNTIME/install/versions.env"
}

# serve URL FILE: what the stubbed curl returns for URL.
serve() {
  mkdir -p "$STUB_STATE/downloads"
  cp "$2" "$STUB_STATE/downloads/$(printf '%s' "$1" | tr '/:' '__')"
}

serve_all_keys() {
  serve "$NODESOURCE_KEY_URL" "$1"
  serve "$GOOGLE_KEY_URL" "$1"
  serve "$TAILSCALE_KEY_URL_BASE/noble.noarmor.gpg" "$1"
}

# Pins the test's vendor key in the sandbox copy of versions.env.
pin_vendor_key() {
  sed -i -E "s/^([A-Z]+_KEY_FINGERPRINTS)=.*/\1=$(cat "$KEYS/vendor.fpr")/" "$CLAW_INSTALL_DIR/versions.env"
}

install_app_layer() {
  run "$VM_RUNTIME/lifecycle/install-app-layer.sh"
}

@test "the app layer installs exactly the pinned versions and records success" {
  pin_vendor_key
  serve_all_keys "$KEYS/vendor.asc"
  install_app_layer
  [ "$status" -eq 0 ]

  assert_called "^apt-get install -y -q --no-install-recommends --allow-downgrades nodejs=$NODE_VERSION$"
  assert_called "^apt-get install -y -q --no-install-recommends --allow-downgrades google-chrome-stable=$CHROME_VERSION$"
  assert_called "^apt-get install -y -q --no-install-recommends --allow-downgrades tailscale=$TAILSCALE_VERSION$"
  assert_called "^apt-mark hold nodejs$"
  assert_called "^npm install --global --no-fund --no-audit openclaw@$OPENCLAW_VERSION @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION$"
  # In the order of the scripts' names.
  order=$(grep -oE 'nodejs=|openclaw@|google-chrome-stable=|tailscale=' "$STUB_STATE/calls" | tr '\n' ' ')
  [ "$order" = "nodejs= openclaw@ google-chrome-stable= tailscale= " ]

  [ -s "$CLAW_APT_KEYRINGS/nodesource.gpg" ]
  run grep -c 'BEGIN PGP' "$CLAW_APT_KEYRINGS/nodesource.gpg" # dearmored for signed-by
  [ "$output" = 0 ]
  assert_file_contains "$CLAW_APT_SOURCES/nodesource.list" \
    "deb [arch=amd64 signed-by=$CLAW_APT_KEYRINGS/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
  assert_file_contains "$CLAW_APT_SOURCES/tailscale.list" "$TAILSCALE_KEY_URL_BASE noble main"
  # Every source is signed by a keyring that was installed (apt refuses a source whose
  # signed-by keyring is missing: "The repository ... is not signed").
  for list in "$CLAW_APT_SOURCES"/*.list; do
    keyring=$(sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' "$list")
    [ -n "$keyring" ] && [ -s "$keyring" ] || { echo "$list: signed-by keyring '$keyring' was not installed"; false; }
  done
  assert_file_contains "$CLAW_STATE_DIR/app-layer.ok" \
    "versions_sha256=$(sha256sum "$CLAW_INSTALL_DIR/versions.env" | cut -d' ' -f1)"
  [ ! -e "$CLAW_STATE_DIR/app-layer.failed" ]
}

@test "a signing key that is not the pinned one is refused before anything is installed" {
  serve_all_keys "$KEYS/vendor.asc" # versions.env still pins the real vendors' fingerprints
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_STATE_DIR/app-layer.failed" "script=10-node.sh"
  assert_file_contains "$CLAW_LOG_DIR/install-10-node.log" "is not pinned"
  refute_called '^apt-get'
  refute_called '^npm'
  [ ! -e "$CLAW_APT_KEYRINGS/nodesource.gpg" ]
  [ ! -e "$CLAW_STATE_DIR/app-layer.ok" ]
}

@test "a key file that carries an extra, unpinned primary key is refused" {
  pin_vendor_key
  serve_all_keys "$KEYS/both.asc"
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_LOG_DIR/install-10-node.log" "$(cat "$KEYS/intruder.fpr") is not pinned"
  refute_called '^apt-get'
}

@test "a download failure stops the install at that step and says which" {
  pin_vendor_key
  serve "$NODESOURCE_KEY_URL" "$KEYS/vendor.asc" # the others are missing: 404
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_STATE_DIR/app-layer.failed" "script=30-chrome.sh"
  assert_called "^npm install"
  refute_called "tailscale="
}
