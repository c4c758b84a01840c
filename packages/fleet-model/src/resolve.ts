// Manifest → ResolvedFleet: defaults merged into each claw, resource names and tags derived.
import { deriveResourceNames } from "./resource-names.ts";
import { TAGS } from "./tags.ts";
import type { Manifest, ResolvedClaw, ResolvedFleet } from "./types.ts";

/** Tags every resource of a claw carries: the fleet's azure.tags plus the claw's name. */
export function clawTags(fleetTags: Record<string, string>, claw: string): Record<string, string> {
  return { ...fleetTags, [TAGS.claw]: claw };
}

/**
 * Defaults merged into each claw, names and tags derived. Input must be a problem-free manifest
 * (what parseManifest returns). `image_version` stays as requested (`latest` included): the plan
 * resolves it against the gallery.
 */
export function resolveFleet(manifest: Manifest, manifestFile: string): ResolvedFleet {
  const claws: ResolvedClaw[] = Object.entries(manifest.claws).map(([name, claw]) => {
    const { retired, ...overrides } = claw;
    const settings = { ...manifest.defaults };
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
    }
    return {
      name,
      settings,
      retired: retired === true,
      names: deriveResourceNames(name),
      tags: clawTags(manifest.azure.tags, name),
    };
  });
  return {
    manifestFile,
    azure: manifest.azure,
    rollout: manifest.rollout,
    ssh: manifest.ssh,
    secrets: manifest.secrets,
    claws,
  };
}
