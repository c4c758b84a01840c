import { basename } from "node:path";
import type { Finding } from "@openclawps/action-kit";
import type { Payload } from "@openclawps/cloud-init";
import { displayPath } from "./repo-paths.ts";

const TITLE = "vm-runtime payload";

/**
 * What cloud-init's payload collection found wrong with the overlay (broken links, names that
 * never run), and overlay files that never reach a claw because nothing ships from where they
 * sit. `alreadyReported` holds files another check has a finding for, to say each thing once.
 */
export function checkPayload(options: {
  payload: Payload;
  workspace: string;
  overlayDir?: string;
  alreadyReported: Set<string>;
}): Finding[] {
  const findings: Finding[] = [];
  for (const issue of options.payload.issues) {
    const file = displayPath(options.workspace, issue.file);
    if (options.alreadyReported.has(file)) continue;
    findings.push({
      file,
      severity: "error",
      title: TITLE,
      message: `${basename(issue.file)} ${issue.message}.`,
      fix: capitalise(issue.fix),
    });
  }
  if (options.overlayDir) {
    for (const rel of options.payload.ignored) {
      const file = displayPath(options.workspace, `${options.overlayDir}/${rel}`);
      // Notes kept beside the overlay are expected; anything else in the wrong place is a mistake.
      const isNote = /\.(md|txt)$/i.test(rel);
      findings.push({
        file,
        severity: isNote ? "notice" : "warning",
        title: TITLE,
        message: `${rel} is not copied onto claws: nothing ships from that place in vm-runtime.`,
        fix: "Place it like the shipped vm-runtime does: lifecycle/*.sh, updates/NNN-name.sh, defaults/**, install/os/*.sh, install/lib/*.sh or systemd/*.service.",
      });
    }
  }
  return findings;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
