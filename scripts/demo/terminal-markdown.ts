// Job-summary Markdown (what GitHub renders on the run page) made readable in a terminal:
// headings in bold, tables aligned in columns, GitHub's alert blocks as a marked line.
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the demo is not a turbo task; NO_COLOR is https://no-color.org
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const style = (code: string, text: string) => (useColor ? `\x1b[${code}m${text}\x1b[0m` : text);
export const bold = (t: string) => style("1", t);
export const dim = (t: string) => style("2", t);
export const yellow = (t: string) => style("33", t);
export const red = (t: string) => style("31", t);
export const cyan = (t: string) => style("36", t);

/** Display width: emoji and other wide characters take two columns. */
function width(text: string): number {
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0xfe0f || cp === 0x200d) continue;
    w += cp >= 0x1f000 || (cp >= 0x2600 && cp <= 0x27bf) ? 2 : 1;
  }
  return w;
}

/** Inline Markdown as terminal text; `styled: false` gives the same characters without colour (for widths). */
function inline(text: string, styled = true): string {
  const on = (f: (t: string) => string) => (styled ? f : (t: string) => t);
  return text
    .replace(/\*\*(.+?)\*\*/g, (_, t: string) => on(bold)(t))
    .replace(/`([^`]+)`/g, (_, t: string) => on(cyan)(t))
    .replace(/<br>/g, " ")
    .replace(/\\\|/g, "|");
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

function table(rows: string[]): string[] {
  const body = rows.filter((r) => !/^\|(\s*:?-{3,}:?\s*\|)+$/.test(r.trim()));
  const grid = body.map(cells);
  const widths = grid[0]!.map((_, i) => Math.max(...grid.map((r) => width(inline(r[i] ?? "", false)))));
  return grid.map((r, n) => {
    const line = r
      .map((c, i) => inline(c) + " ".repeat(Math.max(0, widths[i]! - width(inline(c, false)))))
      .join("  ")
      .trimEnd();
    return n === 0 ? bold(line) : line;
  });
}

export function renderMarkdown(md: string): string {
  const out: string[] = [];
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim().startsWith("|")) {
      const rows: string[] = [];
      while (i < lines.length && lines[i]!.trim().startsWith("|")) rows.push(lines[i++]!);
      i--;
      out.push(...table(rows).map((r) => `  ${r}`));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      out.push(heading[1]!.length <= 2 ? bold(`━━ ${inline(heading[2]!)} ━━`) : bold(inline(heading[2]!)));
      continue;
    }
    const alert = /^>\s*\[!(\w+)\]\s*$/.exec(line);
    if (alert) {
      const kind = alert[1]!.toUpperCase();
      const text: string[] = [];
      while (i + 1 < lines.length && lines[i + 1]!.startsWith(">"))
        text.push(lines[++i]!.replace(/^>\s?/, ""));
      const mark = kind === "CAUTION" ? red(`✖ ${kind}`) : yellow(`⚠ ${kind}`);
      out.push(`${mark}: ${inline(text.join(" "))}`);
      continue;
    }
    if (line.startsWith(">")) {
      out.push(dim(inline(line.replace(/^>\s?/, ""))));
      continue;
    }
    out.push(inline(line));
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}

/**
 * The step's log as the Actions UI shows it: groups as headers, warnings and errors marked,
 * and the runner's own commands (masks, debug) left out.
 */
export function renderLog(stdout: string): string {
  const out: string[] = [];
  // Workflow-command escaping (@actions/core toCommandValue / escapeProperty).
  const decode = (t: string) =>
    t
      .replace(/%0A/g, "\n")
      .replace(/%0D/g, "")
      .replace(/%3A/g, ":")
      .replace(/%2C/g, ",")
      .replace(/%25/g, "%");
  for (const line of stdout.split("\n")) {
    if (line.startsWith("::add-mask::") || line.startsWith("::debug::") || line.trim() === "") continue;
    const group = /^::group::(.*)$/.exec(line);
    if (group) {
      out.push(bold(`▸ ${group[1]}`));
      continue;
    }
    if (line === "::endgroup::") continue;
    const cmd = /^::(warning|error|notice)([^:]*)::(.*)$/.exec(line);
    if (cmd) {
      const [, kind, props, text] = cmd;
      const title = /title=([^,]*)/.exec(props ?? "")?.[1];
      const where = /file=([^,]*)/.exec(props ?? "")?.[1];
      const lineNo = /line=(\d+)/.exec(props ?? "")?.[1];
      const at = where ? dim(` (${where}${lineNo ? `:${lineNo}` : ""})`) : "";
      const head =
        kind === "error" ? red("✖ error") : kind === "warning" ? yellow("⚠ warning") : cyan("ℹ notice");
      out.push(`${head}${title ? ` ${bold(decode(title))}` : ""}: ${decode(text ?? "")}${at}`);
      continue;
    }
    out.push(line);
  }
  return out.join("\n");
}
