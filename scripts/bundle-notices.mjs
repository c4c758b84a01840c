// The third-party notice file of a bundle: each npm package webpack took a module from, with its
// name, version, declared license and the license text it ships (LICENSE, LICENCE, COPYING,
// NOTICE). ncc's own --license lists only packages whose package.json it happens to read.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Package directories (…/node_modules/<name>) of every module in webpack stats JSON. */
export function bundledPackageRoots(stats) {
  const roots = new Set();
  const visit = (mods) => {
    for (const m of mods ?? []) {
      for (const id of [m.identifier, m.name, m.nameForCondition]) {
        const root = typeof id === "string" ? packageRootOf(id) : undefined;
        if (root) roots.add(root);
      }
      visit(m.modules);
    }
  };
  visit(stats.modules);
  for (const c of stats.chunks ?? []) visit(c.modules);
  return [...roots].filter((r) => existsSync(join(r, "package.json"))).sort();
}

function packageRootOf(id) {
  const path = id.replace(/^.*!/, "").replace(/\?.*$/, "");
  const at = path.lastIndexOf("/node_modules/");
  if (at < 0) return undefined;
  const rest = path.slice(at + "/node_modules/".length).split("/");
  const name = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  return name && path.startsWith("/") ? `${path.slice(0, at)}/node_modules/${name}` : undefined;
}

/** The notice text for the given package directories (workspace packages fall under LICENSE). */
export function licenseNotice(roots) {
  const seen = new Map();
  for (const root of roots) {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    if (!pkg.name || pkg.name.startsWith("@openclawps/")) continue;
    const key = `${pkg.name}@${pkg.version}`;
    if (seen.has(key)) continue;
    const files = readdirSync(root).filter((f) => /^(licen[cs]e|copying|notice)(\.|-|$)/i.test(f));
    const texts = files.map((f) => readFileSync(join(root, f), "utf8").trim());
    const license = typeof pkg.license === "string" ? pkg.license : (pkg.license?.type ?? "UNKNOWN");
    seen.set(
      key,
      `${pkg.name} ${pkg.version}\nLicense: ${license}\n\n${texts.length ? texts.join("\n\n") : `(the package ships no license file; its package.json declares ${license})`}\n`,
    );
  }
  const sections = [...seen.keys()].sort().map((k) => seen.get(k));
  return (
    "This bundle is openclawps/actions (MIT, see LICENSE at the repository root) and the\n" +
    `following ${sections.length} third-party packages.\n\n` +
    sections.join(`\n${"-".repeat(78)}\n\n`)
  );
}
