#!/usr/bin/env bash
# The workspace directories the agent writes into. A disk seeded before they were part of
# defaults/ gets them here. Idempotent: creates what is missing, touches nothing else.
set -euo pipefail
: "${CLAW_DATA_MOUNT:?run by run-updates.sh}"

for dir in workspace/memory workspace/skills workspace/projects; do
  if [[ ! -d "$CLAW_DATA_MOUNT/$dir" ]]; then
    mkdir -p -- "$CLAW_DATA_MOUNT/$dir"
    echo "created $dir"
  fi
done
