import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/index.js", import.meta.url));
export const FIXTURES = fileURLToPath(new URL("./fixtures", import.meta.url));
/** The vm-runtime shipped with the actions, as the bundle finds it (repository root). */
export const SHIPPED_VM_RUNTIME = fileURLToPath(new URL("../../../vm-runtime", import.meta.url));

export interface ActionRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The workflow-command lines (`::error ...`, `::warning ...`, `::notice ...`) in order. */
  annotations: string[];
}

/** A PATH with node only: neither shellcheck nor packer is found on it. */
export const PATH_WITHOUT_TOOLS = dirname(process.execPath);

/**
 * Runs the bundled action as the runner does: inputs as INPUT_<NAME> (upper-cased, hyphens
 * kept), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the repository as GITHUB_WORKSPACE and
 * working directory. Only PATH and HOME are inherited.
 */
export function runValidate(
  repo: string,
  inputs: Record<string, string> = {},
  options: { path?: string } = {},
): Promise<ActionRun> {
  const scratch = mkdtempSync(join(tmpdir(), "validate-run-"));
  const outputFile = join(scratch, "output");
  const summaryFile = join(scratch, "summary");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const env: NodeJS.ProcessEnv = {
    PATH: options.path ?? process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_WORKSPACE: repo,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BUNDLE],
      { cwd: repo, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error);
        resolve({
          exitCode: error ? Number(error.code) : 0,
          stdout,
          stderr,
          outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
          summary: readFileSync(summaryFile, "utf8"),
          annotations: stdout.split("\n").filter((l) => /^::(error|warning|notice)[ :]/.test(l)),
        });
      },
    );
  });
}

/** GITHUB_OUTPUT is a sequence of `name<<delimiter\nvalue\ndelimiter` blocks (@actions/core). */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) outputs[m[1] as string] = m[3] as string;
  return outputs;
}

/**
 * A JavaScript stack frame anywhere in what the action printed. Workflow commands encode
 * newlines as %0A, so a stack inside `::error::` stays on one line.
 */
export function hasStackTrace(text: string): boolean {
  return /(?:^|\n|%0A)\s+at \S/.test(text);
}
