import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Finding } from "@openclawps/action-kit";
import { findOnPath, runTool } from "./external-tool.ts";
import type { RuntimeFile, VmRuntimeTree } from "./vm-runtime-tree.ts";

export interface ShellcheckResult {
  /** False when shellcheck is not installed: nothing was linted. */
  ran: boolean;
  version?: string;
  /** Scripts linted (or that would have been). */
  scripts: number;
  findings: Finding[];
}

/** One entry of `shellcheck -f json1` output (https://github.com/koalaman/shellcheck/wiki/Integration). */
interface ShellcheckComment {
  file: string;
  line: number;
  endLine: number;
  column: number;
  endColumn: number;
  level: "error" | "warning" | "info" | "style";
  code: number;
  message: string;
}

const SHELL_SHEBANG = /^#!\s*(?:\/usr\/bin\/env\s+)?\S*?\b(?:sh|bash|dash|ksh)\b/;

/** A shell script: a `.sh` file, or any file whose shebang names a POSIX shell or bash. */
export function isShellScript(file: RuntimeFile): boolean {
  if (file.rel.endsWith(".sh")) return true;
  const fd = openSync(file.abs, "r");
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return SHELL_SHEBANG.test(head.subarray(0, n).toString("latin1").split("\n")[0] ?? "");
  } finally {
    closeSync(fd);
  }
}

/**
 * Lints the shell scripts of the merged vm-runtime (those `only` accepts: the ones that go onto
 * claws) with shellcheck. The whole merged tree, .shellcheckrc included, is copied
 * to a scratch directory first so that `source` lines resolve the way they do on the VM, where
 * overlay and shipped files sit side by side in /opt/claw.
 */
export async function runShellcheck(
  tree: VmRuntimeTree,
  options: { only?: (file: RuntimeFile) => boolean; path?: string } = {},
): Promise<ShellcheckResult> {
  const scripts = tree.files.filter((f) => (options.only ? options.only(f) : true) && isShellScript(f));
  const shellcheck = findOnPath("shellcheck", options.path ?? process.env.PATH);
  if (!shellcheck) return { ran: false, scripts: scripts.length, findings: [] };
  const version = /version:\s*(\S+)/.exec(
    (await runTool(shellcheck, ["--version"], { cwd: tmpdir() })).stdout,
  )?.[1];
  if (scripts.length === 0) return { ran: true, version, scripts: 0, findings: [] };

  const scratch = mkdtempSync(join(tmpdir(), "fleet-check-shellcheck-"));
  try {
    for (const file of tree.files) {
      const target = join(scratch, file.rel);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file.abs, target);
    }
    const result = await runTool(
      shellcheck,
      ["--format=json1", "--external-sources", ...scripts.map((s) => s.rel)],
      {
        cwd: scratch,
      },
    );
    // 0: clean, 1: findings. Anything else means shellcheck itself failed (bad rc file, ...).
    if (result.code !== 0 && result.code !== 1) {
      throw new Error(
        `shellcheck exited with ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
      );
    }
    const byRel = new Map(tree.files.map((f) => [f.rel, f]));
    const comments = (JSON.parse(result.stdout) as { comments: ShellcheckComment[] }).comments;
    const findings = comments
      .map((c) => toFinding(c, byRel))
      .sort(
        (a, b) =>
          a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
      );
    return { ran: true, version, scripts: scripts.length, findings };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const SEVERITY: Record<ShellcheckComment["level"], Finding["severity"]> = {
  error: "error",
  warning: "warning",
  info: "notice",
  style: "notice",
};

function toFinding(c: ShellcheckComment, byRel: Map<string, RuntimeFile>): Finding {
  const file = byRel.get(c.file);
  if (!file) throw new Error(`shellcheck reported a file it was not given: ${c.file}`);
  return {
    file: file.display,
    line: c.line,
    column: c.column,
    endLine: c.endLine,
    // shellcheck's end column is one past the last character; manifest findings (and GitHub's
    // annotations) give the last character itself.
    endColumn: c.endColumn > c.column || c.endLine > c.line ? c.endColumn - 1 : c.endColumn,
    severity: SEVERITY[c.level],
    title: `shellcheck SC${c.code}`,
    message: c.message,
    fix: `See https://www.shellcheck.net/wiki/SC${c.code}`,
  };
}
