// The runner's composition rules on small workflows (no Azure, no bundles): what GitHub does
// with needs, if, outputs, typed inputs and secrets, and the loud failures on anything the
// rehearsal does not implement. Plus the image handoff of the old pipeline, evaluated by GitHub's
// own evaluator.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluateExpression } from "../src/expressions.ts";
import { ACTIONS_ROOT } from "../src/rehearsal.ts";
import { Runner } from "../src/runner.ts";
import { loadWorkflow } from "../src/workflow.ts";

const root = mkdtempSync(join(tmpdir(), "rehearsal-runner-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A runner over a fake actions repository holding `reusable`, and a fleet whose workflow is `caller`. */
function runnerFor(caller: string, reusable: Record<string, string> = {}): Runner {
  const dir = join(root, `case-${++n}`);
  mkdirSync(join(dir, "actions", ".github", "workflows"), { recursive: true });
  for (const [name, text] of Object.entries(reusable))
    writeFileSync(join(dir, "actions", ".github", "workflows", name), text);
  return new Runner({
    actionsRoot: join(dir, "actions"),
    callerWorkflow: ".github/workflows/fleet.yml",
    repository: "openclawps/example-fleet",
    secrets: { TOKEN: "s3cret" },
    stepEnv: {},
    checkout: (_sha, dest) => {
      mkdirSync(join(dest, ".github", "workflows"), { recursive: true });
      writeFileSync(join(dest, ".github", "workflows", "fleet.yml"), caller);
    },
    packerBin: join(dir, "bin"),
    scratch: join(dir, "runs"),
  });
}

const CALLER = (withBlock = "") => `name: fleet
on: { push: {}, workflow_dispatch: {} }
jobs:
  deploy:
    uses: openclawps/actions/.github/workflows/inner.yml@v1
    secrets: inherit
${withBlock}
`;

const INNER = `name: inner
on:
  workflow_call:
    inputs:
      flag: { type: boolean, default: false }
      word: { type: string, default: "" }
    secrets:
      TOKEN: { required: true }
    outputs:
      said: { value: "\${{ jobs.first.outputs.said }}" }
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      said: \${{ steps.say.outputs.said }}
    steps:
      - id: say
        run: echo "said=\${{ inputs.word }}-\${{ inputs.flag }}" >> "$GITHUB_OUTPUT"
  second:
    needs: first
    if: needs.first.outputs.said == 'hi-true'
    runs-on: ubuntu-latest
    steps:
      - run: test "$TOKEN" = s3cret && exit 3
        env:
          TOKEN: \${{ secrets.TOKEN }}
      - id: after
        run: echo "never runs"
      - if: failure()
        run: echo "cleanup ran"
  third:
    needs: second
    runs-on: ubuntu-latest
    steps:
      - run: echo "skipped because second failed"
`;

describe("runner", () => {
  it("runs jobs in needs order with outputs, typed inputs, inherited secrets and status functions", async () => {
    const run = await runnerFor(CALLER("    with: { flag: true, word: hi }"), { "inner.yml": INNER }).run({
      event: "push",
      sha: "a".repeat(40),
    });
    expect(run.line()).toBe("deploy/first=success deploy/second=failure deploy/third=skipped");
    expect(run.job("deploy/first").outputs).toEqual({ said: "hi-true" });
    expect(run.job("deploy/second").steps.map((s) => s.outcome)).toEqual(["failure", "skipped", "success"]);
    expect(run.job("deploy/second").log).toContain("cleanup ran");
    expect(run.callerJobs.deploy).toEqual({ result: "failure", outputs: { said: "hi-true" } });
  });

  it("skips a job whose if is false, and what needs it", async () => {
    const run = await runnerFor(CALLER("    with: { word: hello }"), { "inner.yml": INNER }).run({
      event: "push",
      sha: "a".repeat(40),
    });
    expect(run.line()).toBe("deploy/first=success deploy/second=skipped deploy/third=skipped");
  });

  it("refuses a string for a boolean input, as GitHub does", async () => {
    const runner = runnerFor(CALLER("    with: { flag: 'true' }"), { "inner.yml": INNER });
    await expect(runner.run({ event: "push", sha: "a".repeat(40) })).rejects.toThrow(
      /fleet\.yml:\d+: input 'flag' of .*inner\.yml is a boolean/,
    );
  });

  it("fails loudly, with file and line, on an action, a function or a key it does not implement", async () => {
    const unknownAction = INNER.replace('run: echo "never runs"', "uses: actions/cache@v4");
    await expect(
      runnerFor(CALLER("    with: { flag: true, word: hi }"), { "inner.yml": unknownAction }).run({
        event: "push",
        sha: "a".repeat(40),
      }),
    ).rejects.toThrow(/inner\.yml:\d+: step uses 'actions\/cache@v4', which the rehearsal does not know/);

    const unknownFunction = INNER.replace("needs.first.outputs.said == 'hi-true'", "hashFiles('x') != ''");
    await expect(
      runnerFor(CALLER("    with: { flag: true, word: hi }"), { "inner.yml": unknownFunction }).run({
        event: "push",
        sha: "a".repeat(40),
      }),
    ).rejects.toThrow(/inner\.yml \(Line: \d+.*hashFiles/i);

    const unknownKey = INNER.replace(
      "    runs-on: ubuntu-latest\n    outputs:",
      "    runs-on: ubuntu-latest\n    container: node:24\n    outputs:",
    );
    await expect(
      runnerFor(CALLER("    with: { flag: true, word: hi }"), { "inner.yml": unknownKey }).run({
        event: "push",
        sha: "a".repeat(40),
      }),
    ).rejects.toThrow(/inner\.yml:\d+: job key 'container' is not supported/);
  });
});

describe("concurrency", () => {
  it("records each job's group and refuses a second run overlapping the first in one group", async () => {
    const inner = `name: inner
on: { workflow_call: {} }
jobs:
  hold:
    runs-on: ubuntu-latest
    concurrency:
      group: fleet-\${{ github.repository }}
      cancel-in-progress: false
    timeout-minutes: 5
    steps:
      - run: sleep 2
`;
    const runner = runnerFor(CALLER(), { "inner.yml": inner });
    const settled = await Promise.allSettled([
      runner.run({ event: "push", sha: "a".repeat(40) }),
      runner.run({ event: "push", sha: "b".repeat(40) }),
    ]);
    // Whichever reached the job first holds the group.
    const first = settled.find((s) => s.status === "fulfilled");
    const second = settled.find((s) => s.status === "rejected");
    expect(first).toBeDefined();
    const run = (first as PromiseFulfilledResult<Awaited<ReturnType<Runner["run"]>>>).value;
    expect(run.job("deploy/hold")).toMatchObject({
      concurrency: { group: "fleet-openclawps/example-fleet", cancelInProgress: false },
      timeoutMinutes: 5,
      runsOn: "ubuntu-latest",
    });
    expect(second).toBeDefined();
    expect(String((second as PromiseRejectedResult).reason)).toMatch(
      /concurrency group fleet-openclawps\/example-fleet is held/,
    );
  });
});

describe("the image handoff", () => {
  it("the old pipeline's `skipped == 'true' && '' || image-version` always yields the bake's version", () => {
    const needs = { bake: { outputs: { skipped: "true", "image-version": "1.0.1" } } };
    const old = "needs.bake.outputs.skipped == 'true' && '' || needs.bake.outputs.image-version";
    expect(evaluateExpression(old, { contexts: { needs } }, "old pipeline.yml")).toBe("1.0.1");
  });

  it("pipeline.yml passes no image-version to deploy: the manifest is the one source of truth", async () => {
    const wf = await loadWorkflow(join(ACTIONS_ROOT, ".github/workflows/pipeline.yml"));
    const deploy = wf.template.jobs.find((j) => j.id.value === "deploy") as { "input-values"?: unknown };
    expect(JSON.stringify(deploy["input-values"])).not.toContain("image-version");
  });
});
