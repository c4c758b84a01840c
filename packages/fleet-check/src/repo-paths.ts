import { isAbsolute, relative, resolve, sep } from "node:path";

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

/** Resolves a path the user gave (relative to the repository root, or absolute). */
export function resolveInRepo(workspace: string, given: string): string {
  return resolve(workspace, given);
}
