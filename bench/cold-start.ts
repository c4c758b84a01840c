// Cold start of each bundled action: from process start to its first log line, and to its first
// ARM request (the local Azure's request log against the process's start time). Goals: first
// line < 150 ms, first ARM request < 400 ms. Each action is started the way a runner starts it,
// against a 5-claw fleet; what it does after its first ARM request does not matter here.
import { join } from "node:path";
import { envNumber, firstArmRequestMs, measuredRun, printTable, ROOT } from "./measure.ts";
import { smallFleet } from "./rollout.ts";

/** Runs per action, the median printed (BENCH_COLD_RUNS). */
const RUNS = envNumber("BENCH_COLD_RUNS", 3);

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
  ];
  const rows: string[][] = [];
  try {
    for (const a of actions) {
      const first: number[] = [];
      const arm: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const m = await measuredRun(a.action, a.inputs, env);
        if (m.usage.firstStdoutMs !== null) first.push(m.usage.firstStdoutMs);
        const t = firstArmRequestMs(fleet.azure, m.usage);
        if (t !== undefined) arm.push(t);
      }
      const median = (xs: number[]) =>
        xs.length ? [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] : undefined;
      const f = median(first);
      const r = median(arm);
      rows.push([a.action, f === undefined ? "-" : f.toFixed(0), r === undefined ? "none" : r.toFixed(0)]);
    }
  } finally {
    await fleet.stop();
  }
  console.log(`Cold start (median of ${RUNS} runs, ms after process start)`);
  printTable(["action", "first log line (goal < 150)", "first ARM request (goal < 400)"], rows);
}
