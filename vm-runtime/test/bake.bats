#!/usr/bin/env bats
# The baseline image's install scripts (install/desktop, run by Packer) that install what
# versions.env pins from outside the Ubuntu archive, offline: every download comes from a local
# stand-in. The .deb downloads go through the stubbed curl (helpers/install-stubs) and apt-get
# is a stub; the npm tree is installed by the real npm from a local registry (a Python HTTP
# server on 127.0.0.1) holding stand-in tarballs, with the integrity hashes of a lockfile.

load helpers/sandbox

setup() {
  setup_sandbox
  # The real npm and node, ahead of the stubs (helpers/install-stubs has a node stub).
  REAL_BIN="$BATS_TEST_TMPDIR/real-bin"
  mkdir -p "$REAL_BIN"
  for tool in npm node; do
    ln -s "$(command -v "$tool")" "$REAL_BIN/$tool"
  done
  export PATH="$BATS_TEST_DIRNAME/helpers/install-stubs:$PATH"
  cp -R "$VM_RUNTIME/install" "$CLAW_INSTALL_DIR"
  export CLAW_IMAGE_MANIFEST="$SANDBOX/usr/lib/claw/image.env"
  export CLAW_APT_SOURCES="$SANDBOX/etc/apt/sources.list.d"
  export CLAW_NPM_PREFIX="$SANDBOX/usr/lib/claw-npm" CLAW_NPM_BIN_DIR="$SANDBOX/usr/bin"
  # shellcheck source=../install/versions.env
  source "$VM_RUNTIME/install/versions.env"
}

teardown() {
  if [[ -n "${REGISTRY_PID:-}" ]]; then kill "$REGISTRY_PID" 2>/dev/null || true; fi
}

# serve URL FILE: what the stubbed curl returns for URL.
serve() {
  mkdir -p "$STUB_STATE/downloads"
  cp "$2" "$STUB_STATE/downloads/$(printf '%s' "$1" | tr '/:' '__')"
}

# pin VARIABLE VALUE in the sandbox copy of versions.env.
pin() {
  sed -i -E "s|^$1=.*|$1=$2|" "$CLAW_INSTALL_DIR/versions.env"
}

# A stand-in .deb: any bytes do, apt-get is a stub; what matters is the checksum.
stand_in_deb() {
  printf 'stand-in %s package\n' "$1" >"$BATS_TEST_TMPDIR/$1.deb"
  printf '%s\n' "$BATS_TEST_TMPDIR/$1.deb"
}

sha256_of() {
  sha256sum -- "$1" | cut -d' ' -f1
}

desktop() {
  run bash "$CLAW_INSTALL_DIR/desktop/$1"
}

