// What a rollout did, claw by claw. The report is the rollout's only output: the action renders
// it as the job summary and emits it as the `result` output, so it must say exactly what
// happened to every claw of the plan, including the ones the rollout never touched.
import type { ActionKind, Wave } from "@openclawps/fleet-model";

/**
 * What happened to the claw's resources.
 * - `created` / `recovered` / `replaced` / `resized` / `disk-grown` / `retired`: the plan's
 *   action completed (see `health` for whether the claw was then proven healthy);
 * - `rolled-back`: the new VM failed verification and the claw runs its previous image again;
 * - `failed`: the action, its verification or its rollback failed (see `error`);
 * - `skipped`: the rollout halted or was cancelled before reaching this claw — nothing touched;
 * - `unchanged`: nothing to do (noop), or reported only (orphan, blocked).
 */
export type ClawOutcome =
  | "created"
  | "recovered"
  | "replaced"
  | "resized"
  | "disk-grown"
  | "retired"
  | "rolled-back"
  | "failed"
  | "skipped"
  | "unchanged";

/**
 * Whether the claw was proven to work after the rollout touched it.
 * - `healthy`: the wave verifier passed it (after a rollback: on the previous image);
 * - `unhealthy`: the verifier ran and failed it;
 * - `unverified`: its VM was changed and nobody checked it (verification off, or the action
 *   failed before it could be checked). Never read as healthy.
 * - `not-applicable`: no VM to check (retired, skipped, unchanged).
 */
export type ClawHealthState = "healthy" | "unhealthy" | "unverified" | "not-applicable";

export interface ClawStep {
  /** "deallocate", "snapshot", "delete-vm", "create-vm", "verify", "rollback", ... */
  name: string;
  detail?: string;
  /** Milliseconds since the claw's work started when this step began. */
  elapsedMs: number;
}

export interface ClawReport {
  claw: string;
  action: ActionKind;
  outcome: ClawOutcome;
  health: ClawHealthState;
  /** The plan's reason for the action. */
  reason: string;
  /** Image version before the rollout. */
  fromImage?: string;
  /** Image version the plan wanted. */
  targetImage?: string;
  /** Image version the claw's VM runs after the rollout, as far as the rollout knows. */
  imageAfter?: string;
  /** Number (from 1) of the wave that held the claw; absent for claws in no wave. */
  wave?: number;
  /** One line: the verifier's summary, or why the claw was skipped. */
  detail?: string;
  /** The error that failed the claw (ARM error text from the adapter; never a secret). */
  error?: string;
  steps: ClawStep[];
  durationMs: number;
}

export interface WaveReport {
  /** Position of the wave in the rollout, from 1. */
  number: number;
  kind: Wave["kind"];
  claws: string[];
  /** Claws of the wave that ended unhealthy or failed. */
  failed: string[];
  /** Whether the wave's claws were verified. */
  verified: boolean;
  durationMs: number;
}

export type RolloutStatus =
  /** Every claw's action completed (health may still be `unverified` when verification is off). */
  | "succeeded"
  /** Some claws failed, within the max-unhealthy budget: the rollout ran to the end. */
  | "completed-with-failures"
  /** Failures beyond the budget (or a canary failure) stopped the rollout. */
  | "halted"
  /** The run was cancelled; claws not started were skipped. */
  | "cancelled"
  /** The plan had nothing to do. */
  | "nothing-to-do";

export interface RolloutReport {
  runId: string;
  status: RolloutStatus;
  /** Why the rollout halted or was cancelled. */
  haltReason?: string;
  /** Whether waves were verified (false: every changed claw is `unverified`). */
  verification: boolean;
  /** Failures tolerated before halting (resolved from the policy's count or percent). */
  maxUnhealthy: number;
  startedAt: string;
  durationMs: number;
  waves: WaveReport[];
  /** Every claw of the plan, in plan order. */
  claws: ClawReport[];
}

/** Claws per outcome, for one-line summaries. */
export function countOutcomes(report: RolloutReport): Partial<Record<ClawOutcome, number>> {
  const counts: Partial<Record<ClawOutcome, number>> = {};
  for (const c of report.claws) counts[c.outcome] = (counts[c.outcome] ?? 0) + 1;
  return counts;
}
