import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The vm-runtime directory shipped with the actions. In the release tree it sits at the root
 * beside each action (`deploy-fleet/dist/index.js` → `vm-runtime/`); in the monorepo it is
 * at the repository root (`actions/deploy-fleet/dist/index.js` → `vm-runtime/`). Walk up from
 * the running module until it is found.
 */
export function findShippedVmRuntime(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, "vm-runtime");
    if (existsSync(join(candidate, "lifecycle", "boot.sh"))) return candidate;
    dir = resolve(dir, "..");
  }
  throw new Error(
    `vm-runtime/ not found above ${fileURLToPath(moduleUrl)}: the action was packaged without it`,
  );
}
