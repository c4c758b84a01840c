import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ROLLOUT_DEFAULTS } from "../src/manifest-schema.ts";
import type { ActionKind, ClawPlan, Plan, RolloutPolicy } from "../src/types.ts";
import { maxUnhealthyCount, planWaves, waveSizeCount } from "../src/waves.ts";

const GATED = new Set<ActionKind>(["replace", "resize", "grow-disk"]);
const planOf = (actions: [string, ActionKind][]): Plan => ({
  hash: "h",
  claws: actions.map(
    ([claw, action]): ClawPlan => ({ claw, action, reason: "", changes: [], gated: GATED.has(action) }),
  ),
  shared: [],
  unproven: [],
  warnings: [],
});
const policy = (p: Partial<RolloutPolicy> = {}): RolloutPolicy => ({ ...ROLLOUT_DEFAULTS, ...p });
const replaces = (n: number) =>
  planOf(Array.from({ length: n }, (_, i) => [`c${i}`, "replace"] as [string, ActionKind]));

describe("planWaves", () => {
  it("runs creates, recovers and retires first in one ungated wave, then the canary, then waves", () => {
    const plan = planOf([
      ["a", "replace"],
      ["b", "create"],
      ["c", "noop"],
      ["d", "resize"],
      ["e", "recover"],
      ["f", "grow-disk"],
      ["g", "retire"],
      ["h", "blocked"],
      ["i", "orphan"],
      ["j", "replace"],
    ]);
    expect(planWaves(plan, policy({ canary: 1, wave_size: 2 }))).toEqual([
      { index: 0, kind: "ungated", claws: ["b", "e", "g"] },
      { index: 1, kind: "canary", claws: ["a"] },
      { index: 2, kind: "wave", claws: ["d", "f"] },
      { index: 3, kind: "wave", claws: ["j"] },
    ]);
  });

  it("takes named canaries in manifest order and skips names that are not changing", () => {
    const plan = planOf([
      ["a", "replace"],
      ["b", "replace"],
      ["c", "noop"],
      ["d", "replace"],
    ]);
    expect(planWaves(plan, policy({ canary: ["D", "c", "b"], wave_size: 5 }))).toEqual([
      { index: 0, kind: "canary", claws: ["b", "d"] },
      { index: 1, kind: "wave", claws: ["a"] },
    ]);
  });

  it("has no canary wave with canary: 0", () => {
    expect(planWaves(replaces(3), policy({ canary: 0, wave_size: 3 }))).toEqual([
      { index: 0, kind: "wave", claws: ["c0", "c1", "c2"] },
    ]);
  });

  it("takes percent wave sizes of all gated claws, rounded up", () => {
    // 10 gated, 25% → 3 per wave; canary 1 → 9 left: 3 + 3 + 3.
    const waves = planWaves(replaces(10), policy({ canary: 1, wave_size: "25%" }));
    expect(waves.map((w) => w.claws.length)).toEqual([1, 3, 3, 3]);
  });

  it("makes a wave of one from a percent smaller than one claw", () => {
    expect(planWaves(replaces(3), policy({ canary: 0, wave_size: "1%" })).map((w) => w.claws.length)).toEqual(
      [1, 1, 1],
    );
  });

  it("returns no waves when nothing changes", () => {
    expect(
      planWaves(
        planOf([
          ["a", "noop"],
          ["b", "orphan"],
          ["c", "blocked"],
        ]),
        policy(),
      ),
    ).toEqual([]);
  });

  it("refuses an invalid policy, which the manifest parser never lets through", () => {
    expect(() => planWaves(replaces(2), policy({ wave_size: 0 }))).toThrow(/wave_size/);
    expect(() => planWaves(replaces(2), policy({ wave_size: "0%" }))).toThrow(/wave_size/);
    expect(() => planWaves(replaces(2), policy({ canary: -1 }))).toThrow(/canary/);
  });

  it("puts every actionable claw in exactly one wave, canary first, never an empty or oversized wave", () => {
    const action = fc.constantFrom<ActionKind>(
      "create",
      "recover",
      "replace",
      "resize",
      "grow-disk",
      "noop",
      "orphan",
      "retire",
      "blocked",
    );
    const size = fc.oneof(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 100 }).map((p) => `${p}%`),
    );
    fc.assert(
      fc.property(
        fc.array(action, { maxLength: 40 }),
        fc.integer({ min: 0, max: 6 }),
        size,
        (actions, canary, waveSize) => {
          const plan = planOf(actions.map((a, i) => [`c${i}`, a]));
          const p = policy({ canary, wave_size: waveSize });
          const waves = planWaves(plan, p);
          const gated = plan.claws.filter((c) => c.gated).map((c) => c.claw);
          const actionable = plan.claws
            .filter((c) => !["noop", "orphan", "blocked"].includes(c.action))
            .map((c) => c.claw);
          const placed = waves.flatMap((w) => w.claws);
          expect([...placed].sort()).toEqual([...actionable].sort());
          expect(waves.every((w, i) => w.index === i && w.claws.length > 0)).toBe(true);
          const gatedWaves = waves.filter((w) => w.kind !== "ungated");
          if (gated.length > 0 && canary > 0)
            expect(gatedWaves[0]).toEqual({
              index: gatedWaves[0]!.index,
              kind: "canary",
              claws: gated.slice(0, canary),
            });
          const limit = waveSizeCount(p, gated.length);
          for (const w of waves.filter((w) => w.kind === "wave"))
            expect(w.claws.length).toBeLessThanOrEqual(limit);
          expect(waves.findIndex((w) => w.kind === "ungated")).toBeLessThanOrEqual(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("counts from the policy", () => {
  it.each([
    [0, 10, 0],
    [2, 10, 2],
    ["10%", 5, 0],
    ["10%", 10, 1],
    ["25%", 10, 2],
    ["100%", 7, 7],
  ] as const)(
    "max_unhealthy %j of %i gated claws tolerates %i failures (percents round down)",
    (value, total, expected) => {
      expect(maxUnhealthyCount(policy({ max_unhealthy: value }), total)).toBe(expected);
    },
  );

  it.each([
    ["25%", 10, 3],
    ["25%", 4, 1],
    ["33%", 3, 1],
    ["50%", 3, 2],
    ["1%", 0, 1],
    [4, 2, 4],
  ] as const)(
    "wave_size %j of %i gated claws is %i per wave (percents round up, at least 1)",
    (value, total, expected) => {
      expect(waveSizeCount(policy({ wave_size: value }), total)).toBe(expected);
    },
  );
});
