// Runs a bundled action the way the GitHub runner does, for tests and the demo: `node
// dist/index.js` with INPUT_* variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files and the
// workspace as working directory, then reads back what the action wrote. A separate entry point
// (`@openclawps/action-kit/testing`) so no action bundle ever includes it.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { AnnotationProps, Reporter } from "./reporter.ts";
import { untrusted } from "./untrusted.ts";

export interface BundledActionOptions {
  /** The action's bundle, e.g. `actions/verify/dist/index.js`. */
  bundle: string;
  /** Input values by the names in action.yml; secrets are passed here too and never printed. */
  inputs?: Record<string, string>;
  /**
   * Variables besides INPUT_*. Only PATH and HOME are inherited; these override the defaults
   * (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP, GITHUB_WORKSPACE = the run's directory).
   * The action runs in GITHUB_WORKSPACE, as a runner's step does.
   */
  env?: Record<string, string>;
  /** Where the run's directory is created (default: the system's temporary directory). */
  scratch?: string;
  /**
   * Keep the run's directory (output and summary files, RUNNER_TEMP) for the caller to read.
   * By default it is removed: an action may stage secrets there (a private key file).
   */
  keepFiles?: boolean;
  /** Kill the process (SIGKILL) after this many ms: a crash, or a hung action. */
  killAfterMs?: number;
  /** Node options before the bundle, e.g. `--import=<module>` to measure the run. */
  nodeArgs?: string[];
  /** Kill the process (SIGKILL) as soon as its stdout contains this text: a crash at that point. */
  killWhenStdout?: string | RegExp;
  /**
   * Kill the process (SIGKILL) once this returns true (asked every 50 ms): a crash at a point the
   * test sees from outside, e.g. a request reaching the local Azure.
   */
  killWhen?: () => boolean;
}

export interface BundledActionRun {
  /** The exit code; null when a signal ended the process. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived: what the job log shows. */
  log: string;
  /** What the action set with core.setOutput. */
  outputs: Record<string, string>;
  /** What the action wrote to the job summary. */
  summary: string;
  /** The annotation lines (`::error ...`, `::warning ...`, `::notice ...`) on stdout, in order. */
  annotations: string[];
  /** The run's directory (output and summary files, RUNNER_TEMP); gone unless `keepFiles`. */
  dir: string;
}

