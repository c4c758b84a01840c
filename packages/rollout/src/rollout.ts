// The rollout engine: runs a plan's waves against ClawOperations under the rollout policy
// (design.md, "Observe → plan → apply", invariant 6).
//
// - The ungated wave (create, recover, retire) runs with bounded parallelism.
// - Gated waves (canary first, then the others) run one after the other; each wave's claws run
//   with bounded parallelism, then the wave is verified.
// - A claw that fails verification is rolled back to its previous image on the same disk
//   (`operations.replace(plan, previous)`) and verified again, when the policy allows it.
// - A canary failure, or more failed claws than max-unhealthy, halts the rollout: claws not yet
//   started are left untouched and reported `skipped`, with the reason.
// - With verification off, changed claws are reported `unverified`; nothing is ever called
//   healthy without the verifier saying so.
import { setTimeout as sleepTimer } from "node:timers/promises";
import {
  ACTIONABLE,
  type ActionKind,
  type ClawPlan,
  formatDuration as formatElapsed,
  maxUnhealthyCount,
  type Plan,
  type RolloutPolicy,
  type Wave,
} from "@openclawps/fleet-model";
import pLimit from "p-limit";
import type { RolloutLog } from "./log.ts";
import type {
  ClawOperations,
  FleetLease,
  OperationResult,
  StepReporter,
  WaveVerifier,
} from "./operations.ts";
import type { ClawOutcome, ClawReport, RolloutReport, RolloutStatus, WaveReport } from "./report.ts";

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
  /** Lease lifetime; renewed before every wave and every third of it while a wave runs. Default 30 min. */
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
  /** Cancels the rollout: claws not yet started are skipped; claws in flight finish their step. */
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

const DONE_OUTCOME: Record<ActionKind, ClawOutcome> = {
  create: "created",
  recover: "recovered",
  replace: "replaced",
  resize: "resized",
  "grow-disk": "disk-grown",
  retire: "retired",
  noop: "unchanged",
  deferred: "unchanged",
  orphan: "unchanged",
  blocked: "unchanged",
};

const DEFAULT_LEASE_TTL_SECONDS = 30 * 60;

