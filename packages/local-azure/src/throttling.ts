// ARM request throttling with token buckets.
// Subscription limits (per principal, per subscription, per region instance):
// reads 250 burst / 25 per second, writes 200 / 10 per second, deletes 200 / 10 per second.
// https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling#subscription-and-tenant-limits
// Compute adds per-resource policies; for one VM: create/update/delete about 12 burst, 4 per minute.
// https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/troubleshooting-throttling-errors
// A throttled request gets 429, `Retry-After` (seconds) and the `x-ms-ratelimit-remaining-*` headers.
// Buckets refill at the stand-in's time scale, like every duration: at 0.01 a second of Azure
// passes in 10 ms, so a bucket refills 100 times as fast (at 0, instant time, they refill as in Azure).
import { ArmError } from "./arm-error.ts";

export interface BucketConfig {
  /** Bucket size (the burst). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
}

export interface ThrottleConfig {
  subscriptionReads: BucketConfig;
  subscriptionWrites: BucketConfig;
  subscriptionDeletes: BucketConfig;
  /** Per virtual machine: PUT / PATCH / DELETE and power actions. */
  vmWrites: BucketConfig;
}

export const AZURE_THROTTLE_LIMITS: ThrottleConfig = {
  subscriptionReads: { burst: 250, perSecond: 25 },
  subscriptionWrites: { burst: 200, perSecond: 10 },
  subscriptionDeletes: { burst: 200, perSecond: 10 },
  vmWrites: { burst: 12, perSecond: 4 / 60 },
};

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly config: BucketConfig,
    now: number,
  ) {
    this.tokens = config.burst;
    this.last = now;
  }

  private refill(now: number): void {
    const elapsed = (now - this.last) / 1000;
    this.tokens = Math.min(this.config.burst, this.tokens + elapsed * this.config.perSecond);
    this.last = now;
  }

  /** Takes a token; returns the seconds to wait when none is left. */
  take(now: number): { ok: true; remaining: number } | { ok: false; retryAfter: number } {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true, remaining: Math.floor(this.tokens) };
    }
    const wait = (1 - this.tokens) / this.config.perSecond;
    return { ok: false, retryAfter: Math.max(1, Math.ceil(wait)) };
  }
}

export class Throttling {
  private config: ThrottleConfig | undefined;
  private buckets = new Map<string, Bucket>();
  private timeScale = 0;

  constructor(setting: boolean | Partial<ThrottleConfig> | undefined) {
    this.set(setting);
  }

  /** Refill rates follow the time scale from now on (buckets start full again). */
  setTimeScale(scale: number): void {
    this.timeScale = scale;
    this.buckets.clear();
  }

  set(setting: boolean | Partial<ThrottleConfig> | undefined): void {
    this.buckets.clear();
    if (!setting) this.config = undefined;
    else if (setting === true) this.config = AZURE_THROTTLE_LIMITS;
    else this.config = { ...AZURE_THROTTLE_LIMITS, ...setting };
  }

  get enabled(): boolean {
    return this.config !== undefined;
  }

  private bucket(name: string, config: BucketConfig, now: number): Bucket {
    let b = this.buckets.get(name);
    if (!b) {
      const scaled =
        this.timeScale > 0 ? { burst: config.burst, perSecond: config.perSecond / this.timeScale } : config;
      b = new Bucket(scaled, now);
      this.buckets.set(name, b);
    }
    return b;
  }

  /**
   * Charges a request. Returns headers to add to the answer; throws a 429 ArmError when a
   * bucket is empty.
   */
  charge(
    method: string,
    subscriptionId: string,
    principal: string,
    vmId: string | undefined,
  ): Record<string, string> {
    if (!this.config) return {};
    const now = Date.now();
    const m = method.toUpperCase();
    const kind = m === "GET" || m === "HEAD" ? "reads" : m === "DELETE" ? "deletes" : "writes";
    const cfg =
      kind === "reads"
        ? this.config.subscriptionReads
        : kind === "deletes"
          ? this.config.subscriptionDeletes
          : this.config.subscriptionWrites;
    const headers: Record<string, string> = {};
    const sub = this.bucket(`${kind}:${principal}`, cfg, now).take(now);
    if (!sub.ok) {
      throw new ArmError(
        429,
        "SubscriptionRequestsThrottled",
        `Number of '${kind === "reads" ? "read" : kind === "deletes" ? "delete" : "write"}' requests for subscription '${subscriptionId}' actor '${principal}' exceeded. Please try again after '${sub.retryAfter}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
        undefined,
        { "retry-after": String(sub.retryAfter), [`x-ms-ratelimit-remaining-subscription-${kind}`]: "0" },
      );
    }
    headers[`x-ms-ratelimit-remaining-subscription-${kind}`] = String(sub.remaining);
    if (vmId && kind !== "reads") {
      const vm = this.bucket(`vm:${vmId.toLowerCase()}`, this.config.vmWrites, now).take(now);
      if (!vm.ok) {
        throw new ArmError(
          429,
          "OperationNotAllowed",
          `The server rejected the request because too many requests have been received for this virtual machine. Please retry after ${vm.retryAfter} seconds.`,
          undefined,
          {
            "retry-after": String(vm.retryAfter),
            "x-ms-ratelimit-remaining-resource": "Microsoft.Compute/PutDeleteVM;0",
          },
        );
      }
      headers["x-ms-ratelimit-remaining-resource"] = `Microsoft.Compute/PutDeleteVM;${vm.remaining}`;
    }
    return headers;
  }
}
