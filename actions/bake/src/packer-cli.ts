// Running the Packer binary: its version, `packer init`, and `packer build` with its
// machine-readable stdout delivered line by line as it is printed.
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { UserError } from "@openclawps/action-kit";
import { compareVersions, formatVersion, type Version } from "./version.ts";

export interface RunResult {
  exitCode: number;
  /** Everything printed, stdout then stderr lines interleaved as they came. */
  lines: string[];
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for each line of stdout and stderr as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

/** Runs `bin args`; resolves with the exit code (never rejects for a non-zero exit). */
export function runPacker(bin: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let open = 2;
    let exitCode: number | undefined;
    const finish = () => {
      if (open === 0 && exitCode !== undefined) resolve({ exitCode, lines });
    };
    for (const [stream, name] of [
      [child.stdout, "stdout"],
      [child.stderr, "stderr"],
    ] as const) {
      const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      rl.on("line", (line) => {
        lines.push(line);
        opts.onLine?.(line, name);
      });
      rl.on("close", () => {
        open--;
        finish();
      });
    }
    child.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        reject(
          new UserError(
            `Packer was not found at '${bin}'.`,
            "Run the bake on GitHub's ubuntu-24.04 runner image (it ships Packer, as the reusable bake.yml expects), install Packer on the self-hosted runner before this step (https://developer.hashicorp.com/packer/install), or set the `packer` input to its path.",
          ),
        );
      } else {
        reject(err);
      }
    });
    child.on("close", (code, signal) => {
      exitCode = code ?? (signal ? 128 : 1);
      finish();
    });
  });
}

/** `Packer v1.6.6` (or the machine-readable `version` line) → [1, 6, 6]. */
export function parsePackerVersion(output: string): Version | undefined {
  const m = /(?:Packer v|,version,)(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export async function packerVersion(bin: string): Promise<Version> {
  const { exitCode, lines } = await runPacker(bin, ["version"]);
  const version = parsePackerVersion(lines.join("\n"));
  if (exitCode !== 0 || !version) {
    throw new UserError(`'${bin} version' did not report a Packer version:\n${lines.join("\n")}`);
  }
  return version;
}

/** `packer init` and HCL2 `required_plugins` arrived in Packer 1.7.0. */
export const FIRST_PACKER_WITH_INIT: Version = [1, 7, 0];

export function hasInitCommand(version: Version): boolean {
  return compareVersions(version, FIRST_PACKER_WITH_INIT) >= 0;
}

/**
 * True when Packer answered `init` with its top-level usage: the command does not exist in
 * this build (Packer before 1.7 exits 127 and lists the commands it has).
 */
export function isUnknownCommand(result: RunResult): boolean {
  return result.exitCode === 127 && result.lines.some((l) => l.startsWith("Usage: packer "));
}

/** The lowest Packer a template's `required_version` admits, and where it says so. */
export interface RequiredPacker {
  version: Version;
  /** The file that declares it, as the user named the Packer directory, and its line. */
  file: string;
  line: number;
}

/**
 * The highest lower bound (`>= X.Y[.Z]`) of any `required_version` in the directory's
 * `*.pkr.hcl` files (Packer reads them all as one configuration); undefined when none sets one.
 */
export async function requiredPackerVersion(dir: string, display = dir): Promise<RequiredPacker | undefined> {
  let found: RequiredPacker | undefined;
  const names = (await readdir(dir)).filter((n) => n.endsWith(".pkr.hcl")).sort();
  for (const name of names) {
    const lines = (await readFile(join(dir, name), "utf8")).split("\n");
    lines.forEach((text, i) => {
      const constraint = /^\s*required_version\s*=\s*"([^"]*)"/.exec(text)?.[1];
      if (constraint === undefined) return;
      for (const m of constraint.matchAll(/>=\s*(\d+)\.(\d+)(?:\.(\d+))?/g)) {
        const version: Version = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
        if (!found || compareVersions(version, found.version) > 0) {
          found = { version, file: `${display}/${name}`, line: i + 1 };
        }
      }
    });
  }
  return found;
}

/**
 * Refuses an installed Packer older than the template needs, before any build starts (an old
 * Packer fails on the template with errors that do not name the cause).
 */
export function checkPackerVersion(installed: Version, required: RequiredPacker | undefined): void {
  if (!required || compareVersions(installed, required.version) >= 0) return;
  throw new UserError(
    `Packer ${formatVersion(installed)} on this runner is older than ${formatVersion(required.version)}, which ${required.file}:${required.line} requires (required_version).`,
    `Run the bake on GitHub's ubuntu-24.04 runner image, which ships Packer 1.14, or install Packer ${formatVersion(required.version)} or newer on the self-hosted runner (https://developer.hashicorp.com/packer/install) before this step, or set the \`packer\` input to its path.`,
  );
}
