// Packer's machine-readable output (`-machine-readable`): one line per event,
// `timestamp,target,type,data...`, with commas inside data written as `%!(PACKER_COMMA)` and
// newlines as a literal `\n` ("Machine-Readable Output",
// https://developer.hashicorp.com/packer/docs/commands#format-for-machine-readable-output).
//
// What `packer build` prints, as seen from Packer 1.6.6 and later:
//   1795249013,,ui,say,==> null.test: Running local shell script: /tmp/packer-shell24
//   1795249013,,ui,message,    null.test: step one
//   1795249013,,ui,error,==> null.test: to stderr            (a script's stderr, not a failure)
//   1795249013,null.test,error,Script exited with non-zero exit status: 3   (the build failed)
//   1795249013,null.test,artifact,0,id,Null
// Template errors (HCL, variables) arrive only as `ui,error` lines before any build starts.

export interface MachineReadableLine {
  timestamp: number;
  /** Build name (`null.test`); empty for lines that belong to no build, such as every `ui` line. */
  target: string;
  type: string;
  /** Fields after the type, unescaped. */
  data: string[];
}

/** Splits one line; undefined when it is not in the machine-readable format (e.g. a plugin's stray print). */
export function parseMachineReadableLine(line: string): MachineReadableLine | undefined {
  const fields = line.replace(/\r$/, "").split(",");
  if (fields.length < 3) return undefined;
  const [timestamp, target, type, ...data] = fields as [string, string, string, ...string[]];
  if (!/^\d+$/.test(timestamp) || type === "") return undefined;
  return { timestamp: Number(timestamp), target, type, data: data.map(unescapeData) };
}

/** Undoes Packer's escaping of one data field. */
export function unescapeData(field: string): string {
  return field
    .replaceAll("%!(PACKER_COMMA)", ",")
    .replace(/\\([nr])/g, (_, c: string) => (c === "n" ? "\n" : "\r"));
}

/** One artifact a build produced (`artifact,<index>,<key>,<value>` lines). */
export interface PackerArtifact {
  target: string;
  index: number;
  builderId?: string;
  id?: string;
  string?: string;
}

/** What the build output means for a reader: drives log groups and the failure report. */
export type PackerEvent =
  /** A build step began (`==> build: Creating resource group ...`). */
  | { kind: "step"; title: string }
  /** Output: of the current step (`message`, `error`), or of Packer itself after the steps (`summary`). */
  | { kind: "output"; text: string; stream: "message" | "error" | "summary" };

/**
 * Reads a `packer build -machine-readable` stream line by line: reports steps and their output
 * as events, and collects the errors and artifacts for the end of the run.
 */
export class PackerBuildOutput {
  /** Per-build errors (`<target>,error,<message>`): Packer's own account of why a build failed. */
  readonly buildErrors: { target: string; message: string }[] = [];
  /** Every `ui,error` text: script stderr during a build, the template's errors before one. */
  readonly uiErrors: string[] = [];
  readonly artifacts: PackerArtifact[] = [];
  /** Lines that were not machine-readable (kept for the failure report). */
  readonly unparsed: string[] = [];

  constructor(private readonly onEvent: (event: PackerEvent) => void = () => {}) {}

  push(line: string): void {
    if (line.trim() === "") return;
    const parsed = parseMachineReadableLine(line);
    if (!parsed) {
      this.unparsed.push(line);
      this.onEvent({ kind: "output", text: line, stream: "message" });
      return;
    }
    const { target, type, data } = parsed;
    if (type === "ui") {
      const [level = "", ...rest] = data;
      const text = rest.join(",").replace(/^\n+|\n+$/g, "");
      const build = /^==> ([^\s:]+): (.*)$/s.exec(text);
      if (level === "say" && build && !/^\s/.test(build[2] ?? "")) {
        // `==> azure-arm.baseline: Creating resource group ...` begins a step; its indented
        // details (`==> azure-arm.baseline:  -> Location : 'westus'`) belong to it.
        this.onEvent({ kind: "step", title: text.slice(4) });
      } else if (level === "say" && !build) {
        // Not prefixed by a build: Packer's own closing lines (`Build 'x' finished after ...`).
        this.onEvent({ kind: "output", text, stream: "summary" });
      } else if (level === "error") {
        this.uiErrors.push(text);
        this.onEvent({ kind: "output", text, stream: "error" });
      } else {
        this.onEvent({ kind: "output", text, stream: "message" });
      }
    } else if (type === "error" && target) {
      this.buildErrors.push({ target, message: data.join(",") });
    } else if (type === "artifact") {
      this.recordArtifact(target, data);
    }
  }

  /** The artifact ids, in the order Packer reported them. */
  artifactIds(): string[] {
    return this.artifacts.flatMap((a) => (a.id === undefined ? [] : [a.id]));
  }

  /**
   * Packer's explanation of a failed run: the per-build errors when a build failed, otherwise
   * the `ui` errors (a template that did not load fails before any build starts).
   */
  failureMessages(): string[] {
    if (this.buildErrors.length > 0) {
      return this.buildErrors.map((e) => `${e.target}: ${e.message}`);
    }
    return this.uiErrors.filter((text) => !/^==> Some builds didn't complete successfully/.test(text));
  }

  private recordArtifact(target: string, data: string[]): void {
    const [indexText, key, ...rest] = data;
    const index = Number(indexText);
    if (!Number.isInteger(index) || key === undefined) return;
    let artifact = this.artifacts.find((a) => a.target === target && a.index === index);
    if (!artifact) {
      artifact = { target, index };
      this.artifacts.push(artifact);
    }
    const value = rest.join(",");
    if (key === "builder-id") artifact.builderId = value;
    else if (key === "id") artifact.id = value;
    else if (key === "string") artifact.string = value;
  }
}
