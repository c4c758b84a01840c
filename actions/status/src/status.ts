// The status action's core: read the fleet (list calls only), and in the power modes park and
// start claws as the schedule (or the operator's request) says, under the rollout lease, taken
// briefly and never waited for. Azure is behind FleetAzure; no @actions/core here.
import { UserError } from "@openclawps/action-kit";
import {
  type ClawPower,
  type ObservedFleet,
  type ObservedSnapshot,
  type ObservedVm,
  type ParkedBy,
  type PowerMode,
  type PowerPlan,
  powerActions,
  type ResolvedFleet,
} from "@openclawps/fleet-model";
import pLimit from "p-limit";
import { type ClawStatus, fleetStatus } from "./status-table.ts";

export type StatusMode = "status" | PowerMode;
type PowerAction = Exclude<ClawPower["action"], "none">;
export const STATUS_MODES: readonly StatusMode[] = ["status", "schedule", "park", "resume"];

/** What a done action is called in logs and the summary. */
export const DONE: Record<PowerAction, string> = {
  park: "parked",
  start: "started",
  unmark: "park mark removed",
};

export interface StatusRequest {
  mode: StatusMode;
  /** park / resume: the claws to act on. */
  claws: string[];
  fleet: ResolvedFleet;
  /** Identifies this run in the lease. */
  runId: string;
  /** Claws parked or started at a time. */
  parallelism: number;
}

export interface Observation {
  observed: ObservedFleet;
  snapshots: ReadonlyMap<string, readonly ObservedSnapshot[]>;
}

/** Who holds the rollout lease, when another run does. */
export class LeaseBusy extends Error {}

export interface FleetAzure {
  observe(): Promise<Observation>;
  /**
   * Takes the fleet's rollout lease; throws LeaseBusy when another run holds it, expired or not,
   * unless it is an expired lease of a power run that died: then it is taken over, and the
   * returned text says whose (for the log).
   */
  acquireLease(runId: string): Promise<string | undefined>;
  releaseLease(runId: string): Promise<void>;
  park(vm: ObservedVm, by: ParkedBy): Promise<void>;
  start(vm: ObservedVm): Promise<void>;
  /** Removes the park mark of a running VM (a dead park's or start's). */
  unmark(vm: ObservedVm): Promise<void>;
}

export interface PowerLog {
  info(text: string): void;
  warning(text: string): void;
}

export interface PowerOutcome {
  plan: PowerPlan;
  /** Per claw acted on: done, or the error. */
  results: { claw: string; action: PowerAction; ok: boolean; error?: string }[];
  /** Set when the run did nothing because a rollout holds the lease. */
  skipped?: string;
}

export interface StatusOutcome {
  rows: ClawStatus[];
  power?: PowerOutcome;
}

export interface StatusDeps {
  azure: FleetAzure;
  log: PowerLog;
  now: () => Date;
}

export async function runStatus(req: StatusRequest, deps: StatusDeps): Promise<StatusOutcome> {
  if (req.mode === "status") {
    const seen = await deps.azure.observe();
    return { rows: fleetStatus(req.fleet, seen.observed, seen.snapshots) };
  }
  if ((req.mode === "park" || req.mode === "resume") && req.claws.length === 0) {
    throw new UserError(
      `Mode '${req.mode}' needs the claws to ${req.mode}.`,
      `Pass their names in the claws input (comma or newline separated), e.g. claws: alice, bob.`,
    );
  }
  const first = await deps.azure.observe();
  const plan = powerActions(req.fleet.claws, first.observed, deps.now(), {
    mode: req.mode,
    claws: req.claws,
  });
  if (plan.unknownClaws.length > 0) {
    throw new UserError(
      `Input 'claws' names ${plan.unknownClaws.join(", ")}, not an active claw of ${req.fleet.manifestFile}; nothing was changed.`,
      `Use the names under claws: in ${req.fleet.manifestFile} (retired claws have no VM to park).`,
    );
  }
  const todo = plan.claws.filter((c) => c.action !== "none");
  if (todo.length === 0)
    return { rows: fleetStatus(req.fleet, first.observed, first.snapshots), power: { plan, results: [] } };

  try {
    const takenOver = await deps.azure.acquireLease(req.runId);
    if (takenOver) deps.log.warning(takenOver);
  } catch (err) {
    if (!(err instanceof LeaseBusy)) throw err;
    const skipped = `${err.message} Nothing was parked or started: the next scheduled run tries again.`;
    deps.log.warning(skipped);
    return {
      rows: fleetStatus(req.fleet, first.observed, first.snapshots),
      power: {
        plan: { ...plan, claws: plan.claws.map((c) => ({ ...c, action: "none" as const })), hoursSaved: 0 },
        results: [],
        skipped,
      },
    };
  }
  const results: PowerOutcome["results"] = [];
  try {
    // What the lease now protects is acted on as observed under it: a rollout that ended between
    // the first read and the lease may have replaced a VM, so plan again.
    const seen = await deps.azure.observe();
    const fresh = powerActions(req.fleet.claws, seen.observed, deps.now(), {
      mode: req.mode,
      claws: req.claws,
    });
    const by: ParkedBy = {
      by: req.mode === "schedule" ? "schedule" : "operator",
      at: deps.now().toISOString(),
    };
    const act: Record<PowerAction, (vm: ObservedVm) => Promise<void>> = {
      park: (vm) => deps.azure.park(vm, by),
      start: (vm) => deps.azure.start(vm),
      unmark: (vm) => deps.azure.unmark(vm),
    };
    const vmOf = (name: string) => seen.observed.vms.find((v) => v.name === name);
    const limit = pLimit(req.parallelism);
    await Promise.all(
      fresh.claws
        .filter((c) => c.action !== "none" && c.vm)
        .map((c) =>
          limit(async () => {
            const vm = vmOf(c.vm!)!;
            const action = c.action as PowerAction;
            try {
              await act[action](vm);
              deps.log.info(`${c.claw}: ${DONE[action]} — ${c.reason}`);
              results.push({ claw: c.claw, action, ok: true });
            } catch (err) {
              const error = err instanceof Error ? err.message : String(err);
              deps.log.warning(`${c.claw}: ${action} failed: ${error}`);
              results.push({ claw: c.claw, action, ok: false, error });
            }
          }),
        ),
    );
    const order = new Map(fresh.claws.map((c, i) => [c.claw, i]));
    results.sort((a, b) => order.get(a.claw)! - order.get(b.claw)!);
    const after = await deps.azure.observe();
    return { rows: fleetStatus(req.fleet, after.observed, after.snapshots), power: { plan: fresh, results } };
  } finally {
    await deps.azure.releaseLease(req.runId);
  }
}
