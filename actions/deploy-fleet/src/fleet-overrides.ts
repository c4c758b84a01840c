// The workflow's overrides on top of the manifest: an image version for every claw that does not
// pin its own (what bake just produced), and rollout policy fields.
import { UserError } from "@openclawps/action-kit";
import type { Manifest } from "@openclawps/fleet-model";
import type { RolloutOverrides } from "./inputs.ts";

/**
 * The manifest with the overrides applied; `manifest` itself is left as it is. The image override
 * replaces `defaults.image_version`, so a claw that pins its own `image_version` keeps it: a pin is
 * a deliberate choice that a fleet-wide bump must not undo. Only the blocks that change are new
 * objects: the rest (a thousand claws' settings) is shared, not copied, and nothing downstream
 * writes into a manifest (resolveFleet builds each claw's settings afresh).
 */
export function applyOverrides(
  manifest: Manifest,
  imageVersion: string,
  rollout: RolloutOverrides,
): Manifest {
  // `rollout` passed the manifest's own rules (checkRolloutOverrides), so it merges as typed.
  const given = Object.fromEntries(Object.entries(rollout).filter(([, v]) => v !== undefined));
  const copy: Manifest = {
    ...manifest,
    defaults: imageVersion ? { ...manifest.defaults, image_version: imageVersion } : manifest.defaults,
    rollout: { ...manifest.rollout, ...given },
  };
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
