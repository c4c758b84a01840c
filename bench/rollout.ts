// deploy-fleet against the local Azure with ARM's throttling on, every Azure duration (operation
// latencies, the throttling buckets' refill, ARM's Retry-After hints) scaled by TIME_SCALE, so
// what the run waits for is what it would wait for in Azure, ten times faster. The bundled action
// runs as a runner runs it, at its default settings but for the poll interval and its own rate
// limiter's refill (OPENCLAWPS_ARM_LIMITER_TIME_SCALE), scaled alike.
//
// Two tables:
//   - plan at scale: a fleet seeded straight into the local Azure (named the seed's way), planned:
//     ARM requests per operation, against the Terraform-style refresh (one GET per managed object
//     per claw); the action's own CPU time and peak memory;
//   - rollout waves: apply from empty, and an image upgrade (every VM replaced: canary, then waves);
//     per wave its wall time against its critical-path bound: the latency model's durations along
//     one claw's chain of operations, times the batches the wave's parallelism makes, with ARM's
//     own buckets (scaled) as a floor.
// Printed, not asserted: tests do not assert timings (design.md, "Quality bar").
import { TAGS } from "@openclawps/fleet-model";
import { AZURE_LATENCY_MS, type LocalAzure, type OperationKind } from "@openclawps/local-azure";
import {
  canarySecrets,
  clawNames,
  errorOf,
  type Fleet,
  GALLERY,
  IMAGE,
  RG,
  startFleet,
} from "../actions/deploy-fleet/test/fleet-fixture.ts";
import {
  envNumber,
  firstArmRequestMs,
  type MeasuredRun,
  measuredRun,
  median,
  printTable,
  type WaveTiming,
} from "./measure.ts";

/**
 * Azure time scale: a 90 s VM create takes 9 s; ARM's 10 s Retry-After becomes 1 s.
 * BENCH_TIME_SCALE sets another (the smoke test's 0.01: figures of no meaning, every table printed).
 */
export const TIME_SCALE = envNumber("BENCH_TIME_SCALE", 0.1);
/** deploy-fleet's default poll interval (10 s), scaled alike. */
const POLL_INTERVAL = `${Math.max(1, Math.round(10_000 * TIME_SCALE))}ms`;
/** The manifest's rollout settings for the rollout runs (the defaults but parallelism). */
const ROLLOUT = { parallelism: 20, wave_size: "25%", snapshot_before_replace: true, verify: false };
/** ARM's subscription buckets (local-azure throttling.ts), before scaling. */
const ARM = { readBurst: 250, readsPerSecond: 25, writeBurst: 200, writesPerSecond: 10 };
/** deploy-fleet's own budget, 80% of ARM's buckets (packages/azure DEFAULT_RATE_LIMITS), refilling at TIME_SCALE too. */
const CLIENT = { readBurst: 200, readsPerSecond: 20, writeBurst: 160, writesPerSecond: 8 };

const scaled = (kind: OperationKind) => (AZURE_LATENCY_MS[kind] * TIME_SCALE) / 1000;

/**
 * One claw's chain of ARM operations on the critical path, seconds (latency model, scaled).
 * create: image version read, then the public IP and NIC (each read first) beside the data disk,
 * then the VM (read first). replace: mark the VM, deallocate, tag the disk, snapshot it, delete
 * the VM, create the new one (claw-operations.ts).
 */
export const CHAINS: Record<"create" | "replace", () => number> = {
  create: () =>
    scaled("read") * 2 +
    Math.max(scaled("read") * 2 + scaled("network.write") * 2, scaled("read") + scaled("disk.create")) +
    scaled("vm.create"),
  replace: () =>
    scaled("read") * 3 +
    scaled("vm.update") +
    scaled("vm.deallocate") +
    scaled("disk.update") +
    scaled("snapshot.create") +
    scaled("vm.delete") +
    scaled("vm.create"),
};

