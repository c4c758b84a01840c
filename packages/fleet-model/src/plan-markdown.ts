// Human renderings of a plan: Markdown for job summaries, plain text for logs.

import { markdownCell } from "./markdown-cell.ts";
import { ACTIONABLE, planNeedsApply } from "./plan.ts";
import type { ActionKind, ClawPlan, Plan } from "./types.ts";

/** Counts and tables list the changes first, in ACTIONABLE's order, then what is left alone. */
const ORDER: readonly ActionKind[] = [...ACTIONABLE, "blocked", "orphan", "deferred", "noop"];

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

export interface PlanMarkdownOptions {
  /** To say whether a recorded lease has expired. */
  now?: Date;
}

/**
 * Markdown for job summaries: a summary line, the blocked and orphan claws called out, the
 * shared-infrastructure changes, unproven claws and lease apply deals with, a table. Everything the
 * plan hash covers is shown.
 */
export function renderPlanMarkdown(plan: Plan, options: PlanMarkdownOptions = {}): string {
  const lines: string[] = [];
  const changing = plan.claws.filter((c) => ACTIONABLE.includes(c.action)).length;
  lines.push(`### Fleet plan \`${plan.hash.slice(0, 12)}\``, "");
  lines.push(
    plan.claws.length === 0
      ? "The fleet has no claws and Azure has no claw resources."
      : `**${plan.claws.length} claw${plan.claws.length === 1 ? "" : "s"}**, ${changing} to change: ${planCounts(plan)}.`,
  );
  lines.push(
    "",
    planNeedsApply(plan)
      ? "**Apply needed:** applying this plan changes what is listed below."
      : "**Nothing to apply:** Azure matches the manifest.",
  );
  if (plan.shared.length) {
    lines.push("", "**Shared infrastructure** — apply makes these changes first:", "");
    for (const c of plan.shared)
      lines.push(`- ${c.action} \`${markdownCell(c.name)}\`: ${markdownCell(c.detail)}`);
  }
  if (plan.warnings.length) {
    lines.push("", "> [!NOTE]", "> **Left as it is** (apply does not change these):");
    for (const w of plan.warnings) lines.push(`> - ${markdownCell(w)}`);
  }
  if (plan.unproven.length) {
    lines.push(
      "",
      `**${plan.unproven.length} unchanged claw(s) to verify:** they run an image no verification has proven on their disk ` +
        "(an earlier rollout stopped before verifying them, or ran with verification off); apply verifies them and records the healthy ones:",
      "",
    );
    for (const u of plan.unproven)
      lines.push(
        `- \`${markdownCell(u.claw)}\` on ${markdownCell(u.imageVersion)} (last proven healthy: ${markdownCell(u.lastHealthy ?? "never")})`,
      );
  }
  if (plan.lease) {
    const stale = options.now ? new Date(plan.lease.expiresAt).getTime() <= options.now.getTime() : undefined;
    const what = `run ${markdownCell(plan.lease.runId)}, ${stale === undefined ? "expires" : stale ? "**expired**" : "valid until"} ${plan.lease.expiresAt}`;
    lines.push(
      "",
      plan.lease.clear
        ? `**Rollout lease:** apply clears the lease recorded by ${what} (force-unlock).`
        : `**Rollout lease:** recorded by ${what}. Apply waits for nobody: it fails while the lease is held; ` +
            "when that run is gone, run again with the `force-unlock` input set to true.",
    );
  }
  const blocked = plan.claws.filter((c) => c.action === "blocked");
  const orphans = plan.claws.filter((c) => c.action === "orphan");
  if (blocked.length) {
    lines.push("", `> [!WARNING]`, `> **Blocked** — apply leaves these claws untouched until fixed:`);
    for (const c of blocked) lines.push(`> - \`${markdownCell(c.claw)}\`: ${markdownCell(c.reason)}`);
  }
  if (orphans.length) {
    lines.push("", `> [!NOTE]`, `> **Orphans** — resources of claws not in the manifest; never touched:`);
    for (const c of orphans) lines.push(`> - \`${markdownCell(c.claw)}\`: ${markdownCell(c.reason)}`);
  }
  if (plan.claws.length) {
    lines.push("", "| Claw | Action | Image | Reason |", "| --- | --- | --- | --- |");
    for (const c of plan.claws) {
      const action = c.action === "blocked" || c.action === "orphan" ? `**${c.action}**` : c.action;
      lines.push(
        `| ${markdownCell(c.claw)} | ${action} | ${markdownCell(versions(c))} | ${markdownCell(c.reason)} |`,
      );
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
  const extra = [
    ...plan.shared.map((c) => `shared: ${c.action} ${c.name}: ${c.detail}`),
    ...plan.unproven.map((u) => `verify: ${u.claw} on ${u.imageVersion} (not proven healthy)`),
    ...(plan.lease?.clear ? [`lease: clear the lease of run ${plan.lease.runId}`] : []),
  ];
  return [`plan ${plan.hash} — ${planCounts(plan) || "empty"}`, fmt(head), ...rows.map(fmt), ...extra].join(
    "\n",
  );
}
