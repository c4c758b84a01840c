import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";

const BUNDLE = fileURLToPath(new URL("../dist/index.js", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));

/** A PATH with node only: neither shellcheck nor packer is found on it. */
export const PATH_WITHOUT_TOOLS = dirname(process.execPath);

/** Runs the bundled validate action on `repo` as the runner does, with the repository as workspace. */
export function runValidate(
  repo: string,
  inputs: Record<string, string> = {},
  options: { path?: string } = {},
): Promise<BundledActionRun> {
  return runBundledAction({
    bundle: BUNDLE,
    inputs,
    env: { GITHUB_WORKSPACE: repo, ...(options.path === undefined ? {} : { PATH: options.path }) },
  });
}

/**
 * A JavaScript stack frame anywhere in what the action printed. Workflow commands encode
 * newlines as %0A, so a stack inside `::error::` stays on one line.
 */
export function hasStackTrace(text: string): boolean {
  return /(?:^|\n|%0A)\s+at \S/.test(text);
}
