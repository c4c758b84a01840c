// The fleet repository's vm-runtime overlay: one rule for validate, bake and deploy-fleet, so
// what validate approves is the overlay deploy-fleet renders and bake builds.
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "@openclawps/action-kit";
import { displayPath, resolveInRepo } from "./repo-paths.ts";

/** Where the overlay is, or why the one the input names cannot be used. */
export interface OverlayLookup {
  /** The overlay directory; undefined when there is none (or the given one is missing). */
  dir?: string;
  /** The overlay path as shown to the user (relative to the repository root). */
  shown: string;
  /** True when the `vm-runtime` input named it; false for `vm-runtime/` beside the manifest. */
  given: boolean;
  /** Set when the input names a path that is not a directory: what is wrong and how to fix it. */
  problem?: { message: string; fix: string };
}

const FIX =
  "Set the vm-runtime input to the overlay directory relative to the repository root, or leave it empty to use vm-runtime/ beside the manifest when there is one.";

/**
 * The `vm-runtime` input when given (it must be a directory inside the repository), else
 * `vm-runtime/` beside the manifest when that directory exists. Throws a UserError only for a
 * path outside the repository; a missing given directory is reported in `problem`.
 */
export function findOverlay(workspace: string, manifestAbs: string, given: string): OverlayLookup {
  if (given) {
    const abs = resolveInRepo(workspace, given, "Input 'vm-runtime'");
    const shown = displayPath(workspace, abs);
    if (existsSync(abs) && statSync(abs).isDirectory()) return { dir: abs, shown, given: true };
    const message = existsSync(abs)
      ? `The vm-runtime overlay '${shown}' is a file, not a directory.`
      : `The vm-runtime overlay directory '${shown}' does not exist.`;
    return { shown, given: true, problem: { message, fix: FIX } };
  }
  const beside = resolveInRepo(
    workspace,
    join(dirname(manifestAbs), "vm-runtime"),
    "The vm-runtime overlay beside the manifest,",
  );
  const shown = displayPath(workspace, beside);
  return existsSync(beside) && statSync(beside).isDirectory()
    ? { dir: beside, shown, given: false }
    : { shown, given: false };
}

/** `findOverlay` for the actions that stop at the first problem: a given overlay that is not a directory throws. */
export function overlayDirOrThrow(workspace: string, manifestAbs: string, given: string): string | undefined {
  const overlay = findOverlay(workspace, manifestAbs, given);
  if (overlay.problem) throw new UserError(overlay.problem.message, overlay.problem.fix);
  return overlay.dir;
}
