// The job summary: what the power run did (parked, started, VM-hours saved, or why it did
// nothing), then the status table.
import { fitSummary, mdTable } from "@openclawps/action-kit";
import { DONE, type StatusOutcome } from "./status.ts";
import { statusMarkdown } from "./status-table.ts";

export function summaryMarkdown(
  outcome: StatusOutcome,
  where: { manifest: string; resourceGroup: string; at: Date },
): string {
  let md = "";
  const power = outcome.power;
  if (power) {
    const title = {
      schedule: "Power schedule",
      park: "Park on request",
      resume: "Resume on request",
      status: "",
    };
    md += `## ${title[power.plan.mode]} — \`${where.manifest}\`\n\n`;
    if (power.skipped) md += `> [!WARNING]\n> **Skipped:** ${power.skipped}\n\n`;
    const parked = power.results.filter((r) => r.ok && r.action === "park");
    const started = power.results.filter((r) => r.ok && r.action === "start");
    const unmarked = power.results.filter((r) => r.ok && r.action === "unmark");
    const failed = power.results.filter((r) => !r.ok);
    const saved = power.plan.claws
      .filter((c) => parked.some((r) => r.claw === c.claw))
      .reduce((sum, c) => sum + (c.hoursSaved ?? 0), 0);
    md +=
      `At ${power.plan.at}: parked **${parked.length}**, started **${started.length}**` +
      `${unmarked.length ? `, stale park marks removed **${unmarked.length}**` : ""}` +
      `${failed.length ? `, failed **${failed.length}**` : ""}; ` +
      `**${Math.round(saved * 100) / 100} VM-hours** saved by this run's parks until their scheduled start.\n\n`;
    const rows = power.plan.claws.map((c) => {
      const r = power.results.find((x) => x.claw === c.claw);
      const done = !r
        ? c.action === "none"
          ? "left alone"
          : "not done"
        : r.ok
          ? DONE[r.action]
          : `failed: ${r.error}`;
      return [
        c.claw,
        done,
        c.reason,
        c.hoursSaved === undefined || c.action !== "park" ? "" : String(c.hoursSaved),
      ];
    });
    if (rows.length) md += `${mdTable(["claw", "result", "why", "VM-hours saved"], rows)}\n`;
  }
  md += `## Fleet status — \`${where.manifest}\`\n\nResource group \`${where.resourceGroup}\` · read at ${where.at.toISOString()}\n\n`;
  md += fitSummary(statusMarkdown(outcome.rows), 768 * 1024);
  return md;
}