interface PlanColumn {
  claws: number;
  byOperation: Record<string, number>;
  total: number;
  terraform: number;
  /** GitHub OIDC token requests and Entra token exchanges of the run. */
  tokens: string;
  /** Median, least and most of PLAN_RUNS runs. */
  cpuS: number;
  cpuRange: [number, number];
  /** The main thread's share of the median run's CPU (undefined where /proc is not). */
  mainCpuS: number | undefined;
  rssMb: number;
  wallS: number;
}

/**
 * Plan runs per size (BENCH_PLAN_RUNS, default 3): a shared 2-core machine moves a single run's
 * CPU by +-15 %, so the table shows the median and the range.
 */
const PLAN_RUNS = envNumber("BENCH_PLAN_RUNS", 3);

interface WaveRow {
  scenario: string;
  claws: number;
  wave: WaveTiming;
  bound: number;
  chain: number;
  armFloor: number;
  clientFloor: number;
  reads: number;
  writes: number;
  polls: number;
  lros: number;
  throttled: number;
}

const common = { "poll-interval": POLL_INTERVAL, pause: "0" };

function envOf(fleet: Fleet): Record<string, string> {
  return {
    ...fleet.azure.env(),
    GITHUB_WORKSPACE: fleet.workspace,
    GITHUB_RUN_ID: "",
    GITHUB_RUN_ATTEMPT: "",
    // The action's limiter refills at the scale the local Azure's buckets do (rate-limit.ts).
    OPENCLAWPS_ARM_LIMITER_TIME_SCALE: String(TIME_SCALE),
  };
}

async function deploy(
  fleet: Fleet,
  secretsJson: string,
  inputs: Record<string, string>,
  what: string,
): Promise<MeasuredRun> {
  const m = await measuredRun(
    "deploy-fleet",
    { manifest: "claws.yaml", "secrets-json": secretsJson, ...common, ...inputs },
    envOf(fleet),
  );
  if (m.run.exitCode !== 0) throw new Error(`${what} failed:\n${errorOf(m.run)}\n${m.run.stderr}`);
  return m;
}

/** A fleet of `n` claws seeded straight into the local Azure (VM, NIC, IP, disk each), planned. */
async function planAtScale(n: number): Promise<PlanColumn> {
  const names = clawNames(n);
  const secrets = canarySecrets(names);
  const fleet = await startFleet(
    { claws: Object.fromEntries(names.map((c) => [c, {}])) },
    secrets.json,
    ["1.0.0"],
    { throttling: true, timeScale: TIME_SCALE },
  );
  try {
    const imageId = `/subscriptions/${fleet.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${IMAGE}/versions/1.0.0`;
    for (const name of names) {
      await fleet.azure.seedVirtualMachines(RG, [name], { imageId, tags: { [TAGS.claw]: name } });
    }
    const runs: MeasuredRun[] = [];
    for (let i = 0; i < PLAN_RUNS; i++)
      runs.push(await deploy(fleet, secrets.json, { mode: "plan" }, `plan of ${n} claws`));
    // Every run makes the same requests: the last one's are counted.
    const m = runs[runs.length - 1]!;
    const byOperation = fleet.azure.counts({ since: m.since, excludePolling: true }).byOperation;
    const arm = Object.fromEntries(
      Object.entries(byOperation).filter(([op]) => !op.startsWith("github.") && !op.startsWith("entra.")),
    );
    const cpu = runs.map((r) => r.usage.cpuMs / 1000);
    const mid = [...runs].sort((a, b) => a.usage.cpuMs - b.usage.cpuMs)[Math.floor(runs.length / 2)]!;
    const mainMs = mid.usage.threads?.find((t) => t.main)?.cpuMs;
    return {
      claws: n,
      byOperation: arm,
      total: Object.values(arm).reduce((a, b) => a + b, 0),
      // Terraform's refresh: one GET per managed object per claw (VM, NIC, public IP, data disk)
      // and per shared one (resource group, VNet, subnet, NSG, gallery, image definition).
      terraform: 4 * n + 6,
      tokens: `${tokenRequests(fleet.azure, m.since, "github.idToken")} / ${tokenRequests(fleet.azure, m.since, "entra.token")}`,
      cpuS: mid.usage.cpuMs / 1000,
      cpuRange: [Math.min(...cpu), Math.max(...cpu)],
      mainCpuS: mainMs === undefined ? undefined : mainMs / 1000,
      rssMb: median(runs.map((r) => r.usage.maxRssKb / 1024))!,
      wallS: median(runs.map((r) => r.seconds))!,
    };
  } finally {
    await fleet.stop();
  }
}

