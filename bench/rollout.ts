// How many ARM requests deploy-fleet spends, and how long it takes, with the local Azure enforcing
// ARM's throttling (subscription buckets: reads 250 burst / 25 per s, writes 200 / 10 per s;
// per VM: 12 writes burst / 4 per min). The bundled action runs as a runner runs it.
//
// Figures per fleet size:
//   - observe: requests of a plan run against the fleet, against the bound "one list call per
//     resource type, plus paging" — it must not grow with the number of claws beyond paging;
//   - apply from empty / image upgrade / converged re-run: reads, writes, LRO polls, 429s,
//     requests per claw, wall time and its ratio to the fastest time the client-side limits
//     allow (the throttling bound).
// Printed, not asserted: tests do not assert timings (design.md, "Quality bar").
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { TAGS } from "@openclawps/fleet-model";
import type { RequestLogEntry } from "@openclawps/local-azure";
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

/** The bundled deploy-fleet action, run as a runner runs it. */
const BUNDLE = resolve(import.meta.dirname, "../actions/deploy-fleet/dist/index.js");

/** Page size of the local Azure's list answers (ARM pages at 100 for most collections too). */
const PAGE_SIZE = 100;
/** deploy-fleet's own budget: 80% of ARM's buckets (packages/azure DEFAULT_RATE_LIMITS). */
const CLIENT = { readBurst: 200, readsPerSecond: 20, writeBurst: 160, writesPerSecond: 8 };
/** Azure time scale: a 90 s VM create takes 0.9 s, so LRO polling costs what it would in Azure, scaled. */
const TIME_SCALE = 0.01;
const POLL_INTERVAL = "100ms";

interface Row {
  scenario: string;
  claws: number;
  seconds: number;
  reads: number;
  writes: number;
  polls: number;
  throttled: number;
  failed: number;
  /** Requests the scenario cannot do with fewer (observe) or the fastest time the limits allow. */
  bound?: { what: string; value: number; actual: number };
}

function measure(fleet: Fleet, since: number): Omit<Row, "scenario" | "claws" | "seconds"> {
  const arm = fleet.azure.requestLog.filter((e: RequestLogEntry) => e.service === "arm" && e.at >= since);
  return {
    reads: arm.filter((e) => !e.polling && (e.method === "GET" || e.method === "HEAD")).length,
    writes: arm.filter((e) => e.method !== "GET" && e.method !== "HEAD").length,
    polls: arm.filter((e) => e.polling).length,
    throttled: arm.filter((e) => e.status === 429).length,
    // 404s answer "does it exist yet?" reads; anything else from 400 up is a failed request.
    failed: arm.filter((e) => e.status >= 400 && e.status !== 404 && e.status !== 429).length,
  };
}

/** Seconds the client-side token buckets need at least for these requests. */
function throttlingBound(reads: number, writes: number): number {
  return Math.max(
    0,
    (reads - CLIENT.readBurst) / CLIENT.readsPerSecond,
    (writes - CLIENT.writeBurst) / CLIENT.writesPerSecond,
  );
}

/** One list call per resource type the plan reads, plus one per extra page. */
function observeBound(fleet: Fleet): number {
  const s = fleet.azure.state();
  const count = (type: string) => Object.values(s.resources).filter((r) => r.type === type).length;
  const lists = [
    Object.keys(s.virtualMachines).length,
    Object.keys(s.disks).length,
    count("Microsoft.Network/networkInterfaces"),
    count("Microsoft.Network/publicIPAddresses"),
    Object.keys(s.galleryImageVersions).length,
  ];
  return lists.reduce((sum, n) => sum + Math.max(1, Math.ceil(n / PAGE_SIZE)), 0);
}

async function timed(
  fleet: Fleet,
  scenario: string,
  claws: number,
  inputs: Record<string, string>,
): Promise<Row> {
  const since = Date.now();
  const run = await fleet.deploy(inputs);
  const seconds = (Date.now() - since) / 1000;
  if (run.exitCode !== 0)
    throw new Error(`${scenario} (${claws} claws) failed:\n${errorOf(run)}\n${run.stderr}`);
  return { scenario, claws, seconds, ...measure(fleet, since) };
}

/** Lets the local Azure's buckets refill, as they do between the jobs of a workflow (plan, approval, apply). */
const betweenJobs = () => new Promise((r) => setTimeout(r, 10_000));

