// Runs the bundled action the way the runner does: `node dist/index.js` with INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, and only the environment it is given.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BUNDLE = fileURLToPath(new URL("../dist/index.js", import.meta.url));

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** Workflow-command annotation lines (`::error ...`, `::warning ...`), in order. */
  annotations: string[];
}

export function runVerifyAction(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<ActionRun> {
  if (!existsSync(BUNDLE))
    throw new Error(`${BUNDLE} is missing: run \`npm run bundle\` in actions/verify first`);
  const dir = mkdtempSync(join(tmpdir(), "verify-run-"));
  const outputFile = join(dir, "output");
  const summaryFile = join(dir, "summary.md");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    ...env,
  };
  // The runner's naming: `INPUT_` + the name upper-cased, spaces to underscores, hyphens kept.
  for (const [name, value] of Object.entries(inputs))
    childEnv[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE], {
      env: childEnv,
      cwd: childEnv.GITHUB_WORKSPACE,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (exitCode) => {
      const outputs = parseOutputFile(readFileSync(outputFile, "utf8"));
      const summary = readFileSync(summaryFile, "utf8");
      rmSync(dir, { recursive: true, force: true });
      resolve({
        exitCode,
        stdout,
        stderr,
        outputs,
        summary,
        annotations: stdout.split("\n").filter((l) => /^::(error|warning|notice)[ :]/.test(l)),
      });
    });
  });
}

/** GITHUB_OUTPUT holds `name<<delimiter\nvalue\ndelimiter` blocks (@actions/core). */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? "");
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i] ?? "");
    outputs[m[1] as string] = value.join("\n");
  }
  return outputs;
}
