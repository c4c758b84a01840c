import * as core from "@actions/core";
import { markdownCell } from "@openclawps/fleet-model";

/** A problem at a place in a file, as every check in this project reports it. */
export interface Finding {
  file: string;
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  message: string;
  fix?: string;
  severity: "error" | "warning" | "notice";
  /** Short title shown above the annotation, e.g. "claws.yaml" or "shellcheck SC2086". */
  title?: string;
}

/**
 * GitHub shows at most 10 error and 10 warning annotations per step (and 10 notices); more are
 * dropped silently.
 * https://docs.github.com/en/rest/checks/runs#update-a-check-run ("annotations ... limited to 50")
 * and the runner's per-step limit of 10 per type.
 */
export const ANNOTATION_LIMIT_PER_TYPE = 10;

/**
 * Emits the first ANNOTATION_LIMIT_PER_TYPE findings of each severity as workflow-command
 * annotations and returns how many of each were left out (the caller puts the complete list in
 * the job summary).
 */
export function annotate(findings: Finding[]): { shown: number; omitted: number } {
  const used = { error: 0, warning: 0, notice: 0 };
  let omitted = 0;
  for (const f of sortFindings(findings)) {
    if (used[f.severity] >= ANNOTATION_LIMIT_PER_TYPE) {
      omitted++;
      continue;
    }
    used[f.severity]++;
    const props: core.AnnotationProperties = { file: f.file, title: f.title };
    if (f.line !== undefined) {
      props.startLine = f.line;
      props.endLine = f.endLine ?? f.line;
      // Columns are only meaningful on a single line (GitHub ignores them otherwise).
      if (f.column !== undefined && props.endLine === f.line) {
        props.startColumn = f.column;
        if (f.endColumn !== undefined) props.endColumn = f.endColumn;
      }
    }
    const text = f.fix ? `${f.message}\nFix: ${f.fix}` : f.message;
    if (f.severity === "error") core.error(text, props);
    else if (f.severity === "warning") core.warning(text, props);
    else core.notice(text, props);
  }
  return { shown: findings.length - omitted, omitted };
}

const SEVERITY_ORDER = { error: 0, warning: 1, notice: 2 } as const;

/** Errors first, then by file, line, column: the order annotations and summaries use. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.file.localeCompare(b.file) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/** Markdown: every finding, grouped by file, for the job summary. */
export function findingsMarkdown(findings: Finding[]): string {
  if (findings.length === 0) return "No problems found.\n";
  const byFile = new Map<string, Finding[]>();
  for (const f of [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  )) {
    byFile.set(f.file, [...(byFile.get(f.file) ?? []), f]);
  }
  let md = "";
  for (const [file, list] of byFile) {
    md += `\n#### \`${file}\` (${list.length})\n\n| | Line | Problem | Fix |\n|---|---|---|---|\n`;
    for (const f of list) {
      const icon = f.severity === "error" ? "❌" : f.severity === "warning" ? "⚠️" : "ℹ️";
      const where = f.line === undefined ? "" : `${f.line}${f.column === undefined ? "" : `:${f.column}`}`;
      md += `| ${icon} | ${where} | ${markdownCell(f.title ? `**${f.title}**: ${f.message}` : f.message)} | ${markdownCell(f.fix ?? "")} |\n`;
    }
  }
  return md;
}

/** A Markdown table from a header row and rows of cell text (escaped here). */
export function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n") + "\n";
}