async function fullRollout(n: number, upgrade: boolean, rows: Row[]): Promise<void> {
  const names = clawNames(n);
  const fleet = await startFleet(
    { claws: Object.fromEntries(names.map((c) => [c, {}])), rollout: { parallelism: 20, wave_size: "25%" } },
    canarySecrets(names).json,
    ["1.0.0", "1.1.0"],
    { throttling: true, timeScale: TIME_SCALE },
  );
  try {
    const common = { "poll-interval": POLL_INTERVAL, pause: "0" };
    const withBound = (row: Row): Row => ({
      ...row,
      bound: {
        what: "throttling",
        value: throttlingBound(row.reads + row.polls, row.writes),
        actual: row.seconds,
      },
    });
    rows.push(withBound(await timed(fleet, "apply from empty", n, { mode: "apply", ...common })));
    await betweenJobs();
    const plan = await timed(fleet, "observe (plan)", n, { mode: "plan", ...common });
    rows.push({ ...plan, bound: { what: "list calls", value: observeBound(fleet), actual: plan.reads } });
    rows.push(await timed(fleet, "re-apply, converged", n, { mode: "apply", ...common }));
    if (upgrade) {
      await betweenJobs();
      rows.push(
        withBound(
          await timed(fleet, "image upgrade (waves)", n, {
            mode: "apply",
            "image-version": "1.1.0",
            ...common,
          }),
        ),
      );
    }
  } finally {
    await fleet.stop();
  }
}

/** A large fleet seeded straight into the local Azure (seed-named, as the seed deployed it), planned only. */
async function observeOnly(n: number, rows: Row[]): Promise<void> {
  const names = clawNames(n);
  const fleet = await startFleet(
    { claws: Object.fromEntries(names.map((c) => [c, {}])) },
    canarySecrets(names).json,
    ["1.0.0"],
    { throttling: true, timeScale: TIME_SCALE },
  );
  try {
    const imageId = `/subscriptions/${fleet.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${IMAGE}/versions/1.0.0`;
    for (let i = 0; i < names.length; i += 100) {
      const batch = names.slice(i, i + 100);
      for (const name of batch) {
        await fleet.azure.seedVirtualMachines(RG, [name], { imageId, tags: { [TAGS.claw]: name } });
      }
    }
    const plan = await timed(fleet, "observe (plan)", n, { mode: "plan", "poll-interval": POLL_INTERVAL });
    rows.push({ ...plan, bound: { what: "list calls", value: observeBound(fleet), actual: plan.reads } });
  } finally {
    await fleet.stop();
  }
}

function print(rows: Row[]): void {
  const header = [
    "scenario",
    "claws",
    "wall s",
    "reads",
    "writes",
    "polls",
    "429s (retried)",
    "failed",
    "reads/claw",
    "writes/claw",
    "bound",
    "ratio",
  ];
  const table = rows.map((r) => [
    r.scenario,
    String(r.claws),
    r.seconds.toFixed(1),
    String(r.reads),
    String(r.writes),
    String(r.polls),
    String(r.throttled),
    String(r.failed),
    (r.reads / r.claws).toFixed(2),
    (r.writes / r.claws).toFixed(2),
    r.bound
      ? `${r.bound.what} ${r.bound.what === "throttling" ? `${r.bound.value.toFixed(1)} s` : r.bound.value}`
      : "",
    r.bound && r.bound.value > 0 ? (r.bound.actual / r.bound.value).toFixed(2) : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of table) console.log(line(r));
}

export interface BenchSizes {
  /** Fleets created from empty, planned and re-applied. */
  full: number[];
  /** Of those, fleets also upgraded to a new image (every VM replaced in waves). */
  upgrade: number[];
  /** Fleets seeded straight into the local Azure and only planned. */
  observe: number[];
}

export async function benchRollout(sizes: BenchSizes): Promise<void> {
  if (!existsSync(BUNDLE)) {
    throw new Error(
      `${resolve(BUNDLE)} is missing: run \`npm run bundle\` first (the benchmark runs the bundled action).`,
    );
  }
  console.log(
    "deploy-fleet against the local Azure with ARM throttling on (reads 250/25 per s, writes 200/10 per s, 12/4 per min per VM);\n" +
      `Azure durations x${TIME_SCALE}, LRO polls every ${POLL_INTERVAL}, rollout parallelism 20.\n` +
      "bound: observe = one list call per resource type plus paging (ratio 1.00 = no per-claw reads);\n" +
      "       apply = fastest wall time deploy-fleet's client-side limits allow for those requests (80% of ARM's buckets).\n",
  );
  const rows: Row[] = [];
  for (const n of sizes.full) {
    await fullRollout(n, sizes.upgrade.includes(n), rows);
    console.log(`  ${n} claws done`);
  }
  for (const n of sizes.observe) {
    await observeOnly(n, rows);
    console.log(`  ${n} claws (observe only) done`);
  }
  console.log("");
  print(rows);
  const failed = rows.reduce((s, r) => s + r.failed, 0);
  const throttled = rows.reduce((s, r) => s + r.throttled, 0);
  console.log(
    `\nFailed requests over all runs: ${failed}. Throttled (429, retried after Retry-After): ${throttled}.\n` +
      "Each run starts with a full client-side bucket; ARM's bucket is shared by every caller of the subscription,\n" +
      "so back-to-back runs can still meet 429s, which the SDK retries.",
  );
}
