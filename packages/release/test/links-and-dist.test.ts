import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { distProblems, packagesNamedInBundle } from "../src/dist-contents.ts";
import { brokenRelativeLinks, MAIN_URL, rewriteLinksForTree } from "../src/links.ts";

let out: string;
beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), "release-links-"));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

function file(path: string, text = ""): string {
  mkdirSync(join(out, path, ".."), { recursive: true });
  writeFileSync(join(out, path), text);
  return join(out, path);
}

describe("relative links in the release tree", () => {
  it("reports each link that resolves to nothing in the tree, with its line, and ignores URLs, anchors and code", () => {
    file("bake/README.md");
    const readme = file(
      "README.md",
      [
        "[bake](bake/README.md) [top](#top) [web](https://example.com/x)",
        "[lib](packages/fleet-model/README.md)",
        "```",
        "[not a link](nowhere.md)",
        "```",
        "[ref]: ../outside.md",
      ].join("\n"),
    );
    expect(brokenRelativeLinks(out, readme)).toEqual([
      "README.md:2: link 'packages/fleet-model/README.md' does not resolve in the release tree",
      "README.md:6: link '../outside.md' does not resolve in the release tree",
    ]);
  });

  it("points links written for main's layout at the tree's, and what only main has at main on GitHub", () => {
    file("bake/README.md");
    file("examples/fleet/claws.yaml");
    const packer = file("infra/packer/README.md");
    const text = [
      "the [bake action](../../actions/bake/README.md#inputs),",
      "the [model](../../packages/fleet-model/README.md), the [example](../../examples/fleet/claws.yaml)",
    ].join("\n");
    const rewritten = rewriteLinksForTree(text, packer, out, ["bake"]);
    expect(rewritten).toBe(
      [
        "the [bake action](../../bake/README.md#inputs),",
        `the [model](${MAIN_URL}/packages/fleet-model/README.md), the [example](../../examples/fleet/claws.yaml)`,
      ].join("\n"),
    );
    writeFileSync(packer, rewritten);
    expect(brokenRelativeLinks(out, packer)).toEqual([]);
  });

  it("rewrites a root README's links to actions/<name> to the action at the root", () => {
    file("validate/action.yml");
    const readme = file("README.md");
    expect(
      rewriteLinksForTree("[`validate`](actions/validate) [ci](.ci/run)", readme, out, ["validate"]),
    ).toBe(`[\`validate\`](validate) [ci](${MAIN_URL}/.ci/run)`);
  });
});

describe("an action's dist in the release tree", () => {
  const bundle = [
    ";// CONCATENATED MODULE: ../../node_modules/zod/v4/core/util.js",
    ";// CONCATENATED MODULE: ../../node_modules/@azure/core-auth/dist/esm/index.js",
    ";// CONCATENATED MODULE: ../../packages/fleet-model/src/index.ts",
  ].join("\n");

  it("names the packages whose modules the bundle concatenated", () => {
    expect(packagesNamedInBundle(bundle)).toEqual(["@azure/core-auth", "zod"]);
  });

  it("holds only what runs and a notice for every bundled package", () => {
    file("bake/dist/index.js", bundle);
    file("bake/dist/826.index.js");
    file("bake/dist/package.json", '{"type":"module"}');
    file("bake/dist/licenses.txt", "zod 4.0.0\nLicense: MIT\n\nMIT License\n");
    file("bake/dist/index.js.map");
    file("bake/dist/pagent.exe");
    file("bake/dist/src/main.d.ts");
    expect(distProblems(join(out, "bake/dist"), "bake/dist").sort()).toEqual([
      "bake/dist/index.js.map: not part of what runs (only the bundle, its chunks, package.json and licenses.txt ship)",
      "bake/dist/licenses.txt: no notice for @azure/core-auth, which the bundle includes",
      "bake/dist/pagent.exe: not part of what runs (only the bundle, its chunks, package.json and licenses.txt ship)",
      "bake/dist/src: not part of what runs (only the bundle, its chunks, package.json and licenses.txt ship)",
    ]);
  });
});
