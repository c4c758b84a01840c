// The workflow's overrides on top of the manifest: an image version for every claw that does not
// pin its own (what bake just produced), and rollout policy fields.
import { UserError } from "@openclawps/action-kit";
import type { Manifest } from "@openclawps/fleet-model";
import type { RolloutOverrides } from "./inputs.ts";

/**
 * A copy of the manifest with the overrides applied. The image override replaces
 * `defaults.image_version`, so a claw that pins its own `image_version` keeps it: a pin is a
 * deliberate choice that a fleet-wide bump must not undo.
 */
export function applyOverrides(
  manifest: Manifest,
  imageVersion: string,
  rollout: RolloutOverrides,
): Manifest {
  const copy = structuredClone(manifest);
  if (imageVersion) copy.defaults.image_version = imageVersion;
  // `rollout` passed the manifest's own rules (checkRolloutOverrides), so it merges as typed.
  const given = Object.fromEntries(Object.entries(rollout).filter(([, v]) => v !== undefined));
  copy.rollout = { ...copy.rollout, ...given };
  if (Array.isArray(copy.rollout.canary)) {
    const known = new Set(Object.keys(copy.claws));
    const unknown = copy.rollout.canary.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new UserError(
        `Input 'canary' names ${unknown.join(", ")}, not in the manifest.`,
        `Use claw names from claws.yaml (${[...known].slice(0, 10).join(", ")}${known.size > 10 ? ", ..." : ""}) or a count.`,
      );
    }
  }
  return copy;
}