const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
};

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function runRollout(options: RolloutOptions): Promise<RolloutReport> {
  const { plan, waves, operations, verifier, policy, lease, runId, log, signal } = options;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => performance.now());
  const leaseTtl = options.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
  const started = now();
  const startedAt = new Date().toISOString();

  const byName = new Map(plan.claws.map((c) => [c.claw, c]));
  checkWaves(plan, waves, byName);
  const scheduled = waves.flatMap((w) => w.claws);
  const verifiable = scheduled.filter((c) => byName.get(c)?.action !== "retire");
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

  const reports = new Map<string, ClawReport>();
  // Waves are numbered by position, from 1, in logs and the report.
  const waveOf = new Map<string, number>();
  waves.forEach((w, i) => {
    for (const c of w.claws) waveOf.set(c, i + 1);
  });
  for (const c of plan.claws) {
    const scheduledIn = waveOf.get(c.claw);
    reports.set(c.claw, {
      claw: c.claw,
      action: c.action,
      outcome: scheduledIn === undefined ? "unchanged" : "skipped",
      health: "not-applicable",
      reason: c.reason,
      fromImage: c.currentImageVersion,
      targetImage: c.targetImageVersion,
      imageAfter: scheduledIn === undefined ? c.currentImageVersion : undefined,
      wave: scheduledIn,
      steps: [],
      durationMs: 0,
    });
  }

  const waveReports: WaveReport[] = [];
  let failures = 0;
  let haltReason: string | undefined;
  const halt = (reason: string) => {
    if (haltReason === undefined) {
      haltReason = reason;
      log.warning(`Halting the rollout: ${reason}`);
    }
  };
  const stopped = () => haltReason !== undefined || signal?.aborted === true;

  const finish = (): RolloutReport => {
    const cancelled = signal?.aborted === true && haltReason === undefined;
    const stopReason = haltReason ?? (cancelled ? "the run was cancelled" : undefined);
    for (const r of reports.values()) {
      if (r.outcome === "skipped" && r.steps.length === 0) {
        r.detail = `not started: ${stopReason ?? "not reached"}; nothing was changed`;
        r.imageAfter = r.fromImage;
      }
    }
    let status: RolloutStatus;
    if (waves.length === 0) status = "nothing-to-do";
    else if (haltReason !== undefined) status = "halted";
    else if (cancelled) status = "cancelled";
    else if (failures > 0) status = "completed-with-failures";
    else status = "succeeded";
    return {
      runId,
      status,
      haltReason: stopReason,
      verification: policy.verify,
      maxUnhealthy,
      startedAt,
      durationMs: now() - started,
      waves: waveReports,
      claws: plan.claws.map((c) => reports.get(c.claw)!),
    };
  };

  if (waves.length === 0) {
    log.info("Nothing to roll out: every claw is up to date.");
    return finish();
  }

  if (lease) {
    await lease.acquire(runId, leaseTtl, options.forceUnlock ?? false);
    log.info(`Took the fleet lease for run ${runId} (${formatElapsed(leaseTtl * 1000)}).`);
  }
  if (options.prepare) {
    try {
      await options.prepare();
    } catch (err) {
      if (lease) await releaseLease();
      throw err;
    }
  }
  // Renew the lease while long waves run; a failed renewal halts the rollout rather than
  // risk two runs rolling the same fleet.
  let heartbeat: NodeJS.Timeout | undefined;
  // The renewal in flight, awaited before the release: a renewal reads the lease and writes it
  // back, so one that finished after the release would write the released lease back.
  let renewing: Promise<void> | undefined;
  if (lease) {
    heartbeat = setInterval(
      () => {
        renewing = lease
          .renew(runId, leaseTtl)
          .catch((err) => halt(`renewing the fleet lease failed: ${errorText(err)}`));
      },
      Math.max(1000, (leaseTtl * 1000) / 3),
    );
    heartbeat.unref();
  }

  const limit = pLimit(policy.parallelism);

  /** Runs `fn` as a step of claw `name`, recording it and logging it with its elapsed time. */
  const clawClock = new Map<string, number>();
  const reporterFor = (name: string): StepReporter => {
    return (claw, step, detail) => {
      const r = reports.get(claw) ?? reports.get(name)!;
      const elapsedMs = now() - (clawClock.get(r.claw) ?? now());
      r.steps.push({ name: step, detail, elapsedMs });
      log.info(`  ${r.claw}: ${step}${detail ? ` — ${detail}` : ""} (+${formatElapsed(elapsedMs)})`);
    };
  };

  const execute = (p: ClawPlan, report: StepReporter): Promise<OperationResult> => {
    switch (p.action) {
      case "create":
        return operations.create(p, report);
      case "recover":
        return operations.recover(p, report);
      case "replace":
        return operations.replace(p, p.targetImageVersion!, report);
      case "resize":
        return operations.resize(p, report);
      case "grow-disk":
        return operations.growDisk(p, report);
      case "retire":
        return operations.retire(p, report);
      default:
        throw new Error(`claw ${p.claw}: action ${p.action} is not executable`);
    }
  };

  const fail = (r: ClawReport, error: string, health: ClawReport["health"]) => {
    r.outcome = "failed";
    r.error = error;
    r.health = health;
    failures++;
  };

  /** Records `image` as healthy on the claw's disk; a failure to record it fails the claw. */
  const markHealthy = async (
    r: ClawReport,
    image: string | undefined,
    report: StepReporter,
  ): Promise<boolean> => {
    if (!image) return true;
    report(r.claw, "mark-healthy", image);
    try {
      await operations.markHealthy(r.claw, image);
      return true;
    } catch (err) {
      fail(
        r,
        `verified healthy on ${image}, but recording it on the data disk failed: ${errorText(err)}`,
        "healthy",
      );
      return false;
    }
  };

  const verify = async (claws: string[]): Promise<Map<string, { healthy: boolean; detail: string }>> => {
    const results = new Map<string, { healthy: boolean; detail: string }>();
    for (const c of claws) reporterFor(c)(c, "verify");
    try {
      const health = await verifier!(claws);
      for (const h of health) results.set(h.claw, { healthy: h.healthy, detail: h.detail });
    } catch (err) {
      // The gate could not prove anything: treat every claw as unhealthy, do not guess.
      for (const c of claws)
        results.set(c, { healthy: false, detail: `verification failed: ${errorText(err)}` });
    }
    for (const c of claws) {
      if (!results.has(c))
        results.set(c, { healthy: false, detail: "the verifier returned no result for this claw" });
    }
    return results;
  };

  try {
    let previousGated = false;
    for (const [position, wave] of waves.entries()) {
      const number = position + 1;
      const gated = wave.kind !== "ungated";
      if (stopped()) break;
      if (gated && previousGated && policy.pause_seconds > 0) {
        log.info(`Pausing ${policy.pause_seconds}s before wave ${number} (rollout.pause_seconds).`);
        await sleep(policy.pause_seconds * 1000, signal);
        if (stopped()) break;
      }
      if (lease && waveReports.length > 0) {
        try {
          await lease.renew(runId, leaseTtl);
        } catch (err) {
          halt(`renewing the fleet lease failed: ${errorText(err)}`);
          break;
        }
      }
      previousGated = gated;

      const waveStart = now();
      const failuresBefore = failures;
      const title =
        wave.kind === "ungated"
          ? "creates, recoveries and retirements"
          : wave.kind === "canary"
            ? "canary"
            : "wave";
      log.group(`Wave ${number}/${waves.length} (${title}): ${wave.claws.join(", ")}`);
      try {
        // 1. Run the wave's actions, at most `parallelism` at a time; once the rollout halts,
        //    claws not yet started stay untouched.
        const done: string[] = [];
        const parkAfter = new Set<string>();
        await Promise.all(
          wave.claws.map((name) =>
            limit(async () => {
              if (stopped()) return;
              const p = byName.get(name)!;
              const r = reports.get(name)!;
              const t0 = now();
              clawClock.set(name, t0);
              const report = reporterFor(name);
              report(name, p.action, actionDetail(p));
              try {
                const result = await execute(p, report);
                r.outcome = DONE_OUTCOME[p.action];
                r.imageAfter =
                  p.action === "retire" ? undefined : (result.imageVersion ?? p.targetImageVersion);
                r.health = p.action === "retire" ? "not-applicable" : "unverified";
                if (result.parkAfterVerify) parkAfter.add(name);
                if (result.leftDeallocated) {
                  // Its owner had stopped it: nothing runs to verify, and nothing is called healthy.
                  r.detail = "left deallocated as its owner had it; verified once it runs again";
                } else done.push(name);
                log.info(`  ${name}: ${r.outcome} (${formatElapsed(now() - t0)})`);
              } catch (err) {
                r.imageAfter = undefined;
                fail(r, errorText(err), "unverified");
                log.warning(
                  `${name}: ${p.action} failed after ${formatElapsed(now() - t0)}: ${errorText(err)}`,
                );
                if (signal?.aborted) {
                  // A cancel stopped the step in flight: the run is cancelled, not halted by this claw.
                } else if (wave.kind === "canary")
                  halt(`canary ${name} failed: ${p.action} did not complete`);
                else if (failures > maxUnhealthy) halt(tooManyFailures(failures, maxUnhealthy));
              } finally {
                r.durationMs = now() - t0;
              }
            }),
          ),
        );

        // 2. Verify what changed (a retired claw has no VM to check).
        const toVerify = done.filter((c) => byName.get(c)!.action !== "retire");
        if (policy.verify && toVerify.length > 0) {
          const results = await verify(toVerify);
          const rollbacks: string[] = [];
          for (const name of toVerify) {
            const r = reports.get(name)!;
            const res = results.get(name)!;
            r.detail = res.detail;
            if (res.healthy) {
              r.health = "healthy";
              log.info(`  ${name}: healthy — ${res.detail}`);
              await markHealthy(r, r.imageAfter, reporterFor(name));
              continue;
            }
            r.health = "unhealthy";
            log.warning(`${name}: unhealthy on ${r.imageAfter ?? "its new VM"} — ${res.detail}`);
            const p = byName.get(name)!;
            const blocker = rollbackBlocker(p, policy);
            if (blocker) fail(r, `unhealthy after ${p.action}: ${res.detail} (${blocker})`, "unhealthy");
            else rollbacks.push(name);
          }

          // 3. Roll failed claws back to their previous image on the same disk, then verify again.
          if (rollbacks.length > 0) await rollBack(rollbacks);
        }

        // 4. Claws that were parked go back to parked, verified or not (a parked claw costs
        //    nothing; a failed one is reported as such either way).
        await parkAgain([...parkAfter]);

        const waveFailed = wave.claws.filter((c) => isFailure(reports.get(c)!));
        waveReports.push({
          number,
          kind: wave.kind,
          claws: wave.claws,
          failed: waveFailed,
          verified: policy.verify,
          durationMs: now() - waveStart,
        });
        const newFailures = failures - failuresBefore;
        if (signal?.aborted) {
          // Reported as cancelled by finish().
        } else if (wave.kind === "canary" && newFailures > 0) {
          halt(`canary ${waveFailed.join(", ")} failed; the remaining waves were not started`);
        } else if (failures > maxUnhealthy) {
          halt(tooManyFailures(failures, maxUnhealthy));
        }
        log.info(
          `Wave ${number} done in ${formatElapsed(now() - waveStart)}: ${wave.claws.length - waveFailed.length} ok, ${waveFailed.length} failed` +
            (policy.verify ? "" : " (not verified: rollout.verify is off)"),
        );
      } finally {
        log.endGroup();
      }
    }
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await renewing;
    if (lease) await releaseLease();
  }
  return finish();

  async function releaseLease(): Promise<void> {
    try {
      await lease!.release(runId);
    } catch (err) {
      log.warning(
        `Releasing the fleet lease failed: ${errorText(err)}. It expires by itself after ${formatElapsed(leaseTtl * 1000)}; ` +
          "the next run can also take it with force-unlock: true.",
      );
    }
  }

  async function parkAgain(names: string[]): Promise<void> {
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          const r = reports.get(name)!;
          try {
            if (!operations.park) throw new Error("these claw operations cannot park a VM");
            await operations.park(name, reporterFor(name));
            r.detail = `${r.detail ? `${r.detail}; ` : ""}parked again, as it was before the upgrade`;
          } catch (err) {
            // Not a failure of the claw: it runs (and costs) until the schedule parks it.
            log.warning(`${name}: parking it again after the upgrade failed: ${errorText(err)}`);
          }
        }),
      ),
    );
  }

  async function rollBack(names: string[]): Promise<void> {
    const rolledBack: string[] = [];
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          const p = byName.get(name)!;
          const r = reports.get(name)!;
          const previous = rollbackTarget(p)!;
          const report = reporterFor(name);
          report(name, "rollback", `to ${previous}`);
          try {
            const result = await operations.replace(p, previous, report, { rollback: true });
            r.imageAfter = result.imageVersion ?? previous;
            rolledBack.push(name);
          } catch (err) {
            r.imageAfter = undefined;
            fail(r, `rollback to ${previous} failed: ${errorText(err)}`, "unhealthy");
          } finally {
            r.durationMs = now() - (clawClock.get(name) ?? now());
          }
        }),
      ),
    );
    if (rolledBack.length === 0) return;
    const again = await verify(rolledBack);
    for (const name of rolledBack) {
      const r = reports.get(name)!;
      const res = again.get(name)!;
      const firstDetail = r.detail;
      if (res.healthy) {
        r.outcome = "rolled-back";
        r.health = "healthy";
        r.detail = `${r.targetImage} was unhealthy (${firstDetail}); back on ${r.imageAfter}: ${res.detail}`;
        log.info(`  ${name}: rolled back to ${r.imageAfter} and healthy`);
        // A rolled-back claw counts as a failure of the new image (markHealthy counts its own).
        if (await markHealthy(r, r.imageAfter, reporterFor(name))) failures++;
      } else {
        r.detail = res.detail;
        fail(
          r,
          `unhealthy on ${r.targetImage} (${firstDetail}) and still unhealthy after rollback to ${r.imageAfter}`,
          "unhealthy",
        );
        log.warning(`${name}: still unhealthy after rollback to ${r.imageAfter} — ${res.detail}`);
      }
      r.durationMs = now() - (clawClock.get(name) ?? now());
    }
  }
}

