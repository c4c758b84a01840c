#!/usr/bin/env bash
# Installs the app layer (install/os/NN-*.sh, in order) at the versions pinned in
# install/versions.env. cloud-init runs it once per VM, before the first boot.sh. What may
# vanish upstream (Node, Chrome, the npm tree of OpenClaw and Claude Code) is in the image
# instead (install/desktop, baked); this records what the image was baked with.
# Records the outcome for verify:
#   $CLAW_STATE_DIR/app-layer.ok      installed_at, versions_sha256, image_npm_lock_sha256
#   $CLAW_STATE_DIR/app-layer.failed  failed_at, script, exit_code (log: $CLAW_LOG_DIR/install-<script>.log)
# The first failing script stops the install; exit status 1.
set -euo pipefail

LIFECYCLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LIFECYCLE_DIR/lib.sh"
CLAW_LOG_TAG=install

main() {
  local versions="$CLAW_INSTALL_DIR/versions.env" script name status sum image_lock
  mkdir -p "$CLAW_STATE_DIR" "$CLAW_LOG_DIR"
  open_log install.log
  export_contract
  [[ -r "$versions" ]] || die "no pinned versions at $versions"
  sum=$(sha256sum -- "$versions" | cut -d' ' -f1)
  rm -f -- "$CLAW_STATE_DIR/app-layer.ok" "$CLAW_STATE_DIR/app-layer.failed"
  # versions.env ships with these scripts from the deploying commit: same trust as they.
  # shellcheck source=../install/lib/pinned-download.sh
  source "$CLAW_INSTALL_DIR/lib/pinned-download.sh"
  load_versions
  image_lock=$(image_pin NPM_LOCK_SHA256)
  if [[ -z "$image_lock" ]]; then
    log "warning: the image records no baked npm tree ($CLAW_IMAGE_MANIFEST): bake an image from this commit"
  elif [[ "$image_lock" != "${NPM_LOCK_SHA256:-}" ]]; then
    log "warning: the image's npm tree (lockfile sha256 $image_lock) is not the one versions.env pins (${NPM_LOCK_SHA256:-none}): bake an image from this commit and deploy it"
  fi
  for script in "$CLAW_INSTALL_DIR"/os/[0-9]*.sh; do
    [[ -e "$script" ]] || continue
    name=${script##*/}
    log "installing: $name"
    status=0
    bash "$script" </dev/null >"$CLAW_LOG_DIR/install-${name%.sh}.log" 2>&1 || status=$?
    if ((status != 0)); then
      printf 'failed_at=%s\nscript=%s\nexit_code=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$status" |
        write_atomically "$CLAW_STATE_DIR/app-layer.failed" 0644
      die "$name failed with status $status; log: $CLAW_LOG_DIR/install-${name%.sh}.log"
    fi
  done
  printf 'installed_at=%s\nversions_sha256=%s\nimage_npm_lock_sha256=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$sum" "$image_lock" |
    write_atomically "$CLAW_STATE_DIR/app-layer.ok" 0644
  log "app layer installed (versions.env sha256 $sum)"
}

main "$@"
