import { closeSync, openSync, readSync } from "node:fs";
import type { Finding } from "@openclawps/action-kit";
import { UPDATE_SCRIPT_NAME } from "@openclawps/cloud-init";
import type { RuntimeFile, VmRuntimeTree } from "./vm-runtime-tree.ts";

const TITLE = "vm-runtime updates";

function isUpdateCandidate(file: RuntimeFile): boolean {
  if (!file.rel.startsWith("updates/")) return false;
  const name = file.rel.slice("updates/".length);
  // Only direct children run; README.md, .gitkeep and the like are not scripts.
  return !name.includes("/") && (name.endsWith(".sh") || /^\d/.test(name));
}

const baseName = (f: RuntimeFile) => f.rel.slice(f.rel.lastIndexOf("/") + 1);

/**
 * Checks update scripts in the merged vm-runtime: named `NNN-name.sh`, numbers unique across
 * shipped and overlay scripts (the seed shipped two `017-*` scripts, and which one ran first
 * depended on the shell's glob order).
 */
export function checkUpdateScripts(tree: VmRuntimeTree): Finding[] {
  const findings: Finding[] = [];
  const scripts = tree.files.filter(isUpdateCandidate);
  const numbered = new Map<string, RuntimeFile[]>();
  for (const file of scripts) {
    const number = UPDATE_SCRIPT_NAME.exec(baseName(file))?.[1];
    if (number === undefined) continue;
    numbered.set(number, [...(numbered.get(number) ?? []), file]);
  }
  const nextFree = freeNumbers(new Set([...numbered.keys()].map(Number)));

  for (const file of scripts) {
    if (UPDATE_SCRIPT_NAME.test(baseName(file))) continue;
    findings.push({
      file: file.display,
      severity: "error",
      title: TITLE,
      message: `'${baseName(file)}' is not named NNN-name.sh, so run-updates.sh never runs it.`,
      fix: `Rename it to ${nextFree()}-${suggestedName(baseName(file))}.sh (three digits, a dash, a name; the next free number is used here).`,
    });
  }

  for (const [number, files] of [...numbered].sort(([a], [b]) => a.localeCompare(b))) {
    if (files.length < 2) continue;
    // A user can only rename their own scripts; a clash inside the shipped runtime is ours.
    const own = files.filter((f) => f.origin === "overlay");
    const blamed = own.length > 0 ? own : files;
    const listed = files.map((f) => `${baseName(f)}${f.origin === "shipped" ? " (shipped)" : ""}`).join(", ");
    for (const file of blamed) {
      findings.push({
        file: file.display,
        severity: "error",
        title: TITLE,
        message: `Update number ${number} is used by ${files.length} scripts (${listed}); their order would be ambiguous.`,
        fix: `Give ${baseName(file)} a number of its own, e.g. ${nextFree()}. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name.`,
      });
    }
  }

  for (const file of scripts) {
    if (!file.replacesShipped) continue;
    findings.push({
      file: file.display,
      severity: "notice",
      title: TITLE,
      message: `Replaces the shipped ${file.rel}. Disks that already applied it will not run it again.`,
      fix: "To change a disk that already ran the shipped script, add a new script with the next free number instead.",
    });
  }
  return findings;
}

/**
 * A script with a `#!` line should be executable in the repository. cloud-init writes every
 * `.sh` file onto the claw as 0755 whatever its mode here (so this is a warning, not an
 * error), but a script that lost its bit fails when run by hand or in the sandbox tests, and
 * the bit usually went missing by accident (a checkout on Windows, a copy).
 * A `.sh` file without `#!` is a library that is only sourced (lifecycle/lib.sh).
 */
export function checkExecutableBits(tree: VmRuntimeTree): Finding[] {
  return tree.files
    .filter((f) => f.rel.endsWith(".sh") && (f.mode & 0o100) === 0 && hasShebang(f.abs))
    .map((f) => ({
      file: f.display,
      line: 1,
      severity: "warning" as const,
      title: "vm-runtime permissions",
      message: `${baseName(f)} starts with #! but is not executable.`,
      fix: `Run \`git update-index --chmod=+x ${f.display}\` (or chmod +x) and commit.`,
    }));
}

function hasShebang(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head.toString("latin1") === "#!";
  } finally {
    closeSync(fd);
  }
}

/**
 * Numbers to suggest, one per call: after the highest in use (scripts run in number order, so a
 * new one goes last), else the lowest free one. Always three digits: 999 is the last.
 */
function freeNumbers(used: Set<number>): () => string {
  const taken = new Set(used);
  return () => {
    let n = Math.max(0, ...taken) + 1;
    if (n > 999) {
      n = 1;
      while (taken.has(n) && n <= 999) n++;
    }
    // With all 999 taken there is no free number; 999 at least keeps the name's shape.
    const pick = Math.min(n, 999);
    taken.add(pick);
    return String(pick).padStart(3, "0");
  };
}

function suggestedName(name: string): string {
  const stem = name
    .replace(/\.sh$/, "")
    .replace(/^\d+[-_]?/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  return stem || "update";
}
