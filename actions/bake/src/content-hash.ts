// The content address of a baseline image: a sha256 over everything that decides what the
// image contains. Two bakes with the same hash would produce the same image, so the second is
// skipped and the gallery version the first one tagged is reused.
//
// What goes in:
// - every file of the Packer directory, recursively, except documentation (`*.md`) and what
//   is never an input (`.git/`, `packer_cache/`): a README edit must not cost a 30-minute bake;
// - the install scripts the template runs (`*.sh` directly in install/desktop, after the fleet
//   repo's overlay is applied) and what they read (install/versions.env, install/lib/*.sh,
//   install/npm/package.json and package-lock.json): exactly the files uploaded to the build
//   VM, so a pin that changes (a Chrome build, the npm lockfile) changes the hash;
// - the build parameters that change the image without being a file: the base image and its
//   purchase plan.
// Paths enter relative to their root with `/` separators and sorted, so the hash does not
// depend on where the directories sit or on the file system's listing order. Text files enter
// with CRLF turned into LF: a Windows checkout (core.autocrlf) bakes the same image, because
// Packer's shell provisioner converts a script's line endings before running it (its `binary`
// option, false by default: https://developer.hashicorp.com/packer/docs/provisioners/shell).
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { UserError } from "@openclawps/action-kit";
import {
  PACKER_SKIPPED_DIRECTORIES,
  REFUSED_ENTRY_FIX_SENTENCE,
  walkShippedTree,
} from "@openclawps/fleet-check";

/** Bump when the recipe below changes, so old tags stop matching instead of matching wrongly. */
export const CONTENT_HASH_SCHEME = "openclawps-bake-content/v1";

export interface HashedFile {
  /** Label of the root plus the path below it, `/`-separated: `packer/build.pkr.hcl`. */
  path: string;
  /** Absolute path read. */
  absolutePath: string;
}

export interface ContentAddress {
  /** sha256 hex. */
  hash: string;
  /** The text that was hashed, one line per input: shows why two hashes differ. */
  recipe: string;
  files: string[];
}

/**
 * Every input file of the Packer directory (see the rules at the top of this file). A link or a
 * special file in it is refused (UserError) before anything reaches Azure: Packer would follow
 * it and upload or read whatever it points at on the runner.
 */
export async function packerDirectoryFiles(
  dir: string,
  label = "packer",
  display = dir,
): Promise<HashedFile[]> {
  const tree = walkShippedTree(dir, PACKER_SKIPPED_DIRECTORIES);
  if (tree.refused.length > 0) {
    throw new UserError(
      `The Packer directory '${display}' holds what bake never reads: ${tree.refused
        .map((r) => `${r.rel} ${r.message}`)
        .join("; ")}.`,
      REFUSED_ENTRY_FIX_SENTENCE,
    );
  }
  return tree.files
    .filter((f) => !f.rel.toLowerCase().endsWith(".md"))
    .map((f) => ({ path: `${label}/${f.rel}`, absolutePath: f.abs }));
}

/**
 * The content address over `files` and `parameters`. `parameters` must be JSON-serialisable;
 * its keys are sorted, so property order does not matter.
 */
export async function contentAddress(files: HashedFile[], parameters: object): Promise<ContentAddress> {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.path === sorted[i - 1]?.path) {
      throw new Error(`content hash: two inputs share the path ${sorted[i]?.path}`);
    }
  }
  const lines = [CONTENT_HASH_SCHEME, `parameters ${canonicalJson(parameters)}`];
  for (const file of sorted) {
    lines.push(`file ${file.path} ${await fileDigest(file.absolutePath)}`);
  }
  const recipe = `${lines.join("\n")}\n`;
  return {
    hash: createHash("sha256").update(recipe).digest("hex"),
    recipe,
    files: sorted.map((f) => f.path),
  };
}

async function fileDigest(path: string): Promise<string> {
  return createHash("sha256")
    .update(normaliseText(await readFile(path)))
    .digest("hex");
}

/** CRLF → LF for text (no NUL byte in it); binary content as it is. */
export function normaliseText(content: Buffer): Buffer {
  if (content.includes(0)) return content;
  const text = content.toString("latin1");
  return text.includes("\r\n") ? Buffer.from(text.replaceAll("\r\n", "\n"), "latin1") : content;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
