import { closeSync, existsSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Finding } from "@openclawps/action-kit";
import {
  MAX_MANIFEST_BYTES,
  manifestTooLarge,
  type ParseResult,
  type Problem,
  parseManifest,
} from "@openclawps/fleet-model";

export interface ManifestCheck {
  findings: Finding[];
  /** Absent when the file could not be read at all. */
  parse?: ParseResult;
}

/**
 * A fleet-model problem as an annotation-ready finding. The field goes into the title
 * (`manifest: claws.bob.image_version`), so a message that starts by naming it drops that part.
 */
export function problemToFinding(problem: Problem, titlePrefix = "manifest"): Finding {
  const field = problem.path.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  let message = problem.message;
  for (const lead of [`${field}: `, `${problem.path}: `]) {
    if (problem.path && message.startsWith(lead)) message = message.slice(lead.length);
  }
  const finding: Finding = {
    file: problem.file,
    line: problem.line,
    column: problem.column,
    severity: problem.severity,
    title: problem.path ? `${titlePrefix}: ${field}` : titlePrefix,
    message,
  };
  if (problem.endLine !== undefined) finding.endLine = problem.endLine;
  if (problem.endColumn !== undefined) finding.endColumn = problem.endColumn;
  if (problem.fix) finding.fix = problem.fix;
  return finding;
}

/** What a path that is not a regular file is, for "the manifest is a directory". */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isFIFO()) return "a named pipe";
  if (stat.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * Reads at most `max + 1` bytes: a file that grows (or is larger than its stat said) never gets
 * read whole, so a huge file is refused by size rather than by running out of memory.
 */
function readBounded(path: string, max: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
  } finally {
    closeSync(fd);
  }
}

const manifestInputFix = "Set the manifest input to the path of claws.yaml relative to the repository root.";

/**
 * Reads and parses the manifest. A missing file is a finding that says where else a manifest
 * is commonly kept (seed repositories have it under fleet/); a directory, a device or a file
 * over the size limit is a finding that says what it is, without reading it.
 */
export function checkManifest(absPath: string, display: string): ManifestCheck {
  const only = (message: string, fix: string): ManifestCheck => ({
    findings: [{ file: display, severity: "error", title: "manifest", message, fix }],
  });
  const stat = existsSync(absPath) ? statSync(absPath) : undefined;
  if (!stat) {
    const seedLayout = join(dirname(absPath), "fleet", basename(absPath));
    return only(
      `Manifest '${display}' not found.`,
      existsSync(seedLayout)
        ? `This repository keeps it at ${join(dirname(display), "fleet", basename(display)).replace(/^\.\//, "")}: set the manifest input to that path.`
        : manifestInputFix,
    );
  }
  if (!stat.isFile()) {
    const inside = stat.isDirectory() && existsSync(join(absPath, "claws.yaml"));
    return only(
      `Manifest '${display}' is ${kindOf(stat)}, not a file.`,
      inside
        ? `It holds a claws.yaml: set the manifest input to ${join(display, "claws.yaml").replace(/^\.\//, "")}.`
        : manifestInputFix,
    );
  }
  // Refused by its size, unread (a 2 GiB file would not even fit in a buffer).
  if (stat.size > MAX_MANIFEST_BYTES)
    return { findings: [problemToFinding(manifestTooLarge(stat.size, display))] };
  const parse = parseManifest(readBounded(absPath, MAX_MANIFEST_BYTES), display);
  return { findings: parse.problems.map((p) => problemToFinding(p)), parse };
}
