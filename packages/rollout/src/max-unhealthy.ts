import type { RolloutPolicy } from "@openclawps/fleet-model";

/**
 * The number of failed claws a rollout tolerates before it halts: `max_unhealthy` as a count,
 * or as a percent ("25%") of the claws the rollout changes, rounded down so that "10%" of five
 * claws tolerates none rather than one.
 */
export function maxUnhealthyCount(maxUnhealthy: RolloutPolicy["max_unhealthy"], clawCount: number): number {
  if (typeof maxUnhealthy === "number") {
    if (!Number.isInteger(maxUnhealthy) || maxUnhealthy < 0) {
      throw new Error(`max_unhealthy must be a non-negative integer, got ${maxUnhealthy}`);
    }
    return maxUnhealthy;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(maxUnhealthy);
  if (!match) throw new Error(`max_unhealthy must be a count or a percent like "25%", got "${maxUnhealthy}"`);
  const percent = Number(match[1]);
  if (percent > 100) throw new Error(`max_unhealthy percent must be at most 100%, got "${maxUnhealthy}"`);
  return Math.floor((percent / 100) * clawCount);
}
