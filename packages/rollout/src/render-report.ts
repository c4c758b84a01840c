import { formatDuration, markdownCell } from "@openclawps/fleet-model";
import { type ClawHealthState, type ClawReport, countOutcomes, type RolloutReport } from "./report.ts";

const STATUS_LINE: Record<RolloutReport["status"], string> = {
  succeeded: "✅ Rollout succeeded",
  "completed-with-failures": "⚠️ Rollout completed with failures",
  halted: "🛑 Rollout halted",
  cancelled: "🛑 Rollout cancelled",
  "nothing-to-do": "✅ Nothing to roll out",
};

const HEALTH: Record<ClawHealthState, string> = {
  healthy: "✅ healthy",
  unhealthy: "❌ unhealthy",
  unverified: "⚠️ unverified",
  "not-applicable": "—",
};

function images(c: ClawReport): string {
  if (c.outcome === "unchanged") return c.fromImage ?? "—";
  const from = c.fromImage ?? "—";
  const after = c.imageAfter ?? (c.outcome === "retired" ? "(no VM)" : "?");
  return from === after ? from : `${from} → ${after}`;
}

function note(c: ClawReport): string {
  return [c.error, c.detail ?? (c.outcome === "unchanged" ? c.reason : undefined)]
    .filter(Boolean)
    .join(" — ");
}

/** Markdown for the job summary: what happened to every claw, and why the rollout stopped if it did. */
export function renderReportMarkdown(report: RolloutReport): string {
  const counts = countOutcomes(report);
  const countText = Object.entries(counts)
    .map(([outcome, n]) => `${n} ${outcome}`)
    .join(", ");
  let md = `### ${STATUS_LINE[report.status]}\n\n`;
  md += `Run \`${markdownCell(report.runId)}\` · ${formatDuration(report.durationMs)} · ${countText || "no claws"}\n\n`;
  if (report.haltReason)
    md += `**Stopped:** ${markdownCell(report.haltReason)}. Claws marked *skipped* were not touched.\n\n`;
  const changed = report.claws.filter((c) => c.health === "unverified").length;
  if (!report.verification && report.waves.length > 0) {
    md +=
      "> [!WARNING]\n> Wave verification was off (`rollout.verify: false`): " +
      `${changed} changed claw${changed === 1 ? " is" : "s are"} **unverified** — not known to be healthy. ` +
      "Run the verify action when the VMs are reachable.\n\n";
  } else if (report.waves.length > 0) {
    md += `Each wave was verified (verify.sh on every changed claw) before the next started; max unhealthy: ${report.maxUnhealthy}.\n\n`;
  }
  md +=
    "| Claw | Action | Outcome | Health | Image | Wave | Time | Notes |\n|---|---|---|---|---|---|---|---|\n";
  for (const c of report.claws) {
    md += `| ${markdownCell(c.claw)} | ${c.action} | ${c.outcome} | ${HEALTH[c.health]} | ${markdownCell(images(c))} | ${c.wave ?? "—"} | ${
      c.steps.length > 0 ? formatDuration(c.durationMs) : "—"
    } | ${markdownCell(note(c))} |\n`;
  }
  return md;
}
