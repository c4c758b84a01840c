// `npm ci` installs exactly what package-lock.json lists and refuses a lockfile that lacks an
// entry for a dependency some package declares, optional platform binaries included (biome's,
// turbo's and esbuild's per-OS packages). `npm install --package-lock-only --ignore-scripts`
// writes every platform's entries; an install on one machine may have left others out.

export interface Lockfile {
  packages: Record<string, { optionalDependencies?: Record<string, string> } | undefined>;
}

/** Each optional dependency that no lockfile entry resolves, as "<dependent> -> <name>". */
export function missingOptionalDependencies(lock: Lockfile): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry?.optionalDependencies ?? {})) {
      if (!resolves(lock, path, name)) missing.push(`${path || "(root)"} -> ${name}`);
    }
  }
  return missing;
}

// Node's lookup: <dir>/node_modules/<name>, then each enclosing node_modules up to the root.
function resolves(lock: Lockfile, from: string, name: string): boolean {
  let dir = from;
  for (;;) {
    if (lock.packages[dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`]) return true;
    if (!dir) return false;
    const at = dir.lastIndexOf("/node_modules/");
    dir = at >= 0 ? dir.slice(0, at) : "";
  }
}
