import { markdownCell } from "@openclawps/fleet-model";
import type { AnnotationProps, Reporter } from "./reporter.ts";
import { log } from "./untrusted.ts";

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
 * annotations (through `out`, the action's Reporter) and returns how many of each were left out
 * (the caller puts the complete list in the job summary).
 */
export function annotate(
  findings: Finding[],
  out: Pick<Reporter, "error" | "warning" | "notice"> = log,
): { shown: number; omitted: number } {
  const used = { error: 0, warning: 0, notice: 0 };
  let omitted = 0;
  for (const f of sortFindings(findings)) {
    if (used[f.severity] >= ANNOTATION_LIMIT_PER_TYPE) {
      omitted++;
      continue;
    }
    used[f.severity]++;
    const props: AnnotationProps = { file: f.file, title: f.title };
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
    if (f.severity === "error") out.error(text, props);
    else if (f.severity === "warning") out.warning(text, props);
    else out.notice(text, props);
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

/**
 * GitHub drops a step's whole job summary when it is over 1 MiB ("$GITHUB_STEP_SUMMARY upload
 * aborted, supports content up to a size of 1024k"; limits in
 * https://docs.github.com/actions/using-workflows/workflow-commands-for-github-actions#adding-a-markdown-summary).
 */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;

/** What a step may spend on its list of findings, leaving room for its tables and notes. */
export const FINDINGS_SUMMARY_BUDGET_BYTES = STEP_SUMMARY_LIMIT_BYTES - 128 * 1024;

export interface FindingsList {
  markdown: string;
  /** Findings left out to stay within the byte budget (0 when all are listed). */
  unlisted: number;
}

/**
 * Markdown: the findings, grouped by file, for the job summary, as many as fit in `maxBytes`
 * (UTF-8); a note at the end counts the ones left out.
 */
export function listFindings(findings: Finding[], maxBytes = FINDINGS_SUMMARY_BUDGET_BYTES): FindingsList {
  if (findings.length === 0) return { markdown: "No problems found.\n", unlisted: 0 };
  const byFile = new Map<string, Finding[]>();
  for (const f of [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  )) {
    const list = byFile.get(f.file);
    if (list) list.push(f);
    else byFile.set(f.file, [f]);
  }
  // Room for the note on what was cut.
  const budget = maxBytes - 512;
  let md = "";
  let bytes = 0;
  let listed = 0;
  const add = (text: string) => {
    const size = Buffer.byteLength(text, "utf8");
    if (bytes + size > budget) return false;
    md += text;
    bytes += size;
    return true;
  };
  outer: for (const [file, list] of byFile) {
    if (!add(`\n#### \`${file}\` (${list.length})\n\n| | Line | Problem | Fix |\n|---|---|---|---|\n`)) break;
    for (const f of list) {
      const icon = f.severity === "error" ? "❌" : f.severity === "warning" ? "⚠️" : "ℹ️";
      const where = f.line === undefined ? "" : `${f.line}${f.column === undefined ? "" : `:${f.column}`}`;
      const row = `| ${icon} | ${where} | ${markdownCell(f.title ? `**${f.title}**: ${f.message}` : f.message)} | ${markdownCell(f.fix ?? "")} |\n`;
      if (!add(row)) break outer;
      listed++;
    }
  }
  const unlisted = findings.length - listed;
  if (unlisted > 0) {
    md +=
      `\n> [!NOTE]\n> ${unlisted} of ${findings.length} problems are not listed here: GitHub shows no job summary over 1 MiB. ` +
      "The list above is by file and line; fix those and run again to see the rest.\n";
  }
  return { markdown: md, unlisted };
}

/**
 * `markdown` if it fits in `maxBytes` (UTF-8), else cut at the last whole line that fits, with a
 * note of how much was left out: a part of a step summary that could outgrow GitHub's limit (a
 * plan table of thousands of claws) never costs the step its whole summary.
 */
export function fitSummary(markdown: string, maxBytes = FINDINGS_SUMMARY_BUDGET_BYTES): string {
  const size = Buffer.byteLength(markdown, "utf8");
  if (size <= maxBytes) return markdown;
  const room = maxBytes - 512;
  // Cut by bytes, then back to a line end so no table row or UTF-8 character is split.
  const head = Buffer.from(markdown, "utf8").subarray(0, room).toString("utf8");
  const kept = head.slice(0, Math.max(0, head.lastIndexOf("\n") + 1));
  const cutLines = markdown
    .slice(kept.length)
    .split("\n")
    .filter((l) => l !== "").length;
  return `${kept}\n> [!NOTE]\n> ${cutLines} more lines (${size - Buffer.byteLength(kept, "utf8")} bytes) are not shown: GitHub shows no job summary over 1 MiB. The action's outputs carry the complete data.\n`;
}

/** Markdown: the findings, grouped by file, for the job summary (within the summary's size budget). */
export function findingsMarkdown(findings: Finding[], maxBytes = FINDINGS_SUMMARY_BUDGET_BYTES): string {
  return listFindings(findings, maxBytes).markdown;
}

/** A Markdown table from a header row and rows of cell text (escaped here). */
export function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  return `${[line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n")}\n`;
}
