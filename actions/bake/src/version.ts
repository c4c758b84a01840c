// Gallery image versions: Azure names them Major.Minor.Patch, each part an integer
// (https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#image-versions).
// The seed baked `YYYY.MMDD.HHMM-sha` style names, which a gallery rejects, so the bake either
// takes the version it is told or the next patch after the highest one that exists.
import { parseGalleryVersion } from "@openclawps/fleet-model";

export type Version = readonly [major: number, minor: number, patch: number];

/**
 * The version, or undefined when `text` is not Major.Minor.Patch: the fleet's one rule
 * (fleet-model's parseGalleryVersion), the same the manifest and observe apply.
 */
export function parseVersion(text: string): Version | undefined {
  return parseGalleryVersion(text);
}

export function formatVersion(v: Version): string {
  return `${v[0]}.${v[1]}.${v[2]}`;
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The version published when the gallery image has none yet. */
export const FIRST_VERSION = "1.0.0";

/**
 * The patch after the highest existing version (`1.0.0` when there is none). Every existing
 * name counts, whatever its provisioning state: a failed version still occupies its name.
 * Names that are not Major.Minor.Patch cannot exist in a gallery; they are ignored.
 */
export function nextVersion(existing: readonly string[]): string {
  let highest: Version | undefined;
  for (const name of existing) {
    const v = parseVersion(name);
    if (v && (!highest || compareVersions(v, highest) > 0)) highest = v;
  }
  return highest ? formatVersion([highest[0], highest[1], highest[2] + 1]) : FIRST_VERSION;
}
