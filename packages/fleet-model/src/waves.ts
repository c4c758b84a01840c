// planWaves: the order in which apply runs a plan's actionable claws.
import { countOf, parsePercent } from "./count-or-percent.ts";
import type { Plan, RolloutPolicy, Wave } from "./types.ts";

/** Creates, recovers and retires touch no running claw, so they run first and are not health-gated. */
const UNGATED = new Set(["create", "recover", "retire"]);

function checkCountOrPercent(name: string, value: number | string, min: number): void {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < min)
      throw new Error(`rollout.${name} must be an integer >= ${min}, got ${value}`);
    return;
  }
  const p = parsePercent(value);
  if (p === undefined || p < min || p > 100)
    throw new Error(`rollout.${name} must be a count or "N%" (${min}..100), got ${JSON.stringify(value)}`);
}

/** Failures tolerated among `gatedTotal` gated claws before the rollout halts (percents round down). */
export function maxUnhealthyCount(policy: RolloutPolicy, gatedTotal: number): number {
  checkCountOrPercent("max_unhealthy", policy.max_unhealthy, 0);
  return countOf(policy.max_unhealthy, gatedTotal, "down");
}

/** Claws per wave after the canary (percents of all gated claws, rounded up; never below 1). */
export function waveSizeCount(policy: RolloutPolicy, gatedTotal: number): number {
  checkCountOrPercent("wave_size", policy.wave_size, 1);
  return Math.max(1, countOf(policy.wave_size, gatedTotal, "up"));
}

/**
 * Ordered waves for the plan's actionable claws under the rollout policy: one ungated wave
 * (creates, recovers, retires), then the canary (the first `canary` gated claws in manifest
 * order, or the named ones that are gated), then waves of `wave_size`. Noop, orphan and blocked
 * claws are in no wave. Never yields an empty wave. Throws on an invalid policy (programmer error:
 * parseManifest validates it).
 */
export function planWaves(plan: Plan, policy: RolloutPolicy): Wave[] {
  const ungated = plan.claws.filter((c) => UNGATED.has(c.action)).map((c) => c.claw);
  const gated = plan.claws.filter((c) => c.gated).map((c) => c.claw);
  let canary: string[];
  if (typeof policy.canary === "number") {
    if (!Number.isInteger(policy.canary) || policy.canary < 0)
      throw new Error(`rollout.canary must be an integer >= 0, got ${policy.canary}`);
    canary = gated.slice(0, policy.canary);
  } else {
    const named = new Set(policy.canary.map((n) => n.toLowerCase()));
    canary = gated.filter((c) => named.has(c.toLowerCase()));
  }
  const size = waveSizeCount(policy, gated.length);
  const inCanary = new Set(canary);
  const rest = gated.filter((c) => !inCanary.has(c));

  const waves: Wave[] = [];
  const add = (kind: Wave["kind"], claws: string[]) => {
    if (claws.length > 0) waves.push({ index: waves.length, kind, claws });
  };
  add("ungated", ungated);
  add("canary", canary);
  for (let i = 0; i < rest.length; i += size) add("wave", rest.slice(i, i + size));
  return waves;
}
