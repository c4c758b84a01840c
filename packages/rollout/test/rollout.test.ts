// The rollout engine against in-memory ClawOperations / WaveVerifier / FleetLease. These
// interfaces are the engine's seam with Azure and SSH by design: the engine's rules (waves,
// gates, rollback, halting) are tested here directly; the real adapter and verifier are
// exercised against the local Azure by the deploy-fleet action's tests.
import {
  type ActionKind,
  type ClawPlan,
  type Plan,
  planWaves,
  type RolloutPolicy,
  type Wave,
} from "@openclawps/fleet-model";
import { describe, expect, it } from "vitest";
import {
  type ClawHealth,
  type ClawOperations,
  type FleetLease,
  MemoryLog,
  type OperationResult,
  RolloutConfigurationError,
  type RolloutOptions,
  renderReportMarkdown,
  runRollout,
  type StepReporter,
  type WaveVerifier,
} from "../src/index.ts";

const OLD = "1.0.0";
const NEW = "1.1.0";

function claw(name: string, action: ActionKind, extra: Partial<ClawPlan> = {}): ClawPlan {
  const gated = action === "replace" || action === "resize" || action === "grow-disk";
  return {
    claw: name,
    action,
    reason: `test ${action}`,
    changes: [],
    gated,
    currentImageVersion: action === "create" ? undefined : OLD,
    targetImageVersion:
      action === "retire" ? undefined : action === "create" || action === "replace" ? NEW : OLD,
    ...extra,
  };
}

function plan(...claws: ClawPlan[]): Plan {
  return { hash: "test", claws, shared: [], unproven: [], warnings: [] };
}

const policy = (p: Partial<RolloutPolicy> = {}): RolloutPolicy => ({
  canary: 1,
  wave_size: 2,
  max_unhealthy: 0,
  pause_seconds: 0,
  rollback: true,
  snapshot_before_replace: true,
  verify: true,
  parallelism: 4,
  ...p,
});

/** An in-memory fleet: which image each claw's VM runs, and every call made to it. */
class FakeFleet implements ClawOperations {
  readonly vms = new Map<string, string | undefined>();
  readonly calls: string[] = [];
  readonly healthyMarks: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** `${claw}:${op}` → error message thrown when that call happens. */
  readonly failures = new Map<string, string>();
  /** Claws whose owner had deallocated their VM: the operation leaves the new VM deallocated. */
  readonly ownerStopped = new Set<string>();
  /** Claws the power schedule had parked: the new VM runs for verification, then is parked again. */
  readonly parked = new Set<string>();

  constructor(initial: Record<string, string | undefined>) {
    for (const [k, v] of Object.entries(initial)) this.vms.set(k, v);
  }

