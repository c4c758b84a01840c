// Running the Packer binary: its version, `packer init`, and `packer build` with its
// machine-readable stdout delivered line by line as it is printed.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { UserError } from "@openclawps/action-kit";
import { compareVersions, type Version } from "./version.ts";

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
            "Install it before this step (hashicorp/setup-packer, as the reusable bake.yml does) or set the `packer` input to its path.",
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
