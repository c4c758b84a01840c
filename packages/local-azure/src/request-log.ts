// Every request the stand-in answered: tests and benchmarks count ARM calls per operation, and the
// role-definition test derives least-privilege permissions from the ARM action strings.
import { retryAfterMsOf } from "./retry-after.ts";

export interface RequestLogEntry {
  method: string;
  path: string;
  /** Query string without the leading `?`. */
  query: string;
  /** `virtualMachines.createOrUpdate`, `operations.get`, `entra.token`, `github.idToken`, ... */
  operation: string;
  /** ARM action an RBAC role needs (`Microsoft.Compute/virtualMachines/write`); "" outside ARM. */
  action: string;
  /** Scope the action applies to; for `entra.token`, the token scope the client asked for. */
  scope: string;
  /** "arm" | "entra" | "github" | "control" | "keyvault" (a vault's data plane) | "imds". */
  service: "arm" | "entra" | "github" | "control" | "keyvault" | "imds";
  /** True for long-running-operation status polls. */
  polling: boolean;
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
  /** The wait the answer asked for before the next poll (`retry-after-ms`, else `Retry-After`), ms. */
  retryAfterMs?: number;
  /**
   * On the answer that accepts a long-running operation: the path of the status URL the client
   * polls (`Azure-AsyncOperation`, else `Location`), so polls can be counted per operation.
   */
  statusPath?: string;
  /** ARM error code when the answer was an error. */
  errorCode?: string;
}

export interface CountFilter {
  /** Only requests at or after this epoch ms. */
  since?: number;
  /** Leave out LRO status polls. */
  excludePolling?: boolean;
  /** Only operations matching. */
  operation?: string | RegExp;
  /** Only requests answered with a status below 400. */
  successfulOnly?: boolean;
}

export interface Counts {
  /** ARM GET/HEAD requests. */
  reads: number;
  /** ARM PUT/PATCH/POST/DELETE requests. */
  writes: number;
  byOperation: Record<string, number>;
}

export function countRequests(log: RequestLogEntry[], filter: CountFilter = {}): Counts {
  const counts: Counts = { reads: 0, writes: 0, byOperation: {} };
  for (const e of log) {
    if (e.service !== "arm") continue;
    if (filter.since !== undefined && e.at < filter.since) continue;
    if (filter.excludePolling && e.polling) continue;
    if (filter.successfulOnly && e.status >= 400) continue;
    if (filter.operation !== undefined) {
      const ok =
        typeof filter.operation === "string"
          ? e.operation === filter.operation
          : filter.operation.test(e.operation);
      if (!ok) continue;
    }
    if (e.method === "GET" || e.method === "HEAD") counts.reads++;
    else counts.writes++;
    counts.byOperation[e.operation] = (counts.byOperation[e.operation] ?? 0) + 1;
  }
  return counts;
}

/** Notes on a successful ARM answer the pace it asked for and the status URL it named. */
export function recordPace(entry: RequestLogEntry, headers: Record<string, string> | undefined): void {
  const waitMs = retryAfterMsOf(headers);
  if (waitMs !== undefined) entry.retryAfterMs = waitMs;
  const status = headers?.["azure-asyncoperation"] ?? headers?.location;
  if (status !== undefined && !entry.polling) entry.statusPath = new URL(status).pathname;
}
