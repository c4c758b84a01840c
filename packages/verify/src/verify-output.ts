// Reads what `verify.sh --json` printed: one JSON object per check, then a summary object.
// Anything else on stdout (a login banner, a motd, sudo's lecture) is noise and skipped;
// stderr is never parsed. What cannot be trusted — no checks, no summary, counts that do not
// add up, an exit status that contradicts the checks — is a problem with a reason.
import type { Check, CheckStatus, VerifyFailureReason, VerifySummary } from "./types.ts";

export interface CommandOutcome {
  command: string;
  stdout: string;
  stderr: string;
  /** null when the command was killed by a signal or timed out. */
  exitCode: number | null;
  signal?: string;
  timedOut?: boolean;
}

export interface ParsedVerifyOutput {
  checks: Check[];
  summary?: VerifySummary;
  /** Set when the output cannot be taken as a verdict. */
  problem?: { reason: VerifyFailureReason; message: string };
}

const STATUSES: ReadonlySet<string> = new Set(["pass", "fail", "warn"]);

export function parseVerifyOutput(outcome: CommandOutcome): ParsedVerifyOutput {
  const checks: Check[] = [];
  let summary: VerifySummary | undefined;
  let noise = 0;
  let firstNoise = "";
  for (const raw of outcome.stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const parsed = parseLine(line);
    if (parsed?.kind === "check") {
      checks.push(parsed.check);
    } else if (parsed?.kind === "summary") {
      summary = parsed.summary;
    } else {
      noise++;
      firstNoise ||= line;
    }
  }

  const problem = judge(outcome, checks, summary, { noise, firstNoise });
  return { checks, ...(summary ? { summary } : {}), ...(problem ? { problem } : {}) };
}

type Line = { kind: "check"; check: Check } | { kind: "summary"; summary: VerifySummary };

function parseLine(line: string): Line | undefined {
  if (!line.startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (o.summary === true) {
    const { passed, failed, warnings } = o;
    if ([passed, failed, warnings].every((n) => Number.isInteger(n) && (n as number) >= 0)) {
      return { kind: "summary", summary: { passed, failed, warnings } as VerifySummary };
    }
    return undefined;
  }
  if (
    typeof o.id === "string" &&
    typeof o.group === "string" &&
    typeof o.status === "string" &&
    STATUSES.has(o.status)
  ) {
    return {
      kind: "check",
      check: {
        id: o.id,
        group: o.group,
        status: o.status as CheckStatus,
        label: typeof o.label === "string" ? o.label : "",
        detail: typeof o.detail === "string" ? o.detail : "",
      },
    };
  }
  return undefined;
}

function judge(
  outcome: CommandOutcome,
  checks: Check[],
  summary: VerifySummary | undefined,
  noise: { noise: number; firstNoise: string },
): ParsedVerifyOutput["problem"] {
  const { command, exitCode } = outcome;
  const stderrLine = firstLine(outcome.stderr);
  if (outcome.timedOut) {
    return { reason: "command-failed", message: `\`${command}\` did not finish in time and was stopped` };
  }
  if (checks.length === 0 && summary === undefined) {
    // 127 is the shell's "command not found"; sudo says "command not found" or the shell
    // "No such file or directory" for a path that does not exist.
    if (exitCode === 127 || /no such file or directory|command not found/i.test(outcome.stderr)) {
      return {
        reason: "script-missing",
        message: `\`${command}\` is not on the claw (exit ${exitCode ?? "?"}${stderrLine ? `: ${stderrLine}` : ""}); the VM's /opt/claw payload is missing or incomplete`,
      };
    }
    const shown = noise.firstNoise ? `; stdout began with: ${clip(noise.firstNoise)}` : "; stdout was empty";
    return {
      reason: "bad-output",
      message: `\`${command}\` printed no verify results (exit ${exitCode ?? outcome.signal ?? "?"}${stderrLine ? `, stderr: ${stderrLine}` : ""})${shown}`,
    };
  }
  if (summary === undefined) {
    return {
      reason: "bad-output",
      message: `\`${command}\` stopped after ${checks.length} check(s) without its summary line (exit ${exitCode ?? outcome.signal ?? "?"})`,
    };
  }
  const counted = countStatuses(checks);
  if (
    counted.passed !== summary.passed ||
    counted.failed !== summary.failed ||
    counted.warnings !== summary.warnings
  ) {
    return {
      reason: "bad-output",
      message: `\`${command}\`'s summary (${summary.passed} passed, ${summary.failed} failed, ${summary.warnings} warnings) does not match its ${checks.length} check lines (${counted.passed}/${counted.failed}/${counted.warnings})`,
    };
  }
  if (exitCode === null) {
    return {
      reason: "command-failed",
      message: `\`${command}\` was killed (${outcome.signal ?? "no exit status"})`,
    };
  }
  if (exitCode !== 0 && summary.failed === 0) {
    return {
      reason: "command-failed",
      message: `\`${command}\` exited ${exitCode} although no check failed${stderrLine ? `: ${stderrLine}` : ""}`,
    };
  }
  if (exitCode === 0 && summary.failed > 0) {
    return {
      reason: "bad-output",
      message: `\`${command}\` exited 0 although ${summary.failed} check(s) failed`,
    };
  }
  return undefined;
}

export function countStatuses(checks: Check[]): VerifySummary {
  const s = { passed: 0, failed: 0, warnings: 0 };
  for (const c of checks) {
    if (c.status === "pass") s.passed++;
    else if (c.status === "fail") s.failed++;
    else s.warnings++;
  }
  return s;
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim()) ?? "";
  return clip(line.trim());
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
