#!/usr/bin/env bash
# Numbered above the seed project's last update (017) so disks migrated from a seed-era
# high-water mark get it too: those are the disks most likely to have loose modes.
# Credentials on the disk are readable by the claw's user only: the OpenClaw state
# directory, its credential store and exec approvals. Idempotent; only modes change.
set -euo pipefail
: "${CLAW_DATA_MOUNT:?run by run-updates.sh}"

oc="$CLAW_DATA_MOUNT/openclaw"
[[ -d "$oc" ]] || exit 0
chmod 700 "$oc"
if [[ -d "$oc/credentials" ]]; then chmod 700 "$oc/credentials"; fi
for file in "$oc/exec-approvals.json" "$oc/.env"; do
  if [[ -f "$file" ]]; then
    chmod 600 "$file"
    echo "private: ${file#"$CLAW_DATA_MOUNT"/}"
  fi
done
