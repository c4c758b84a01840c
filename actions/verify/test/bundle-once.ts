import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Bundles the action (and builds the workspace packages it bundles) once before the tests.
 * Under `turbo run test` the bundle task has already run (turbo.json: test dependsOn bundle),
 * which turbo signals with TURBO_HASH.
 */
export default function bundleOnce(): void {
  if (process.env.TURBO_HASH) return;
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  execFileSync(
    "npx",
    ["turbo", "run", "bundle", "--filter=@openclawps/action-verify", "--output-logs=errors-only"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
}
