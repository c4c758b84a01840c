#!/usr/bin/env bash
# OpenClaw and Claude Code from the npm registry at exact versions.
set -euo pipefail
: "${OPENCLAW_VERSION:?run by install-app-layer.sh}" "${CLAUDE_CODE_VERSION:?}"

npm install --global --no-fund --no-audit \
  "openclaw@$OPENCLAW_VERSION" \
  "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
openclaw --version
