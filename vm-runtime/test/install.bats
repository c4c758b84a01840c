#!/usr/bin/env bats
# install-app-layer.sh running the real install/os scripts: package managers and downloads
# are stubbed (helpers/install-stubs); gpg is real, with keys generated for the test. What
# may vanish upstream is baked into the image instead (install/desktop: test/bake.bats).

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
  export CLAW_IMAGE_MANIFEST="$SANDBOX/usr/lib/claw/image.env"
  # shellcheck source=../install/versions.env
  source "$VM_RUNTIME/install/versions.env"
}

# serve URL FILE: what the stubbed curl returns for URL.
serve() {
  mkdir -p "$STUB_STATE/downloads"
  cp "$2" "$STUB_STATE/downloads/$(printf '%s' "$1" | tr '/:' '__')"
}

serve_all_keys() {
  serve "$TAILSCALE_KEY_URL_BASE/noble.noarmor.gpg" "$1"
}

# What the bake records in the image (install/lib/pinned-download.sh, record_in_image).
baked_image() {
  mkdir -p "$(dirname "$CLAW_IMAGE_MANIFEST")"
  printf 'NODE_VERSION=%s\nNPM_LOCK_SHA256=%s\n' "$NODE_VERSION" "$1" >"$CLAW_IMAGE_MANIFEST"
}

# Pins the test's vendor key in the sandbox copy of versions.env.
pin_vendor_key() {
  sed -i -E "s/^([A-Z]+_KEY_FINGERPRINTS)=.*/\1=$(cat "$KEYS/vendor.fpr")/" "$CLAW_INSTALL_DIR/versions.env"
}

install_app_layer() {
  run "$VM_RUNTIME/lifecycle/install-app-layer.sh"
}

@test "the app layer installs exactly the pinned Tailscale, nothing that can vanish upstream, and records success" {
  pin_vendor_key
  serve_all_keys "$KEYS/vendor.asc"
  baked_image "$NPM_LOCK_SHA256"
  install_app_layer
  [ "$status" -eq 0 ]

  assert_called "^apt-get install -y -q --no-install-recommends --allow-downgrades tailscale=$TAILSCALE_VERSION$"
  assert_called "^apt-mark hold tailscale$"
  # Node, Chrome and the npm tree are in the image (install/desktop), never fetched per VM.
  refute_called 'nodejs=|google-chrome|^npm '
  [ "$(ls "$CLAW_INSTALL_DIR/os")" = "40-tailscale.sh" ]

  [ -s "$CLAW_APT_KEYRINGS/tailscale.gpg" ]
  assert_file_contains "$CLAW_APT_SOURCES/tailscale.list" \
    "deb [arch=amd64 signed-by=$CLAW_APT_KEYRINGS/tailscale.gpg] $TAILSCALE_KEY_URL_BASE noble main"
  # Every source is signed by a keyring that was installed (apt refuses a source whose
  # signed-by keyring is missing: "The repository ... is not signed").
  for list in "$CLAW_APT_SOURCES"/*.list; do
    keyring=$(sed -n 's/.*signed-by=\([^] ]*\).*/\1/p' "$list")
    [ -n "$keyring" ] && [ -s "$keyring" ] || { echo "$list: signed-by keyring '$keyring' was not installed"; false; }
  done
  assert_file_contains "$CLAW_STATE_DIR/app-layer.ok" \
    "versions_sha256=$(sha256sum "$CLAW_INSTALL_DIR/versions.env" | cut -d' ' -f1)"
  assert_file_contains "$CLAW_STATE_DIR/app-layer.ok" "image_npm_lock_sha256=$NPM_LOCK_SHA256"
  refute_file_contains "$CLAW_LOG_DIR/install.log" "warning"
  [ ! -e "$CLAW_STATE_DIR/app-layer.failed" ]
}

@test "an image baked from other pins, or from none, is named in the install log" {
  pin_vendor_key
  serve_all_keys "$KEYS/vendor.asc"
  baked_image 1111111111111111111111111111111111111111111111111111111111111111
  install_app_layer
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_LOG_DIR/install.log" \
    "the image's npm tree (lockfile sha256 1111111111111111111111111111111111111111111111111111111111111111) is not the one versions.env pins ($NPM_LOCK_SHA256): bake an image from this commit and deploy it"
  assert_file_contains "$CLAW_STATE_DIR/app-layer.ok" "image_npm_lock_sha256=1111111111111111111111111111111111111111111111111111111111111111"

  rm -f "$CLAW_IMAGE_MANIFEST"
  install_app_layer
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_LOG_DIR/install.log" "the image records no baked npm tree ($CLAW_IMAGE_MANIFEST): bake an image from this commit"
}

@test "a signing key that is not the pinned one is refused before anything is installed" {
  serve_all_keys "$KEYS/vendor.asc" # versions.env still pins the real vendors' fingerprints
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_STATE_DIR/app-layer.failed" "script=40-tailscale.sh"
  assert_file_contains "$CLAW_LOG_DIR/install-40-tailscale.log" "is not pinned"
  refute_called '^apt-get'
  [ ! -e "$CLAW_APT_KEYRINGS/tailscale.gpg" ]
  [ ! -e "$CLAW_STATE_DIR/app-layer.ok" ]
}

@test "a key file that carries an extra, unpinned primary key is refused" {
  pin_vendor_key
  serve_all_keys "$KEYS/both.asc"
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_LOG_DIR/install-40-tailscale.log" "$(cat "$KEYS/intruder.fpr") is not pinned"
  refute_called '^apt-get'
}

@test "a download failure stops the install at that step and says which" {
  pin_vendor_key # nothing served: the key download fails with a 404
  install_app_layer
  [ "$status" -eq 1 ]
  assert_file_contains "$CLAW_STATE_DIR/app-layer.failed" "script=40-tailscale.sh"
  assert_file_contains "$CLAW_LOG_DIR/install-40-tailscale.log" "404"
  refute_called "tailscale="
  [ ! -e "$CLAW_STATE_DIR/app-layer.ok" ]
}

@test "the baked Node (install/desktop/06-node.sh) comes from NodeSource behind the pinned key, at the pinned version" {
  sed -i -E "s/^NODESOURCE_KEY_FINGERPRINTS=.*/NODESOURCE_KEY_FINGERPRINTS=$(cat "$KEYS/vendor.fpr")/" "$CLAW_INSTALL_DIR/versions.env"
  serve "$NODESOURCE_KEY_URL" "$KEYS/both.asc"
  run bash "$CLAW_INSTALL_DIR/desktop/06-node.sh"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$(cat "$KEYS/intruder.fpr") is not pinned"* ]]
  refute_called '^apt-get'

  serve "$NODESOURCE_KEY_URL" "$KEYS/vendor.asc"
  run bash "$CLAW_INSTALL_DIR/desktop/06-node.sh"
  [ "$status" -eq 0 ]
  assert_file_contains "$CLAW_APT_SOURCES/nodesource.list" \
    "deb [arch=amd64 signed-by=$CLAW_APT_KEYRINGS/nodesource.gpg] https://deb.nodesource.com/node_${NODE_MAJOR}.x nodistro main"
  assert_called "^apt-get install -y -q --no-install-recommends --allow-downgrades nodejs=$NODE_VERSION$"
  assert_called "^apt-mark hold nodejs$"
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "NODE_VERSION=$NODE_VERSION"
}
