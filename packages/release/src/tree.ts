import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import { distProblems } from "./dist-contents.ts";
import { brokenRelativeLinks, rewriteLinksForTree } from "./links.ts";
import { lintAction, lintWorkflow } from "./lint.ts";

/** The repository consumers reference: `uses: openclawps/actions/<action>@<tag>`. */
export const REPOSITORY = "openclawps/actions";

/** Reusable workflows that ship; this repository's own CI and release workflows do not. */
export const REUSABLE_WORKFLOWS = [
  "validate.yml",
  "bake.yml",
  "deploy.yml",
  "pipeline.yml",
  "drift.yml",
  "power.yml",
];

export interface TreeOptions {
  /** Monorepo root. */
  root: string;
  /** Output directory (emptied first). */
  out: string;
  /** Tag the reusable workflows will reference, e.g. v1.4.0. */
  tag: string;
}

export interface TreeManifest {
  actions: string[];
  workflows: string[];
}

/** Rewrites every `openclawps/actions/...@ref` reference to `@tag`. */
export function pinReferences(text: string, tag: string): string {
  const escaped = REPOSITORY.replace("/", "\\/");
  return text.replace(new RegExp(`(uses:\\s*${escaped}/[^@\\s]+)@[^\\s#]+`, "g"), `$1@${tag}`);
}

/**
 * Assembles what the release tag points at: each action at the root with its bundled dist/,
 * the reusable workflows pinned to the tag, vm-runtime (which deploy-fleet renders into every
 * claw), the Packer template, the Azure role, the example fleet and the README.
 * The actions must have been bundled (`npm run bundle`).
 */
export function buildReleaseTree({ root, out, tag }: TreeOptions): TreeManifest {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const actions = readdirSync(join(root, "actions")).filter((a) =>
    existsSync(join(root, "actions", a, "action.yml")),
  );
  for (const action of actions) {
    const from = join(root, "actions", action);
    if (!existsSync(join(from, "dist", "index.js"))) {
      throw new Error(`actions/${action}/dist/index.js is missing: run \`npm run bundle\` first`);
    }
    for (const item of ["action.yml", "dist", "README.md"]) {
      if (existsSync(join(from, item)))
        cpSync(join(from, item), join(out, action, item), { recursive: true });
    }
  }

  for (const dir of ["vm-runtime", "infra", "examples"]) {
    if (!existsSync(join(root, dir))) continue;
    cpSync(join(root, dir), join(out, dir), {
      recursive: true,
      // Tests of the scripts stay in the monorepo; everything a VM or an operator needs ships.
      filter: (src) =>
        !relative(join(root, dir), src).split("/").includes("test") && !src.includes("node_modules"),
    });
  }

  const workflows: string[] = [];
  mkdirSync(join(out, ".github", "workflows"), { recursive: true });
  for (const wf of REUSABLE_WORKFLOWS) {
    const text = readFileSync(join(root, ".github", "workflows", wf), "utf8");
    writeFileSync(join(out, ".github", "workflows", wf), pinReferences(text, tag));
    workflows.push(wf);
  }
  for (const file of ["README.md", "LICENSE"]) {
    if (existsSync(join(root, file))) cpSync(join(root, file), join(out, file));
  }
  // The examples call the reusable workflows at @v1; pin them to this release too.
  for (const file of walk(join(out, "examples"))) {
    if (/\.ya?ml$/.test(file)) writeFileSync(file, pinReferences(readFileSync(file, "utf8"), tag));
  }
  // Markdown written for main's layout, linked for the tree's.
  for (const file of walk(out)) {
    if (file.endsWith(".md"))
      writeFileSync(file, rewriteLinksForTree(readFileSync(file, "utf8"), file, out, actions));
  }
  return { actions, workflows };
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/**
 * Everything that would break a consumer of the tree: invalid action metadata, a missing
 * bundle, a dist holding more than what runs or lacking a notice for a bundled package, an
 * invalid workflow, a `uses:` of this repository that does not resolve inside the tree at the
 * release tag, or a relative Markdown link that resolves to nothing in the tree.
 */
export async function checkReleaseTree(out: string, tag: string): Promise<string[]> {
  const problems: string[] = [];
  for (const file of walk(out)) {
    const rel = relative(out, file);
    if (rel.endsWith(".md")) problems.push(...brokenRelativeLinks(out, file));
    if (rel.startsWith("vm-runtime/") || rel.startsWith("infra/")) continue;
    if (/(^|\/)action\.ya?ml$/.test(rel)) {
      const text = readFileSync(file, "utf8");
      problems.push(...lintAction(rel, text));
      const main = (parseYaml(text) as { runs?: { main?: string } })?.runs?.main;
      if (!main || !existsSync(join(dirname(file), main)))
        problems.push(`${rel}: runs.main '${main}' does not exist`);
      if (main?.startsWith("dist/"))
        problems.push(...distProblems(join(dirname(file), "dist"), join(dirname(rel), "dist")));
    } else if (
      /\.ya?ml$/.test(rel) &&
      (rel.startsWith(".github/workflows/") || rel.includes("/.github/workflows/"))
    ) {
      const text = readFileSync(file, "utf8");
      problems.push(...(await lintWorkflow(rel, text)));
      problems.push(...checkOwnReferences(out, rel, text, tag));
    }
  }
  return problems;
}

function checkOwnReferences(out: string, rel: string, text: string, tag: string): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(/uses:\s*openclawps\/actions\/([^@\s]+)@([^\s#]+)/g)) {
    const [, path = "", ref] = match;
    if (ref !== tag) problems.push(`${rel}: uses openclawps/actions/${path}@${ref}, expected @${tag}`);
    const target = join(out, path);
    const resolves = path.endsWith(".yml") ? existsSync(target) : existsSync(join(target, "action.yml"));
    if (!resolves) problems.push(`${rel}: uses openclawps/actions/${path}, which is not in the release tree`);
  }
  return problems;
}
