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

export type RateLimits = Record<ArmOperationType, BucketLimit>;

/** ARM's documented subscription buckets. */
export const ARM_SUBSCRIPTION_LIMITS: RateLimits = {
  read: { burst: 250, perSecond: 25 },
  write: { burst: 200, perSecond: 10 },
  delete: { burst: 200, perSecond: 10 },
};

/** What we allow ourselves: 80% of ARM's buckets, leaving room for other callers on the subscription. */
export const DEFAULT_RATE_LIMITS: RateLimits = scaleLimits(ARM_SUBSCRIPTION_LIMITS, 0.8);

export function scaleLimits(limits: RateLimits, factor: number): RateLimits {
  const scale = (b: BucketLimit): BucketLimit => ({
    burst: Math.max(1, Math.floor(b.burst * factor)),
    perSecond: b.perSecond * factor,
  });
  return { read: scale(limits.read), write: scale(limits.write), delete: scale(limits.delete) };
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

/** Shared by every ARM client of one connection, so the buckets see all of its traffic. */
export class ArmRequestLimiter {
  readonly buckets: Record<ArmOperationType, TokenBucket>;
  private readonly inFlight: LimitFunction;
  /** Requests sent (each retry counts), by operation type. */
  readonly sent: Record<ArmOperationType, number> = { read: 0, write: 0, delete: 0 };

  constructor(limits: RateLimits = DEFAULT_RATE_LIMITS, maxParallel = 16) {
    this.buckets = {
      read: new TokenBucket(limits.read),
      write: new TokenBucket(limits.write),
      delete: new TokenBucket(limits.delete),
    };
    this.inFlight = pLimit(maxParallel);
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
          const type = operationTypeOf(request.method);
          await this.buckets[type].take();
          this.sent[type] += 1;
          return next(request);
        }),
    };
  }
}
