// vitest globalSetup of the test packages that run actions' bundles (vitest.shared.ts
// `bundleTestConfig`): before any test, each bundle must be the build of the sources as they are
// now. Run directly (`npx vitest run` in a package), a stale or missing bundle is rebuilt first;
// under `turbo run test` the bundle task has just run (turbo signals itself with TURBO_HASH), so a
// stale bundle there is a fault of the task graph and fails the run, naming the command.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { bundleCommand, ROOT, staleBundleReason } from "./bundle-inputs.ts";

export interface FreshBundleOptions {
  /** Action directories whose bundles the tests run. */
  actions: string[];
  /** Rebuild a stale bundle (default: unless under turbo). */
  rebuild?: boolean;
  /** Runs the command that rebuilds a bundle (default: in a shell at the repository root). */
  run?: (command: string) => void;
  root?: string;
}

/** Rebuilds (or refuses) every stale bundle among `actions`; throws when one stays stale. */
export function ensureFreshBundles(options: FreshBundleOptions): void {
  const root = options.root ?? ROOT;
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: turbo sets it for its own tasks; not an input.
  const rebuild = options.rebuild ?? !process.env.TURBO_HASH;
  const run =
    options.run ??
    ((command: string) => execFileSync("sh", ["-c", command], { cwd: root, stdio: "inherit" }));
  for (const action of options.actions) {
    const reason = staleBundleReason(action, root);
    if (!reason) continue;
    const command = bundleCommand(action);
    if (rebuild) {
      console.warn(`${reason}: rebuilding it with \`${command}\``);
      run(command);
      const still = staleBundleReason(action, root);
      if (!still) continue;
      throw new Error(`${still} after \`${command}\`; run it at ${root} and look at its output`);
    }
    throw new Error(
      `${reason}: the tests would run an old build of ${relative(root, action)}. Run \`${command}\` at ${root}.`,
    );
  }
}

/** Every action of the repository (a directory under actions/ with an action.yml). */
export function allActions(root = ROOT): string[] {
  const base = join(root, "actions");
  return readdirSync(base)
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, "action.yml")));
}

/**
 * The globalSetup itself: the package's own bundle when the package is an action, else (release,
 * rehearsal) every action's.
 */
export default function setup(project: { config: { root: string } }): void {
  const dir = project.config.root;
  ensureFreshBundles({ actions: existsSync(join(dir, "action.yml")) ? [dir] : allActions() });
}
