import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ARM_SUBSCRIPTION_LIMITS,
  ArmRequestLimiter,
  atTimeScale,
  DEFAULT_RATE_LIMITS,
  LIMITER_TIME_SCALE_ENV,
  limiterTimeScaleFromEnv,
  operationTypeOf,
  TokenBucket,
  vmOf,
} from "../src/rate-limit.ts";

describe("TokenBucket", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets a burst through at once and then one request per refill interval", async () => {
    vi.useFakeTimers();
    let now = 0;
    const bucket = new TokenBucket({ burst: 3, perSecond: 2 }, () => now);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.take().then(() => done.push(i));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toEqual([0, 1, 2]);

    now = 499;
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toEqual([0, 1, 2]);

    now = 500;
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toEqual([0, 1, 2, 3]);

    now = 1000;
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  it("refills up to its burst and no further", () => {
    let now = 0;
    const bucket = new TokenBucket({ burst: 4, perSecond: 10 }, () => now);
    now = 60_000;
    expect(bucket.available()).toBe(4);
  });
});

describe("client-side limits", () => {
  it("stay below ARM's documented subscription buckets", () => {
    for (const type of ["read", "write", "delete"] as const) {
      expect(DEFAULT_RATE_LIMITS[type].burst).toBeLessThan(ARM_SUBSCRIPTION_LIMITS[type].burst);
      expect(DEFAULT_RATE_LIMITS[type].perSecond).toBeLessThan(ARM_SUBSCRIPTION_LIMITS[type].perSecond);
    }
  });

  it("count GET as a read, DELETE as a delete and PUT/PATCH/POST as writes", () => {
    expect(operationTypeOf("GET")).toBe("read");
    expect(operationTypeOf("DELETE")).toBe("delete");
    expect(["PUT", "PATCH", "POST"].map(operationTypeOf)).toEqual(["write", "write", "write"]);
  });
});

describe("ArmRequestLimiter", () => {
  const vmUrl = (name: string, action = "") =>
    `https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${name}${action}?api-version=2025-04-01`;
  const roomy = { burst: 100, perSecond: 100 };

  it("holds back writes to one VM beyond its per-VM bucket while other VMs and reads go ahead", async () => {
    const limiter = new ArmRequestLimiter(
      { read: roomy, write: roomy, delete: roomy, vmWrite: { burst: 2, perSecond: 0.001 } },
      16,
    );
    const admitted: string[] = [];
    const admit = (label: string, method: string, url: string) =>
      void limiter.admit(method, url).then(() => admitted.push(label));
    admit("put a", "PUT", vmUrl("a"));
    admit("deallocate a", "POST", vmUrl("a", "/deallocate"));
    admit("delete a", "DELETE", vmUrl("a"));
    admit("get a", "GET", vmUrl("a"));
    admit("put b", "PUT", vmUrl("b"));
    await new Promise((r) => setTimeout(r, 50));
    expect(admitted.sort()).toEqual(["deallocate a", "get a", "put a", "put b"]);
  });

  it("recognises a VM in request URLs, whatever the casing", () => {
    expect(vmOf(vmUrl("Claw-1", "/start"))).toBe(
      "/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/claw-1",
    );
    expect(
      vmOf("https://x/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/d?api-version=1"),
    ).toBe(undefined);
  });
});

describe("the limiter's time scale (a benchmark knob)", () => {
  it("is Azure's own time unless OPENCLAWPS_ARM_LIMITER_TIME_SCALE names another", () => {
    expect(limiterTimeScaleFromEnv({})).toBe(1);
    expect(limiterTimeScaleFromEnv({ [LIMITER_TIME_SCALE_ENV]: "0.1" })).toBe(0.1);
    expect(() => limiterTimeScaleFromEnv({ [LIMITER_TIME_SCALE_ENV]: "0" })).toThrow(
      /OPENCLAWPS_ARM_LIMITER_TIME_SCALE=0 is not a time scale: expected a positive number/,
    );
    expect(() => limiterTimeScaleFromEnv({ [LIMITER_TIME_SCALE_ENV]: "fast" })).toThrow(/not a time scale/);
  });

  it("refills the buckets as many times faster as the scale is small, with the same bursts", () => {
    const scaled = atTimeScale({ ...DEFAULT_RATE_LIMITS, vmWrite: { burst: 12, perSecond: 4 / 60 } }, 0.1);
    expect(scaled.read).toEqual({
      burst: DEFAULT_RATE_LIMITS.read.burst,
      perSecond: DEFAULT_RATE_LIMITS.read.perSecond * 10,
    });
    expect(scaled.write.perSecond).toBeCloseTo(DEFAULT_RATE_LIMITS.write.perSecond * 10);
    expect(scaled.vmWrite?.perSecond).toBeCloseTo((4 / 60) * 10);
    expect(atTimeScale(DEFAULT_RATE_LIMITS, 1)).toBe(DEFAULT_RATE_LIMITS);
  });
});
