// Claws the plan leaves alone but that were never proven healthy on the image they run
// (fleet-model's unprovenClaws finds them; the plan lists them): verified by apply, and the proof
// recorded as the data disk's last-healthy-image tag (ClawOperations.markHealthy).
import { type Reporter, UserError } from "@openclawps/action-kit";
import { markdownCell, type UnprovenClaw } from "@openclawps/fleet-model";
import type { ClawHealth, ClawOperations, WaveVerifier } from "@openclawps/rollout";

/**
 * Verifies the unchanged claws no verification has proven yet, records the proof on the healthy
 * ones' disks, and fails the step naming the others. Nothing is rolled back: these claws were not
 * part of the approved plan, and what to do with them is the operator's call.
 */
export async function proveUnchangedClaws(
  unproven: UnprovenClaw[],
  verifier: WaveVerifier,
  operations: ClawOperations,
  reporter: Reporter,
): Promise<void> {
  reporter.startGroup(`Verifying ${unproven.length} unchanged claw(s) not yet proven healthy on their image`);
  let health: ClawHealth[];
  try {
    health = await verifier(unproven.map((u) => u.claw));
  } finally {
    reporter.endGroup();
  }
  const healthy = new Set(health.filter((h) => h.healthy).map((h) => h.claw));
  for (const u of unproven.filter((u) => healthy.has(u.claw))) {
    await operations.markHealthy(u.claw, u.imageVersion);
    reporter.info(`${u.claw}: healthy on image ${u.imageVersion} (recorded on its data disk)`);
  }
  const sick = health.filter((h) => !h.healthy);
  const rows = unproven.map((u) => {
    const h = health.find((x) => x.claw === u.claw);
    return `| ${u.claw} | ${u.imageVersion} | ${u.lastHealthy ?? "—"} | ${h?.healthy ? "✅ healthy" : "❌ unhealthy"} | ${markdownCell(h?.detail ?? "")} |`;
  });
  await reporter.summary(
    "\n## Unchanged claws verified\n\nThese claws run an image no verification had proven on their disk.\n\n" +
      `| Claw | Image | Last proven healthy | Health | Detail |\n|---|---|---|---|---|\n${rows.join("\n")}\n`,
  );
  if (sick.length > 0) {
    throw new UserError(
      `${sick.length} unchanged claw(s) failed verification on the image they run: ` +
        `${sick.map((h) => `${h.claw} (${h.detail})`).join("; ")}.`,
      "These claws were not part of this plan, so nothing was rolled back. Inspect them (the verify action " +
        "gives every check), then fix forward, or pin `image_version` to the image their disk last ran healthy " +
        "(see the summary) and deploy again.",
    );
  }
}
