// Azure Compute Gallery image versions. Azure requires `MajorVersion.MinorVersion.Patch`, each
// part a number within the range of a 32-bit integer:
// https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#image-versions
// The fleet's one rule for them: the manifest, bake's image-version, deploy-fleet's image-version
// and observe's list of deployable versions all use parseGalleryVersion (their tests pin that).

export const LATEST = "latest";

const INT32_MAX = 2_147_483_647;

/** The three numeric parts of a gallery version, or undefined if `text` is not one. */
export function parseGalleryVersion(text: string): [number, number, number] | undefined {
  // Leading zeros are refused: "1.01.0" and "1.1.0" would name the same version to a reader
  // but are different strings to Azure.
  const m = /^(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})\.(0|[1-9]\d{0,9})$/.exec(text);
  if (!m) return undefined;
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  return parts.every((p) => p <= INT32_MAX) ? parts : undefined;
}

export function isGalleryVersion(text: string): boolean {
  return parseGalleryVersion(text) !== undefined;
}

/**
 * Why `text` is not a usable image version request (`Major.Minor.Patch` or `latest`), or
 * undefined when it is.
 */
export function imageVersionProblem(text: string): string | undefined {
  if (text === LATEST || isGalleryVersion(text)) return undefined;
  if (text.toLowerCase() === LATEST) return `write "latest" in lower case`;
  if (/^\d+(\.\d+)?$/.test(text)) return "a gallery version has three parts: Major.Minor.Patch";
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (m) {
    if ([m[1], m[2], m[3]].some((p) => p!.length > 1 && p!.startsWith("0")))
      return "parts must not have leading zeros";
    return "each part must be at most 2147483647 (a 32-bit integer)";
  }
  return 'expected Major.Minor.Patch with integer parts (e.g. "1.2.0") or "latest"';
}

/** Numeric order of two gallery versions (throws on malformed input: programmer error). */
export function compareGalleryVersions(a: string, b: string): number {
  const pa = parseGalleryVersion(a);
  const pb = parseGalleryVersion(b);
  if (!pa || !pb) throw new Error(`not gallery versions: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  for (let i = 0; i < 3; i++) {
    const d = pa[i]! - pb[i]!;
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * `latest` → the highest available version (numeric order, so 1.10.0 > 1.9.0); an explicit
 * version → itself if the gallery has it, else undefined. Malformed entries in `available`
 * are ignored.
 */
export function resolveImageVersion(requested: string, available: string[]): string | undefined {
  const valid = available.filter(isGalleryVersion);
  if (requested === LATEST) {
    let best: string | undefined;
    for (const v of valid) if (best === undefined || compareGalleryVersions(v, best) > 0) best = v;
    return best;
  }
  if (!isGalleryVersion(requested)) return undefined;
  return valid.find((v) => compareGalleryVersions(v, requested) === 0);
}
