// How often each kind of long-running operation is polled when ARM says nothing.
//
// The SDK's poller (@azure/core-lro 3, createHttpPoller) polls once right after the operation is
// accepted, then every `updateIntervalInMs` (the fallback below); ARM's own `Retry-After` is applied
// by the `LroPacing` policy further down, which holds a poll until the time ARM asked for. What ARM
// sends differs per resource provider (recorded answers of the public SDKs' test suites):
//   - Microsoft.Network (public IP, NIC, VNet): the 201/202 carries `Retry-After: 3` on a create and
//     `10` on a delete, and every `InProgress` status answer `Retry-After: 10`; the final answer
//     none. A NIC create may answer 201 already `Succeeded`.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/network/azure-mgmt-network/tests/recordings/test_cli_mgmt_network_ip_addresses.pyTestMgmtNetworktest_network.json
//     https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/compute/arm-compute/recordings/node/compute_test/recording_virtualmachines_create_test.json
//   - Microsoft.Compute virtual machines: the 201 of a create carries `Retry-After: 10`, its first
//     `InProgress` status answer `Retry-After: 50` and later ones none (same JS recording).
//   - Microsoft.Compute disks and snapshots (`DiskOperations`): no `Retry-After` at all; an empty
//     disk is created in a fraction of a second.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/compute/azure-mgmt-compute/tests/recordings/test_mgmt_managed_disks.test_empty_md.yaml
// So the fallback matters most for disks: at the VM's 10 s an empty disk that takes one second
// would cost ten. Each kind's fallback is a share of the VM operations' interval (the
// `pollIntervalMs` option), so one setting scales them all (tests use 0, the benchmark a scaled one).
import { AbortError, type AbortSignalLike } from "@azure/abort-controller";
import type { HttpHeaders, PipelinePolicy } from "@azure/core-rest-pipeline";
import { retryAfterValueMs } from "@openclawps/action-kit/http-request";

/** A family of long-running operations that ARM answers alike. */
export type LroKind = "vm" | "disk" | "snapshot" | "network" | "runCommand" | "shared";

/**
 * Share of `pollIntervalMs` (default 10 s) each kind waits between polls when ARM sends no
 * Retry-After: VM operations take 30-90 s; network writes finish in seconds and ARM paces them
 * with its own Retry-After; disk writes finish in about a second and ARM sends no pace at all;
 * an incremental snapshot takes seconds to minutes.
 */
export const LRO_POLL_SHARE: Record<LroKind, number> = {
  vm: 1,
  runCommand: 1,
  shared: 1,
  network: 0.2,
  snapshot: 0.2,
  disk: 0.1,
};

/** Default interval of VM operations when ARM sends no Retry-After, ms. */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

/** The poller's fallback interval for one kind of operation, ms. */
export function pollIntervalFor(kind: LroKind, vmIntervalMs: number): number {
  return Math.round(vmIntervalMs * LRO_POLL_SHARE[kind]);
}

// ---- Pacing: ARM's Retry-After, applied by a pipeline policy instead of the poller ----
//
// The poller (core-lro 3.3, poller/operation.js and http/operation.js `parseRetryAfter`) reads
// only `retry-after`, only on status answers (never on the answer that accepts the operation),
// and keeps the last one it read as its interval until another comes: a VM create's 50 s first
// status becomes every later poll's pace, a network write's 3 s on its 201 is never seen, and its
// status's 10 s turns a 3 s write into 10. The `LroPacing` policy takes the hints out of the
// poller's hands: it remembers "not before T" per status URL, holds the next GET of that URL until
// T, and strips the hint from what the poller sees, so the poller keeps its kind's fallback
// (`pollIntervalFor`, its `updateIntervalInMs`): a poll goes out at the later of the fallback and
// the time ARM named, never before the latter, and right at it when the fallback is shorter.
// `retry-after-ms` / `x-ms-retry-after-ms` carry milliseconds and come first, as core-rest-pipeline's
// throttlingRetryStrategy reads them ("retry-after-ms", "x-ms-retry-after-ms" : milliseconds,
// "Retry-After" : seconds or timestamp).

