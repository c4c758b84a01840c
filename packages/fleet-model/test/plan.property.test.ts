// Invariants of planFleet over random desired and observed fleets.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveImageVersion } from "../src/image-version.ts";
import { planFleet } from "../src/plan.ts";
import { resolveFleet } from "../src/resolve.ts";
import type { ActionKind, DesiredFleet, Manifest, ObservedFleet, PowerState } from "../src/types.ts";
import { manifestOf, manifestText } from "./helpers.ts";
import { convergedFleet, disk, nic, observed, pip, vm } from "./observed.ts";

const BASE: Manifest = manifestOf(manifestText());
const NAMES = ["alice", "bob", "carol", "dave", "erin"];
const OTHERS = ["zed", "yan"]; // never in the manifest: orphan candidates
const VERSIONS = ["1.0.0", "1.1.0", "2.0.0"];
const SIZES = ["Standard_D4s_v5", "Standard_D8s_v5"];
const DISKS = [32, 64, 128];

const desiredArb: fc.Arbitrary<DesiredFleet> = fc
  .uniqueArray(
    fc.record({
      name: fc.constantFrom(...NAMES),
      vm_size: fc.constantFrom(...SIZES),
      data_disk_size_gb: fc.constantFrom(...DISKS),
      image_version: fc.constantFrom("1.0.0", "1.1.0", "latest"),
      retired: fc.boolean(),
      configHash: fc.constantFrom("h1", "h2"),
    }),
    { selector: (c) => c.name, maxLength: NAMES.length },
  )
  .map((claws) => {
    const manifest: Manifest = {
      ...BASE,
      claws: Object.fromEntries(
        claws.map((c) => [
          c.name,
          {
            vm_size: c.vm_size,
            data_disk_size_gb: c.data_disk_size_gb,
            image_version: c.image_version,
            ...(c.retired ? { retired: true } : {}),
          },
        ]),
      ),
    };
    const fleet = resolveFleet(manifest, "claws.yaml");
    return { ...fleet, claws: fleet.claws.map((c, i) => ({ ...c, configHash: claws[i]!.configHash })) };
  });

const power: fc.Arbitrary<PowerState> = fc.constantFrom("running", "deallocated", "stopped");

const resourceArb = (name: string) =>
  fc
    .record({
      vm: fc.option(
        fc.record({
          tagged: fc.boolean(),
          image: fc.constantFrom(...VERSIONS),
          size: fc.constantFrom(...SIZES),
          hash: fc.option(fc.constantFrom("h1", "h2"), { nil: null }),
          power,
          state: fc.constantFrom("Succeeded", "Succeeded", "Failed", "Updating"),
          lun: fc.constantFrom(0, 0, 0, 1),
        }),
        { nil: undefined },
      ),
      disk: fc.option(
        fc.record({
          tagged: fc.boolean(),
          size: fc.constantFrom(...DISKS),
          attached: fc.constantFrom("own", "none", "other"),
        }),
        { nil: undefined },
      ),
      nic: fc.boolean(),
      pip: fc.boolean(),
    })
    .map((r) => ({ name, ...r }));

const observedArb: fc.Arbitrary<ObservedFleet> = fc
  .tuple(fc.tuple(...[...NAMES, ...OTHERS].map(resourceArb)), fc.subarray(VERSIONS))
  .map(([resources, imageVersions]) => {
    const fleet = observed({ imageVersions });
    for (const r of resources) {
      if (r.vm) {
        fleet.vms.push(
          vm(r.name, {
            claw: r.vm.tagged ? r.name : null,
            image: r.vm.image,
            size: r.vm.size,
            configHash: r.vm.hash,
            power: r.vm.power,
            provisioningState: r.vm.state,
            lun: r.vm.lun,
          }),
        );
      }
      if (r.disk) {
        const attachedTo =
          r.disk.attached === "own"
            ? r.vm
              ? r.name
              : null
            : r.disk.attached === "other"
              ? "intruder"
              : null;
        fleet.disks.push(
          disk(`${r.name}-data`, { claw: r.disk.tagged ? r.name : null, size: r.disk.size, attachedTo }),
        );
      }
      if (r.nic) fleet.nics.push(nic(`${r.name}-nic`, r.vm?.tagged ? r.name : null));
      if (r.pip) fleet.publicIps.push(pip(`${r.name}-pip`, r.vm?.tagged ? r.name : null));
    }
    return fleet;
  });

