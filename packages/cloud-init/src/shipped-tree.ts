// The one walk over a directory whose files leave the runner: the vm-runtime payload and its
// overlay (customData of every claw), the tree validate checks, bake's Packer directory.
// It never follows a symbolic link and takes only regular files and directories: a committed
// `NOTES.md -> /proc/self/environ` or `-> ../.git/config` would otherwise ship the runner's
// environment (the admin key, every claw's secrets, the OIDC request token) or the checkout's
// token to every claw. Links are refused whatever they point at — inside the tree too — because
// "inside" cannot be judged safely when a link's target may change between check and read, and
// because copying the file is always possible. A link is never entered, so link loops cannot
// make the walk recurse; the walk keeps its own stack, so deep trees cannot overflow the call
// stack either.
import { type Dirent, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface TreeFile {
  /** Path below the root, "/"-separated. */
  rel: string;
  abs: string;
  /** File mode bits. */
  mode: number;
}

export interface RefusedEntry {
  rel: string;
  abs: string;
  /** Why it is not taken, completing "<name> ...": "is a symbolic link (to /proc/self/environ)". */
  message: string;
}

export interface ShippedTree {
  /** Regular files, sorted by `rel`. */
  files: TreeFile[];
  /** Links and special files, sorted by `rel`: each is a problem the repository has to fix. */
  refused: RefusedEntry[];
}

/** Directories of a vm-runtime tree that are never part of a payload and never read. */
export const NOT_PAYLOAD_DIRECTORIES: ReadonlySet<string> = new Set([".git", "node_modules"]);

/** The fix for every refused entry. */
export const REFUSED_ENTRY_FIX =
  "replace it with a regular file (copy the content in): links and special files are never shipped, wherever they point";
/** The same fix as a sentence of its own. */
export const REFUSED_ENTRY_FIX_SENTENCE = `${REFUSED_ENTRY_FIX.charAt(0).toUpperCase()}${REFUSED_ENTRY_FIX.slice(1)}.`;

/** Regular files under `root`, without entering `skip` directories (by name) or following any link. */
export function walkShippedTree(root: string, skip: ReadonlySet<string>): ShippedTree {
  const files: TreeFile[] = [];
  const refused: RefusedEntry[] = [];
  const pending = [""];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    // readdir's Dirents describe the entry itself (lstat), never what a link points at.
    const entries: Dirent[] = readdirSync(join(root, dir), { withFileTypes: true });
    for (const entry of entries) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      const abs = join(root, rel);
      if (entry.isDirectory()) {
        if (!skip.has(entry.name)) pending.push(rel);
      } else if (entry.isFile()) {
        files.push({ rel, abs, mode: lstatSync(abs).mode });
      } else if (skip.has(entry.name)) {
        // e.g. a `.git` file of a worktree: never read, never shipped
      } else if (entry.isSymbolicLink()) {
        refused.push({ rel, abs, message: `is a symbolic link (to ${linkTarget(abs)})` });
      } else {
        refused.push({ rel, abs, message: `is not a regular file (${kind(entry)})` });
      }
    }
  }
  const byRel = (a: { rel: string }, b: { rel: string }) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
  return { files: files.sort(byRel), refused: refused.sort(byRel) };
}

function linkTarget(abs: string): string {
  try {
    return readlinkSync(abs);
  } catch {
    return "an unreadable target";
  }
}

function kind(entry: Dirent): string {
  if (entry.isFIFO()) return "a named pipe";
  if (entry.isSocket()) return "a socket";
  if (entry.isCharacterDevice()) return "a character device";
  if (entry.isBlockDevice()) return "a block device";
  return "an unknown kind of file";
}
