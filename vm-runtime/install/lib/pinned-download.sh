# shellcheck shell=bash
# Pinned downloads for the baseline image (install/desktop/*.sh, run by Packer): the pins of
# versions.env, and files fetched from a URL that are installed only when their sha256 is the
# pinned one; the image records the pins it was baked with, which the app layer reads back.
# Sourced with CLAW_INSTALL_DIR pointing at a copy of vm-runtime/install.

: "${CLAW_INSTALL_DIR:?point CLAW_INSTALL_DIR at a copy of vm-runtime/install}"
# What the image records about the pins it was baked from (verify and the app layer read it).
: "${CLAW_IMAGE_MANIFEST:=/usr/lib/claw/image.env}"

# The pins, exported for the package managers' children.
load_versions() {
  set -a
  # shellcheck source=../versions.env
  source "$CLAW_INSTALL_DIR/versions.env"
  set +a
}

# fetch_verified WHAT URL SHA256_VARIABLE OUT: downloads URL into OUT and keeps it only when its
# sha256 is the value of the versions.env variable SHA256_VARIABLE. Refuses, before any
# download, a variable that does not hold a sha256.
fetch_verified() {
  local what=$1 url=$2 var=$3 out=$4 want actual
  want=${!var:-}
  if [[ ! "$want" =~ ^[0-9a-f]{64}$ ]]; then
    echo "$var is not set in versions.env: refusing to install an unverified $what" >&2
    echo "fix: set $var to the sha256 of $url (download it once, run sha256sum on it)" >&2
    return 1
  fi
  curl -fsSL --retry 3 --proto '=https' -o "$out" -- "$url"
  actual=$(sha256sum -- "$out" | cut -d' ' -f1)
  if [[ "$actual" != "$want" ]]; then
    rm -f -- "$out"
    echo "refusing $what from $url: its sha256 is $actual, versions.env pins $var=$want" >&2
    echo "fix: if the vendor re-published it, review the new file and pin its sha256; otherwise keep the artefact at a URL you control and point the URL pin at it" >&2
    return 1
  fi
}

# record_in_image KEY=VALUE...: what the image was baked from, one line per pin.
record_in_image() {
  mkdir -p -- "$(dirname -- "$CLAW_IMAGE_MANIFEST")"
  printf '%s\n' "$@" >>"$CLAW_IMAGE_MANIFEST"
  chmod 0644 -- "$CLAW_IMAGE_MANIFEST"
}

# image_pin KEY: the value the image was baked with (empty when the image does not record it).
image_pin() {
  [[ -r "$CLAW_IMAGE_MANIFEST" ]] || return 0
  sed -n "s/^$1=//p" -- "$CLAW_IMAGE_MANIFEST" | tail -n 1
}
