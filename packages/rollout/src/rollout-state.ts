// Rollout state: what the rollout knows while it runs — a report per claw of the plan, the wave
// reports, the failure count and why it halted — and the one place that turns it into the final
// RolloutReport. Every claw starts `skipped` (scheduled) or `unchanged` (in no wave); the wave
// steps move it on.
import {
  type ClawPlan,
  formatDuration,
  type Plan,
  type RolloutPolicy,
  type Wave,
} from "@openclawps/fleet-model";
import type { RolloutLog } from "./log.ts";
import type { StepReporter } from "./operations.ts";
import type { ClawReport, RolloutReport, RolloutStatus, WaveReport } from "./report.ts";

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export interface RolloutStateOptions {
  plan: Plan;
  waves: Wave[];
  policy: RolloutPolicy;
  maxUnhealthy: number;
  runId: string;
  log: RolloutLog;
  signal?: AbortSignal;
  now: () => number;
}

export class RolloutState {
  readonly waveReports: WaveReport[] = [];
  /** Claws failed so far (an action that threw, a claw unhealthy or rolled back). */
  failures = 0;
  private haltReason: string | undefined;
  private readonly byName: Map<string, ClawPlan>;
  private readonly reports = new Map<string, ClawReport>();
  /** When each claw's work started, for the elapsed times of its steps. */
  private readonly clawStarted = new Map<string, number>();
  private readonly started: number;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly options: RolloutStateOptions) {
    const { plan, waves, now } = options;
    this.started = now();
    this.byName = new Map(plan.claws.map((c) => [c.claw, c]));
    // Waves are numbered by position, from 1, in logs and the report.
    const waveOf = new Map<string, number>();
    waves.forEach((w, i) => {
      for (const c of w.claws) waveOf.set(c, i + 1);
    });
    for (const c of plan.claws) {
      const scheduledIn = waveOf.get(c.claw);
      this.reports.set(c.claw, {
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
  }

  get maxUnhealthy(): number {
    return this.options.maxUnhealthy;
  }

  planOf(claw: string): ClawPlan {
    return this.byName.get(claw)!;
  }

  reportOf(claw: string): ClawReport {
    return this.reports.get(claw)!;
  }

  /** Halts the rollout (the first reason wins): claws not yet started stay untouched. */
  halt(reason: string): void {
    if (this.haltReason === undefined) {
      this.haltReason = reason;
      this.options.log.warning(`Halting the rollout: ${reason}`);
    }
  }

  get cancelled(): boolean {
    return this.options.signal?.aborted === true;
  }

  /** Halted or cancelled: start nothing more. */
  stopped(): boolean {
    return this.haltReason !== undefined || this.cancelled;
  }

  fail(r: ClawReport, error: string, health: ClawReport["health"]): void {
    r.outcome = "failed";
    r.error = error;
    r.health = health;
    this.failures++;
  }

  /** Starts the clock of a claw's work; returns the start. */
  startClaw(claw: string): number {
    const t0 = this.options.now();
    this.clawStarted.set(claw, t0);
    return t0;
  }

  /** Milliseconds since the claw's work started. */
  elapsed(claw: string): number {
    const now = this.options.now();
    return now - (this.clawStarted.get(claw) ?? now);
  }

  /**
   * The step reporter handed to the operations for claw `name`: records each step on the claw's
   * report and logs it with its elapsed time.
   */
  stepReporter(name: string): StepReporter {
    return (claw, step, detail) => {
      const r = this.reports.get(claw) ?? this.reports.get(name)!;
      const elapsedMs = this.elapsed(r.claw);
      r.steps.push({ name: step, detail, elapsedMs });
      this.options.log.info(
        `  ${r.claw}: ${step}${detail ? ` — ${detail}` : ""} (+${formatDuration(elapsedMs)})`,
      );
    };
  }

  /** The final report: claws never started are explained, the status says how it ended. */
  finish(): RolloutReport {
    const { plan, waves, policy, runId, now } = this.options;
    const cancelled = this.cancelled && this.haltReason === undefined;
    const stopReason = this.haltReason ?? (cancelled ? "the run was cancelled" : undefined);
    for (const r of this.reports.values()) {
      if (r.outcome === "skipped" && r.steps.length === 0) {
        r.detail = `not started: ${stopReason ?? "not reached"}; nothing was changed`;
        r.imageAfter = r.fromImage;
      }
    }
    let status: RolloutStatus;
    if (waves.length === 0) status = "nothing-to-do";
    else if (this.haltReason !== undefined) status = "halted";
    else if (cancelled) status = "cancelled";
    else if (this.failures > 0) status = "completed-with-failures";
    else status = "succeeded";
    return {
      runId,
      status,
      haltReason: stopReason,
      verification: policy.verify,
      maxUnhealthy: this.maxUnhealthy,
      startedAt: this.startedAt,
      durationMs: now() - this.started,
      waves: this.waveReports,
      claws: plan.claws.map((c) => this.reports.get(c.claw)!),
    };
  }
}