  private async op(
    name: string,
    p: ClawPlan,
    report: StepReporter,
    image: string | undefined,
    steps: string[],
  ): Promise<OperationResult> {
    this.calls.push(`${name}:${p.claw}${image ? `@${image}` : ""}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      for (const step of steps) {
        // Yield to the event loop so that parallel claws really overlap.
        await new Promise((resolve) => setTimeout(resolve, 2));
        report(p.claw, step);
      }
      const failure = this.failures.get(`${p.claw}:${name}`);
      if (failure) throw new Error(failure);
      if (name === "retire") this.vms.delete(p.claw);
      else this.vms.set(p.claw, image);
      if (this.ownerStopped.has(p.claw)) return { claw: p.claw, imageVersion: image, leftDeallocated: true };
      if (this.parked.has(p.claw)) return { claw: p.claw, imageVersion: image, parkAfterVerify: true };
      return { claw: p.claw, imageVersion: image };
    } finally {
      this.inFlight--;
    }
  }

  create(p: ClawPlan, r: StepReporter) {
    return this.op("create", p, r, p.targetImageVersion, [
      "create-pip",
      "create-nic",
      "create-disk",
      "create-vm",
    ]);
  }
  recover(p: ClawPlan, r: StepReporter) {
    return this.op("recover", p, r, p.targetImageVersion, ["create-vm"]);
  }
  replace(p: ClawPlan, image: string, r: StepReporter, o: { rollback?: boolean } = {}) {
    return this.op(o.rollback ? "rollback" : "replace", p, r, image, [
      "deallocate",
      "tag-disk",
      "snapshot",
      "delete-vm",
      "create-vm",
    ]);
  }
  resize(p: ClawPlan, r: StepReporter) {
    return this.op("resize", p, r, p.currentImageVersion, ["deallocate", "update-vm", "start"]);
  }
  growDisk(p: ClawPlan, r: StepReporter) {
    return this.op("grow-disk", p, r, p.currentImageVersion, ["grow-disk"]);
  }
  retire(p: ClawPlan, r: StepReporter) {
    return this.op("retire", p, r, undefined, ["delete-vm", "delete-nic", "delete-pip"]);
  }
  async markHealthy(c: string, image: string) {
    this.healthyMarks.push(`${c}@${image}`);
  }
  async park(c: string) {
    this.calls.push(`park:${c}`);
  }
}

/** A verifier that reads the fake fleet: a claw is unhealthy when it runs one of the bad images. */
function verifierFor(
  fleet: FakeFleet,
  opts: { badImages?: string[]; badClaws?: string[] } = {},
): WaveVerifier & {
  calls: string[][];
} {
  const calls: string[][] = [];
  const fn = async (claws: string[]): Promise<ClawHealth[]> => {
    calls.push([...claws]);
    return claws.map((c) => {
      const image = fleet.vms.get(c);
      const bad = (image && opts.badImages?.includes(image)) || opts.badClaws?.includes(c);
      return {
        claw: c,
        healthy: !bad,
        detail: bad ? `gateway down on ${image}` : `all checks pass on ${image}`,
      };
    });
  };
  return Object.assign(fn, { calls });
}

const canaryThenWaves = (names: string[], canary = 1, size = 2): Wave[] => {
  const waves: Wave[] = [{ index: 1, kind: "canary", claws: names.slice(0, canary) }];
  for (let i = canary; i < names.length; i += size) {
    waves.push({ index: waves.length + 1, kind: "wave", claws: names.slice(i, i + size) });
  }
  return waves;
};

async function run(o: Partial<RolloutOptions> & Pick<RolloutOptions, "plan" | "waves" | "operations">) {
  const log = new MemoryLog();
  const report = await runRollout({ policy: policy(), runId: "run-1", log, sleep: async () => {}, ...o });
  return { report, log };
}

const outcomeOf = (report: Awaited<ReturnType<typeof runRollout>>, c: string) =>
  report.claws.find((x) => x.claw === c)!;

describe("runRollout", () => {
  const names = ["a", "b", "c", "d", "e"];
  const replaceAll = () => plan(...names.map((n) => claw(n, "replace")));
  const oldFleet = () => new FakeFleet(Object.fromEntries(names.map((n) => [n, OLD])));

  it("halts when the canary fails verification, leaving every other claw untouched", async () => {
    const fleet = oldFleet();
    const verifier = verifierFor(fleet, { badImages: [NEW] });
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier,
      policy: policy({ max_unhealthy: 3 }),
    });

    expect(report.status).toBe("halted");
    expect(report.haltReason).toContain("canary a failed");
    // The canary was rolled back to its previous image on the same disk and verified again.
    expect(fleet.calls).toEqual([`replace:a@${NEW}`, `rollback:a@${OLD}`]);
    expect(outcomeOf(report, "a")).toMatchObject({
      outcome: "rolled-back",
      health: "healthy",
      imageAfter: OLD,
    });
    for (const n of ["b", "c", "d", "e"]) {
      expect(outcomeOf(report, n)).toMatchObject({
        outcome: "skipped",
        health: "not-applicable",
        imageAfter: OLD,
      });
      expect(outcomeOf(report, n).detail).toContain("canary a failed");
      expect(fleet.vms.get(n)).toBe(OLD);
    }
    expect(report.waves).toHaveLength(1);
  });

  it("halts when a canary's replace fails, even with a max-unhealthy budget left", async () => {
    const fleet = oldFleet();
    fleet.failures.set("a:replace", "create-vm failed: ConflictingUserInput");
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names, 2),
      operations: fleet,
      verifier: verifierFor(fleet),
      policy: policy({ max_unhealthy: 4, parallelism: 1 }),
    });
    expect(report.status).toBe("halted");
    expect(outcomeOf(report, "a")).toMatchObject({
      outcome: "failed",
      health: "unverified",
      error: "create-vm failed: ConflictingUserInput",
    });
    // With parallelism 1 the second canary had not started: it stays untouched.
    expect(outcomeOf(report, "b").outcome).toBe("skipped");
    expect(fleet.calls).toEqual([`replace:a@${NEW}`]);
  });

  it("rolls a claw that fails verification back to its previous image, verifies it again and carries on", async () => {
    const fleet = oldFleet();
    const verifier = verifierFor(fleet, { badClaws: [] });
    // b is unhealthy on the new image only.
    const badOnNew: WaveVerifier = async (claws) =>
      (await verifier(claws)).map((h) =>
        h.claw === "b" && fleet.vms.get("b") === NEW
          ? { ...h, healthy: false, detail: "openclaw-gateway inactive" }
          : h,
      );
    const { report, log } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: badOnNew,
      policy: policy({ max_unhealthy: 1 }),
    });

    expect(report.status).toBe("completed-with-failures");
    expect(outcomeOf(report, "b")).toMatchObject({
      outcome: "rolled-back",
      health: "healthy",
      imageAfter: OLD,
    });
    expect(outcomeOf(report, "b").detail).toContain("openclaw-gateway inactive");
    expect(fleet.calls.filter((c) => /^(replace|rollback):b@/.test(c))).toEqual([
      `replace:b@${NEW}`,
      `rollback:b@${OLD}`,
    ]);
    expect(fleet.vms.get("b")).toBe(OLD);
    // The disk records the image that passed verification on it: the new one elsewhere, the old one on b.
    expect(fleet.healthyMarks).toContain(`b@${OLD}`);
    expect(fleet.healthyMarks).not.toContain(`b@${NEW}`);
    for (const n of ["a", "c", "d", "e"]) {
      expect(outcomeOf(report, n)).toMatchObject({ outcome: "replaced", health: "healthy", imageAfter: NEW });
      expect(fleet.healthyMarks).toContain(`${n}@${NEW}`);
    }
    expect(log.lines.some((l) => l.includes("b: rollback — to 1.0.0"))).toBe(true);
  });

  it("reports a claw failed without touching it again when rollback is off", async () => {
    const fleet = oldFleet();
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["c"] }),
      policy: policy({ max_unhealthy: 1, rollback: false }),
    });
    expect(outcomeOf(report, "c")).toMatchObject({ outcome: "failed", health: "unhealthy", imageAfter: NEW });
    expect(outcomeOf(report, "c").error).toContain("rollback is off");
    expect(fleet.calls.filter((c) => c.startsWith("replace:c"))).toHaveLength(1);
  });

  it("halts once failures exceed max-unhealthy and skips the waves after it", async () => {
    const fleet = oldFleet();
    // b (wave 2) and d (wave 3) fail; the budget is one failure.
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["b", "d"] }),
      policy: policy({ max_unhealthy: 1, rollback: false }),
    });
    expect(report.status).toBe("halted");
    expect(report.haltReason).toBe("2 claws failed, more than rollout.max_unhealthy allows (1)");
    expect(report.waves.map((w) => w.number)).toEqual([1, 2, 3]);
    expect(outcomeOf(report, "d").outcome).toBe("failed");
    // e shared wave 3 with d; it had already been replaced when d's verification failed.
    expect(outcomeOf(report, "e").outcome).toBe("replaced");
  });

  it("resolves a percent max-unhealthy against the claws being rolled and halts beyond it", async () => {
    const fleet = oldFleet();
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["b"] }),
      // 20% of 5 claws = 1 failure tolerated: b fails, the rollout goes on.
      policy: policy({ max_unhealthy: "20%", rollback: false }),
    });
    expect(report.maxUnhealthy).toBe(1);
    expect(report.status).toBe("completed-with-failures");
    expect(outcomeOf(report, "e").outcome).toBe("replaced");
  });

  it("leaves claws in later waves untouched, with the reason, when a wave halts the rollout", async () => {
    const fleet = oldFleet();
    fleet.failures.set("b:replace", "deallocate failed: OperationNotAllowed");
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: verifierFor(fleet),
      policy: policy({ max_unhealthy: 0, parallelism: 1 }),
    });
    expect(report.status).toBe("halted");
    // b failed in wave 2; with parallelism 1, c (same wave) had not started and d, e never did.
    for (const n of ["c", "d", "e"]) {
      expect(outcomeOf(report, n).outcome).toBe("skipped");
      expect(outcomeOf(report, n).steps).toEqual([]);
      expect(fleet.vms.get(n)).toBe(OLD);
    }
    expect(fleet.calls).toEqual([`replace:a@${NEW}`, `replace:b@${NEW}`]);
    expect(outcomeOf(report, "c").detail).toBe(
      "not started: 1 claw failed, more than rollout.max_unhealthy allows (0); nothing was changed",
    );
  });

  it("reports changed claws as unverified, never healthy, when verification is off", async () => {
    const fleet = oldFleet();
    const p = plan(...names.map((n) => claw(n, "replace")), claw("new-one", "create"), claw("same", "noop"));
    const waves: Wave[] = [
      { index: 1, kind: "ungated", claws: ["new-one"] },
      ...canaryThenWaves(names).map((w) => ({ ...w, index: w.index + 1 })),
    ];
    const { report } = await run({ plan: p, waves, operations: fleet, policy: policy({ verify: false }) });

    expect(report.status).toBe("succeeded");
    expect(report.verification).toBe(false);
    for (const n of [...names, "new-one"]) expect(outcomeOf(report, n).health).toBe("unverified");
    expect(outcomeOf(report, "same")).toMatchObject({ outcome: "unchanged", health: "not-applicable" });
    expect(report.claws.some((c) => c.health === "healthy")).toBe(false);
    expect(fleet.healthyMarks).toEqual([]);
    const md = renderReportMarkdown(report);
    expect(md).toContain("6 changed claws are **unverified**");
    expect(md).not.toContain("✅ healthy");
  });

  it("refuses to start when verification is on but no verifier is available", async () => {
    const fleet = oldFleet();
    await expect(
      run({
        plan: replaceAll(),
        waves: canaryThenWaves(names),
        operations: fleet,
        policy: policy({ verify: true }),
      }),
    ).rejects.toBeInstanceOf(RolloutConfigurationError);
    expect(fleet.calls).toEqual([]);
  });

  it("runs creates with at most `parallelism` claws in flight", async () => {
    const many = Array.from({ length: 12 }, (_, i) => `claw-${i}`);
    const fleet = new FakeFleet({});
    const { report } = await run({
      plan: plan(...many.map((n) => claw(n, "create"))),
      waves: [{ index: 1, kind: "ungated", claws: many }],
      operations: fleet,
      verifier: verifierFor(fleet),
      policy: policy({ parallelism: 3 }),
    });
    expect(fleet.maxInFlight).toBe(3);
    expect(report.claws.every((c) => c.outcome === "created" && c.health === "healthy")).toBe(true);
  });

  it("shares the parallelism bound between a wave and its rollbacks", async () => {
    const many = Array.from({ length: 6 }, (_, i) => `claw-${i}`);
    const fleet = new FakeFleet(Object.fromEntries(many.map((n) => [n, OLD])));
    await run({
      plan: plan(...many.map((n) => claw(n, "replace"))),
      waves: [{ index: 1, kind: "wave", claws: many }],
      operations: fleet,
      verifier: verifierFor(fleet, { badImages: [NEW] }),
      policy: policy({ parallelism: 2, max_unhealthy: 6 }),
    });
    expect(fleet.calls.filter((c) => c.endsWith(`@${OLD}`))).toHaveLength(6);
    expect(fleet.maxInFlight).toBe(2);
  });

  it("verifies created claws and counts a failed one against max-unhealthy, without rolling it back", async () => {
    const fleet = new FakeFleet({ old: OLD });
    const { report } = await run({
      plan: plan(claw("fresh", "create"), claw("old", "replace")),
      waves: [
        { index: 1, kind: "ungated", claws: ["fresh"] },
        { index: 2, kind: "canary", claws: ["old"] },
      ],
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["fresh"] }),
    });
    expect(outcomeOf(report, "fresh")).toMatchObject({ outcome: "failed", health: "unhealthy" });
    expect(outcomeOf(report, "fresh").error).toContain("a create has no previous image");
    expect(report.status).toBe("halted");
    expect(outcomeOf(report, "old").outcome).toBe("skipped");
    expect(fleet.calls).toEqual([`create:fresh@${NEW}`]);
  });

  it("does not roll back a configuration-only change, which has no previous image to return to", async () => {
    const fleet = new FakeFleet({ a: OLD });
    const { report } = await run({
      plan: plan(claw("a", "replace", { targetImageVersion: OLD })),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["a"] }),
    });
    expect(outcomeOf(report, "a").outcome).toBe("failed");
    expect(outcomeOf(report, "a").error).toContain("the image did not change (1.0.0)");
    expect(fleet.calls).toEqual([`replace:a@${OLD}`]);
  });

  it("rolls a claw recovered onto a new image back to the image its disk last ran", async () => {
    // An upgrade crashed between deleting the VM and creating the new one: the disk was tagged
    // with the image it last ran (invariant 2), so the recovery onto the new image can still be
    // undone when the new image proves unhealthy.
    const fleet = new FakeFleet({});
    const { report } = await run({
      plan: plan(claw("a", "recover", { currentImageVersion: OLD, targetImageVersion: NEW })),
      waves: [{ index: 1, kind: "ungated", claws: ["a"] }],
      operations: fleet,
      verifier: verifierFor(fleet, { badImages: [NEW] }),
      policy: policy({ max_unhealthy: 1 }),
    });
    expect(fleet.calls).toEqual([`recover:a@${NEW}`, `rollback:a@${OLD}`]);
    expect(outcomeOf(report, "a")).toMatchObject({
      outcome: "rolled-back",
      health: "healthy",
      imageAfter: OLD,
    });
    expect(fleet.healthyMarks).toEqual([`a@${OLD}`]);
  });

  it("rolls back to the plan's rollback image, the last healthy one, even from a resize", async () => {
    // A rollback that failed part-way left the claw on the new image, which never proved healthy:
    // the next run's plan names the disk's last healthy image as the way back.
    const fleet = new FakeFleet({ a: NEW, b: NEW });
    const { report } = await run({
      plan: plan(
        claw("a", "replace", {
          currentImageVersion: NEW,
          targetImageVersion: NEW,
          rollbackImageVersion: OLD,
        }),
        claw("b", "resize", { currentImageVersion: NEW, targetImageVersion: NEW, rollbackImageVersion: OLD }),
      ),
      waves: [{ index: 1, kind: "wave", claws: ["a", "b"] }],
      operations: fleet,
      verifier: verifierFor(fleet, { badImages: [NEW] }),
      policy: policy({ max_unhealthy: 2 }),
    });
    expect([...fleet.calls].sort()).toEqual([
      `replace:a@${NEW}`,
      `resize:b@${NEW}`,
      `rollback:a@${OLD}`,
      `rollback:b@${OLD}`,
    ]);
    for (const c of ["a", "b"]) {
      expect(outcomeOf(report, c)).toMatchObject({
        outcome: "rolled-back",
        health: "healthy",
        imageAfter: OLD,
      });
    }
    expect([...fleet.healthyMarks].sort()).toEqual([`a@${OLD}`, `b@${OLD}`]);
  });

  /** Replaces claws a and b in one wave, claw a's VM set up by `prepare` (deallocated, parked). */
  async function replaceBothInOneWave(prepare: (fleet: FakeFleet) => void) {
    const fleet = new FakeFleet({ a: OLD, b: OLD });
    prepare(fleet);
    const verifier = verifierFor(fleet);
    const { report } = await run({
      plan: plan(claw("a", "replace"), claw("b", "replace")),
      waves: [{ index: 1, kind: "wave", claws: ["a", "b"] }],
      operations: fleet,
      verifier,
    });
    return { fleet, verifier, report };
  }

  it("leaves a claw its owner had deallocated unverified, never calling it healthy", async () => {
    const { fleet, verifier, report } = await replaceBothInOneWave((f) => f.ownerStopped.add("a"));
    expect(report.status).toBe("succeeded");
    expect(verifier.calls).toEqual([["b"]]);
    expect(outcomeOf(report, "a")).toMatchObject({
      outcome: "replaced",
      health: "unverified",
      detail: "left deallocated as its owner had it; verified once it runs again",
    });
    expect(fleet.healthyMarks).toEqual([`b@${NEW}`]);
  });

  it("verifies a claw the schedule had parked on its new image, then parks it again", async () => {
    const { fleet, verifier, report } = await replaceBothInOneWave((f) => f.parked.add("a"));
    expect(report.status).toBe("succeeded");
    expect(verifier.calls).toEqual([["a", "b"]]);
    expect(fleet.healthyMarks).toEqual([`a@${NEW}`, `b@${NEW}`]);
    expect(fleet.calls.slice(-1)).toEqual(["park:a"]);
    expect(outcomeOf(report, "a")).toMatchObject({ outcome: "replaced", health: "healthy" });
    expect(outcomeOf(report, "a").detail).toContain("parked again, as it was before the upgrade");
  });

  it("parks a parked claw again after its rollback too", async () => {
    const fleet = new FakeFleet({ a: OLD });
    fleet.parked.add("a");
    await run({
      plan: plan(claw("a", "replace")),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: verifierFor(fleet, { badImages: [NEW] }),
    });
    expect(fleet.calls).toEqual([`replace:a@${NEW}`, `rollback:a@${OLD}`, "park:a"]);
  });

  it("reports a claw failed when it is still unhealthy after its rollback", async () => {
    const fleet = oldFleet();
    const { report } = await run({
      plan: plan(claw("a", "replace")),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: verifierFor(fleet, { badClaws: ["a"] }),
    });
    expect(outcomeOf(report, "a")).toMatchObject({ outcome: "failed", health: "unhealthy", imageAfter: OLD });
    expect(outcomeOf(report, "a").error).toBe(
      "unhealthy on 1.1.0 (gateway down on 1.1.0) and still unhealthy after rollback to 1.0.0",
    );
    expect(fleet.healthyMarks).toEqual([]);
  });

  it("treats a verifier that throws as every claw of the wave unhealthy", async () => {
    const fleet = oldFleet();
    const { report } = await run({
      plan: plan(claw("a", "replace")),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: async () => {
        throw new Error("connect ETIMEDOUT 10.0.0.4:22");
      },
      policy: policy({ rollback: false }),
    });
    expect(outcomeOf(report, "a")).toMatchObject({ outcome: "failed", health: "unhealthy" });
    expect(outcomeOf(report, "a").error).toContain("verification failed: connect ETIMEDOUT 10.0.0.4:22");
  });

  it("retires without verifying and never marks a retired claw", async () => {
    const fleet = new FakeFleet({ gone: OLD });
    const verifier = verifierFor(fleet);
    const { report } = await run({
      plan: plan(claw("gone", "retire")),
      waves: [{ index: 1, kind: "ungated", claws: ["gone"] }],
      operations: fleet,
      verifier,
    });
    expect(outcomeOf(report, "gone")).toMatchObject({ outcome: "retired", health: "not-applicable" });
    expect(verifier.calls).toEqual([]);
    expect(fleet.vms.has("gone")).toBe(false);
  });

  it("takes the lease before the first change, renews it between waves and releases it at the end", async () => {
    const fleet = oldFleet();
    const events: string[] = [];
    const lease: FleetLease = {
      acquire: async (id, ttl, force) => void events.push(`acquire ${id} ${ttl} ${force}`),
      renew: async (id) => void events.push(`renew ${id}`),
      release: async (id) => void events.push(`release ${id}`),
    };
    const recording: ClawOperations = Object.assign(Object.create(fleet) as FakeFleet, {
      replace: (p: ClawPlan, image: string, r: StepReporter) => {
        events.push(`replace ${p.claw}`);
        return fleet.replace(p, image, r);
      },
    });
    await run({
      plan: plan(claw("a", "replace"), claw("b", "replace")),
      waves: canaryThenWaves(["a", "b"]),
      operations: recording,
      verifier: verifierFor(fleet),
      lease,
      leaseTtlSeconds: 600,
      forceUnlock: true,
    });
    expect(events).toEqual([
      "acquire run-1 600 true",
      "replace a",
      "renew run-1",
      "replace b",
      "release run-1",
    ]);
  });

  it("waits for a heartbeat renewal in flight before releasing, so the released lease stays free", async () => {
    // A lease as Azure keeps it: renew reads the holder, then writes it back (two requests).
    let holder: string | undefined;
    let renewStarted!: () => void;
    const renewing = new Promise<void>((resolve) => {
      renewStarted = resolve;
    });
    let renewed!: () => void;
    const renewDone = new Promise<void>((resolve) => {
      renewed = resolve;
    });
    const lease: FleetLease = {
      acquire: async (id) => {
        holder = id;
      },
      renew: async (id) => {
        if (holder !== id) throw new Error("lease lost");
        renewStarted();
        await new Promise((resolve) => setTimeout(resolve, 50));
        holder = id;
        renewed();
      },
      release: async (id) => {
        if (holder === id) holder = undefined;
      },
    };
    // The claw's step finishes only once the heartbeat (every third of the TTL) is renewing.
    const fleet = new FakeFleet({});
    const slow: ClawOperations = Object.assign(Object.create(fleet) as FakeFleet, {
      create: async (p: ClawPlan, r: StepReporter) => {
        await renewing;
        return fleet.create(p, r);
      },
    });
    await run({
      plan: plan(claw("a", "create")),
      waves: [{ index: 1, kind: "ungated", claws: ["a"] }],
      operations: slow,
      policy: policy({ verify: false }),
      lease,
      leaseTtlSeconds: 3,
    });
    await renewDone;
    expect(holder).toBeUndefined();
  });

  it("halts, with the reason, and releases the lease when renewing it fails between waves", async () => {
    const events: string[] = [];
    const lease: FleetLease = {
      acquire: async () => void events.push("acquire"),
      renew: async () => {
        events.push("renew");
        throw new Error("AuthorizationFailed: no write access to the resource group");
      },
      release: async () => void events.push("release"),
    };
    const fleet = oldFleet();
    const { report } = await run({
      plan: plan(claw("a", "replace"), claw("b", "replace")),
      waves: canaryThenWaves(["a", "b"]),
      operations: fleet,
      verifier: verifierFor(fleet),
      lease,
    });
    expect(report.status).toBe("halted");
    expect(report.haltReason).toBe(
      "renewing the fleet lease failed: AuthorizationFailed: no write access to the resource group",
    );
    expect(outcomeOf(report, "b").outcome).toBe("skipped");
    expect(events).toEqual(["acquire", "renew", "release"]);
    expect(fleet.calls).toEqual([`replace:a@${NEW}`]);
  });

  it("prepares once the lease is held and releases the lease when preparing fails, before touching any claw", async () => {
    const events: string[] = [];
    const lease: FleetLease = {
      acquire: async () => void events.push("acquire"),
      renew: async () => void events.push("renew"),
      release: async () => void events.push("release"),
    };
    const fleet = oldFleet();
    await expect(
      run({
        plan: plan(claw("a", "replace")),
        waves: [{ index: 1, kind: "canary", claws: ["a"] }],
        operations: fleet,
        verifier: verifierFor(fleet),
        lease,
        prepare: async () => {
          events.push("prepare");
          throw new Error("NSG update refused: AuthorizationFailed");
        },
      }),
    ).rejects.toThrow("NSG update refused");
    expect(events).toEqual(["acquire", "prepare", "release"]);
    expect(fleet.calls).toEqual([]);
  });

  it("reports a claw unhealthy when the verifier returns no result for it", async () => {
    const fleet = oldFleet();
    const { report } = await run({
      plan: plan(claw("a", "replace")),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: async () => [],
      policy: policy({ rollback: false }),
    });
    expect(outcomeOf(report, "a")).toMatchObject({ outcome: "failed", health: "unhealthy" });
    expect(outcomeOf(report, "a").detail).toBe("the verifier returned no result for this claw");
  });

  it("takes no lease and touches nothing when the plan has nothing to do", async () => {
    const events: string[] = [];
    const lease: FleetLease = {
      acquire: async () => void events.push("acquire"),
      renew: async () => void events.push("renew"),
      release: async () => void events.push("release"),
    };
    const fleet = new FakeFleet({ a: OLD });
    const { report } = await run({
      plan: plan(claw("a", "noop"), claw("stray", "orphan", { reason: "tagged claw not in claws.yaml" })),
      waves: [],
      operations: fleet,
      lease,
    });
    expect(report.status).toBe("nothing-to-do");
    expect(events).toEqual([]);
    expect(outcomeOf(report, "stray")).toMatchObject({
      outcome: "unchanged",
      reason: "tagged claw not in claws.yaml",
    });
  });

  it("pauses between gated waves for pause_seconds through the injected sleep", async () => {
    const fleet = oldFleet();
    const sleeps: number[] = [];
    await run({
      plan: plan(claw("new", "create"), ...names.map((n) => claw(n, "replace"))),
      waves: [
        { index: 1, kind: "ungated", claws: ["new"] },
        ...canaryThenWaves(names).map((w) => ({ ...w, index: w.index + 1 })),
      ],
      operations: fleet,
      verifier: verifierFor(fleet),
      policy: policy({ pause_seconds: 30 }),
      sleep: async (ms) => void sleeps.push(ms),
    });
    // canary → wave → wave: two pauses; none after the ungated wave or after the last wave.
    expect(sleeps).toEqual([30_000, 30_000]);
  });

  it("reports a cancel that stops the canary's step in flight as cancelled, not as a failed canary, and releases the lease", async () => {
    const fleet = oldFleet();
    const controller = new AbortController();
    // The adapter aborts its ARM call on the signal and throws: the claw's step did not finish.
    const operations: ClawOperations = Object.assign(Object.create(fleet) as FakeFleet, {
      replace: async (p: ClawPlan) => {
        controller.abort();
        throw new Error(`${p.claw}: create-vm failed: the run was cancelled during create-vm`);
      },
    });
    const released: string[] = [];
    const lease: FleetLease = {
      acquire: async () => {},
      renew: async () => {},
      release: async (runId) => {
        released.push(runId);
      },
    };
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations,
      verifier: verifierFor(fleet),
      signal: controller.signal,
      lease,
    });
    expect(report.status).toBe("cancelled");
    expect(report.haltReason).toBe("the run was cancelled");
    expect(outcomeOf(report, "a")).toMatchObject({ outcome: "failed" });
    expect(outcomeOf(report, "a").error).toContain("the run was cancelled during create-vm");
    expect(outcomeOf(report, "b")).toMatchObject({ outcome: "skipped" });
    expect(released).toEqual(["run-1"]);
  });

  it("skips every claw not yet started once the run is cancelled", async () => {
    const fleet = oldFleet();
    const controller = new AbortController();
    const verifier: WaveVerifier = async (claws) => {
      controller.abort();
      return claws.map((c) => ({ claw: c, healthy: true, detail: "ok" }));
    };
    const { report } = await run({
      plan: replaceAll(),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier,
      signal: controller.signal,
    });
    expect(report.status).toBe("cancelled");
    expect(outcomeOf(report, "a").outcome).toBe("replaced");
    expect(outcomeOf(report, "b")).toMatchObject({ outcome: "skipped" });
    expect(outcomeOf(report, "b").detail).toContain("the run was cancelled");
  });

  it("runs fleet-model's waves in order: creates and retirements, then the canary, then waves of wave_size", async () => {
    const fleet = new FakeFleet({ a: OLD, b: OLD, c: OLD, d: OLD, gone: OLD });
    const p = plan(
      claw("a", "replace"),
      claw("fresh", "create"),
      claw("b", "replace"),
      claw("c", "replace"),
      claw("gone", "retire"),
      claw("d", "replace"),
      claw("same", "noop"),
    );
    const pol = policy({ canary: 1, wave_size: 2, parallelism: 1 });
    const { report, log } = await run({
      plan: p,
      waves: planWaves(p, pol),
      operations: fleet,
      verifier: verifierFor(fleet),
      policy: pol,
    });
    expect(report.status).toBe("succeeded");
    expect(fleet.calls).toEqual([
      `create:fresh@${NEW}`,
      "retire:gone",
      `replace:a@${NEW}`,
      `replace:b@${NEW}`,
      `replace:c@${NEW}`,
      `replace:d@${NEW}`,
    ]);
    expect(log.lines.filter((l) => l.startsWith("[group]"))).toEqual([
      "[group] Wave 1/4 (creates, recoveries and retirements): fresh, gone",
      "[group] Wave 2/4 (canary): a",
      "[group] Wave 3/4 (wave): b, c",
      "[group] Wave 4/4 (wave): d",
    ]);
    expect(report.claws.map((c) => [c.claw, c.outcome, c.wave ?? null])).toEqual([
      ["a", "replaced", 2],
      ["fresh", "created", 1],
      ["b", "replaced", 3],
      ["c", "replaced", 3],
      ["gone", "retired", 1],
      ["d", "replaced", 4],
      ["same", "unchanged", null],
    ]);
  });

  it("logs a group per wave and a line per claw step with its elapsed time", async () => {
    const fleet = oldFleet();
    const { report, log } = await run({
      plan: plan(claw("a", "replace")),
      waves: [{ index: 1, kind: "canary", claws: ["a"] }],
      operations: fleet,
      verifier: verifierFor(fleet),
    });
    expect(log.lines[0]).toBe("[group] Wave 1/1 (canary): a");
    expect(log.lines).toContain("[endgroup]");
    expect(log.lines.some((l) => /^ {2}a: deallocate \(\+\d+\.\ds\)$/.test(l))).toBe(true);
    expect(report.claws[0]!.steps.map((s) => s.name)).toEqual([
      "replace",
      "deallocate",
      "tag-disk",
      "snapshot",
      "delete-vm",
      "create-vm",
      "verify",
      "mark-healthy",
    ]);
  });

  it("refuses waves that schedule a claw the plan does not change", async () => {
    await expect(
      run({
        plan: plan(claw("a", "noop")),
        waves: [{ index: 1, kind: "wave", claws: ["a"] }],
        operations: new FakeFleet({}),
        policy: policy({ verify: false }),
      }),
    ).rejects.toThrow("whose action noop is not executable");
  });
});

describe("renderReportMarkdown", () => {
  it("shows what happened to every claw and why the rollout stopped", async () => {
    const names = ["a", "b"];
    const fleet = new FakeFleet({ a: OLD, b: OLD });
    const { report } = await run({
      plan: plan(
        ...names.map((n) => claw(n, "replace")),
        claw("x|y", "blocked", { reason: "image 9.9.9 missing" }),
      ),
      waves: canaryThenWaves(names),
      operations: fleet,
      verifier: verifierFor(fleet, { badImages: [NEW] }),
    });
    const md = renderReportMarkdown(report);
    expect(md).toContain("### 🛑 Rollout halted");
    expect(md).toContain("**Stopped:** canary a failed");
    expect(md).toMatch(/\| a \| replace \| rolled-back \| ✅ healthy \| 1\.0\.0 \| 1 \|/);
    expect(md).toMatch(
      /\| b \| replace \| skipped \| — \| 1\.0\.0 \| 2 \| — \| not started: canary a failed/,
    );
    expect(md).toContain("| x\\|y | blocked | unchanged | — |");
    expect(md).toContain("image 9.9.9 missing");
  });
});