@test "the shipped pins leave no .deb checksum to guess: an empty sha256 is refused before any download" {
  # versions.env ships CHROME_DEB_SHA256 and SUNSHINE_DEB_SHA256 empty (no checksum is made up).
  for pair in 07-chrome.sh:CHROME_DEB_SHA256 05-sunshine.sh:SUNSHINE_DEB_SHA256; do
    script=${pair%%:*} var=${pair#*:}
    [[ -z "${!var}" ]] || skip "$var is pinned in versions.env"
    desktop "$script"
    [ "$status" -eq 1 ]
    [[ "$output" == *"$var is not set in versions.env: refusing to install an unverified"* ]]
    [[ "$output" == *"fix: set $var to the sha256 of"* ]]
  done
  refute_called '^curl'
  refute_called '^apt-get'
  [ ! -e "$CLAW_IMAGE_MANIFEST" ]
}

@test "Chrome is baked from the pinned .deb when its sha256 matches, held, and recorded in the image" {
  deb=$(stand_in_deb chrome)
  serve "$CHROME_DEB_URL" "$deb"
  pin CHROME_DEB_SHA256 "$(sha256_of "$deb")"
  mkdir -p "$CLAW_APT_SOURCES"
  echo "deb [arch=amd64] https://dl.google.com/linux/chrome/deb/ stable main" >"$CLAW_APT_SOURCES/google-chrome.list"
  desktop 07-chrome.sh
  [ "$status" -eq 0 ]
  assert_called "^curl .* -- $CHROME_DEB_URL$"
  assert_called '^apt-get install -y -q --no-install-recommends /tmp/.*/google-chrome.deb$'
  assert_called '^apt-mark hold google-chrome-stable$'
  # The package's own apt source goes: the image is the update path.
  [ ! -e "$CLAW_APT_SOURCES/google-chrome.list" ]
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "CHROME_VERSION=$CHROME_VERSION"
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "CHROME_DEB_SHA256=$(sha256_of "$deb")"
}

@test "a .deb whose sha256 is not the pinned one is refused and nothing is installed" {
  deb=$(stand_in_deb chrome)
  pin CHROME_DEB_SHA256 "$(sha256_of "$deb")"
  printf 'tampered\n' >>"$deb"
  serve "$CHROME_DEB_URL" "$deb"
  desktop 07-chrome.sh
  [ "$status" -eq 1 ]
  [[ "$output" == *"refusing Google Chrome $CHROME_VERSION from $CHROME_DEB_URL: its sha256 is $(sha256_of "$deb"), versions.env pins CHROME_DEB_SHA256="* ]]
  refute_called '^apt-get'
  refute_called '^apt-mark'
  [ ! -e "$CLAW_IMAGE_MANIFEST" ]
}

@test "Sunshine goes through the same checked download" {
  deb=$(stand_in_deb sunshine)
  serve "$SUNSHINE_DEB_URL" "$deb"
  pin SUNSHINE_DEB_SHA256 "$(sha256_of "$deb")"
  desktop 05-sunshine.sh
  [ "$status" -eq 0 ]
  assert_called '^apt-get install -y -q /tmp/.*/sunshine.deb$'
  assert_called '^apt-mark hold sunshine$'
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "SUNSHINE_VERSION=$SUNSHINE_VERSION"
}

# ------------------------------------------------------------------ the npm tree

# stand_in_package NAME VERSION SCRIPT BIN: a registry tarball whose install script (when
# SCRIPT is set) leaves a marker, with a bin BIN (when set) that prints its version. Prints
# the tarball's path.
stand_in_package() {
  local name=$1 version=$2 script=$3 bin=$4 dir tgz
  dir=$(mktemp -d "$BATS_TEST_TMPDIR/pkg.XXXXXX")
  mkdir -p "$dir/package/bin"
  jq -n --arg name "$name" --arg version "$version" --arg script "$script" --arg bin "$bin" '
    {name: $name, version: $version}
    + (if $script == "" then {} else {scripts: {postinstall: $script}} end)
    + (if $bin == "" then {} else {bin: {($bin): ("bin/" + $bin)}} end)' >"$dir/package/package.json"
  if [[ -n "$bin" ]]; then
    printf '#!/bin/sh\necho "%s %s (stand-in)"\n' "$name" "$version" >"$dir/package/bin/$bin"
    chmod +x "$dir/package/bin/$bin"
  fi
  tgz="$REGISTRY/${name//\//-}-$version.tgz"
  tar -czf "$tgz" -C "$dir" package
  printf '%s\n' "$tgz"
}

integrity_of() {
  printf 'sha512-%s\n' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}

# A local registry with OpenClaw and Claude Code at the pinned versions and a dependency of
# OpenClaw whose install script must not run; install/npm gets a lockfile for them (resolved
# to the local registry, with each tarball's integrity) and versions.env its sha256.
stage_npm_tree() {
  REGISTRY="$BATS_TEST_TMPDIR/registry"
  mkdir -p "$REGISTRY"
  # shellcheck disable=SC2016 # expanded by the shell npm runs the script in
  local marker='touch "$CLAW_TEST_MARKERS/$(basename "$npm_package_name")"'
  export CLAW_TEST_MARKERS="$BATS_TEST_TMPDIR/markers"
  mkdir -p "$CLAW_TEST_MARKERS"
  OPENCLAW_TGZ=$(stand_in_package openclaw "$OPENCLAW_VERSION" "$marker" openclaw)
  CLAUDE_TGZ=$(stand_in_package @anthropic-ai/claude-code "$CLAUDE_CODE_VERSION" "$marker" claude)
  DEP_TGZ=$(stand_in_package unlisted-dep 1.0.0 "$marker" '')
  # A port of our own: bind 0, read back the one the kernel chose.
  python3 -u -c '
import http.server, os, sys
os.chdir(sys.argv[1])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print(server.server_address[1], flush=True)
server.serve_forever()' "$REGISTRY" >"$BATS_TEST_TMPDIR/registry.port" 2>"$BATS_TEST_TMPDIR/registry.log" &
  REGISTRY_PID=$!
  for _ in $(seq 100); do [[ -s "$BATS_TEST_TMPDIR/registry.port" ]] && break; sleep 0.1; done
  local base
  base="http://127.0.0.1:$(head -n 1 "$BATS_TEST_TMPDIR/registry.port")"
  jq -n --arg oc "$OPENCLAW_VERSION" --arg cc "$CLAUDE_CODE_VERSION" \
    '{name: "claw-app-layer", private: true, dependencies: {openclaw: $oc, "@anthropic-ai/claude-code": $cc}}' \
    >"$CLAW_INSTALL_DIR/npm/package.json"
  jq -n --arg oc "$OPENCLAW_VERSION" --arg cc "$CLAUDE_CODE_VERSION" --arg base "$base" \
    --arg ocI "$(integrity_of "$OPENCLAW_TGZ")" --arg ccI "$(integrity_of "$CLAUDE_TGZ")" --arg depI "$(integrity_of "$DEP_TGZ")" \
    --arg ocT "${OPENCLAW_TGZ##*/}" --arg ccT "${CLAUDE_TGZ##*/}" --arg depT "${DEP_TGZ##*/}" '
    {name: "claw-app-layer", lockfileVersion: 3, requires: true, packages: {
      "": {name: "claw-app-layer", dependencies: {openclaw: $oc, "@anthropic-ai/claude-code": $cc}},
      "node_modules/openclaw": {version: $oc, resolved: "\($base)/\($ocT)", integrity: $ocI,
        dependencies: {"unlisted-dep": "1.0.0"}, bin: {openclaw: "bin/openclaw"}, hasInstallScript: true},
      "node_modules/@anthropic-ai/claude-code": {version: $cc, resolved: "\($base)/\($ccT)", integrity: $ccI,
        bin: {claude: "bin/claude"}, hasInstallScript: true},
      "node_modules/unlisted-dep": {version: "1.0.0", resolved: "\($base)/\($depT)", integrity: $depI, hasInstallScript: true}
    }}' >"$CLAW_INSTALL_DIR/npm/package-lock.json"
  pin NPM_LOCK_SHA256 "$(sha256_of "$CLAW_INSTALL_DIR/npm/package-lock.json")"
  # npm itself: nothing but the local registry, a cache of the test's own.
  export npm_config_registry="$base/" npm_config_cache="$BATS_TEST_TMPDIR/npm-cache" \
    npm_config_update_notifier=false npm_config_userconfig="$BATS_TEST_TMPDIR/npmrc"
  : >"$npm_config_userconfig"
}

bake_npm_tree() {
  PATH="$REAL_BIN:$PATH" run bash "$CLAW_INSTALL_DIR/desktop/08-openclaw-npm.sh"
}

@test "the npm tree is installed from the shipped lockfile's pins; only allow-listed install scripts run" {
  stage_npm_tree
  bake_npm_tree
  [ "$status" -eq 0 ]
  [[ "$output" == *"openclaw $OPENCLAW_VERSION (stand-in)"* ]]
  [ "$("$CLAW_NPM_BIN_DIR/claude")" = "@anthropic-ai/claude-code $CLAUDE_CODE_VERSION (stand-in)" ]
  [ -e "$CLAW_TEST_MARKERS/openclaw" ]
  [ -e "$CLAW_TEST_MARKERS/claude-code" ]
  [ -d "$CLAW_NPM_PREFIX/node_modules/unlisted-dep" ]
  [ ! -e "$CLAW_TEST_MARKERS/unlisted-dep" ] # not on the allow-list: its script never ran
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "NPM_LOCK_SHA256=$(sha256_of "$CLAW_INSTALL_DIR/npm/package-lock.json")"
  assert_file_contains "$CLAW_IMAGE_MANIFEST" "OPENCLAW_VERSION=$OPENCLAW_VERSION"
}

@test "a tarball that does not match the lockfile's integrity hash is refused" {
  stage_npm_tree
  # The registry now serves other bytes under the pinned name and version.
  printf 'tampered' | gzip >>"$DEP_TGZ"
  bake_npm_tree
  [ "$status" -ne 0 ]
  [[ "$output" == *EINTEGRITY* ]]
  [ ! -e "$CLAW_NPM_BIN_DIR/openclaw" ]
  [ ! -e "$CLAW_IMAGE_MANIFEST" ]
}

@test "a lockfile that is not the one versions.env pins, or pins other versions, is refused before npm runs" {
  stage_npm_tree
  pin NPM_LOCK_SHA256 "$(printf '0%.0s' {1..64})"
  bake_npm_tree
  [ "$status" -eq 1 ]
  [[ "$output" == *"install/npm/package-lock.json has sha256 $(sha256_of "$CLAW_INSTALL_DIR/npm/package-lock.json"), versions.env pins NPM_LOCK_SHA256=000"* ]]

  pin NPM_LOCK_SHA256 "$(sha256_of "$CLAW_INSTALL_DIR/npm/package-lock.json")"
  pin OPENCLAW_VERSION 1.2.3
  bake_npm_tree
  [ "$status" -eq 1 ]
  [[ "$output" == *"install/npm/package-lock.json pins openclaw $OPENCLAW_VERSION, versions.env pins 1.2.3"* ]]
  [ ! -d "$CLAW_NPM_PREFIX/node_modules" ]
  [ ! -e "$CLAW_IMAGE_MANIFEST" ]
}

@test "the shipped lockfile is the one versions.env pins, for the pinned OpenClaw and Claude Code" {
  lock="$VM_RUNTIME/install/npm/package-lock.json"
  [ "$(sha256_of "$lock")" = "$NPM_LOCK_SHA256" ]
  [ "$(jq -r '.packages["node_modules/openclaw"].version' "$lock")" = "$OPENCLAW_VERSION" ]
  [ "$(jq -r '.packages["node_modules/@anthropic-ai/claude-code"].version' "$lock")" = "$CLAUDE_CODE_VERSION" ]
  [ "$(jq -r '.dependencies.openclaw' "$VM_RUNTIME/install/npm/package.json")" = "$OPENCLAW_VERSION" ]
  # Every package of the tree is pinned by an integrity hash from the registry (a bundled one
  # by that of the package that bundles it).
  [ "$(jq '[.packages | to_entries[] | select(.key != "" and .value.inBundle != true and (.value.integrity | type) != "string")] | length' "$lock")" = 0 ]
}
