// No test runs a stale bundle: a bundle records the hash of the sources it was built from
// (scripts/bundle-inputs.ts), and the globalSetup of every package whose tests run bundles
// (scripts/fresh-bundle-setup.ts) rebuilds a stale one, or under turbo fails naming the command.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  bundleInputFiles,
  bundleInputsHash,
  bundleRecord,
  staleBundleReason,
} from "../../../scripts/bundle-inputs.ts";
import { allActions, ensureFreshBundles } from "../../../scripts/fresh-bundle-setup.ts";

let root: string;
let action: string;

function file(path: string, text: string) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** What `npm run bundle` leaves: the build, its first line recording the inputs' hash. */
function bundle() {
  file("actions/act/dist/index.js", `${bundleRecord(bundleInputsHash(action, root))}console.log(1);\n`);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bundle-freshness-"));
  action = join(root, "actions/act");
  file("tsconfig.base.json", "{}");
  file("packages/leaf/package.json", JSON.stringify({ name: "@x/leaf" }));
  file("packages/leaf/src/index.ts", "export const leaf = 1;\n");
  file("packages/lib/package.json", JSON.stringify({ name: "@x/lib", dependencies: { "@x/leaf": "*" } }));
  file("packages/lib/src/index.ts", "export const lib = 1;\n");
  file("packages/lib/test/lib.test.ts", "// not bundled\n");
  file("packages/other/package.json", JSON.stringify({ name: "@x/other" }));
  file("packages/other/src/index.ts", "export const other = 1;\n");
  file(
    "actions/act/package.json",
    JSON.stringify({ name: "@x/act", dependencies: { "@x/lib": "*", yaml: "*" } }),
  );
  file("actions/act/action.yml", "name: act\n");
  file("actions/act/src/main.ts", "import '@x/lib';\n");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("an action's bundle inputs", () => {
  it("are its sources and those of the workspace packages it depends on, directly or not", () => {
    const files = bundleInputFiles(action, root).map((f) => f.slice(root.length + 1));
    expect(files).toEqual([
      "actions/act/action.yml",
      "actions/act/package.json",
      "actions/act/src/main.ts",
      "packages/leaf/package.json",
      "packages/leaf/src/index.ts",
      "packages/lib/package.json",
      "packages/lib/src/index.ts",
      "tsconfig.base.json",
    ]);
  });

  it("make a bundle stale when a package it bundles changes, and not when another does", () => {
    bundle();
    expect(staleBundleReason(action, root)).toBeUndefined();
    file("packages/other/src/index.ts", "export const other = 2;\n");
    file("packages/lib/test/lib.test.ts", "// still not bundled\n");
    expect(staleBundleReason(action, root)).toBeUndefined();
    file("packages/leaf/src/index.ts", "export const leaf = 2;\n");
    expect(staleBundleReason(action, root)).toMatch(
      /^actions\/act\/dist\/index\.js was built from other sources \(recorded inputs sha256:[0-9a-f]{12}…, the sources now sha256:[0-9a-f]{12}…\)$/,
    );
  });

  it("say so of a missing bundle, and of one that records no hash", () => {
    expect(staleBundleReason(action, root)).toBe("actions/act/dist/index.js is missing");
    file("actions/act/dist/index.js", "console.log(1);\n");
    expect(staleBundleReason(action, root)).toMatch(/records no inputs hash/);
  });
});

describe("the tests' bundle check", () => {
  it("rebuilds a stale bundle with the turbo command before the tests run", () => {
    bundle();
    file("actions/act/src/main.ts", "import '@x/lib'; // changed\n");
    const ran: string[] = [];
    ensureFreshBundles({
      actions: [action],
      root,
      rebuild: true,
      run: (c) => {
        ran.push(c);
        bundle();
      },
    });
    expect(ran).toEqual(["npx turbo run bundle --filter=@x/act"]);
    expect(staleBundleReason(action, root)).toBeUndefined();
  });

  it("leaves a fresh bundle alone", () => {
    bundle();
    const ran: string[] = [];
    ensureFreshBundles({ actions: [action], root, rebuild: true, run: (c) => ran.push(c) });
    expect(ran).toEqual([]);
  });

  it("fails naming the command when it may not rebuild (under turbo)", () => {
    bundle();
    file("packages/lib/src/index.ts", "export const lib = 2;\n");
    expect(() =>
      ensureFreshBundles({ actions: [action], root, rebuild: false, run: () => bundle() }),
    ).toThrow(
      `the tests would run an old build of actions/act. Run \`npx turbo run bundle --filter=@x/act\` at ${root}.`,
    );
  });

  it("fails when the rebuild leaves the bundle stale", () => {
    expect(() => ensureFreshBundles({ actions: [action], root, rebuild: true, run: () => {} })).toThrow(
      "actions/act/dist/index.js is missing after `npx turbo run bundle --filter=@x/act`",
    );
  });
});

describe("this repository's bundles", () => {
  // This package's globalSetup has rebuilt any stale one; each must now record its sources.
  it.each(allActions().map((a) => [a.slice(a.lastIndexOf("/") + 1), a]))(
    "%s's dist/index.js is the build of its sources as they are now",
    (_name, dir) => {
      expect(staleBundleReason(dir)).toBeUndefined();
    },
  );
});
