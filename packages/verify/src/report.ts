// How verification results read for people: a one-line verdict per claw, a job-summary
// table with a collapsible section per unhealthy claw, and the wave gate's ClawHealth.
import { mdTable } from "@openclawps/action-kit";
import { formatDuration, markdownCell } from "@openclawps/fleet-model";
import type { ClawHealth, WaveVerifier } from "@openclawps/rollout";
import type { ClawVerification, VerifyFailureReason, VerifyTarget } from "./types.ts";

const REASON_TITLES: Record<VerifyFailureReason, string> = {
  "unpinned-host-key": "no pinned host key",
  "host-key-mismatch": "host key mismatch",
  "auth-failed": "SSH key refused",
  "not-ready": "not reachable",
  "boot-not-finished": "boot not finished",
  "script-missing": "verify.sh missing",
  "bad-output": "unreadable verify output",
  "command-failed": "verify.sh did not finish",
  "connection-lost": "connection lost",
  "checks-failed": "checks failed",
};

/** One line: why the claw is unhealthy (or a short healthy summary). */
export function verdict(result: ClawVerification): string {
  if (result.healthy) {
    const warn = result.warnings ? `, ${result.warnings} warning(s)` : "";
    const ready =
      result.timeToReadyMs === undefined ? "" : `, ready after ${formatDuration(result.timeToReadyMs)}`;
    return `${result.passed} check(s) passed${warn}${ready}`;
  }
  const failed = result.checks.filter((c) => c.status === "fail");
  const checkPart = failed.length
    ? `${failed.length} check(s) failed: ${failed
        .slice(0, 3)
        .map((c) => (c.detail ? `${c.id} (${c.detail})` : c.id))
        .join("; ")}${failed.length > 3 ? `; +${failed.length - 3} more` : ""}`
    : "";
  return [result.error, checkPart].filter(Boolean).join(" — ") || "unhealthy";
}

/** Short title of the result, for a table cell. */
export function resultTitle(result: ClawVerification): string {
  if (result.healthy) return result.warnings ? "✅ healthy (warnings)" : "✅ healthy";
  if (result.reason === "checks-failed") return `❌ ${result.failed} check(s) failed`;
  return `❌ ${result.reason ? REASON_TITLES[result.reason] : "unhealthy"}`;
}

/** Adapter for @openclawps/rollout's wave gate. */
export function toClawHealth(result: ClawVerification): ClawHealth {
  return { claw: result.name, healthy: result.healthy, detail: verdict(result) };
}

/**
 * A WaveVerifier from a way to find the claws' SSH targets (e.g. getClawEndpoints through ARM)
 * and a way to verify them (verifyClaws with the rollout's options). A claw the resolver does
 * not return (no VM) is unhealthy, never silently skipped.
 */
export function waveVerifier<T extends { name: string } = VerifyTarget>(
  resolveTargets: (claws: string[]) => Promise<T[]>,
  verify: (targets: T[]) => Promise<ClawVerification[]>,
): WaveVerifier {
  return async (claws) => {
    const targets = await resolveTargets(claws);
    const results = new Map(
      (await verify(targets.filter((t) => claws.includes(t.name)))).map((r) => [r.name, r]),
    );
    return claws.map((claw) => {
      const result = results.get(claw);
      return result ? toClawHealth(result) : { claw, healthy: false, detail: "no VM found for this claw" };
    });
  };
}

/** Job-summary Markdown: a headline, a row per claw, and the details of every unhealthy claw. */
export function summaryMarkdown(results: ClawVerification[]): string {
  const healthy = results.filter((r) => r.healthy).length;
  let md = `**${healthy} of ${results.length} claw(s) healthy**\n\n`;
  if (results.length === 0) return md;
  md += mdTable(
    ["Claw", "Result", "Passed", "Failed", "Warnings", "Time to ready"],
    results.map((r) => {
      const ran = r.checks.length > 0;
      return [
        r.name,
        resultTitle(r),
        ran ? String(r.passed) : "–",
        ran ? String(r.failed) : "–",
        ran ? String(r.warnings) : "–",
        r.timeToReadyMs === undefined ? "–" : formatDuration(r.timeToReadyMs),
      ];
    }),
  );
  for (const r of results.filter((x) => !x.healthy)) md += `\n${failureDetails(r)}`;
  return md;
}

/** A collapsible section: the reason, then every check that did not pass. */
export function failureDetails(result: ClawVerification): string {
  const summary = `<b>${escapeHtml(result.name)}</b>: ${escapeHtml(resultTitle(result).replace(/^❌ /, ""))}`;
  let body = `Host \`${result.host}:${result.port}\``;
  if (result.presentedHostKey) body += `, host key \`${result.presentedHostKey}\``;
  body += "\n\n";
  if (result.error) body += `${markdownCell(result.error)}\n\n`;
  const notPassing = result.checks.filter((c) => c.status !== "pass");
  if (notPassing.length) {
    body += mdTable(
      ["", "Check", "Detail"],
      notPassing.map((c) => [
        c.status === "fail" ? "❌" : "⚠️",
        c.label ? `${c.label} (${c.id})` : c.id,
        c.detail,
      ]),
    );
  }
  return `<details><summary>${summary}</summary>\n\n${body}\n</details>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