const KINDS: ActionKind[] = [
  "create",
  "recover",
  "replace",
  "resize",
  "grow-disk",
  "noop",
  "orphan",
  "retire",
  "blocked",
];
const GATED = new Set<ActionKind>(["replace", "resize", "grow-disk"]);

/** Same fleet, lists shuffled and every object's keys in reverse order. */
function reordered<T>(value: T, seed: number): T {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const walk = (v: unknown, shuffle: boolean): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => walk(x, true));
      if (shuffle) items.sort(() => rand() - 0.5);
      return items;
    }
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.entries(v)
          .reverse()
          .map(([k, x]) => [k, walk(x, true)]),
      );
    return v;
  };
  const out = walk(value, false) as Record<string, unknown>;
  return out as T;
}

const RUNS = { numRuns: 250 };

describe("planFleet over random fleets", () => {
  it("lists every claw exactly once, then each orphan once", () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, obs) => {
        const plan = planFleet(desired, obs);
        const wanted = desired.claws.map((c) => c.name);
        expect(plan.claws.slice(0, wanted.length).map((c) => c.claw)).toEqual(wanted);
        const rest = plan.claws.slice(wanted.length);
        expect(rest.every((c) => c.action === "orphan")).toBe(true);
        const all = plan.claws.map((c) => c.claw.toLowerCase());
        expect(new Set(all).size).toBe(all.length);
        expect(rest.every((c) => !wanted.includes(c.claw.toLowerCase()))).toBe(true);
      }),
      RUNS,
    );
  });

  it("never plans a step that deletes a data disk", () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, obs) => {
        for (const p of planFleet(desired, obs).claws) {
          expect(KINDS).toContain(p.action);
          for (const change of p.changes) {
            if (change.field === "exists" && String(change.from ?? "").includes("disk"))
              expect(String(change.to ?? "")).toMatch(/disk/);
            if (change.field === "dataDiskSizeGb" && p.action !== "blocked")
              expect(Number(change.to)).toBeGreaterThan(Number(change.from));
          }
          if (p.action === "retire") {
            expect(p.reason).not.toMatch(/delete[^;]*disk/);
            if (p.resources?.dataDisk) expect(p.reason).toMatch(/keep data disk/);
          }
        }
      }),
      RUNS,
    );
  });

  it("gates exactly the actions that take a running claw down", () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, obs) => {
        for (const p of planFleet(desired, obs).claws) expect(p.gated).toBe(GATED.has(p.action));
      }),
      RUNS,
    );
  });

  it("builds new VMs only from image versions the gallery has", () => {
    fc.assert(
      fc.property(desiredArb, observedArb, (desired, obs) => {
        for (const p of planFleet(desired, obs).claws) {
          if (p.action === "create" || p.action === "recover" || p.action === "replace")
            expect(obs.imageVersions).toContain(p.targetImageVersion);
          if (p.action === "orphan" || p.action === "retire" || p.action === "blocked")
            expect(p.targetImageVersion).toBeUndefined();
        }
      }),
      RUNS,
    );
  });

  it("leaves an observed fleet that matches the desired one alone", () => {
    fc.assert(
      fc.property(desiredArb, fc.subarray(VERSIONS, { minLength: 1 }), (desired, versions) => {
        const obs = convergedFleet(desired, versions, (v) => resolveImageVersion(v, versions) ?? "9.9.9");
        const plan = planFleet(desired, obs);
        for (const p of plan.claws) {
          const pinnedMissing = p.desired && !resolveImageVersion(p.desired.settings.image_version, versions);
          // A claw pinned to a version the gallery never had cannot have converged: skip it.
          if (!pinnedMissing) expect(p.action).toBe("noop");
        }
      }),
      RUNS,
    );
  });

  it("gives the same plan and hash whatever the order of lists and keys", () => {
    fc.assert(
      fc.property(desiredArb, observedArb, fc.integer({ min: 1, max: 1_000_000 }), (desired, obs, seed) => {
        const a = planFleet(desired, obs);
        const shuffledObserved = reordered(obs, seed);
        const b = planFleet(
          { ...desired, claws: desired.claws.map((c) => reordered(c, seed)) },
          shuffledObserved,
        );
        expect(b.hash).toBe(a.hash);
        expect(b.claws.map((c) => [c.claw, c.action, c.reason])).toEqual(
          a.claws.map((c) => [c.claw, c.action, c.reason]),
        );
      }),
      RUNS,
    );
  });
});
