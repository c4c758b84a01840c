// Human renderings of a plan: Markdown for job summaries, plain text for logs.
import { ACTIONABLE } from "./plan.ts";
import type { ActionKind, ClawPlan, Plan } from "./types.ts";

const ORDER: ActionKind[] = [
  "create",
  "recover",
  "replace",
  "resize",
  "grow-disk",
  "retire",
  "blocked",
  "orphan",
  "noop",
];

/** Markdown table cell: no line breaks, no pipes, no HTML. */
function cell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\r?\n/g, " ");
}

function versions(p: ClawPlan): string {
  const from = p.currentImageVersion;
  const to = p.targetImageVersion;
  if (from === undefined && to === undefined) return "";
  if (from === to || to === undefined) return from ?? "";
  return from === undefined ? `→ ${to}` : `${from} → ${to}`;
}

/** "2 create, 1 replace, 3 noop" in a fixed action order. */
export function planCounts(plan: Plan): string {
  const counts = new Map<ActionKind, number>();
  for (const c of plan.claws) counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  return ORDER.filter((a) => counts.has(a))
    .map((a) => `${counts.get(a)} ${a}`)
    .join(", ");
}

/** Markdown for job summaries: a summary line, the blocked and orphan claws called out, a table. */
export function renderPlanMarkdown(plan: Plan): string {
  const lines: string[] = [];
  const changing = plan.claws.filter((c) => ACTIONABLE.includes(c.action)).length;
  lines.push(`### Fleet plan \`${plan.hash.slice(0, 12)}\``, "");
  lines.push(
    plan.claws.length === 0
      ? "The fleet has no claws and Azure has no claw resources."
      : `**${plan.claws.length} claw${plan.claws.length === 1 ? "" : "s"}**, ${changing} to change: ${planCounts(plan)}.`,
  );
  const blocked = plan.claws.filter((c) => c.action === "blocked");
  const orphans = plan.claws.filter((c) => c.action === "orphan");
  if (blocked.length) {
    lines.push("", `> [!WARNING]`, `> **Blocked** — apply leaves these claws untouched until fixed:`);
    for (const c of blocked) lines.push(`> - \`${cell(c.claw)}\`: ${cell(c.reason)}`);
  }
  if (orphans.length) {
    lines.push("", `> [!NOTE]`, `> **Orphans** — resources of claws not in the manifest; never touched:`);
    for (const c of orphans) lines.push(`> - \`${cell(c.claw)}\`: ${cell(c.reason)}`);
  }
  if (plan.claws.length) {
    lines.push("", "| Claw | Action | Image | Reason |", "| --- | --- | --- | --- |");
    for (const c of plan.claws) {
      const action = c.action === "blocked" || c.action === "orphan" ? `**${c.action}**` : c.action;
      lines.push(`| ${cell(c.claw)} | ${action} | ${cell(versions(c))} | ${cell(c.reason)} |`);
    }
  }
  lines.push("", `Plan hash: \`${plan.hash}\``, "");
  return lines.join("\n");
}

/** Fixed-width table for logs. */
export function renderPlanText(plan: Plan): string {
  const rows = plan.claws.map((c) => [c.claw, c.action, versions(c), c.reason.replace(/\s+/g, " ")]);
  const head = ["CLAW", "ACTION", "IMAGE", "REASON"];
  const widths = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v))
      .join("  ")
      .trimEnd();
  return [`plan ${plan.hash} — ${planCounts(plan) || "empty"}`, fmt(head), ...rows.map(fmt)].join("\n");
}
