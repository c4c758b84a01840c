// What of vm-runtime/ goes onto a claw, and where. The shipped vm-runtime directory comes
// with the actions (the deploying commit); a fleet repository's overlay directory mirrors its
// layout and adds files or replaces shipped ones (design: "Where vm-runtime comes from").
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { NOT_PAYLOAD_DIRECTORIES, REFUSED_ENTRY_FIX, walkShippedTree } from "./shipped-tree.ts";

/** Payload root on the VM (lifecycle scripts at /opt/claw/*.sh). */
export const CLAW_HOME = "/opt/claw";

/**
 * Update scripts run by run-updates.sh: three digits (captured), a dash, a name (two may share a
 * number). The claw's rule is CLAW_UPDATE_NAME_RE in vm-runtime/lifecycle/lib.sh; a test checks
 * that both accept the same names.
 */
export const UPDATE_SCRIPT_NAME = /^([0-9]{3})-[A-Za-z0-9][A-Za-z0-9._-]*\.sh$/;

/** The files a claw cannot boot without; their absence means a broken vm-runtime directory. */
export const REQUIRED_PAYLOAD = [
  "lifecycle/lib.sh",
  "lifecycle/boot.sh",
  "lifecycle/run-updates.sh",
  "lifecycle/install-app-layer.sh",
  "install/versions.env",
  "systemd/claw-boot.service",
] as const;

export interface PayloadFile {
  /** Path relative to the vm-runtime (or overlay) directory, with "/" separators. */
  path: string;
  /** Absolute path on the VM. */
  destination: string;
  /** Octal mode on the VM: scripts are executable, everything else is not. */
  mode: "0755" | "0644";
  content: Buffer;
  /** Shipped with the actions, or from the fleet repository's overlay (added or replacing). */
  origin: "shipped" | "overlay";
  /** The file it was read from, on the machine that rendered it. */
  sourceFile: string;
}

/** Something wrong with a payload file that the fleet repository can fix. */
export interface PayloadIssue {
  /** The file, as it was found on disk. */
  file: string;
  message: string;
  fix: string;
}

export interface Payload {
  /** Sorted by destination. */
  files: PayloadFile[];
  /** Overlay files that are not part of the payload (e.g. a README), relative to the overlay. */
  ignored: string[];
  issues: PayloadIssue[];
}

/** Where a vm-runtime-relative path lands on the VM, or undefined when it does not ship. */
export function payloadDestination(path: string): string | undefined {
  const parts = path.split("/");
  const [top, second] = parts;
  switch (top) {
    case "lifecycle":
      return parts.length === 2 ? `${CLAW_HOME}/${second}` : undefined;
    case "updates":
      return parts.length === 2 && path.endsWith(".sh") ? `${CLAW_HOME}/${path}` : undefined;
    case "defaults":
      return parts.length >= 2 ? `${CLAW_HOME}/${path}` : undefined;
    case "install":
      if (path === "install/versions.env") return `${CLAW_HOME}/${path}`;
      return parts.length === 3 && (second === "os" || second === "lib") && path.endsWith(".sh")
        ? `${CLAW_HOME}/${path}`
        : undefined;
    case "systemd":
      return parts.length === 2 && /\.(service|timer|path)$/.test(path)
        ? `/etc/systemd/system/${second}`
        : undefined;
    default:
      return undefined;
  }
}

const modeOf = (path: string): PayloadFile["mode"] => (path.endsWith(".sh") ? "0755" : "0644");

/**
 * A shipped shell script as a claw gets it: without its comment-only lines (the shebang stays).
 * customData holds at most 64 KiB and comments are a third of the shipped scripts, whose room
 * is a fleet overlay's. The commands are the same: a test compares bash's own rendering
 * (`declare -f`) of every shipped script with and without them. Kept whole: a script with a
 * here-document (a line starting with # is data there), and the line after a backslash-newline.
 */
export function withoutCommentLines(script: Buffer): Buffer {
  const text = script.toString("utf8");
  if (/(?<!<)<<(?!<)/.test(text)) return script;
  const kept: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    const comment = /^[ \t]*#/.test(line) && !(i === 0 && line.startsWith("#!"));
    if (!comment || kept.at(-1)?.endsWith("\\")) kept.push(line);
  }
  return Buffer.from(kept.join("\n"), "utf8");
}

function collectFrom(
  root: string,
  origin: PayloadFile["origin"],
  payload: Payload,
  into: Map<string, PayloadFile>,
) {
  const tree = walkShippedTree(root, NOT_PAYLOAD_DIRECTORIES);
  for (const entry of tree.refused) {
    payload.issues.push({ file: entry.abs, message: entry.message, fix: REFUSED_ENTRY_FIX });
  }
  const paths = tree.files.map((f) => f.rel);
  for (const path of paths) {
    const destination = payloadDestination(path);
    const sourceFile = join(root, ...path.split("/"));
    if (path.startsWith("updates/") && path.endsWith(".sh") && !UPDATE_SCRIPT_NAME.test(path.slice(8))) {
      payload.issues.push({
        file: sourceFile,
        message: `"${path.slice(8)}" is not a valid update script name, so run-updates.sh would never run it`,
        fix: "name update scripts NNN-name.sh: three digits, a dash, then letters, digits, dots, dashes or underscores (e.g. 018-move-notes.sh)",
      });
      continue;
    }
    if (!destination) {
      if (origin === "overlay") payload.ignored.push(path);
      continue;
    }
    into.set(path, {
      path,
      destination,
      mode: modeOf(path),
      content:
        origin === "shipped" && path.endsWith(".sh")
          ? withoutCommentLines(readFileSync(sourceFile))
          : readFileSync(sourceFile),
      origin,
      sourceFile,
    });
  }
}

/**
 * The files cloud-init writes onto a claw: the shipped vm-runtime payload (lifecycle/,
 * updates/, defaults/, install/os, install/lib, install/versions.env, systemd/), with the
 * overlay's files added or replacing shipped ones at the same path. Never throws for a
 * problem in the overlay (see `issues`); throws when `vmRuntimeDir` is not a vm-runtime.
 */
export function collectPayload(vmRuntimeDir: string, overlayDir?: string): Payload {
  const payload: Payload = { files: [], ignored: [], issues: [] };
  const byPath = new Map<string, PayloadFile>();
  for (const required of REQUIRED_PAYLOAD) {
    if (!existsSync(join(vmRuntimeDir, ...required.split("/")))) {
      throw new Error(`${vmRuntimeDir} is not a vm-runtime directory: ${required} is missing`);
    }
  }
  collectFrom(vmRuntimeDir, "shipped", payload, byPath);
  if (overlayDir !== undefined) {
    if (!existsSync(overlayDir) || !statSync(overlayDir).isDirectory()) {
      payload.issues.push({
        file: overlayDir,
        message: "the vm-runtime overlay directory does not exist",
        fix: "create it (with files laid out like vm-runtime/, e.g. updates/018-name.sh) or stop pointing at it",
      });
    } else {
      collectFrom(overlayDir, "overlay", payload, byPath);
    }
  }
  payload.files = [...byPath.values()].sort((a, b) =>
    a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0,
  );
  return payload;
}
