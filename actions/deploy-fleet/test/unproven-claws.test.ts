// proveUnchangedClaws against in-memory ClawOperations and WaveVerifier (the rollout seam; the
// real verifier over SSH and the real adapter are exercised by deploy-fleet.test.ts), and
// unprovenClaws on hand-made plans and observed fleets.
import { MemoryReporter } from "@openclawps/action-kit/testing";
import type { ClawPlan, ObservedFleet, Plan } from "@openclawps/fleet-model";
import { TAGS, unprovenClaws } from "@openclawps/fleet-model";
import type { ClawOperations } from "@openclawps/rollout";
import { describe, expect, it } from "vitest";
import { proveUnchangedClaws } from "../src/unproven-claws.ts";

const sub = "/subscriptions/s/resourceGroups/rg/providers";
const vmId = (c: string) => `${sub}/Microsoft.Compute/virtualMachines/${c}`;
const diskId = (c: string) => `${sub}/Microsoft.Compute/disks/${c}-data`;

function planOf(claws: { claw: string; action?: ClawPlan["action"]; retired?: boolean }[]): Plan {
  return {
    hash: "h",
    claws: claws.map(({ claw, action = "noop", retired = false }) => ({
      claw,
      action,
      reason: "",
      changes: [],
      gated: false,
      desired: { name: claw, retired } as ClawPlan["desired"],
      resources: { vm: vmId(claw), dataDisk: diskId(claw) },
    })),
    shared: [],
    unproven: [],
    warnings: [],
  };
}

function observedOf(
  claws: { claw: string; image: string; lastHealthy?: string; power?: string }[],
): ObservedFleet {
  return {
    vms: claws.map((c) => ({
      id: vmId(c.claw),
      name: c.claw,
      vmSize: "Standard_D2s_v5",
      provisioningState: "Succeeded",
      powerState: (c.power ?? "running") as "running",
      imageVersion: c.image,
      dataDisks: [{ lun: 0, diskId: diskId(c.claw), name: `${c.claw}-data` }],
      nicIds: [],
      tags: {},
    })),
    disks: claws.map((c) => ({
      id: diskId(c.claw).toUpperCase(), // ARM ids compare case-insensitively
      name: `${c.claw}-data`,
      sizeGb: 32,
      sku: "Standard_LRS",
      tags: (c.lastHealthy ? { [TAGS.lastHealthyImage]: c.lastHealthy } : {}) as Record<string, string>,
    })),
    nics: [],
    publicIps: [],
    imageVersions: ["1.0.0", "1.1.0"],
  };
}

describe("unprovenClaws", () => {
  it("lists running, unchanged claws whose disk does not record their image as healthy", () => {
    const plan = planOf([
      { claw: "proven" },
      { claw: "never" },
      { claw: "older" },
      { claw: "stopped" },
      { claw: "changing", action: "replace" },
      { claw: "gone", retired: true },
    ]);
    const observed = observedOf([
      { claw: "proven", image: "1.1.0", lastHealthy: "1.1.0" },
      { claw: "never", image: "1.1.0" },
      { claw: "older", image: "1.1.0", lastHealthy: "1.0.0" },
      { claw: "stopped", image: "1.1.0", power: "deallocated" },
      { claw: "changing", image: "1.0.0" },
      { claw: "gone", image: "1.0.0" },
    ]);
    expect(unprovenClaws(plan.claws, observed)).toEqual([
      { claw: "never", imageVersion: "1.1.0", lastHealthy: undefined },
      { claw: "older", imageVersion: "1.1.0", lastHealthy: "1.0.0" },
    ]);
  });
});

describe("proveUnchangedClaws", () => {
  const operations = () => {
    const marked: [string, string][] = [];
    const ops = {
      markHealthy: async (claw: string, image: string) => {
        marked.push([claw, image]);
      },
    } as unknown as ClawOperations;
    return { ops, marked };
  };

  it("records the image on the disks of the claws that pass", async () => {
    const { ops, marked } = operations();
    const reporter = new MemoryReporter();
    await proveUnchangedClaws(
      [
        { claw: "a", imageVersion: "1.1.0" },
        { claw: "b", imageVersion: "1.1.0", lastHealthy: "1.0.0" },
      ],
      async (claws) => claws.map((claw) => ({ claw, healthy: true, detail: "12 passed" })),
      ops,
      reporter,
    );
    expect(marked).toEqual([
      ["a", "1.1.0"],
      ["b", "1.1.0"],
    ]);
    expect(reporter.summaryText).toContain("| b | 1.1.0 | 1.0.0 | ✅ healthy | 12 passed |");
  });

  it("fails naming the claws that do not pass, and records nothing for them", async () => {
    const { ops, marked } = operations();
    const reporter = new MemoryReporter();
    await expect(
      proveUnchangedClaws(
        [
          { claw: "a", imageVersion: "1.1.0" },
          { claw: "b", imageVersion: "1.1.0" },
        ],
        async () => [
          { claw: "a", healthy: true, detail: "ok" },
          { claw: "b", healthy: false, detail: "gateway.health failed" },
        ],
        ops,
        reporter,
      ),
    ).rejects.toThrow(
      /^1 unchanged claw\(s\) failed verification on the image they run: b \(gateway\.health failed\)\./,
    );
    expect(marked).toEqual([["a", "1.1.0"]]);
    expect(reporter.summaryText).toContain("| b | 1.1.0 | — | ❌ unhealthy | gateway.health failed |");
  });
});