/** Requests to a token endpoint since `since` (the counts cover ARM only). */
function tokenRequests(azure: LocalAzure, since: number, operation: string): number {
  return azure.requestLog.filter((e) => e.at >= since && e.operation === operation).length;
}

/** Requests the local Azure answered while a wave ran. */
function waveRequests(azure: LocalAzure, w: WaveTiming) {
  const arm = azure.requestLog.filter((e) => e.service === "arm" && e.at >= w.start && e.at <= w.end);
  return {
    reads: arm.filter((e) => !e.polling && (e.method === "GET" || e.method === "HEAD")).length,
    writes: arm.filter((e) => e.method !== "GET" && e.method !== "HEAD").length,
    polls: arm.filter((e) => e.polling).length,
    // Long-running operations accepted (the answer named a status URL to poll).
    lros: arm.filter((e) => e.statusPath !== undefined).length,
    throttled: arm.filter((e) => e.status === 429).length,
  };
}

function waveRow(scenario: string, claws: number, azure: LocalAzure, w: WaveTiming): WaveRow {
  const r = waveRequests(azure, w);
  const chainOf = w.title.startsWith("creates") ? CHAINS.create() : CHAINS.replace();
  const chain = Math.ceil(w.claws / ROLLOUT.parallelism) * chainOf;
  const reads = r.reads + r.polls;
  // Buckets full at the wave's start: a floor, not a forecast.
  const armFloor = Math.max(
    0,
    (reads - ARM.readBurst) / (ARM.readsPerSecond / TIME_SCALE),
    (r.writes - ARM.writeBurst) / (ARM.writesPerSecond / TIME_SCALE),
  );
  const clientFloor = Math.max(
    0,
    (reads - CLIENT.readBurst) / (CLIENT.readsPerSecond / TIME_SCALE),
    (r.writes - CLIENT.writeBurst) / (CLIENT.writesPerSecond / TIME_SCALE),
  );
  return { scenario, claws, wave: w, chain, armFloor, clientFloor, bound: Math.max(chain, armFloor), ...r };
}

async function rollouts(n: number, upgrade: boolean, rows: WaveRow[]): Promise<void> {
  const names = clawNames(n);
  const secrets = canarySecrets(names);
  const fleet = await startFleet(
    { claws: Object.fromEntries(names.map((c) => [c, {}])), rollout: ROLLOUT },
    secrets.json,
    ["1.0.0", "1.1.0"],
    { throttling: true, timeScale: TIME_SCALE },
  );
  try {
    const apply = await deploy(fleet, secrets.json, { mode: "apply" }, `apply of ${n} claws`);
    for (const w of apply.usage.waves) rows.push(waveRow("apply from empty", n, fleet.azure, w));
    if (upgrade) {
      const up = await deploy(
        fleet,
        secrets.json,
        { mode: "apply", "image-version": "1.1.0" },
        `upgrade of ${n} claws`,
      );
      for (const w of up.usage.waves) rows.push(waveRow("image upgrade", n, fleet.azure, w));
    }
  } finally {
    await fleet.stop();
  }
}

export interface RolloutSizes {
  plan: number[];
  create: number[];
  upgrade: number[];
}

