// Client-side throttling for ARM requests: token buckets that mirror Azure Resource Manager's
// subscription limits (with headroom), plus a bound on requests in flight.
//
// ARM throttles per subscription, per service principal and per operation type with token
// buckets: reads 250 burst / 25 per second, writes 200 / 10 per second, deletes 200 / 10 per
// second (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
// "Regional throttling and token bucket algorithm"). Staying under them keeps a 200-claw rollout
// from spending its time in 429 back-off; the SDK's retry policy still honours Retry-After for
// the 429s that happen anyway (other principals share the subscription's global bucket).
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import pLimit, { type LimitFunction } from "p-limit";

export type ArmOperationType = "read" | "write" | "delete";

export interface BucketLimit {
  /** Tokens available at once (the burst). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
}

export type RateLimits = Record<ArmOperationType, BucketLimit> & {
  /** Writes (PUT/PATCH/DELETE/POST actions) to one virtual machine. */
  vmWrite?: BucketLimit;
};

/**
 * ARM's documented subscription buckets, and Compute's per-VM limit on create/update/delete
 * and power actions (about 12 burst, 4 per minute:
 * https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshooting-throttling-errors).
 */
export const ARM_SUBSCRIPTION_LIMITS: Required<RateLimits> = {
  read: { burst: 250, perSecond: 25 },
  write: { burst: 200, perSecond: 10 },
  delete: { burst: 200, perSecond: 10 },
  vmWrite: { burst: 12, perSecond: 4 / 60 },
};

/**
 * What we allow ourselves: 80% of ARM's subscription buckets, leaving room for other callers.
 * The per-VM bucket is off by default: one claw step makes at most four writes to its VM, and a
 * VM-level 429 is retried after its Retry-After like any other; set `vmWrite` to pace them here.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = (() => {
  const { vmWrite: _, ...subscription } = scaleLimits(ARM_SUBSCRIPTION_LIMITS, 0.8);
  return subscription;
})();

export function scaleLimits(limits: Required<RateLimits>, factor: number): Required<RateLimits> {
  const scale = (b: BucketLimit): BucketLimit => ({
    burst: Math.max(1, Math.floor(b.burst * factor)),
    perSecond: b.perSecond * factor,
  });
  return {
    read: scale(limits.read),
    write: scale(limits.write),
    delete: scale(limits.delete),
    vmWrite: scale(limits.vmWrite),
  };
}

/**
 * Benchmark and test knob: the time scale the client's buckets refill at. The local Azure runs
 * every Azure duration (latencies, its own buckets' refill) at a time scale; at 0.1 its buckets
 * refill ten times as fast, and a limiter refilling in real time would be ten times tighter than
 * the Azure it paces. Default 1 (Azure's own time); read only here.
 */
export const LIMITER_TIME_SCALE_ENV = "OPENCLAWPS_ARM_LIMITER_TIME_SCALE";

export function limiterTimeScaleFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LIMITER_TIME_SCALE_ENV];
  if (raw === undefined || raw.trim() === "") return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(
      `${LIMITER_TIME_SCALE_ENV}=${raw} is not a time scale: expected a positive number (0.1 = ten times faster than Azure; default 1)`,
    );
  }
  return scale;
}

/** Limits whose refill runs at `timeScale` (a second of Azure lasts `timeScale` seconds). */
export function atTimeScale(limits: RateLimits, timeScale: number): RateLimits {
  if (timeScale === 1) return limits;
  const scale = (b: BucketLimit): BucketLimit => ({ burst: b.burst, perSecond: b.perSecond / timeScale });
  return {
    read: scale(limits.read),
    write: scale(limits.write),
    delete: scale(limits.delete),
    ...(limits.vmWrite ? { vmWrite: scale(limits.vmWrite) } : {}),
  };
}

/** A classic token bucket; `take()` resolves when a token is available (FIFO). */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: BucketLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.burst >= 1) || !(limit.perSecond > 0)) {
      throw new Error(`invalid token bucket limit ${JSON.stringify(limit)}`);
    }
    this.tokens = limit.burst;
    this.last = this.now();
  }

  take(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.drain();
    });
  }

  /** Tokens currently available (after refill), for tests and diagnostics. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((t - this.last) / 1000) * this.limit.perSecond);
    this.last = t;
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()!();
    }
    if (this.queue.length > 0 && this.timer === undefined) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.limit.perSecond) * 1000);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, waitMs);
    }
  }
}

export function operationTypeOf(method: string): ArmOperationType {
  switch (method.toUpperCase()) {
    case "GET":
    case "HEAD":
      return "read";
    case "DELETE":
      return "delete";
    default:
      return "write";
  }
}

/** `/subscriptions/.../virtualMachines/{name}` of a request URL, lower-cased; undefined for other resources. */
export function vmOf(url: string): string | undefined {
  const path = url.split("?")[0] ?? "";
  return /\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachines\/[^/]+/i
    .exec(path)?.[0]
    ?.toLowerCase();
}

/** Shared by every ARM client of one connection, so the buckets see all of its traffic. */
export class ArmRequestLimiter {
  readonly buckets: Record<ArmOperationType, TokenBucket>;
  private readonly vmBuckets = new Map<string, TokenBucket>();
  private readonly vmWrite: BucketLimit | undefined;
  private readonly inFlight: LimitFunction;
  /** Requests sent (each retry counts), by operation type. */
  readonly sent: Record<ArmOperationType, number> = { read: 0, write: 0, delete: 0 };

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS, maxParallel = 16) {
    this.buckets = {
      read: new TokenBucket(limits.read),
      write: new TokenBucket(limits.write),
      delete: new TokenBucket(limits.delete),
    };
    this.vmWrite = limits.vmWrite;
    this.inFlight = pLimit(maxParallel);
  }

  /** Waits for the tokens one request needs. */
  async admit(method: string, url: string): Promise<void> {
    const type = operationTypeOf(method);
    const vm = type !== "read" && this.vmWrite ? vmOf(url) : undefined;
    if (vm) {
      let bucket = this.vmBuckets.get(vm);
      if (!bucket) {
        bucket = new TokenBucket(this.vmWrite!);
        this.vmBuckets.set(vm, bucket);
      }
      await bucket.take();
    }
    await this.buckets[type].take();
    this.sent[type] += 1;
  }

  /**
   * A pipeline policy placed after the retry policy, so every attempt (including retries
   * after a 429) waits for a token and a free slot.
   */
  policy(): PipelinePolicy {
    return {
      name: "openclawpsArmRequestLimiter",
      sendRequest: (request, next) =>
        this.inFlight(async () => {
          await this.admit(request.method, request.url);
          return next(request);
        }),
    };
  }
}
