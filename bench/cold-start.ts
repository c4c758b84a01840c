// Cold start of each bundled action: from process start to its first log line, and to its first
// ARM request (the local Azure's request log against the process's start time). Goals: first
// line < 150 ms, first ARM request < 400 ms. Each action is started the way a runner starts it,
// against a 5-claw fleet; what it does after its first ARM request does not matter here. The
// GitHub OIDC request and the Entra token request (which an action that uses Azure sends right
// after its first line, the second as soon as GitHub answers the first) are shown beside them. The first row is Node itself writing one line from an empty script, with the same preload: the floor
// no action can go under on this machine. The load average is printed with the figures: on a
// shared machine it moves them more than any change to the actions does.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { envNumber, firstRequestMs, measuredRun, median, PRELOAD, printTable, ROOT } from "./measure.ts";
import { smallFleet } from "./rollout.ts";

/** Runs per action, the median printed (BENCH_COLD_RUNS). */
const RUNS = envNumber("BENCH_COLD_RUNS", 5);

const ms = (x: number | undefined, none = "-") => (x === undefined ? none : x.toFixed(0));

/** ms from process start to the first stdout write of `node -e` writing one line (the preload measures it). */
async function nodeFloorMs(): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), "bench-floor-"));
  const file = join(dir, "usage.json");
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [`--import=${PRELOAD}`, "-e", "process.stdout.write('first line\\n')"],
        { env: { PATH: process.env.PATH ?? "", BENCH_USAGE_FILE: file }, stdio: "ignore" },
      );
      child.on("error", reject);
      child.on("close", () => resolve());
    });
    return (
      (JSON.parse(readFileSync(file, "utf8")) as { firstStdoutMs: number | null }).firstStdoutMs ?? undefined
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchColdStart(): Promise<void> {
  const { fleet, secretsJson, env } = await smallFleet(5);
  const actions: { action: string; inputs: Record<string, string> }[] = [
    { action: "validate", inputs: { manifest: "claws.yaml", "packer-dir": "" } },
    { action: "deploy-fleet", inputs: { manifest: "claws.yaml", mode: "plan", "secrets-json": secretsJson } },
    { action: "verify", inputs: { manifest: "claws.yaml", timeout: "1s" } },
    {
      action: "bake",
      inputs: {
        manifest: "claws.yaml",
        "image-version": "1.0.0",
        "packer-dir": join(ROOT, "infra", "packer"),
      },
    },
    { action: "status", inputs: { manifest: "claws.yaml" } },
  ];
  const rows: string[][] = [];
  const loadBefore = loadavg()[0]!;
  try {
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = await nodeFloorMs();
      if (t !== undefined) floor.push(t);
    }
    rows.push(["node -e (one line, the floor)", ms(median(floor)), "-", "-", "-"]);
    for (const a of actions) {
      const first: number[] = [];
      const oidc: number[] = [];
      const arm: number[] = [];
      const entra: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const m = await measuredRun(a.action, a.inputs, env);
        if (m.usage.firstStdoutMs !== null) first.push(m.usage.firstStdoutMs);
        const o = firstRequestMs(fleet.azure, m.usage, "github");
        if (o !== undefined) oidc.push(o);
        const t = firstRequestMs(fleet.azure, m.usage, "arm");
        if (t !== undefined) arm.push(t);
        const e = firstRequestMs(fleet.azure, m.usage, "entra");
        if (e !== undefined) entra.push(e);
      }
      rows.push([
        a.action,
        ms(median(first)),
        ms(median(oidc), "none"),
        ms(median(arm), "none"),
        ms(median(entra), "none"),
      ]);
    }
  } finally {
    await fleet.stop();
  }
  const load = `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`;
  console.log(`Cold start (median of ${RUNS} runs, ms after process start; ${load})`);
  printTable(
    [
      "action",
      "first log line (goal < 150)",
      "GitHub OIDC request",
      "first ARM request (goal < 400)",
      "Entra token request",
    ],
    rows,
  );
}
