// What an action's dist/ in the release tree may hold: the bundle that runs (index.js and the
// chunks it loads), the package.json that makes Node read it as ESM, and the notice file naming
// every bundled third-party package (scripts/bundle-action.mjs writes them).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const RUNTIME_FILE = /^((\d+\.)?index\.js|package\.json|licenses\.txt)$/;

/** Packages the bundle names in webpack's module comments (`CONCATENATED MODULE: …/node_modules/x/…`). */
export function packagesNamedInBundle(bundleText: string): string[] {
  const names = new Set<string>();
  for (const m of bundleText.matchAll(
    /^;?\/\/ CONCATENATED MODULE: .*?node_modules\/((?:@[^/\s]+\/)?[^/\s]+)\//gm,
  )) {
    if (!m[1]!.startsWith("@openclawps/")) names.add(m[1]!);
  }
  return [...names].sort();
}

/** Problems of one action's dist directory (`rel` as the tree names it). */
export function distProblems(dist: string, rel: string): string[] {
  if (!existsSync(dist)) return [`${rel}: missing`];
  const problems = readdirSync(dist)
    .filter((name) => !RUNTIME_FILE.test(name))
    .map(
      (name) =>
        `${rel}/${name}: not part of what runs (only the bundle, its chunks, package.json and licenses.txt ship)`,
    );
  const notice = join(dist, "licenses.txt");
  if (!existsSync(notice)) return [...problems, `${rel}/licenses.txt: missing`];
  const listed = new Set(
    [...readFileSync(notice, "utf8").matchAll(/^(\S+) \S+\nLicense: /gm)].map((m) => m[1]!),
  );
  const bundles = readdirSync(dist).filter((n) => /index\.js$/.test(n));
  for (const name of new Set(
    bundles.flatMap((b) => packagesNamedInBundle(readFileSync(join(dist, b), "utf8"))),
  )) {
    if (!listed.has(name))
      problems.push(`${rel}/licenses.txt: no notice for ${name}, which the bundle includes`);
  }
  return problems;
}
