import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/** The absolute path of an executable found on PATH, or undefined when it is not installed. */
export function findOnPath(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry: keep looking.
    }
  }
  return undefined;
}

export interface ToolResult {
  /** Exit code; linters use non-zero codes to say "found problems", so this is not an error. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The variables a tool inherits from the action: what finding programs, a home and a locale
 * need, nothing else. The tools run on pull-request content (a Packer template's
 * `env("INPUT_SECRETS-JSON")` printed the secret, unmasked, into an annotation), so inputs
 * (INPUT_*), the runner's own variables (ACTIONS_*: the OIDC request token, the runtime token),
 * GITHUB_TOKEN and every other token or credential stay behind.
 */
const INHERITED = new Set([
  "PATH",
  "HOME",
  "USER",
  "LANG",
  "LC_ALL",
  "LC_CTYPE",
  "TMPDIR",
  "TZ",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  "XDG_DATA_HOME",
  // Where Packer keeps its installed plugins and config (no credentials there).
  "PACKER_PLUGIN_PATH",
  "PACKER_CONFIG_DIR",
  "PACKER_CACHE_DIR",
]);

/** A tool's environment: the inherited allow-list of `from`, plus `extra`. */
export function toolEnvironment(
  extra: Record<string, string> = {},
  from: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value !== undefined && INHERITED.has(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a tool to completion and returns its exit code and output, in a minimal environment
 * (toolEnvironment plus `env`). Only a failure to start the process rejects: what the exit
 * code means is for the caller to decide.
 */
export function runTool(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: toolEnvironment(options.env), maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`Could not run ${file}: ${error.message}`));
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}
