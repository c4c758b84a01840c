// What an action's bundle is built from, and whether a bundle on disk was built from the sources
// as they are now. scripts/bundle-action.mjs records the inputs' hash on the bundle's first line;
// the tests that run a bundle check it first (scripts/fresh-bundle-setup.ts), so no test runs a
// bundle older than the code under test.
//
// The inputs: the action's src/, action.yml, package.json and tsconfig files; the same of every
// workspace package it depends on, directly or not (ncc bundles their builds); the bundle
// scripts and tsconfig.base.json. Each is also among turbo.json's inputs of the action's `bundle`
// task or of the `build` tasks it depends on, so a bundle turbo restores from its cache records
// the hash of the sources it was built from.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..");
const BUNDLE_SCRIPTS = [
  "scripts/bundle-action.mjs",
  "scripts/bundle-notices.mjs",
  "scripts/bundle-inputs.ts",
  "tsconfig.base.json",
];
const RECORD = /^\/\/ bundle-inputs: sha256:([0-9a-f]{64})\n/;

interface PackageJson {
  name?: string;
  dependencies?: Record<string, string>;
}

function readJson(file: string): PackageJson {
  return JSON.parse(readFileSync(file, "utf8")) as PackageJson;
}

/** Workspace package name → its directory, for the workspaces under `root`. */
function workspaceDirs(root: string): Map<string, string> {
  const dirs = new Map<string, string>();
  for (const group of ["packages", "actions"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const pkg = join(base, name, "package.json");
      if (existsSync(pkg)) dirs.set(readJson(pkg).name ?? name, join(base, name));
    }
  }
  return dirs;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** The files an action's bundle is built from, as absolute paths in a stable order. */
export function bundleInputFiles(actionDir: string, root = ROOT): string[] {
  const workspaces = workspaceDirs(root);
  const seen = new Set<string>();
  const files: string[] = BUNDLE_SCRIPTS.map((f) => join(root, f)).filter((f) => existsSync(f));
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    files.push(...filesUnder(join(dir, "src")));
    for (const name of readdirSync(dir)) {
      if (name === "package.json" || name === "action.yml" || /^tsconfig.*\.json$/.test(name))
        files.push(join(dir, name));
    }
    for (const dep of Object.keys(readJson(join(dir, "package.json")).dependencies ?? {})) {
      const depDir = workspaces.get(dep);
      if (depDir) visit(depDir);
    }
  };
  visit(resolve(actionDir));
  return [...new Set(files)].sort();
}

/** The hash of an action's bundle inputs: each file's path (from `root`) and content. */
export function bundleInputsHash(actionDir: string, root = ROOT): string {
  const hash = createHash("sha256");
  for (const file of bundleInputFiles(actionDir, root)) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The bundle's first line, which records the hash of the inputs it was built from. */
export function bundleRecord(hash: string): string {
  return `// bundle-inputs: sha256:${hash}\n`;
}

/** The inputs' hash a bundle records, or undefined when it records none. */
export function recordedInputsHash(bundleText: string): string | undefined {
  return RECORD.exec(bundleText)?.[1];
}

/** The command that bundles the action at `actionDir` with what it depends on built first. */
export function bundleCommand(actionDir: string): string {
  const { name } = readJson(join(actionDir, "package.json"));
  return `npx turbo run bundle --filter=${name}`;
}

/**
 * Why the action's bundle (dist/index.js) is not the build of its sources as they are now, or
 * undefined when it is.
 */
export function staleBundleReason(actionDir: string, root = ROOT): string | undefined {
  const bundle = join(actionDir, "dist", "index.js");
  const where = relative(root, bundle);
  if (!existsSync(bundle)) return `${where} is missing`;
  // The record is on the first line: no need to read the whole bundle (megabytes).
  const head = readFileSync(bundle).subarray(0, 200).toString("utf8");
  const recorded = recordedInputsHash(head);
  if (!recorded) return `${where} records no inputs hash (bundled before scripts/bundle-inputs.ts)`;
  const now = bundleInputsHash(actionDir, root);
  if (recorded !== now)
    return `${where} was built from other sources (recorded inputs sha256:${recorded.slice(0, 12)}…, the sources now sha256:${now.slice(0, 12)}…)`;
  return undefined;
}