function isFailure(r: ClawReport): boolean {
  return r.outcome === "failed" || r.outcome === "rolled-back";
}

function tooManyFailures(failures: number, max: number): string {
  return `${failures} claw${failures === 1 ? "" : "s"} failed, more than rollout.max_unhealthy allows (${max})`;
}

function actionDetail(p: ClawPlan): string | undefined {
  if (p.action === "replace" || p.action === "create" || p.action === "recover") {
    return p.currentImageVersion && p.currentImageVersion !== p.targetImageVersion
      ? `${p.currentImageVersion} → ${p.targetImageVersion}`
      : p.targetImageVersion;
  }
  return undefined;
}

/** Why a claw that failed verification cannot be rolled back, or undefined when it can. */
function rollbackBlocker(p: ClawPlan, policy: RolloutPolicy): string | undefined {
  if (!policy.rollback) return "rollback is off (rollout.rollback: false)";
  // A recover has a previous image when an earlier run crashed between deleting the claw's VM and
  // creating the new one: the disk was tagged with the image it last ran before the delete
  // (design invariant 2), and the plan took it from there. Any change has one when the claw's
  // image never proved healthy and the disk names one that did (the plan's rollback image).
  if (p.action !== "replace" && p.action !== "recover" && p.rollbackImageVersion === undefined)
    return `a ${p.action} has no previous image to roll back to`;
  const previous = rollbackTarget(p);
  if (!previous) return "the previous image version is unknown";
  if (previous === p.targetImageVersion) {
    return p.action === "recover"
      ? `the disk last ran the same image (${previous}), so there is nothing to roll back to`
      : `the image did not change (${previous}); only the configuration did, so there is nothing to roll back to`;
  }
  return undefined;
}

/** The plan's rollback image (the disk's last healthy one), else the image the claw ran before. */
function rollbackTarget(p: ClawPlan): string | undefined {
  return p.rollbackImageVersion ?? p.currentImageVersion;
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
