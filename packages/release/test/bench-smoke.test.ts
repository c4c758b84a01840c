// `npm run bench` at a tiny size, so the benchmark cannot rot unnoticed: it runs the bundled
// actions end to end and must print every figure issue 19 asks for. Structure only: the numbers
// of so small and so fast a run (Azure time x0.01) mean nothing, and no timing is asserted.
// It lives here because this package depends on every action, so their bundles exist first.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");

function runBench(): string {
  const run = spawnSync("npx", ["tsx", "--conditions=source", "bench/run.ts"], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      ...process.env,
      BENCH_TIME_SCALE: "0.01",
      BENCH_COLD: "1",
      BENCH_COLD_RUNS: "1",
      BENCH_VERIFY: "1,2",
      BENCH_PLAN: "3",
      BENCH_PLAN_RUNS: "2",
      BENCH_CREATE: "2",
      BENCH_UPGRADE: "2",
      BENCH_VALIDATE: "",
    },
    timeout: 170_000,
  });
  if (run.status !== 0) throw new Error(`bench exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

const number = String.raw`\d+(\.\d+)?`;
/** The table row that starts with `label`, its cells split on runs of 2+ spaces. */
function row(out: string, label: string | RegExp): string[] {
  const line = out.split("\n").find((l) => (typeof label === "string" ? l.startsWith(label) : label.test(l)));
  if (!line) throw new Error(`no row ${label} in:\n${out}`);
  return line.trim().split(/\s{2,}/);
}

describe("the benchmark", () => {
  it("prints cold start, verification, plan at scale and rollout waves with their bounds", () => {
    const out = runBench();
    // Cold start: to the first log line and the first ARM request, for each action.
    expect(out).toMatch(
      /first log line \(goal < 150\)\s+GitHub OIDC request\s+first ARM request \(goal < 400\)/,
    );
    expect(row(out, /^node -e \(one line, the floor\)\s{2,}/)[1]).toMatch(new RegExp(`^${number}$`));
    for (const action of ["validate", "deploy-fleet", "verify", "bake", "status"]) {
      const [, firstLine, oidc, firstArm] = row(out, new RegExp(`^${action}\\s{2,}`));
      expect(firstLine, action).toMatch(new RegExp(`^${number}$`));
      expect(oidc, action).toMatch(new RegExp(`^(${number}|none)$`));
      expect(firstArm, action).toMatch(new RegExp(`^(${number}|none)$`));
    }
    // The actions that reach Azure: deploy-fleet's plan and status reach it in the bench's fleet.
    for (const action of ["deploy-fleet", "status"]) {
      const [, , oidc, firstArm] = row(out, new RegExp(`^${action}\\s{2,}`));
      expect(oidc, action).toMatch(new RegExp(`^${number}$`));
      expect(firstArm, action).toMatch(new RegExp(`^${number}$`));
    }

    // Verification of 1 against N claws, and the verifier's own CPU.
    expect(out).toMatch(/x one claw \(goal <= 1\.2\)\s+verifier CPU ms\/claw/);
    for (const n of ["1", "2"]) {
      const cells = row(out, new RegExp(`^${n}\\s{2,}${number}\\s{2,}`));
      expect(
        cells.slice(1, 4).every((c) => new RegExp(`^${number}$`).test(c)),
        cells.join("|"),
      ).toBe(true);
      expect(cells[4]).toBe(`${n}/${n}`);
    }

    // Plan: ARM requests per operation, the Terraform-style peer, tokens, CPU and memory.
    for (const label of [
      "virtualMachines.list",
      "disks.list",
      "networkInterfaces.list",
      "publicIPAddresses.list",
      "ARM requests",
      "Terraform-style refresh (GETs)",
      "action CPU s, median of 2 (goal < 1 at 1000)",
      "  of it the main thread",
      "peak RSS MB (median)",
      "wall s (median)",
    ]) {
      expect(row(out, label)[1], label).toMatch(new RegExp(`^${number}$`));
    }
    expect(row(out, "  least - most")[1]).toMatch(new RegExp(`^${number} - ${number}$`));
    expect(row(out, "token requests, GitHub / Entra")[1]).toMatch(/^\d+ \/ \d+$/);

    // Rollout waves: each wave's wall time against its critical-path bound and ARM's floor.
    expect(out).toMatch(/wall s\s+chain s\s+ARM floor s\s+bound s\s+ratio \(goal <= 1\.1\)/);
    const waves = out.split("\n").filter((l) => /^(apply from empty|image upgrade)\s/.test(l));
    expect(waves.some((l) => l.startsWith("apply from empty"))).toBe(true);
    expect(waves.some((l) => /^image upgrade.*\bcanary\b/.test(l))).toBe(true);
    expect(waves.some((l) => /^image upgrade.*\bwave\b/.test(l))).toBe(true);
    for (const line of waves) {
      const cells = line.trim().split(/\s{2,}/);
      // scenario, claws, wave, in wave, then wall, chain, floor, bound, ratio, budget, reads, writes, polls, polls/LRO, 429s
      expect(cells, line).toHaveLength(15);
      expect(
        cells.slice(3).every((c) => new RegExp(`^${number}$`).test(c)),
        line,
      ).toBe(true);
    }
  });
});