export async function benchRollout(sizes: RolloutSizes): Promise<void> {
  console.log(
    `deploy-fleet, bundled, against the local Azure: ARM's throttling on; latencies, bucket refills and Retry-After x${TIME_SCALE};\n` +
      `poll-interval ${POLL_INTERVAL} (10 s scaled); rollout parallelism ${ROLLOUT.parallelism}, wave_size ${ROLLOUT.wave_size}, snapshots on, verification off (see verify below).\n`,
  );
  const columns: PlanColumn[] = [];
  for (const n of sizes.plan) columns.push(await planAtScale(n));
  if (columns.length > 0) {
    console.log(
      "Plan of a fleet that exists (seeded): ARM requests per operation, the action's CPU and memory",
    );
    const ops = [...new Set(columns.flatMap((c) => Object.keys(c.byOperation)))].sort();
    printTable(
      ["", ...columns.map((c) => `${c.claws} claws`)],
      [
        ...ops.map((op) => [op, ...columns.map((c) => String(c.byOperation[op] ?? 0))]),
        ["ARM requests", ...columns.map((c) => String(c.total))],
        ["Terraform-style refresh (GETs)", ...columns.map((c) => String(c.terraform))],
        ["token requests, GitHub / Entra (goal 1 / 1)", ...columns.map((c) => c.tokens)],
        [`action CPU s, median of ${PLAN_RUNS} (goal < 1 at 1000)`, ...columns.map((c) => c.cpuS.toFixed(2))],
        [
          "  least - most",
          ...columns.map((c) => `${c.cpuRange[0].toFixed(2)} - ${c.cpuRange[1].toFixed(2)}`),
        ],
        ["  of it the main thread", ...columns.map((c) => c.mainCpuS?.toFixed(2) ?? "-")],
        ["peak RSS MB (median)", ...columns.map((c) => c.rssMb.toFixed(0))],
        ["wall s (median)", ...columns.map((c) => c.wallS.toFixed(1))],
      ],
    );
    console.log();
  }
  const rows: WaveRow[] = [];
  for (const n of [...new Set([...sizes.create, ...sizes.upgrade])].sort((a, b) => a - b)) {
    await rollouts(n, sizes.upgrade.includes(n), rows);
    console.log(`  rollouts of ${n} claws done`);
  }
  if (rows.length > 0) {
    console.log(
      "\nRollout waves: wall time against the critical path (latency model x batches of parallelism; ARM's buckets, scaled, as floor)",
    );
    printTable(
      [
        "scenario",
        "claws",
        "wave",
        "in wave",
        "wall s",
        "chain s",
        "ARM floor s",
        "bound s",
        "ratio (goal <= 1.1)",
        "client budget s",
        "reads",
        "writes",
        "polls",
        "polls/LRO",
        "429s",
      ],
      rows.map((r) => [
        r.scenario,
        String(r.claws),
        `${r.wave.n} ${r.wave.title}`,
        String(r.wave.claws),
        ((r.wave.end - r.wave.start) / 1000).toFixed(1),
        r.chain.toFixed(1),
        r.armFloor.toFixed(1),
        r.bound.toFixed(1),
        ((r.wave.end - r.wave.start) / 1000 / r.bound).toFixed(2),
        r.clientFloor.toFixed(1),
        String(r.reads),
        String(r.writes),
        String(r.polls),
        r.lros > 0 ? (r.polls / r.lros).toFixed(1) : "0.0",
        String(r.throttled),
      ]),
    );
    console.log(
      "chain: one claw's operations end to end (create: max(IP + NIC, disk) + VM; replace: mark, deallocate, tag disk, snapshot,\n" +
        "delete, create), times ceil(claws in wave / parallelism). client budget: the time deploy-fleet's own limiter (80% of\n" +
        "ARM's buckets, refilling at the same scale) needs for the wave's requests, buckets full at the start. polls/LRO: status\n" +
        "polls per long-running operation accepted in the wave (ARM's Retry-After holds each poll until the time it names).",
    );
  }
}

/** For cold start: a small fleet the actions can start against. */
export async function smallFleet(
  n: number,
): Promise<{ fleet: Fleet; secretsJson: string; env: Record<string, string> }> {
  const names = clawNames(n);
  const secrets = canarySecrets(names);
  const fleet = await startFleet(
    { claws: Object.fromEntries(names.map((c) => [c, {}])) },
    secrets.json,
    ["1.0.0"],
    { timeScale: TIME_SCALE },
  );
  return { fleet, secretsJson: secrets.json, env: envOf(fleet) };
}

export { firstArmRequestMs };
