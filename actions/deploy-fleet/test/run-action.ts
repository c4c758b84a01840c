// Runs the bundled action the way the runner does: `node dist/index.js` with INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and the OIDC request variables in the environment.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const BUNDLE = resolve(import.meta.dirname, "../dist/index.js");

export interface ActionRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** Directory holding the output and summary files of this run. */
  dir: string;
}

export interface RunOptions {
  inputs: Record<string, string>;
  /** Variables besides INPUT_* (the local Azure's env(), GITHUB_WORKSPACE, ...). */
  env: Record<string, string>;
  /** Kill the process (SIGKILL) after this many ms: a crash mid-rollout. */
  killAfterMs?: number;
  /** Kill the process (SIGKILL) as soon as stdout contains this text. */
  killWhenStdout?: string | RegExp;
}

/** Parses the GITHUB_OUTPUT file format core.setOutput writes: `name<<delimiter\nvalue\ndelimiter`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const [, name, delimiter] = m;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    outputs[name!] = value.join("\n");
  }
  return outputs;
}

export function runAction(options: RunOptions): Promise<ActionRun> {
  if (!existsSync(BUNDLE))
    throw new Error(`${BUNDLE} is missing: run \`npm run bundle\` in actions/deploy-fleet first`);
  const dir = mkdtempSync(join(tmpdir(), "deploy-fleet-run-"));
  const outputFile = join(dir, "output");
  const summaryFile = join(dir, "summary.md");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: dir,
    ...options.env,
  };
  // The runner's naming: `INPUT_` + the name upper-cased, spaces to underscores, hyphens kept.
  for (const [name, value] of Object.entries(options.inputs)) {
    env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BUNDLE], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const kill = () => child.kill("SIGKILL");
    const timer = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const k = options.killWhenStdout;
      if (k && (typeof k === "string" ? stdout.includes(k) : k.test(stdout))) kill();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        stdout,
        stderr,
        outputs: parseOutputFile(readFileSync(outputFile, "utf8")),
        summary: readFileSync(summaryFile, "utf8"),
        dir,
      });
    });
  });
}
