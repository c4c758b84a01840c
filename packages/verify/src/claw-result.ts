// How either transport ends a claw's verification: the result stamped with its duration and
// reported as the "done" progress event, one line saying healthy or why not.
import type { ClawVerification, VerifyPhase } from "./types.ts";

type ResultBody = Omit<ClawVerification, "name" | "host" | "port" | "durationMs">;

export interface ClawResult {
  /** The claw's result, with its duration; reported as done. */
  finish(result: ResultBody): ClawVerification;
  /** An unhealthy result without checks: the claw could not be verified, and why. */
  unhealthy(
    reason: ClawVerification["reason"],
    error: string,
    extra?: Partial<ClawVerification>,
  ): ClawVerification;
}

/** The body of a result with no checks run: unhealthy, and why the claw could not be verified. */
export function noChecks(reason: ClawVerification["reason"], error: string): ResultBody {
  return { healthy: false, checks: [], passed: 0, failed: 0, warnings: 0, reason, error };
}

export function clawResult(
  base: Pick<ClawVerification, "name" | "host" | "port">,
  startedAt: number,
  report: (phase: VerifyPhase, message: string) => void,
): ClawResult {
  const finish = (result: ResultBody): ClawVerification => {
    const done: ClawVerification = { ...base, ...result, durationMs: Date.now() - startedAt };
    report("done", done.healthy ? "healthy" : `unhealthy: ${done.error ?? `${done.failed} check(s) failed`}`);
    return done;
  };
  return {
    finish,
    unhealthy: (reason, error, extra = {}) => finish({ ...noChecks(reason, error), ...extra }),
  };
}
