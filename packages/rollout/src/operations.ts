// The seam between the rollout engine (this package: waves, verification gates, rollback,
// reporting) and the code that touches Azure (@openclawps/azure implements ClawOperations
// and FleetLease). The engine is tested against in-memory implementations of these
// interfaces as well as against the real adapter on the local Azure.
import type { ClawPlan } from "@openclawps/fleet-model";

/** Progress callback: one line per claw step ("deallocate", "snapshot", "delete-vm", ...). */
export type StepReporter = (claw: string, step: string, detail?: string) => void;

/** What an operation did, for the final report. */
export interface OperationResult {
  claw: string;
  /** Image version the claw's VM now runs (after the operation). */
  imageVersion?: string;
  /** Resource ids touched, for the report. */
  vmId?: string;
  dataDiskId?: string;
  snapshotId?: string;
  /**
   * The claw's VM was left deallocated because its owner had deallocated the VM the operation
   * replaced: nothing to verify until it runs again.
   */
  leftDeallocated?: boolean;
  /**
   * The VM the operation replaced was parked by the power schedule or an operator: the new one
   * runs to be verified, and the rollout parks it again (`park`) once the wave is verified.
   */
  parkAfterVerify?: boolean;
}

/**
 * Executes single-claw plan steps against Azure. Every method must uphold the apply
 * invariants of the design (no data disk ever deleted; disk tagged with the current image
 * before the VM is deleted; deallocate + optional snapshot before a replace; the new VM
 * attaches the existing disk at LUN 0 in its create request) and be safe to re-run after a
 * crash at any point. Methods throw on failure with a message naming the claw, the step
 * and the ARM error code.
 */
export interface ClawOperations {
  /** Public IP, NIC, data disk (if absent), VM. */
  create(plan: ClawPlan, report: StepReporter): Promise<OperationResult>;
  /** VM around the existing disk (NIC/PIP created if missing). */
  recover(plan: ClawPlan, report: StepReporter): Promise<OperationResult>;
  /**
   * New VM on `imageVersion` around the same disk (also used for rollback with the
   * previous image). Grows the disk on the way when the plan asks for it. A rollback
   * (`rollback: true`) takes down a VM whose image failed verification: it never records that
   * image on the disk as one the claw can return to.
   */
  replace(
    plan: ClawPlan,
    imageVersion: string,
    report: StepReporter,
    options?: { rollback?: boolean },
  ): Promise<OperationResult>;
  /** Change VM size (deallocate → update → start). */
  resize(plan: ClawPlan, report: StepReporter): Promise<OperationResult>;
  /** Grow the data disk in place (deallocating the VM when Azure requires it). */
  growDisk(plan: ClawPlan, report: StepReporter): Promise<OperationResult>;
  /** Delete VM (data disk detached), NIC and public IP; the disk stays. */
  retire(plan: ClawPlan, report: StepReporter): Promise<OperationResult>;
  /** Record on the claw's data disk that `imageVersion` passed verification on it. */
  markHealthy(claw: string, imageVersion: string): Promise<void>;
  /** Deallocate the claw's VM again after its upgrade was verified (see parkAfterVerify). */
  park?(claw: string, report: StepReporter): Promise<void>;
}

/** One rollout per fleet at a time: a lease recorded on the resource group. */
export interface FleetLease {
  /**
   * Take the lease for `runId` for `ttlSeconds`. Throws a user-facing error naming the holder
   * and its expiry when another live run holds it (or a stale one, unless `force`).
   */
  acquire(runId: string, ttlSeconds: number, force: boolean): Promise<void>;
  /** Extend while a long rollout runs. */
  renew(runId: string, ttlSeconds: number): Promise<void>;
  /** Release if held by runId. */
  release(runId: string): Promise<void>;
}

export interface ClawHealth {
  claw: string;
  healthy: boolean;
  /** One line: why unhealthy, or a short summary when healthy. */
  detail: string;
}

/** Wave gate: proves a set of claws healthy (over SSH, via @openclawps/verify). */
export type WaveVerifier = (claws: string[]) => Promise<ClawHealth[]>;
