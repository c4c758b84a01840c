import { readFileSync } from "node:fs";
import type { Finding } from "@openclawps/action-kit";
import type { Payload } from "@openclawps/cloud-init";
import type { RuntimeFile, VmRuntimeTree } from "./vm-runtime-tree.ts";

const TITLE = "vm-runtime replaced file";

/** `NAME=value` as install-app-layer.sh sources it: a plain word, or a quoted string with no substitution. */
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(?:[^\s"'`$;&|<>()\\]*|"[^"`$\\]*"|'[^']*')$/;

const lines = (text: string) => text.split(/\r?\n/);
const isBlankOrComment = (line: string) => line.trim() === "" || line.trim().startsWith("#");

/**
 * install/versions.env is sourced by install-app-layer.sh on every claw: a replacement must be
 * plain assignments (nothing that runs), and keep every pin the shipped one sets (the install
 * scripts read them all).
 */
function checkVersionsEnv(file: RuntimeFile, shipped: RuntimeFile | undefined): Finding[] {
  const out: Finding[] = [];
  const names = new Set<string>();
  lines(readFileSync(file.abs, "utf8")).forEach((line, i) => {
    if (isBlankOrComment(line)) return;
    const m = ASSIGNMENT.exec(line);
    if (m) names.add(m[1]!);
    else {
      out.push({
        file: file.display,
        line: i + 1,
        severity: "error",
        title: TITLE,
        message:
          "This line is not a plain NAME=value assignment; install-app-layer.sh sources the file as shell on every claw.",
        fix: 'Write NAME=value or NAME="value" with no spaces around =, and no $, backticks or semicolons.',
      });
    }
  });
  if (shipped) {
    const missing: string[] = [];
    for (const line of lines(readFileSync(shipped.abs, "utf8"))) {
      const name = ASSIGNMENT.exec(line)?.[1];
      if (name && !names.has(name)) missing.push(name);
    }
    if (missing.length > 0) {
      out.push({
        file: file.display,
        severity: "error",
        title: TITLE,
        message: `Replaces the shipped install/versions.env but does not set ${missing.join(", ")}, which the install scripts read.`,
        fix: "Start from the shipped file and change only the pins you mean to change.",
      });
    }
  }
  return out;
}

/**
 * A unit file cloud-init writes to /etc/systemd/system: sections and Key=Value lines, a service
 * with something to run, and every /opt/claw program it runs part of what ships.
 */
function checkUnit(file: RuntimeFile, payload: Payload): Finding[] {
  const out: Finding[] = [];
  const shipped = new Set(payload.files.map((f) => f.destination));
  const at = (line: number, message: string, fix: string) =>
    out.push({ file: file.display, line, severity: "error", title: TITLE, message, fix });
  const sections = new Set<string>();
  let section = "";
  let runs = false;
  lines(readFileSync(file.abs, "utf8")).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      sections.add(section);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(line);
    if (!kv || section === "") {
      at(
        i + 1,
        "systemd cannot read this line: expected [Section] or Key=Value inside a section.",
        "Fix the line (systemd ignores the unit's bad lines, so it may not run as meant).",
      );
      return;
    }
    const [, key, value] = kv;
    if (section === "Service" && /^Exec(Start|Stop)$/.test(key!)) {
      runs = true;
      // The program: the first word after systemd's prefixes (-, @, +, !, :).
      const program = value!.replace(/^[-@+!:]+/, "").split(/\s+/)[0] ?? "";
      if (program.startsWith("/opt/claw/") && !shipped.has(program)) {
        at(
          i + 1,
          `${key} runs ${program}, which is not part of what ships onto the claw.`,
          "Point it at a script that ships (vm-runtime/lifecycle/*.sh lands in /opt/claw/), or add that script.",
        );
      }
    }
  });
  if (file.rel.endsWith(".service") && !runs) {
    at(
      1,
      "The service has no ExecStart= (or ExecStop=) in a [Service] section; systemd refuses to load it.",
      "Add [Service] with ExecStart=/opt/claw/<script>.sh.",
    );
  }
  if (!file.rel.endsWith(".service") && sections.size === 0) {
    at(1, "The unit has no sections.", "Add the [Unit] and [Install] sections (and [Timer] or [Path]).");
  }
  return out;
}

/** Checks the overlay's replacements of files that are not scripts: install/versions.env and systemd units. */
export function checkReplacedFiles(
  tree: VmRuntimeTree,
  payload: Payload,
  shippedTree: VmRuntimeTree,
): Finding[] {
  const out: Finding[] = [];
  for (const file of tree.files) {
    if (file.origin !== "overlay") continue;
    if (file.rel === "install/versions.env") {
      out.push(
        ...checkVersionsEnv(
          file,
          shippedTree.files.find((f) => f.rel === file.rel),
        ),
      );
    } else if (/^systemd\/[^/]+\.(service|timer|path)$/.test(file.rel)) {
      out.push(...checkUnit(file, payload));
    }
  }
  return out;
}
