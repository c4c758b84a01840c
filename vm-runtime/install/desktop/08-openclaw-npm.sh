#!/usr/bin/env bash
# Baseline image (Packer): OpenClaw and Claude Code with their whole dependency tree, exactly
# as install/npm/package-lock.json pins it (every package's version and integrity hash): `npm
# ci` installs that tree or fails, and runs no package's install scripts except those of the
# allow-list below, which need theirs (platform binaries). Baked, not installed per VM: the
# registry can unpublish or deprecate what the lockfile pins, and the tree is too big for
# customData.
set -euo pipefail
: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
# shellcheck source=../lib/pinned-download.sh
source "$CLAW_INSTALL_DIR/lib/pinned-download.sh"
load_versions
: "${CLAW_NPM_PREFIX:=/usr/lib/claw-npm}" "${CLAW_NPM_BIN_DIR:=/usr/bin}"

# Packages whose install scripts run (after `npm ci --ignore-scripts`): OpenClaw (its bundled
# plugins), Claude Code (links its platform binary) and koffi (selects its prebuilt binary).
# Review a package's scripts before adding it here.
NPM_SCRIPT_ALLOW_LIST=(openclaw @anthropic-ai/claude-code koffi)

lock=$CLAW_INSTALL_DIR/npm/package-lock.json
actual=$(sha256sum -- "$lock" | cut -d' ' -f1)
if [[ "$actual" != "${NPM_LOCK_SHA256:-}" ]]; then
  echo "install/npm/package-lock.json has sha256 $actual, versions.env pins NPM_LOCK_SHA256=${NPM_LOCK_SHA256:-}" >&2
  echo "fix: regenerate the lockfile as vm-runtime/README.md says (\"Bumping OpenClaw or Claude Code\") and set NPM_LOCK_SHA256 to its sha256" >&2
  exit 1
fi
for pin in "openclaw=$OPENCLAW_VERSION" "@anthropic-ai/claude-code=$CLAUDE_CODE_VERSION"; do
  name=${pin%=*} want=${pin##*=}
  got=$(jq -r --arg p "node_modules/$name" '.packages[$p].version // empty' "$lock")
  if [[ "$got" != "$want" ]]; then
    echo "install/npm/package-lock.json pins $name ${got:-nowhere}, versions.env pins $want" >&2
    echo "fix: regenerate the lockfile for the versions in versions.env (vm-runtime/README.md, \"Bumping OpenClaw or Claude Code\")" >&2
    exit 1
  fi
done

mkdir -p -- "$CLAW_NPM_PREFIX"
cp -- "$CLAW_INSTALL_DIR/npm/package.json" "$lock" "$CLAW_NPM_PREFIX/"
cd -- "$CLAW_NPM_PREFIX"
npm ci --ignore-scripts --no-audit --no-fund
npm rebuild --no-audit --no-fund "${NPM_SCRIPT_ALLOW_LIST[@]}"
mkdir -p -- "$CLAW_NPM_BIN_DIR"
for bin in openclaw claude; do
  ln -sfn -- "$CLAW_NPM_PREFIX/node_modules/.bin/$bin" "$CLAW_NPM_BIN_DIR/$bin"
done
"$CLAW_NPM_BIN_DIR/openclaw" --version
record_in_image "OPENCLAW_VERSION=$OPENCLAW_VERSION" "CLAUDE_CODE_VERSION=$CLAUDE_CODE_VERSION" "NPM_LOCK_SHA256=$actual"
