import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lintAction, lintWorkflow } from "../src/lint.ts";
import { buildReleaseTree, checkReleaseTree, pinReferences, REUSABLE_WORKFLOWS } from "../src/tree.ts";

const root = resolve(import.meta.dirname, "../../..");
const tag = "v1.2.3";
let out: string;
let actions: string[];

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "release-tree-"));
  ({ actions } = buildReleaseTree({ root, out, tag }));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the release tree", () => {
  it("holds every action at the root and the reusable workflows", () => {
    expect(actions.sort()).toEqual(["bake", "deploy-fleet", "status", "validate", "verify"]);
    for (const wf of REUSABLE_WORKFLOWS)
      expect(readFileSync(join(out, ".github/workflows", wf), "utf8")).toBeTruthy();
  });

  it("passes every check: action metadata, bundles, workflows, references to this repository", async () => {
    expect(await checkReleaseTree(out, tag)).toEqual([]);
  });

  it("pins every reference to this repository to the release tag", () => {
    const deploy = readFileSync(join(out, ".github/workflows/deploy.yml"), "utf8");
    expect(deploy).toContain("uses: openclawps/actions/deploy-fleet@v1.2.3");
    expect(deploy).not.toMatch(/openclawps\/actions\/[^@\s]+@v1\s/);
  });

  it("ships in each dist only what runs, and notices naming every bundled package", () => {
    for (const action of actions) {
      expect(
        readdirSync(join(out, action, "dist"))
          .filter((f) => !/^(\d+\.)?index\.js$/.test(f))
          .sort(),
      ).toEqual(["licenses.txt", "package.json"]);
    }
    // validate renders customData with a real host key but opens no SSH session: no ssh2.
    const validateNotices = readFileSync(join(out, "validate/dist/licenses.txt"), "utf8");
    expect(validateNotices).toMatch(/^yaml \S+\nLicense: ISC/m);
    expect(validateNotices).not.toMatch(/^ssh2 /m);
    expect(readFileSync(join(out, "deploy-fleet/dist/licenses.txt"), "utf8")).toMatch(
      /^@azure\/arm-compute \S+\nLicense: MIT/m,
    );
  });

  it("links only to what is in the tree, or to main on GitHub", () => {
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("[`deploy-fleet`](deploy-fleet)");
    expect(readme).toContain("(https://github.com/openclawps/actions/blob/main/packages/");
  });

  it("ships vm-runtime without its tests", () => {
    expect(readFileSync(join(out, "vm-runtime/lifecycle/boot.sh"), "utf8")).toContain("#!/");
    expect(() => readFileSync(join(out, "vm-runtime/test/run.sh"))).toThrow();
  });

  it.each(["bake", "deploy-fleet", "status", "validate", "verify"])(
    "starts the bundled %s action under Node 24 and reports missing inputs without a stack trace",
    (action) => {
      const cwd = mkdtempSync(join(tmpdir(), "empty-workspace-"));
      const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: cwd, GITHUB_WORKSPACE: cwd };
      const run = spawnSync(process.execPath, [join(out, action, "dist/index.js")], {
        cwd,
        env,
        encoding: "utf8",
      });
      rmSync(cwd, { recursive: true, force: true });
      expect(process.versions.node.split(".")[0]).toBe("24");
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/^::error::/m);
      expect(run.stdout + run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    },
  );
});

describe("the checks catch what would break a consumer", () => {
  it("finds an unknown key in a workflow with its line and column", async () => {
    const errors = await lintWorkflow(
      "x.yml",
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n",
    );
    expect(errors).toEqual(["x.yml (Line: 5, Col: 5): Unexpected value 'stepz'"]);
  });

  it("finds an action that does not run on a known runtime", () => {
    expect(
      lintAction("action.yml", "name: x\ndescription: y\nruns:\n  using: node99\n  main: a.js\n"),
    ).toContain("action.yml (Line: 4, Col: 10): Unexpected value 'node99'");
  });

  it("finds a reference to an action that is not in the tree, and one not pinned to the tag", async () => {
    const tree = mkdtempSync(join(tmpdir(), "broken-tree-"));
    mkdirSync(join(tree, ".github/workflows"), { recursive: true });
    writeFileSync(
      join(tree, ".github/workflows/w.yml"),
      "on: workflow_call\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: openclawps/actions/nope@v1.2.3\n      - uses: openclawps/actions/nope2@main\n",
    );
    const problems = await checkReleaseTree(tree, tag);
    rmSync(tree, { recursive: true, force: true });
    expect(problems).toEqual([
      ".github/workflows/w.yml: uses openclawps/actions/nope, which is not in the release tree",
      ".github/workflows/w.yml: uses openclawps/actions/nope2@main, expected @v1.2.3",
      ".github/workflows/w.yml: uses openclawps/actions/nope2, which is not in the release tree",
    ]);
  });

  it("rewrites references to this repository only", () => {
    expect(
      pinReferences(
        "      - uses: actions/checkout@v4\n      - uses: openclawps/actions/verify@v1 # pinned\n    uses: openclawps/actions/.github/workflows/bake.yml@main\n",
        "v1.0.0",
      ),
    ).toBe(
      "      - uses: actions/checkout@v4\n      - uses: openclawps/actions/verify@v1.0.0 # pinned\n    uses: openclawps/actions/.github/workflows/bake.yml@v1.0.0\n",
    );
  });
});
