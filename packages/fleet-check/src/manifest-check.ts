import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Finding } from "@openclawps/action-kit";
import { type ParseResult, type Problem, parseManifest } from "@openclawps/fleet-model";

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

/**
 * Reads and parses the manifest. A missing file is a finding that says where else a manifest
 * is commonly kept (seed repositories have it under fleet/).
 */
export function checkManifest(absPath: string, display: string): ManifestCheck {
  if (!existsSync(absPath) || !statSync(absPath).isFile()) {
    const seedLayout = join(dirname(absPath), "fleet", basename(absPath));
    return {
      findings: [
        {
          file: display,
          severity: "error",
          title: "manifest",
          message: `Manifest '${display}' not found.`,
          fix: existsSync(seedLayout)
            ? `This repository keeps it at ${join(dirname(display), "fleet", basename(display)).replace(/^\.\//, "")}: set the manifest input to that path.`
            : "Set the manifest input to the path of claws.yaml relative to the repository root.",
        },
      ],
    };
  }
  const parse = parseManifest(new Uint8Array(readFileSync(absPath)), display);
  return { findings: parse.problems.map((p) => problemToFinding(p)), parse };
}