/**
 * The variable the runner sets for an input: `INPUT_` + the name upper-cased with spaces as
 * underscores, hyphens kept — what `core.getInput` reads
 * (https://github.com/actions/toolkit/blob/main/packages/core/src/core.ts, getInput).
 */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, "_").toUpperCase()}`;
}

/**
 * Parses a GITHUB_OUTPUT file as the runner does: `name=value` lines and `name<<DELIMITER`
 * blocks ended by a line holding only the delimiter (what `core.setOutput` writes); whichever of
 * `=` and `<<` comes first on a line decides its form, and empty lines are skipped
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#multiline-strings;
 * the parsing: EnvFileKeyValuePairs in actions/runner src/Runner.Worker/FileCommandManager.cs).
 */
export function parseOutputFile(text: string, file = "GITHUB_OUTPUT"): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === "") continue;
    const equals = line.indexOf("=");
    const heredoc = line.indexOf("<<");
    if (equals > 0 && (heredoc < 0 || equals < heredoc)) {
      outputs[line.slice(0, equals)] = line.slice(equals + 1);
    } else if (heredoc > 0) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      const end = lines.indexOf(delimiter, i + 1);
      // The value is not quoted: it may hold a secret.
      if (end < 0) throw new Error(`${file}:${i + 1}: output '${name}' has no closing delimiter line`);
      outputs[name] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else {
      throw new Error(`${file}:${i + 1}: neither 'name=value' nor 'name<<DELIMITER'`);
    }
  }
  return outputs;
}

export async function runBundledAction(options: BundledActionOptions): Promise<BundledActionRun> {
  const { bundle } = options;
  const actionDir = dirname(dirname(bundle));
  if (!existsSync(bundle))
    throw new Error(`${bundle} is missing: run \`npm run bundle\` in ${actionDir} first`);
  const dir = mkdtempSync(join(options.scratch ?? tmpdir(), `${basename(actionDir)}-run-`));
  const outputFile = join(dir, "output");
  const summaryFile = join(dir, "summary.md");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: dir,
    RUNNER_TEMP: dir,
    ...options.env,
  };
  for (const [name, value] of Object.entries(options.inputs ?? {})) env[inputVariable(name)] = value;

  try {
    const ended = await new Promise<
      Pick<BundledActionRun, "exitCode" | "signal" | "stdout" | "stderr" | "log">
    >((resolve, reject) => {
      const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bundle], {
        env,
        cwd: env.GITHUB_WORKSPACE || dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      let log = "";
      const kill = () => child.kill("SIGKILL");
      const timer = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs);
      const probe = options.killWhen;
      const poller = probe
        ? setInterval(() => {
            if (probe()) kill();
          }, 50)
        : undefined;
      const killWhen = options.killWhenStdout;
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        log += chunk;
        if (killWhen && (typeof killWhen === "string" ? stdout.includes(killWhen) : killWhen.test(stdout)))
          kill();
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
        log += chunk;
      });
      child.on("error", (err) => {
        clearTimeout(timer);
        clearInterval(poller);
        reject(err);
      });
      child.on("close", (exitCode, signal) => {
        clearTimeout(timer);
        clearInterval(poller);
        resolve({ exitCode, signal, stdout, stderr, log });
      });
    });
    return {
      ...ended,
      outputs: parseOutputFile(readFileSync(outputFile, "utf8"), outputFile),
      summary: readFileSync(summaryFile, "utf8"),
      annotations: ended.stdout.split("\n").filter((l) => /^::(error|warning|notice)[ :]/.test(l)),
      dir,
    };
  } finally {
    if (!options.keepFiles) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The commands registered with the runner (the command extensions plus `stop-commands`,
 * added in ActionCommandManager's constructor): what the runner would obey on a log line.
 * https://github.com/actions/runner/blob/main/src/Runner.Worker/ActionCommandManager.cs
 */
const RUNNER_COMMANDS = new Set([
  "set-env",
  "set-output",
  "save-state",
  "add-mask",
  "add-path",
  "add-matcher",
  "remove-matcher",
  "debug",
  "warning",
  "error",
  "notice",
  "group",
  "endgroup",
  "echo",
  "stop-commands",
]);

export interface ParsedWorkflowCommand {
  /** The 1-based line of stdout it was read from. */
  line: number;
  command: string;
  /** The name and its properties, e.g. `error file=claws.yaml,line=3`. */
  info: string;
  /** The rest of the line after the command (not unescaped). */
  data: string;
}

/**
 * Every workflow command the runner would obey in a step's stdout, parsed by its own rules
 * (actions/runner src/Runner.Common/ActionCommand.cs): lines split on CR, LF or CRLF; the
 * `::name ...::data` form after leading whitespace (TryParseV2), else the legacy `##[name ...]data`
 * form anywhere in the line (TryParse); only registered command names count.
 */
export function workflowCommands(stdout: string): ParsedWorkflowCommand[] {
  const found: ParsedWorkflowCommand[] = [];
  stdout.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const trimmed = raw.replace(/^[\s\u0085]+/, "");
    if (trimmed.startsWith("::")) {
      const end = trimmed.indexOf("::", 2);
      if (end >= 0) {
        const command = trimmed.slice(2, end).split(" ")[0] ?? "";
        if (RUNNER_COMMANDS.has(command)) {
          found.push({ line: i + 1, command, info: trimmed.slice(2, end), data: trimmed.slice(end + 2) });
          return;
        }
      }
    }
    const prefix = raw.indexOf("##[");
    if (prefix < 0) return;
    const rb = raw.indexOf("]", prefix);
    if (rb < 0) return;
    const info = raw.slice(prefix + 3, rb);
    const command = info.split(" ")[0] ?? "";
    if (RUNNER_COMMANDS.has(command)) found.push({ line: i + 1, command, info, data: raw.slice(rb + 1) });
  });
  return found;
}

/** An annotation a core made through its Reporter. */
export interface RecordedAnnotation {
  level: "error" | "warning" | "notice";
  text: string;
  props?: AnnotationProps;
}

/**
 * The Reporter for tests of an action's core: keeps everything in memory. `info` lines are kept
 * as `coreReporter` would print them (neutralised by `untrusted`); `log` holds every line in
 * order, annotations as `::level::text`, groups as `[group] title` / `[endgroup]`.
 */
export class MemoryReporter implements Reporter {
  readonly log: string[] = [];
  readonly annotations: RecordedAnnotation[] = [];
  readonly outputs: Record<string, string> = {};
  readonly secrets: string[] = [];
  summaryText = "";

  // Arrow properties: like coreReporter's, each method works when passed on detached.
  readonly info = (text: string): void => {
    this.log.push(untrusted(text));
  };
  readonly notice = (text: string, props?: AnnotationProps): void => this.annotate("notice", text, props);
  readonly warning = (text: string, props?: AnnotationProps): void => this.annotate("warning", text, props);
  readonly error = (text: string, props?: AnnotationProps): void => this.annotate("error", text, props);
  readonly startGroup = (title: string): void => {
    this.log.push(`[group] ${title}`);
  };
  readonly endGroup = (): void => {
    this.log.push("[endgroup]");
  };
  readonly summary = async (markdown: string): Promise<void> => {
    this.summaryText += markdown;
  };
  readonly setOutput = (name: string, value: string): void => {
    this.outputs[name] = value;
  };
  readonly setSecret = (value: string): void => {
    this.secrets.push(value);
  };

  /** The annotations of one level, their text only. */
  texts(level: RecordedAnnotation["level"]): string[] {
    return this.annotations.filter((a) => a.level === level).map((a) => a.text);
  }

  private annotate(level: RecordedAnnotation["level"], text: string, props?: AnnotationProps): void {
    this.annotations.push({ level, text, ...(props ? { props } : {}) });
    this.log.push(`::${level}::${text}`);
  }
}
