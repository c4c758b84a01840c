import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** Writes files (path → content, `{ content, mode }` for a mode) under a fresh temp directory. */
export function writeTree(
  files: Record<string, string | { content: string; mode: number }>,
  root?: string,
): string {
  const dir = root ?? mkdtempSync(join(tmpdir(), "fleet-check-test-"));
  for (const [rel, spec] of Object.entries(files)) {
    const { content, mode } =
      typeof spec === "string" ? { content: spec, mode: rel.endsWith(".sh") ? 0o755 : 0o644 } : spec;
    const abs = join(dir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
    chmodSync(abs, mode);
  }
  return dir;
}

export const CLEAN_SCRIPT = '#!/usr/bin/env bash\nset -euo pipefail\necho "ok"\n';
