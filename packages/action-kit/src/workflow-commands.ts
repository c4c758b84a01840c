// The part of @actions/core the actions use, written out: reading inputs, workflow commands
// (annotations, groups, masks) on stdout, and the GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files.
// Why not @actions/core itself: it loads @actions/http-client (and through it undici, ~1 MB) at
// import for getIDToken alone, which every action paid before printing its first line. What it
// writes is pinned byte for byte against @actions/core by test/workflow-commands.test.ts (a
// property test over arbitrary messages and annotation properties); the formats are GitHub's:
// https://docs.github.com/actions/reference/workflows-and-actions/workflow-commands
// (and @actions/core 3: packages/core/src/{core,command,file-command,utils}.ts in actions/toolkit).
//
// This module is on the path to an action's first log line, so it loads no module Node has not
// loaded at start-up already: node:crypto and node:fs/promises are taken when first needed
// (process.getBuiltinModule, https://nodejs.org/api/process.html#processgetbuiltinmoduleid).
import { appendFileSync, existsSync } from "node:fs";
import { EOL } from "node:os";

/** Where an annotation points (@actions/core's AnnotationProperties). */
export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

export interface InputOptions {
  /** Throw when the input is empty. */
  required?: boolean;
  /** Trim leading and trailing whitespace (default true). */
  trimWhitespace?: boolean;
}

/**
 * An action input: the runner passes `with:` values as INPUT_<NAME> (upper-cased, spaces as
 * underscores, hyphens kept); trimmed unless `trimWhitespace: false`.
 */
export function getInput(name: string, options?: InputOptions): string {
  const value = process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] || "";
  if (options?.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  if (options?.trimWhitespace === false) return value;
  return value.trim();
}

/** A plain log line, written as it is (action-kit's `log.info` neutralises commands first). */
export function info(message: string): void {
  process.stdout.write(message + EOL);
}

export function debug(message: string): void {
  issueCommand("debug", {}, message);
}

export function error(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand(
    "error",
    commandProperties(properties),
    message instanceof Error ? message.toString() : message,
  );
}

export function warning(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand(
    "warning",
    commandProperties(properties),
    message instanceof Error ? message.toString() : message,
  );
}

export function notice(message: string | Error, properties: AnnotationProperties = {}): void {
  issueCommand(
    "notice",
    commandProperties(properties),
    message instanceof Error ? message.toString() : message,
  );
}

/** Fails the step: exit code 1 when the process ends, and the message as an error annotation. */
export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  error(message);
}

export function startGroup(name: string): void {
  issueCommand("group", {}, name);
}

export function endGroup(): void {
  issueCommand("endgroup", {}, "");
}

/** Runs `fn` inside a collapsible log group. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name);
  try {
    return await fn();
  } finally {
    endGroup();
  }
}

/** Masks `secret` in every later line of the job's log. */
export function setSecret(secret: string): void {
  issueCommand("add-mask", {}, secret);
}

/** A step output: a `name<<delimiter` block in the GITHUB_OUTPUT file (the deprecated command without one). */
export function setOutput(name: string, value: unknown): void {
  if (process.env.GITHUB_OUTPUT) {
    issueFileCommand("OUTPUT", keyValueMessage(name, value));
    return;
  }
  process.stdout.write(EOL);
  issueCommand("set-output", { name }, commandValue(value));
}

/** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY), as `core.summary.addRaw(markdown).write()`. */
export async function appendSummary(markdown: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) {
    throw new Error(
      "Unable to find environment variable for $GITHUB_STEP_SUMMARY. Check if your runtime environment supports job summaries.",
    );
  }
  await process.getBuiltinModule("node:fs/promises").appendFile(file, markdown, { encoding: "utf8" });
}

type CommandProperties = Record<string, string | number | undefined>;

/** `::name key=value,key=value::message` on a line of its own. */
export function commandLine(command: string, properties: CommandProperties, message: unknown): string {
  let line = `::${command || "missing.command"}`;
  const set = Object.entries(properties).filter(([, v]) => v);
  if (Object.keys(properties).length > 0) {
    line += ` ${set.map(([k, v]) => `${k}=${escapeProperty(v)}`).join(",")}`;
  }
  return `${line}::${escapeData(message)}`;
}

function issueCommand(command: string, properties: CommandProperties, message: unknown): void {
  process.stdout.write(commandLine(command, properties, message) + EOL);
}

function issueFileCommand(command: string, message: string): void {
  const file = process.env[`GITHUB_${command}`];
  if (!file) throw new Error(`Unable to find environment variable for file command ${command}`);
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
  appendFileSync(file, `${message}${EOL}`, { encoding: "utf8" });
}

/** `name<<ghadelimiter_<uuid>` + the value + the delimiter: a value cannot end the block early. */
export function keyValueMessage(
  key: string,
  value: unknown,
  uuid: string = process.getBuiltinModule("node:crypto").randomUUID(),
): string {
  const delimiter = `ghadelimiter_${uuid}`;
  const converted = commandValue(value);
  if (key.includes(delimiter)) {
    throw new Error(`Unexpected input: name should not contain the delimiter "${delimiter}"`);
  }
  if (converted.includes(delimiter)) {
    throw new Error(`Unexpected input: value should not contain the delimiter "${delimiter}"`);
  }
  return `${key}<<${delimiter}${EOL}${converted}${EOL}${delimiter}`;
}

/** The runner's property names (ActionCommandManager's IssueCommandProperties). */
function commandProperties(p: AnnotationProperties): CommandProperties {
  if (Object.keys(p).length === 0) return {};
  return {
    title: p.title,
    file: p.file,
    line: p.startLine,
    endLine: p.endLine,
    col: p.startColumn,
    endColumn: p.endColumn,
  };
}

function commandValue(input: unknown): string {
  if (input === null || input === undefined) return "";
  if (typeof input === "string" || input instanceof String) return String(input);
  return JSON.stringify(input);
}

function escapeData(s: unknown): string {
  return commandValue(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: unknown): string {
  return commandValue(s)
    .replace(/%/g, "%25")
    .replace(/\r/g, "%0D")
    .replace(/\n/g, "%0A")
    .replace(/:/g, "%3A")
    .replace(/,/g, "%2C");
}
