// Relative links in the release tree's Markdown must resolve inside the tree: the tree is what a
// consumer browses at the tag, and main's layout (actions/<name>/, packages/) is not in it.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** `file:line: link 'target' does not resolve in the release tree` for each broken relative link. */
export function brokenRelativeLinks(out: string, markdownFile: string): string[] {
  const rel = relative(out, markdownFile);
  const problems: string[] = [];
  const lines = readFileSync(markdownFile, "utf8").split("\n");
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    // Inline links and images: [text](target "title"); reference definitions: [id]: target
    const targets = [
      ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)].map((m) => m[1]!),
    ];
    for (const target of targets) {
      if (/^([a-z][a-z0-9+.-]*:|#|\/\/)/i.test(target)) continue; // URLs, mail, in-page anchors
      const path = decodeURIComponent(target.replace(/[#?].*$/, ""));
      if (path === "") continue;
      const resolved = path.startsWith("/") ? join(out, path) : join(dirname(markdownFile), path);
      const inside = !relative(out, resolved).startsWith("..");
      if (!inside || !existsSync(resolved))
        problems.push(`${rel}:${i + 1}: link '${target}' does not resolve in the release tree`);
    }
  });
  return problems;
}

/** Where main's files live on GitHub, for links to what the release tree does not carry. */
export const MAIN_URL = "https://github.com/openclawps/actions/blob/main";

/**
 * Rewrites the relative links of a Markdown file copied into the release tree. The file was
 * written for main's layout: a link to `actions/<name>/…` points at `<name>/…` in the tree, and a
 * link to what only main has (packages/, .ci/, tests) becomes an absolute link to main on GitHub.
 */
export function rewriteLinksForTree(text: string, treeFile: string, out: string, actions: string[]): string {
  const toMain = (treePath: string) => {
    const [top] = treePath.split("/");
    return top && actions.includes(top) ? `actions/${treePath}` : treePath;
  };
  const toTree = (mainPath: string) => {
    const m = /^actions\/([^/]+)(\/.*)?$/.exec(mainPath);
    return m && actions.includes(m[1]!) ? `${m[1]}${m[2] ?? ""}` : mainPath;
  };
  const fileInMain = toMain(relative(out, treeFile));
  const rewrite = (target: string) => {
    if (/^([a-z][a-z0-9+.-]*:|#|\/\/|\/)/i.test(target)) return target;
    const [, path = "", suffix = ""] = /^([^#?]*)(.*)$/.exec(target) ?? [];
    if (path === "") return target;
    const mainPath = join(dirname(fileInMain), path);
    if (mainPath.startsWith("..")) return target;
    const treePath = toTree(mainPath);
    if (existsSync(join(out, treePath))) {
      const link = relative(dirname(join(out, relative(out, treeFile))), join(out, treePath)) || ".";
      return `${link}${suffix}`;
    }
    return `${MAIN_URL}/${mainPath}${suffix}`;
  };
  let fenced = false;
  return text
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      if (fenced) return line;
      return line
        .replace(/(\]\(\s*<?)([^)\s>]+)/g, (_, lead: string, t: string) => `${lead}${rewrite(t)}`)
        .replace(
          /^(\s*\[[^\]]+\]:\s*<?)(\S+?)(>?(?:\s|$))/,
          (_, lead: string, t: string, tail: string) => `${lead}${rewrite(t)}${tail}`,
        );
    })
    .join("\n");
}
