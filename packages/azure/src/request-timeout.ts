// A client-side deadline for every ARM request. Azure sets none that a hung connection honours:
// without one, a request that never gets an answer holds the job (and the rollout lease
// heartbeat) until the job's own 6-hour limit.
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

/** ARM answers in seconds; a long-running operation answers at once and is polled. */
export const REQUEST_TIMEOUT_MS = 2 * 60_000;

/** No answer from ARM in time; the message names the request and the deadline. */
export class ArmRequestTimeoutError extends Error {
  constructor(method: string, url: string, ms: number) {
    super(
      `Azure Resource Manager did not answer ${method} ${new URL(url).pathname} within ${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s; ` +
        "nothing was assumed done. Check https://azure.status.microsoft for an incident, then run again",
    );
    this.name = "ArmRequestTimeoutError";
  }
}

/**
 * Sets a timeout on each request that has none and turns the HTTP client's abort into
 * ArmRequestTimeoutError. A caller's own abort (a step deadline, a cancel) passes through as it was.
 */
export function requestTimeoutPolicy(ms: number): PipelinePolicy {
  return {
    name: "openclawps-request-timeout",
    async sendRequest(request, next) {
      if (!request.timeout) request.timeout = ms;
      try {
        return await next(request);
      } catch (err) {
        const aborted = err instanceof Error && err.name === "AbortError";
        if (aborted && !request.abortSignal?.aborted)
          throw new ArmRequestTimeoutError(request.method, request.url, request.timeout);
        throw err;
      }
    },
  };
}
