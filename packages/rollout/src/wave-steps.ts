// Wave steps: what the rollout does with one wave — run its claws' actions at most `parallelism`
// at a time, verify what changed, record healthy images on the data disks, roll unhealthy claws
// back to their previous image on the same disk and verify them again — and the halting rules
// checked as claws fail.
import {
  type ActionKind,
  type ClawPlan,
  formatDuration,
  type RolloutPolicy,
  type Wave,
} from "@openclawps/fleet-model";
import type { LimitFunction } from "p-limit";
import type { RolloutLog } from "./log.ts";
import type { ClawOperations, OperationResult, StepReporter, WaveVerifier } from "./operations.ts";
import type { ClawOutcome, ClawReport } from "./report.ts";
import { errorText, type RolloutState } from "./rollout-state.ts";

/** What the wave steps work with; one per rollout. */
export interface WaveContext {
  state: RolloutState;
  operations: ClawOperations;
  verifier?: WaveVerifier;
  policy: RolloutPolicy;
  log: RolloutLog;
  /** The rollout's parallelism bound, shared by actions and rollbacks. */
  limit: LimitFunction;
  now: () => number;
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

const WAVE_TITLE: Record<Wave["kind"], string> = {
  ungated: "creates, recoveries and retirements",
  canary: "canary",
  wave: "wave",
};

type HealthResults = Map<string, { healthy: boolean; detail: string }>;

/** Runs wave `number` of `total`: actions, verification, rollbacks, then the halting rules. */
export async function runWave(ctx: WaveContext, wave: Wave, number: number, total: number): Promise<void> {
  const { state, policy, log, now } = ctx;
  const waveStart = now();
  const failuresBefore = state.failures;
  log.group(`Wave ${number}/${total} (${WAVE_TITLE[wave.kind]}): ${wave.claws.join(", ")}`);
  try {
    // 1. Run the wave's actions; once the rollout halts, claws not yet started stay untouched.
    const { done, parkAfter } = await runActions(ctx, wave);

    // 2. Verify what changed (a retired claw has no VM to check).
    const toVerify = done.filter((c) => state.planOf(c).action !== "retire");
    if (policy.verify && toVerify.length > 0) {
      const rollbacks = await verifyChanged(ctx, toVerify);
      // 3. Roll failed claws back to their previous image on the same disk, then verify again.
      if (rollbacks.length > 0) await rollBack(ctx, rollbacks);
    }

    // 4. Claws that were parked go back to parked, verified or not (a parked claw costs
    //    nothing; a failed one is reported as such either way).
    await parkAgain(ctx, parkAfter);

    const waveFailed = wave.claws.filter((c) => isFailure(state.reportOf(c)));
    state.waveReports.push({
      number,
      kind: wave.kind,
      claws: wave.claws,
      failed: waveFailed,
      verified: policy.verify,
      durationMs: now() - waveStart,
    });
    const newFailures = state.failures - failuresBefore;
    if (state.cancelled) {
      // Reported as cancelled by the final report.
    } else if (wave.kind === "canary" && newFailures > 0) {
      state.halt(`canary ${waveFailed.join(", ")} failed; the remaining waves were not started`);
    } else if (state.failures > state.maxUnhealthy) {
      state.halt(tooManyFailures(state.failures, state.maxUnhealthy));
    }
    log.info(
      `Wave ${number} done in ${formatDuration(now() - waveStart)}: ${wave.claws.length - waveFailed.length} ok, ${waveFailed.length} failed` +
        (policy.verify ? "" : " (not verified: rollout.verify is off)"),
    );
  } finally {
    log.endGroup();
  }
}

/**
 * Runs the wave's actions, at most `parallelism` at a time; returns the claws left running, and
 * those whose VM was parked before (to be parked again once verified).
 */
async function runActions(ctx: WaveContext, wave: Wave): Promise<{ done: string[]; parkAfter: string[] }> {
  const { state, log, now } = ctx;
  const done: string[] = [];
  const parkAfter: string[] = [];
  await Promise.all(
    wave.claws.map((name) =>
      ctx.limit(async () => {
        if (state.stopped()) return;
        const p = state.planOf(name);
        const r = state.reportOf(name);
        const t0 = state.startClaw(name);
        const report = state.stepReporter(name);
        report(name, p.action, actionDetail(p));
        try {
          const result = await execute(ctx.operations, p, report);
          r.outcome = DONE_OUTCOME[p.action];
          r.imageAfter = p.action === "retire" ? undefined : (result.imageVersion ?? p.targetImageVersion);
          r.health = p.action === "retire" ? "not-applicable" : "unverified";
          if (result.parkAfterVerify) parkAfter.push(name);
          if (result.leftDeallocated) {
            // Its owner had stopped it: nothing runs to verify, and nothing is called healthy.
            r.detail = "left deallocated as its owner had it; verified once it runs again";
          } else done.push(name);
          log.info(`  ${name}: ${r.outcome} (${formatDuration(now() - t0)})`);
        } catch (err) {
          r.imageAfter = undefined;
          state.fail(r, errorText(err), "unverified");
          log.warning(`${name}: ${p.action} failed after ${formatDuration(now() - t0)}: ${errorText(err)}`);
          if (state.cancelled) {
            // A cancel stopped the step in flight: the run is cancelled, not halted by this claw.
          } else if (wave.kind === "canary")
            state.halt(`canary ${name} failed: ${p.action} did not complete`);
          else if (state.failures > state.maxUnhealthy)
            state.halt(tooManyFailures(state.failures, state.maxUnhealthy));
        } finally {
          r.durationMs = now() - t0;
        }
      }),
    ),
  );
  return { done, parkAfter };
}

/** Parks again the claws whose VM was parked before their upgrade; a failure only warns. */
async function parkAgain(ctx: WaveContext, names: string[]): Promise<void> {
  const { state, log } = ctx;
  await Promise.all(
    names.map((name) =>
      ctx.limit(async () => {
        const r = state.reportOf(name);
        try {
          if (!ctx.operations.park) throw new Error("these claw operations cannot park a VM");
          await ctx.operations.park(name, state.stepReporter(name));
          r.detail = `${r.detail ? `${r.detail}; ` : ""}parked again, as it was before the upgrade`;
        } catch (err) {
          // Not a failure of the claw: it runs (and costs) until the schedule parks it.
          log.warning(`${name}: parking it again after the upgrade failed: ${errorText(err)}`);
        }
      }),
    ),
  );
}

function execute(operations: ClawOperations, p: ClawPlan, report: StepReporter): Promise<OperationResult> {
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
}

/**
 * Verifies the changed claws: healthy ones are recorded on their disks, unhealthy ones that
 * cannot be rolled back fail. Returns the claws to roll back.
 */
async function verifyChanged(ctx: WaveContext, claws: string[]): Promise<string[]> {
  const { state, log } = ctx;
  const results = await verify(ctx, claws);
  const rollbacks: string[] = [];
  for (const name of claws) {
    const r = state.reportOf(name);
    const res = results.get(name)!;
    r.detail = res.detail;
    if (res.healthy) {
      r.health = "healthy";
      log.info(`  ${name}: healthy — ${res.detail}`);
      await markHealthy(ctx, r, r.imageAfter);
      continue;
    }
    r.health = "unhealthy";
    log.warning(`${name}: unhealthy on ${r.imageAfter ?? "its new VM"} — ${res.detail}`);
    const p = state.planOf(name);
    const blocker = rollbackBlocker(p, ctx.policy);
    if (blocker) state.fail(r, `unhealthy after ${p.action}: ${res.detail} (${blocker})`, "unhealthy");
    else rollbacks.push(name);
  }
  return rollbacks;
}

/** Asks the verifier about `claws`; a claw it says nothing about, or a verifier that throws, is unhealthy. */
async function verify(ctx: WaveContext, claws: string[]): Promise<HealthResults> {
  const { state } = ctx;
  const results: HealthResults = new Map();
  for (const c of claws) state.stepReporter(c)(c, "verify");
  try {
    const health = await ctx.verifier!(claws);
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
}

/** Records `image` as healthy on the claw's disk; a failure to record it fails the claw. */
async function markHealthy(ctx: WaveContext, r: ClawReport, image: string | undefined): Promise<boolean> {
  if (!image) return true;
  ctx.state.stepReporter(r.claw)(r.claw, "mark-healthy", image);
  try {
    await ctx.operations.markHealthy(r.claw, image);
    return true;
  } catch (err) {
    ctx.state.fail(
      r,
      `verified healthy on ${image}, but recording it on the data disk failed: ${errorText(err)}`,
      "healthy",
    );
    return false;
  }
}

/** Puts unhealthy claws back on their previous image (same disk), then verifies them again. */
async function rollBack(ctx: WaveContext, names: string[]): Promise<void> {
  const { state, log } = ctx;
  const rolledBack: string[] = [];
  await Promise.all(
    names.map((name) =>
      ctx.limit(async () => {
        const p = state.planOf(name);
        const r = state.reportOf(name);
        const previous = rollbackTarget(p)!;
        const report = state.stepReporter(name);
        report(name, "rollback", `to ${previous}`);
        try {
          const result = await ctx.operations.replace(p, previous, report, { rollback: true });
          r.imageAfter = result.imageVersion ?? previous;
          rolledBack.push(name);
        } catch (err) {
          r.imageAfter = undefined;
          state.fail(r, `rollback to ${previous} failed: ${errorText(err)}`, "unhealthy");
        } finally {
          r.durationMs = state.elapsed(name);
        }
      }),
    ),
  );
  if (rolledBack.length === 0) return;
  const again = await verify(ctx, rolledBack);
  for (const name of rolledBack) {
    const r = state.reportOf(name);
    const res = again.get(name)!;
    const firstDetail = r.detail;
    if (res.healthy) {
      r.outcome = "rolled-back";
      r.health = "healthy";
      r.detail = `${r.targetImage} was unhealthy (${firstDetail}); back on ${r.imageAfter}: ${res.detail}`;
      log.info(`  ${name}: rolled back to ${r.imageAfter} and healthy`);
      // A rolled-back claw counts as a failure of the new image (markHealthy counts its own).
      if (await markHealthy(ctx, r, r.imageAfter)) state.failures++;
    } else {
      r.detail = res.detail;
      state.fail(
        r,
        `unhealthy on ${r.targetImage} (${firstDetail}) and still unhealthy after rollback to ${r.imageAfter}`,
        "unhealthy",
      );
      log.warning(`${name}: still unhealthy after rollback to ${r.imageAfter} — ${res.detail}`);
    }
    r.durationMs = state.elapsed(name);
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
