import { listFindings, mdTable, STEP_SUMMARY_LIMIT_BYTES } from "@openclawps/action-kit";
import { CUSTOM_DATA_LIMIT_BYTES } from "@openclawps/cloud-init";
import type { CheckStatus, ValidationReport } from "./validate-fleet.ts";

const ICON: Record<CheckStatus, string> = { passed: "✅", failed: "❌", warnings: "⚠️", skipped: "⏭️" };

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Rows of the customData table: the largest claws first; a fleet of thousands lists these many. */
export const CUSTOM_DATA_ROWS = 100;

/** The job summary: verdict, a row per check, customData sizes, then every finding by file. */
export function validationSummaryMarkdown(
  report: ValidationReport,
  options: { strict: boolean; omittedAnnotations: number },
): string {
  return validationSummary(report, options).markdown;
}

/**
 * The job summary and how many findings it could not list: the whole stays under GitHub's 1 MiB
 * step-summary limit, so a fleet with thousands of problems still gets a summary.
 */
export function validationSummary(
  report: ValidationReport,
  options: { strict: boolean; omittedAnnotations: number },
): { markdown: string; unlisted: number } {
  const failed = report.errors > 0 || (options.strict && report.warnings > 0);
  let md = `## Fleet validation: ${failed ? "❌ failed" : "✅ passed"}\n\n`;
  md += `${count(report.errors, "error")}, ${count(report.warnings, "warning")}`;
  md += options.strict ? " (strict: warnings fail the check).\n\n" : ".\n\n";
  md += mdTable(
    ["Check", "Result", "Details"],
    report.checks.map((c) => {
      const errors = c.findings.filter((f) => f.severity === "error").length;
      const warnings = c.findings.filter((f) => f.severity === "warning").length;
      const result =
        c.status === "failed"
          ? `${count(errors, "error")}${warnings ? `, ${count(warnings, "warning")}` : ""}`
          : c.status === "warnings"
            ? count(warnings, "warning")
            : c.status;
      return [c.name, `${ICON[c.status]} ${result}`, c.detail];
    }),
  );
  if (report.claws.length > 0) {
    const limit = CUSTOM_DATA_LIMIT_BYTES;
    md += `\n### customData per claw\n\nAzure accepts at most ${limit.toLocaleString("en-US")} bytes of (gzip'd) customData per VM.\n\n`;
    // Claws that did not fit first, then by size: the rows worth reading when not all are shown.
    const rows = [...report.claws]
      .sort((a, b) => (b.bytes ?? Number.POSITIVE_INFINITY) - (a.bytes ?? Number.POSITIVE_INFINITY))
      .slice(0, CUSTOM_DATA_ROWS);
    md += mdTable(
      ["Claw", "Bytes", "Of the limit", "Config hash", "Secrets"],
      rows.map((c) => [
        c.claw,
        c.bytes === undefined ? "too large" : c.bytes.toLocaleString("en-US"),
        c.bytes === undefined ? "> 100%" : `${Math.round((c.bytes / limit) * 100)}%`,
        c.configHash ? `\`${c.configHash.slice(0, 12)}\`` : "",
        c.realSecrets ? "real" : "placeholders",
      ]),
    );
    if (rows.length < report.claws.length) {
      md += `\nThe ${rows.length} largest of ${report.claws.length} claws are listed.\n`;
    }
  }
  md += `\n### Problems\n`;
  if (options.omittedAnnotations > 0) {
    md += `\nGitHub shows at most 10 annotations of each kind per step: ${count(options.omittedAnnotations, "problem")} below ${options.omittedAnnotations === 1 ? "has" : "have"} no annotation.\n`;
  }
  const list = listFindings(report.findings, STEP_SUMMARY_LIMIT_BYTES - Buffer.byteLength(md, "utf8") - 4096);
  return { markdown: md + list.markdown, unlisted: list.unlisted };
}
