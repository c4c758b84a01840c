import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The file that marks a directory as the baseline template. */
export const TEMPLATE_MARKER = "build.pkr.hcl";

/**
 * The baseline Packer template shipped with the actions: `infra/packer` at the repository root,
 * both in the monorepo (`actions/bake/dist/index.js` → `../../infra/packer`) and in the release
 * tree (`bake/dist/index.js` → `../infra/packer`). Walk up from the running module until found.
 */
export function findShippedPackerDir(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "infra", "packer");
    if (existsSync(join(candidate, TEMPLATE_MARKER))) return candidate;
    dir = resolve(dir, "..");
  }
  throw new Error(
    `infra/packer/ not found above ${fileURLToPath(moduleUrl)}: the action was packaged without it`,
  );
}
