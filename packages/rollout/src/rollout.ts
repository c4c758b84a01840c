// The rollout engine: runs a plan's waves against ClawOperations under the rollout policy
// (design.md, "Observe → plan → apply", invariant 6).
//
// - The ungated wave (create, recover, retire) runs with bounded parallelism.
// - Gated waves (canary first, then the others) run one after the other; each wave's claws run
//   with bounded parallelism, then the wave is verified.
// - A claw that fails verification is rolled back on the same disk to its last healthy image
//   (else the image it ran before) with `operations.replace(plan, previous, report,
//   { rollback: true })`, and verified again, when the policy allows it.
// - A canary failure, or more failed claws than max-unhealthy, halts the rollout: claws not yet
//   started are left untouched and reported `skipped`, with the reason.
// - With verification off, changed claws are reported `unverified`; nothing is ever called
//   healthy without the verifier saying so.
//
// This module checks the options and runs the waves in order; the parts are named modules:
// lease-keeping.ts (the fleet lease), rollout-state.ts (claw reports, failures, halting, the
// final report), wave-steps.ts (one wave: actions, verification, rollback).
import { setTimeout as sleepTimer } from "node:timers/promises";
import {
  ACTIONABLE,
  type ClawPlan,
  maxUnhealthyCount,
  type Plan,
  type RolloutPolicy,
  type Wave,
} from "@openclawps/fleet-model";
import pLimit from "p-limit";
import { DEFAULT_LEASE_TTL_SECONDS, LeaseKeeper } from "./lease-keeping.ts";
import type { RolloutLog } from "./log.ts";
import type { ClawOperations, FleetLease, WaveVerifier } from "./operations.ts";
import type { RolloutReport } from "./report.ts";
import { RolloutState } from "./rollout-state.ts";
import { runWave } from "./wave-steps.ts";

export interface RolloutOptions {
  plan: Plan;
  /** From fleet-model's planWaves(plan, policy): every actionable claw of the plan exactly once. */
  waves: Wave[];
  operations: ClawOperations;
  /** Required when `policy.verify` is true. */
  verifier?: WaveVerifier;
  policy: RolloutPolicy;
  /** Taken before the first wave and released at the end (only when there is work to do). */
  lease?: FleetLease;
  /**
   * Lease lifetime; renewed before every wave after the first and every third of it while the
   * rollout runs. Default 30 min.
   */
  leaseTtlSeconds?: number;
  /** Take the lease even when a stale lease of another run is recorded. */
  forceUnlock?: boolean;
  /**
   * Runs once the lease is held, before the first wave (deploy-fleet ensures the shared
   * infrastructure there). Not called when there is nothing to roll out. A failure releases
   * the lease and rejects the rollout: nothing was changed on any claw.
   */
  prepare?: () => Promise<void>;
  runId: string;
  log: RolloutLog;
  /**
   * Cancels the rollout: claws not yet started are skipped, and the report says cancelled. The
   * rollout does not interrupt a claw in flight; operations that take the same signal stop their
   * call in flight (a claw so stopped is reported failed, not a halt of the rollout).
   */
  signal?: AbortSignal;
  /** Waits between waves; injectable so tests need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Monotonic milliseconds, for elapsed times. */
  now?: () => number;
}

/** Raised before anything is touched when the options cannot give the rollout its guarantees. */
export class RolloutConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RolloutConfigurationError";
  }
}

const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
};

export async function runRollout(options: RolloutOptions): Promise<RolloutReport> {
  const { plan, waves, operations, verifier, policy, runId, log, signal } = options;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => performance.now());

  const byName = new Map(plan.claws.map((c) => [c.claw, c]));
  checkWaves(plan, waves, byName);
  const verifiable = waves.flatMap((w) => w.claws).filter((c) => byName.get(c)?.action !== "retire");
  if (policy.verify && !verifier && verifiable.length > 0) {
    throw new RolloutConfigurationError(
      "The rollout policy asks for verification (rollout.verify: true) but no wave verifier is available; " +
        "refusing to call any claw healthy without checking it. Provide SSH access for verification, or set rollout.verify to false to report claws as unverified.",
    );
  }
  if (!Number.isInteger(policy.parallelism) || policy.parallelism < 1) {
    throw new RolloutConfigurationError(
      `rollout.parallelism must be a positive integer, got ${policy.parallelism}`,
    );
  }

  // A percent max_unhealthy is taken of the claws the rollout changes and verifies.
  const maxUnhealthy = maxUnhealthyCount(policy, verifiable.length);
  const state = new RolloutState({ plan, waves, policy, maxUnhealthy, runId, log, signal, now });

  if (waves.length === 0) {
    log.info("Nothing to roll out: every claw is up to date.");
    return state.finish();
  }

  const lease = new LeaseKeeper(
    options.lease,
    runId,
    options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS,
    log,
    (reason) => state.halt(reason),
  );
  await lease.take(options.forceUnlock ?? false);
  if (options.prepare) {
    try {
      await options.prepare();
    } catch (err) {
      await lease.release();
      throw err;
    }
  }
  lease.keepAlive();

  const ctx = { state, operations, verifier, policy, log, limit: pLimit(policy.parallelism), now };
  try {
    let previousGated = false;
    for (const [position, wave] of waves.entries()) {
      const number = position + 1;
      const gated = wave.kind !== "ungated";
      if (state.stopped()) break;
      if (gated && previousGated && policy.pause_seconds > 0) {
        log.info(`Pausing ${policy.pause_seconds}s before wave ${number} (rollout.pause_seconds).`);
        await sleep(policy.pause_seconds * 1000, signal);
        if (state.stopped()) break;
      }
      if (state.waveReports.length > 0 && !(await lease.renew())) break;
      previousGated = gated;
      await runWave(ctx, wave, number, waves.length);
    }
  } finally {
    await lease.stop();
  }
  return state.finish();
}

/** Programmer errors: the waves must schedule exactly the plan's actionable claws, once each. */
function checkWaves(plan: Plan, waves: Wave[], byName: Map<string, ClawPlan>): void {
  const seen = new Set<string>();
  for (const w of waves) {
    for (const c of w.claws) {
      const p = byName.get(c);
      if (!p) throw new Error(`wave ${w.index} lists claw ${c}, which is not in the plan`);
      if (!ACTIONABLE.includes(p.action))
        throw new Error(`wave ${w.index} lists claw ${c}, whose action ${p.action} is not executable`);
      if (seen.has(c)) throw new Error(`claw ${c} is in more than one wave`);
      seen.add(c);
    }
  }
  for (const p of plan.claws) {
    if (ACTIONABLE.includes(p.action) && !seen.has(p.claw))
      throw new Error(`claw ${p.claw} (${p.action}) is in no wave`);
  }
}
