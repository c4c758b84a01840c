import { findingsMarkdown, mdTable } from "@openclawps/action-kit";
import { CUSTOM_DATA_LIMIT_BYTES } from "@openclawps/cloud-init";
import type { CheckStatus, ValidationReport } from "./validate-fleet.ts";

const ICON: Record<CheckStatus, string> = { passed: "✅", failed: "❌", warnings: "⚠️", skipped: "⏭️" };

const count = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The job summary: verdict, a row per check, customData sizes, then every finding by file. */
export function validationSummaryMarkdown(
  report: ValidationReport,
  options: { strict: boolean; omittedAnnotations: number },
): string {
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
    md += mdTable(
      ["Claw", "Bytes", "Of the limit", "Config hash", "Secrets"],
      report.claws.map((c) => [
        c.claw,
        c.bytes === undefined ? "too large" : c.bytes.toLocaleString("en-US"),
        c.bytes === undefined ? "> 100%" : `${Math.round((c.bytes / limit) * 100)}%`,
        c.configHash ? `\`${c.configHash.slice(0, 12)}\`` : "",
        c.realSecrets ? "real" : "placeholders",
      ]),
    );
  }
  md += `\n### Problems\n`;
  if (options.omittedAnnotations > 0) {
    md += `\nGitHub shows at most 10 annotations of each kind per step: ${count(options.omittedAnnotations, "problem")} below ${options.omittedAnnotations === 1 ? "has" : "have"} no annotation.\n`;
  }
  md += findingsMarkdown(report.findings);
  return md;
}
