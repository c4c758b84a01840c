// A token that can push never meets code the repository's dependencies or tests run: a job that
// holds `contents: write` runs no test and no install script, checks out without persisting
// credentials in .git/config, and only its last steps (the pushes) see the token. Read with
// GitHub's own parser, for every workflow in the repository; release.yml is the one that writes.
// https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import { tokenValue, type Value } from "../src/expressions.ts";
import { ACTIONS_ROOT } from "../src/rehearsal.ts";

type Plain = Value;

/** A workflow read as written: each expression as its `${{ }}` text. */
const asWritten = (expression: string) => `\u0024{{ ${expression} }}`;

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, Plain>;
  env?: Record<string, Plain>;
}
interface Job {
  permissions?: Plain;
  env?: Record<string, Plain>;
  steps?: Step[];
}
interface Workflow {
  permissions?: Plain;
  env?: Record<string, Plain>;
  jobs: Record<string, Job>;
}

function load(name: string, content: string): Workflow {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (!parsed.value || errors.length) throw new Error(`${name}: ${errors.map((e) => e.message).join("; ")}`);
  return tokenValue(parsed.value, name, asWritten) as unknown as Workflow;
}

const writes = (perms: Plain | undefined) =>
  perms === "write-all" ||
  (typeof perms === "object" && perms !== null && (perms as Record<string, Plain>).contents === "write");

const TESTS = /\b(npm (run )?test|npx vitest|vitest run|turbo run [^\n]*\btest\b|bats )/;
const INSTALL = /\bnpm (install|i|ci|add)\b[^\n]*/g;
const TOKEN = /github\.token|secrets\.GITHUB_TOKEN/;

/** What is wrong with each job of `wf` that holds a write token, as "job: problem". */
function writeTokenProblems(wf: Workflow): string[] {
  const problems: string[] = [];
  if (writes(wf.permissions)) problems.push("workflow: contents: write for every job");
  if (TOKEN.test(JSON.stringify(wf.env ?? {}))) problems.push("workflow: the token in env for every job");
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (!writes(job.permissions ?? wf.permissions)) continue;
    if (TOKEN.test(JSON.stringify(job.env ?? {}))) problems.push(`${id}: the token in the job's env`);
    const steps = job.steps ?? [];
    let lastCode = -1;
    steps.forEach((step, i) => {
      const run = step.run ?? "";
      if (TESTS.test(run)) problems.push(`${id}: step ${i + 1} runs tests`);
      for (const m of run.matchAll(INSTALL)) {
        if (!m[0].includes("--ignore-scripts"))
          problems.push(`${id}: step ${i + 1} installs with scripts (${m[0].trim()})`);
      }
      if (
        step.uses?.startsWith("actions/checkout@") &&
        String(step.with?.["persist-credentials"]) !== "false"
      )
        problems.push(`${id}: step ${i + 1} checks out with persisted credentials`);
      if (/\bnpm |\bnpx |\bnode /.test(run) || (step.uses && !step.uses.startsWith("actions/"))) lastCode = i;
    });
    steps.forEach((step, i) => {
      if (TOKEN.test(JSON.stringify(step)) && i <= lastCode)
        problems.push(
          `${id}: step ${i + 1} holds the token before the repository's code has finished running`,
        );
    });
  }
  return problems;
}

describe("jobs that hold a token that can push", () => {
  it("are found running tests, installing with scripts, persisting credentials or holding the token early", () => {
    const old = `
on: workflow_dispatch
permissions: { contents: write }
jobs:
  release:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - run: npm install --no-audit
      - run: npm test
      - env: { GH_TOKEN: "\u0024{{ github.token }}" }
        run: npm run release:tree
`;
    expect(writeTokenProblems(load("old.yml", old))).toEqual([
      "workflow: contents: write for every job",
      "release: step 1 checks out with persisted credentials",
      "release: step 2 installs with scripts (npm install --no-audit)",
      "release: step 3 runs tests",
      "release: step 4 holds the token before the repository's code has finished running",
    ]);
    const split = `
on: workflow_dispatch
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    permissions: { contents: read }
    steps:
      - run: npm ci
      - run: npm test
  publish:
    needs: test
    runs-on: ubuntu-24.04
    permissions: { contents: write }
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with: { persist-credentials: false }
      - run: npm ci --ignore-scripts
      - env: { GITHUB_TOKEN: "\u0024{{ github.token }}" }
        run: git push
`;
    expect(writeTokenProblems(load("split.yml", split))).toEqual([]);
  });

  it.each(readdirSync(join(ACTIONS_ROOT, ".github/workflows")).filter((f) => f.endsWith(".yml")))(
    "%s: none runs tests or install scripts, persists credentials, or hands the token to code",
    (name) => {
      const wf = load(name, readFileSync(join(ACTIONS_ROOT, ".github/workflows", name), "utf8"));
      expect(writeTokenProblems(wf)).toEqual([]);
    },
  );

  it("release.yml: tests run read-only, and publish (the only writer) waits for them", () => {
    const wf = load("release.yml", readFileSync(join(ACTIONS_ROOT, ".github/workflows/release.yml"), "utf8"));
    const writers = Object.entries(wf.jobs).filter(([, job]) => writes(job.permissions ?? wf.permissions));
    expect(writers.map(([id]) => id)).toEqual(["publish"]);
    const tester = Object.entries(wf.jobs).find(([, job]) =>
      (job.steps ?? []).some((s) => TESTS.test(s.run ?? "")),
    );
    expect(tester?.[1].permissions).toEqual({ contents: "read" });
    expect((wf.jobs.publish as { needs?: Plain }).needs).toBe(tester?.[0]);
    // The pushes still happen: the last step has the token and pushes the branch and both tags.
    const last = wf.jobs.publish?.steps?.at(-1);
    expect(TOKEN.test(JSON.stringify(last?.env))).toBe(true);
    expect(last?.run).toMatch(/push origin releases\/v1 "v\$VERSION"/);
    expect(last?.run).toMatch(/push -f origin v1/);
  });
});