/** The hint headers, most precise first. */
const RETRY_AFTER_MS_HEADERS = ["retry-after-ms", "x-ms-retry-after-ms"] as const;
const RETRY_AFTER_HEADER = "retry-after";
/** How long a status URL is remembered after it was last seen (an abandoned operation's entry). */
const FORGET_AFTER_MS = 15 * 60_000;

/** The delay a 2xx answer asks for before the next poll, ms; undefined when it asks for none. */
export function retryAfterMsOf(headers: HttpHeaders, now: number = Date.now()): number | undefined {
  for (const name of RETRY_AFTER_MS_HEADERS) {
    const ms = Number(headers.get(name));
    if (headers.has(name) && Number.isFinite(ms) && ms >= 0) return ms;
  }
  return retryAfterValueMs(headers.get(RETRY_AFTER_HEADER), now);
}

/** The key of a status URL: its path (an operation id is in it; Compute's `?monitor=true` is the same operation). */
function statusKey(url: string): string {
  try {
    return new URL(url).pathname.toLowerCase();
  } catch {
    return url.split("?")[0]!.toLowerCase();
  }
}

interface StatusEntry {
  /** Epoch ms before which the next GET of the status URL is not sent. */
  notBefore: number;
  /** Epoch ms it was last registered or polled. */
  seen: number;
}

/**
 * Applies ARM's `Retry-After` on long-running operations for every client of one connection.
 * Place it per call, outside the limiter: a held poll takes no slot and no token while it waits.
 */
export class LroPacing {
  private readonly statuses = new Map<string, StatusEntry>();
  /** Polls held, and the ms they waited in total (diagnostics and tests). */
  readonly held = { polls: 0, ms: 0 };
  private registered = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** When the next poll of this status URL may be sent (epoch ms); undefined when it is not a known status URL. */
  notBefore(url: string): number | undefined {
    return this.statuses.get(statusKey(url))?.notBefore;
  }

  policy(): PipelinePolicy {
    return {
      name: "openclawpsLroPacing",
      sendRequest: async (request, next) => {
        const method = request.method.toUpperCase();
        const key = method === "GET" ? statusKey(request.url) : undefined;
        const entry = key === undefined ? undefined : this.statuses.get(key);
        if (entry) await this.hold(entry.notBefore, request.abortSignal);
        const response = await next(request);
        if (response.status < 200 || response.status >= 300) return response;
        const statusUrls = ["azure-asyncoperation", "location"]
          .map((h) => response.headers.get(h))
          .filter((u): u is string => u !== undefined && u !== "");
        // A write's answer names its status URLs; a status answer is a GET of one it named
        // (and a Location poll's 202 may name the next).
        const isWrite = method === "PUT" || method === "POST" || method === "DELETE" || method === "PATCH";
        if (!isWrite && !entry) return response;
        const waitMs = retryAfterMsOf(response.headers, this.now());
        const at = this.now();
        const notBefore = at + (waitMs ?? 0);
        const remember = (k: string) => this.statuses.set(k, { notBefore, seen: at });
        if (key !== undefined && entry) remember(key);
        for (const u of statusUrls) remember(statusKey(u));
        if (isWrite && statusUrls.length > 0 && ++this.registered % 256 === 0) this.forgetStale(at);
        if (entry || statusUrls.length > 0) {
          for (const h of [...RETRY_AFTER_MS_HEADERS, RETRY_AFTER_HEADER]) response.headers.delete(h);
        }
        return response;
      },
    };
  }

  private async hold(notBefore: number, signal: AbortSignalLike | undefined): Promise<void> {
    const ms = notBefore - this.now();
    if (ms <= 0) return;
    this.held.polls += 1;
    this.held.ms += ms;
    await abortableDelay(ms, signal);
  }

  private forgetStale(now: number): void {
    for (const [k, e] of this.statuses) {
      if (now - Math.max(e.seen, e.notBefore) > FORGET_AFTER_MS) this.statuses.delete(k);
    }
  }
}

/** Waits `ms`, or rejects with the SDK's AbortError as soon as the signal aborts. */
function abortableDelay(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortError("The operation was aborted."));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError("The operation was aborted."));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
