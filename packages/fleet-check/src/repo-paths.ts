import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { UserError } from "@openclawps/action-kit";

/**
 * How a path is shown in annotations and summaries: relative to the repository root with
 * forward slashes (GitHub resolves annotation `file` properties that way), or absolute when the
 * file lies outside the repository.
 */
export function displayPath(workspace: string, absolutePath: string): string {
  const rel = relative(workspace, absolutePath);
  if (rel === "") return ".";
  if (rel.startsWith("..") || isAbsolute(rel)) return absolutePath.split(sep).join("/");
  return rel.split(sep).join("/");
}

/**
 * Resolves a path the user gave (relative to the repository root, or absolute) and refuses one
 * that lies outside the repository once `..` and links are resolved: what the actions read
 * from there is printed, annotated, hashed or shipped to every claw (a manifest at
 * `/proc/self/environ`, an overlay `-> /home/runner`), so only the checked-out repository may
 * be read.
 */
export function resolveInRepo(workspace: string, given: string, what = "The path"): string {
  const abs = resolve(workspace, given);
  const root = realpathOfExisting(resolve(workspace));
  const real = realpathOfExisting(abs);
  const rel = relative(root, real);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new UserError(
      `${what} '${given}' resolves to ${real}, outside the repository (${root}).`,
      "Give a path inside the repository, relative to its root, that is not reached through a link leading out of it.",
    );
  }
  return abs;
}

/** The real path of `path`: its deepest existing ancestor with links resolved, then the rest as given. */
function realpathOfExisting(path: string): string {
  const rest: string[] = [];
  let at = path;
  for (;;) {
    try {
      return join(realpathSync.native(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return path;
      rest.push(basename(at));
      at = parent;
    }
  }
}
