// runBundledAction against a tiny action script written to a temporary directory: it writes
// outputs (both forms), a summary and annotations the way @actions/core does, and reports
// what it was given.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inputVariable, parseOutputFile, runBundledAction } from "../src/testing.ts";

const root = mkdtempSync(join(tmpdir(), "action-kit-testing-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FAKE_ACTION = `
import { appendFileSync, readdirSync } from "node:fs";
const mode = process.env["INPUT_MODE"];
if (mode === "hang") {
  console.log("about to hang");
  setTimeout(() => {}, 600_000);
} else {
  const report = {
    cwd: process.cwd(),
    secret: process.env["INPUT_SECRETS-JSON"],
    spaced: process.env["INPUT_WITH_SPACES"],
    leaked: process.env.ACTION_KIT_TEST_NOT_INHERITED ?? null,
    workspace: process.env.GITHUB_WORKSPACE,
    runnerTemp: process.env.RUNNER_TEMP,
    extra: process.env.EXTRA,
  };
  appendFileSync(process.env.GITHUB_OUTPUT, "report<<ghadelimiter_1\\n" + JSON.stringify(report) + "\\nghadelimiter_1\\n");
  appendFileSync(process.env.GITHUB_OUTPUT, "lines<<EOF\\nfirst=1\\n\\nthird<<x\\nEOF\\n");
  appendFileSync(process.env.GITHUB_OUTPUT, "plain=a=b<<c\\n");
  appendFileSync(process.env.GITHUB_STEP_SUMMARY, "## Done\\n");
  appendFileSync(process.env.RUNNER_TEMP + "/staged", "x");
  console.log("::group::work");
  console.log("::warning file=claws.yaml,line=3::look here");
  console.log("not an annotation ::error::inside a line");
  console.error("on stderr");
  console.log("::notice::fine");
  console.log("::error::it failed");
  process.exitCode = 3;
}
`;

const actionDir = join(root, "fake-action");
mkdirSync(join(actionDir, "dist"), { recursive: true });
const BUNDLE = join(actionDir, "dist", "index.mjs");
writeFileSync(BUNDLE, FAKE_ACTION);

describe("runBundledAction", () => {
  it("runs the bundle as the runner does and collects outputs, summary, annotations and exit code", async () => {
    const workspace = mkdtempSync(join(root, "workspace-"));
    process.env.ACTION_KIT_TEST_NOT_INHERITED = "1";
    const run = await runBundledAction({
      bundle: BUNDLE,
      inputs: { mode: "report", "secrets-json": '{"alice":{}}', "with spaces": "yes" },
      env: { GITHUB_WORKSPACE: workspace, EXTRA: "passed" },
      keepFiles: true,
    });
    delete process.env.ACTION_KIT_TEST_NOT_INHERITED;

    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.signal).toBeNull();
    expect(JSON.parse(run.outputs.report ?? "null")).toEqual({
      cwd: workspace,
      secret: '{"alice":{}}',
      spaced: "yes",
      leaked: null,
      workspace,
      runnerTemp: run.dir,
      extra: "passed",
    });
    expect(run.outputs.lines).toBe("first=1\n\nthird<<x");
    expect(run.outputs.plain).toBe("a=b<<c");
    expect(run.summary).toBe("## Done\n");
    expect(run.annotations).toEqual([
      "::warning file=claws.yaml,line=3::look here",
      "::notice::fine",
      "::error::it failed",
    ]);
    expect(run.stderr).toBe("on stderr\n");
    expect(run.stdout).not.toContain("on stderr");
    expect(run.log).toContain("on stderr\n");
    expect(run.log).toContain("::error::it failed\n");
    expect(readFileSync(join(run.dir, "staged"), "utf8")).toBe("x");
  });

  it("runs in its own directory and removes it afterwards unless asked to keep it", async () => {
    const scratch = mkdtempSync(join(root, "scratch-"));
    const run = await runBundledAction({ bundle: BUNDLE, inputs: { mode: "report" }, scratch });
    const report = JSON.parse(run.outputs.report ?? "null");
    expect(run.dir.startsWith(join(scratch, "fake-action-run-"))).toBe(true);
    expect(report.cwd).toBe(run.dir);
    expect(report.workspace).toBe(run.dir);
    expect(existsSync(run.dir)).toBe(false);
  });

  it("kills the action with SIGKILL as soon as its stdout shows the given text", async () => {
    const run = await runBundledAction({
      bundle: BUNDLE,
      inputs: { mode: "hang" },
      killWhenStdout: /about to \w+/,
    });
    expect(run.signal).toBe("SIGKILL");
    expect(run.exitCode).toBeNull();
    expect(run.stdout).toBe("about to hang\n");
    expect(run.outputs).toEqual({});
  });

  it("kills the action with SIGKILL after the given time", async () => {
    const run = await runBundledAction({ bundle: BUNDLE, inputs: { mode: "hang" }, killAfterMs: 200 });
    expect(run.signal).toBe("SIGKILL");
  });

  it("names the bundle and how to build it when it is missing", async () => {
    await expect(runBundledAction({ bundle: join(actionDir, "dist", "missing.js") })).rejects.toThrow(
      `${join(actionDir, "dist", "missing.js")} is missing: run \`npm run bundle\` in ${actionDir} first`,
    );
  });
});

describe("inputVariable", () => {
  it("upper-cases the name, turns spaces into underscores and keeps hyphens", () => {
    expect(inputVariable("secrets-json")).toBe("INPUT_SECRETS-JSON");
    expect(inputVariable("my input")).toBe("INPUT_MY_INPUT");
  });
});

describe("parseOutputFile", () => {
  it("reads name=value lines and name<<DELIMITER blocks, whichever marker comes first", () => {
    const text = "a=1\nb<<EOF\nline one\nline=two\n\nEOF\n\nc=x<<y\nd<<z=w\nv\nz=w\n";
    expect(parseOutputFile(text)).toEqual({ a: "1", b: "line one\nline=two\n", c: "x<<y", d: "v" });
  });

  it("takes an empty heredoc value", () => {
    expect(parseOutputFile("empty<<EOF\n\nEOF\n")).toEqual({ empty: "" });
  });

  it("refuses a block without its closing delimiter, naming the output but not its value", () => {
    expect(() => parseOutputFile("token<<EOF\nsecret-value\n", "/tmp/output")).toThrow(
      "/tmp/output:1: output 'token' has no closing delimiter line",
    );
    expect(() => parseOutputFile("token<<EOF\nsecret-value\n")).not.toThrow(/secret-value/);
  });

  it("refuses a line in neither form", () => {
    expect(() => parseOutputFile("a=1\njust text\n")).toThrow("GITHUB_OUTPUT:2: neither");
  });
});
