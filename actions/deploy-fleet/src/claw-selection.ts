// The `claws` input: limit a run to some claws. The plan hash of a limited run covers exactly
// the selected claws' plans, so what is approved is what runs.
import { UserError } from "@openclawps/action-kit";
import { type Plan, planHash } from "@openclawps/fleet-model";

export function selectClaws(plan: Plan, names: string[], manifestClaws: string[]): Plan {
  if (names.length === 0) return plan;
  const known = new Set([...manifestClaws, ...plan.claws.map((c) => c.claw)]);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new UserError(
      `Input 'claws' names ${unknown.join(", ")}, which ${unknown.length === 1 ? "is" : "are"} neither in the manifest nor in Azure.`,
      "Use claw names as written under `claws:` in the manifest, separated by commas.",
    );
  }
  const wanted = new Set(names);
  const claws = plan.claws.filter((c) => wanted.has(c.claw));
  // Shared infrastructure and the lease concern the whole fleet and stay in a limited run.
  const limited = { ...plan, claws, unproven: plan.unproven.filter((u) => wanted.has(u.claw)) };
  return { ...limited, hash: planHash(limited) };
}
