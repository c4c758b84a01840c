import { describe, expect, it } from "vitest";
import { clawsWithOtherConfigHash, planFleet } from "../src/plan.ts";
import { TAGS } from "../src/tags.ts";
import type { ClawPlan, Plan } from "../src/types.ts";
import { desiredOf, manifestText } from "./helpers.ts";
import { convergedFleet, disk, nic, observed, pip, RG_ID, vm, vmId } from "./observed.ts";

// BASE_LINES: alice (Standard_D4s_v5, 32 GiB) and bob (Standard_D8s_v5, 32 GiB), image "1.0.0".
const desired = desiredOf(manifestText());
const claw = (plan: Plan, name: string): ClawPlan => {
  const found = plan.claws.filter((c) => c.claw === name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const aliceUp = () => [vm("alice", { image: "1.0.0" }), disk("alice-data")];
const bobUp = () => [vm("bob", { image: "1.0.0", size: "Standard_D8s_v5" }), disk("bob-data")];
const fleetWith = (...items: ReturnType<typeof vm | typeof disk>[]) =>
  observed({
    vms: items.filter((i) => "vmSize" in i) as ReturnType<typeof vm>[],
    disks: items.filter((i) => "sizeGb" in i) as ReturnType<typeof disk>[],
  });

describe("create", () => {
  it("creates every claw when nothing exists, ungated, on the resolved image", () => {
    const plan = planFleet(desired, observed());
    expect(plan.claws.map((c) => [c.claw, c.action, c.gated, c.targetImageVersion])).toEqual([
      ["alice", "create", false, "1.0.0"],
      ["bob", "create", false, "1.0.0"],
    ]);
    expect(claw(plan, "alice").changes).toEqual([{ field: "exists", from: null, to: "vm+nic+pip+disk" }]);
    expect(claw(plan, "alice").reason).toMatch(
      /create VM, NIC, public IP and a 32 GiB data disk on image 1\.0\.0/,
    );
  });

  it("creates on the highest gallery version for latest, in numeric order", () => {
    const d = desiredOf(manifestText({ 17: "  image_version: latest" }));
    const plan = planFleet(d, observed({ imageVersions: ["1.9.0", "1.10.0", "1.2.0"] }));
    expect(claw(plan, "alice").targetImageVersion).toBe("1.10.0");
  });

  it("is blocked when the pinned version is not in the gallery", () => {
    const d = desiredOf(manifestText({ 20: '  alice: { image_version: "2.0.0" }' }));
    const p = claw(planFleet(d, observed()), "alice");
    expect(p).toMatchObject({ action: "blocked", gated: false });
    expect(p.reason).toBe("cannot create: image version 2.0.0 is not in the gallery (it has 1.0.0, 1.1.0)");
    expect(p.targetImageVersion).toBeUndefined();
  });

  it("is blocked for latest when the gallery has no versions", () => {
    const d = desiredOf(manifestText({ 17: "  image_version: latest" }));
    expect(claw(planFleet(d, observed({ imageVersions: [] })), "alice").reason).toMatch(
      /has no versions yet \(bake one first\)/,
    );
  });
});

describe("recover", () => {
  it("recreates a missing VM around the existing disk, from the disk's last image", () => {
    const plan = planFleet(
      desired,
      fleetWith(disk("alice-data", { attachedTo: null, lastImage: "1.0.0" }), ...bobUp()),
    );
    const p = claw(plan, "alice");
    expect(p).toMatchObject({
      action: "recover",
      gated: false,
      currentImageVersion: "1.0.0",
      targetImageVersion: "1.0.0",
    });
    expect(p.changes).toEqual([{ field: "exists", from: "disk", to: "vm+nic+pip+disk" }]);
    expect(p.resources).toEqual({ dataDisk: expect.stringMatching(/disks\/alice-data$/) });
  });

  it("grows the disk on the way when the manifest asks for more", () => {
    const d = desiredOf(manifestText({ 20: "  alice: { data_disk_size_gb: 64 }" }));
    const p = claw(planFleet(d, fleetWith(disk("alice-data", { attachedTo: null }))), "alice");
    expect(p.action).toBe("recover");
    expect(p.changes).toContainEqual({ field: "dataDiskSizeGb", from: 32, to: 64 });
  });

  it("counts a leftover NIC and public IP as present", () => {
    const fleet = fleetWith(disk("alice-data", { attachedTo: null }));
    fleet.nics.push(nic("alice-nic"));
    fleet.publicIps.push(pip("alice-pip"));
    expect(claw(planFleet(desired, fleet), "alice").changes[0]).toEqual({
      field: "exists",
      from: "nic+pip+disk",
      to: "vm+nic+pip+disk",
    });
  });
});

describe("noop", () => {
  it("leaves a converged fleet alone", () => {
    const plan = planFleet(
      desired,
      convergedFleet(desired, ["1.0.0", "1.1.0"], (v) => v),
    );
    expect(plan.claws.map((c) => c.action)).toEqual(["noop", "noop"]);
    expect(claw(plan, "alice").reason).toBe("up to date on image 1.0.0");
  });

  it("says so when the VM is deallocated, and does not start it", () => {
    const plan = planFleet(
      desired,
      fleetWith(vm("alice", { image: "1.0.0", power: "deallocated" }), disk("alice-data"), ...bobUp()),
    );
    expect(claw(plan, "alice")).toMatchObject({
      action: "noop",
      reason: "up to date on image 1.0.0; VM is deallocated (deploy does not start it)",
    });
  });

  it("starts, through a gated resize, a VM an interrupted rollout stopped to change it", () => {
    const stopped = vm("alice", { image: "1.0.0", power: "deallocated" });
    stopped.tags[TAGS.stoppedBy] = "gh-42-1";
    const plan = planFleet(desired, fleetWith(stopped, disk("alice-data"), ...bobUp()));
    expect(claw(plan, "alice")).toMatchObject({
      action: "resize",
      gated: true,
      changes: [],
      reason: "start the VM: rollout gh-42-1 stopped it to change it and did not start it again",
    });
  });

  it("clears, through a gated resize, the mark of a rollout on a VM that runs again", () => {
    const marked = vm("alice", { image: "1.0.0", power: "running" });
    marked.tags[TAGS.stoppedBy] = "gh-42-1";
    const plan = planFleet(desired, fleetWith(marked, disk("alice-data"), ...bobUp()));
    expect(claw(plan, "alice")).toMatchObject({
      action: "resize",
      gated: true,
      changes: [],
      reason: "clear the mark of rollout gh-42-1: the VM it stopped runs again",
    });
  });

  it("says a replace keeps a VM its owner deallocated deallocated", () => {
    const plan = planFleet(
      { ...desired, claws: desired.claws.map((c) => ({ ...c, configHash: "hash-2" })) },
      fleetWith(vm("alice", { image: "1.0.0", power: "deallocated" }), disk("alice-data"), ...bobUp()),
    );
    expect(claw(plan, "alice")).toMatchObject({ action: "replace" });
    expect(claw(plan, "alice").reason).toMatch(/; the VM stays deallocated as its owner left it$/);
    expect(claw(plan, "bob").reason).not.toMatch(/owner/);
  });

  it("keeps a VM on a pinned version the gallery no longer has", () => {
    const plan = planFleet(desired, { ...fleetWith(...aliceUp(), ...bobUp()), imageVersions: ["1.1.0"] });
    expect(claw(plan, "alice")).toMatchObject({ action: "noop", targetImageVersion: "1.0.0" });
  });

  it("matches tag names and resource names case-insensitively, and ARM ids in any case", () => {
    const a = vm("ALICE", { image: "1.0.0", claw: null, tags: { "OpenClawPS.Config-Hash": "hash-1" } });
    const d = disk("Alice-Data", { claw: null, attachedTo: null });
    d.managedBy = vmId("ALICE").replace("resourceGroups", "resourcegroups").toUpperCase();
    a.dataDisks = [{ lun: 0, diskId: d.id.toLowerCase(), name: d.name }];
    expect(claw(planFleet(desired, fleetWith(a, d, ...bobUp())), "alice").action).toBe("noop");
  });
});

describe("replace", () => {
  it("replaces a VM on another image, gated, with the versions", () => {
    const d = desiredOf(manifestText({ 20: '  alice: { image_version: "1.1.0" }' }));
    const p = claw(planFleet(d, fleetWith(...aliceUp(), ...bobUp())), "alice");
    expect(p).toMatchObject({
      action: "replace",
      gated: true,
      currentImageVersion: "1.0.0",
      targetImageVersion: "1.1.0",
    });
    expect(p.changes).toEqual([{ field: "imageVersion", from: "1.0.0", to: "1.1.0" }]);
    expect(p.reason).toBe("new VM on the same disk: image 1.0.0 → 1.1.0");
  });

  it("reads the image from the VM's tag when its image reference has none", () => {
    const a = vm("alice", { image: "1.1.0" });
    delete a.imageVersion;
    const p = claw(planFleet(desired, fleetWith(a, disk("alice-data"), ...bobUp())), "alice");
    expect(p.changes).toEqual([{ field: "imageVersion", from: "1.1.0", to: "1.0.0" }]);
  });

  it("replaces when the cloud-init config hash changed", () => {
    const d = desiredOf(manifestText(), (c) => (c === "alice" ? "hash-2" : "hash-1"));
    const p = claw(planFleet(d, fleetWith(...aliceUp(), ...bobUp())), "alice");
    expect(p).toMatchObject({
      action: "replace",
      reason: "new VM on the same disk: cloud-init config changed",
    });
    expect(p.changes).toEqual([{ field: "configHash", from: "hash-1", to: "hash-2" }]);
  });

  it("takes a VM tagged with the legacy hash of its config as unchanged, and no other hash", () => {
    // VMs deployed before the v2 hash carry the v1 hash of the same config (tag "hash-1" here).
    const legacy = desiredOf(manifestText(), () => "hash-v2");
    for (const c of legacy.claws) c.legacyConfigHash = "hash-1";
    const p = claw(planFleet(legacy, fleetWith(...aliceUp(), ...bobUp())), "alice");
    expect(p).toMatchObject({ action: "noop", changes: [] });
    // A legacy hash of another config is a change, shown against the v2 hash.
    for (const c of legacy.claws) c.legacyConfigHash = "hash-0";
    const changed = claw(planFleet(legacy, fleetWith(...aliceUp(), ...bobUp())), "alice");
    expect(changed).toMatchObject({
      action: "replace",
      reason: "new VM on the same disk: cloud-init config changed",
    });
    expect(changed.changes).toEqual([{ field: "configHash", from: "hash-1", to: "hash-v2" }]);
  });

  it("names the claws whose VM carries another hash: those whose legacy hash is computed", () => {
    const d = desiredOf(manifestText(), (c) => (c === "alice" ? "hash-2" : "hash-1"));
    expect(clawsWithOtherConfigHash(d, fleetWith(...aliceUp(), ...bobUp()))).toEqual(new Set(["alice"]));
    // An untagged VM (seed-deployed) is adopted: no legacy hash to compare with.
    const untagged = observed({ vms: [vm("alice", { image: "1.0.0", claw: null })] });
    delete untagged.vms[0]!.tags[TAGS.configHash];
    expect(clawsWithOtherConfigHash(d, untagged)).toEqual(new Set());
    // Found by its claw tag whatever its name, by name without one, as the plan groups them.
    const renamed = vm("whatever", { image: "1.0.0", configHash: "hash-0" });
    renamed.tags[TAGS.claw] = "BOB";
    const noClawTag = vm("alice", { image: "1.0.0", configHash: "hash-0" });
    delete noClawTag.tags[TAGS.claw];
    expect(clawsWithOtherConfigHash(d, fleetWith(renamed, noClawTag))).toEqual(new Set(["alice", "bob"]));
  });

  it("adopts an untagged seed-deployed claw by its names and replaces its VM", () => {
    const fleet = observed({
      vms: [vm("alice", { image: "1.0.0", claw: null })],
      disks: [disk("alice-data", { claw: null })],
      nics: [nic("alice-nic", null)],
      publicIps: [pip("alice-pip", null)],
    });
    const p = claw(planFleet(desired, fleet), "alice");
    expect(p.action).toBe("replace");
    expect(p.reason).toMatch(/adopting a VM without a config-hash tag \(deployed by the seed or by hand\)/);
    expect(p.changes).toEqual([{ field: "configHash", from: null, to: "hash-1" }]);
    expect(p.resources).toEqual({
      vm: vmId("alice"),
      dataDisk: expect.stringMatching(/alice-data$/),
      nics: [expect.stringMatching(/alice-nic$/)],
      publicIps: [expect.stringMatching(/alice-pip$/)],
    });
  });

  it("replaces a VM left in provisioning state Failed", () => {
    const p = claw(
      planFleet(
        desired,
        fleetWith(vm("alice", { image: "1.0.0", provisioningState: "Failed" }), disk("alice-data")),
      ),
      "alice",
    );
    expect(p).toMatchObject({
      action: "replace",
      reason: "new VM on the same disk: VM is in provisioning state Failed",
    });
  });

  it("takes the image a failed VM's disk last ran as the claw's current image, so a rollback returns there", () => {
    // An upgrade to 1.1.0 whose VM create failed: the failed VM names 1.1.0, but it never ran
    // on the disk, which still says it last ran 1.0.0 (the adapter does not tag from a failed VM).
    const failed = vm("alice", { image: "1.1.0", provisioningState: "Failed" });
    const d = desiredOf(manifestText({ 20: '  alice: { image_version: "1.1.0" }' }));
    const p = claw(planFleet(d, fleetWith(failed, disk("alice-data", { lastImage: "1.0.0" }))), "alice");
    expect(p).toMatchObject({
      action: "replace",
      currentImageVersion: "1.0.0",
      targetImageVersion: "1.1.0",
    });
    expect(p.changes).toContainEqual({ field: "imageVersion", from: "1.0.0", to: "1.1.0" });
  });

  it("replaces a VM that runs without its data disk attached", () => {
    const p = claw(
      planFleet(
        desired,
        fleetWith(vm("alice", { image: "1.0.0", disk: null }), disk("alice-data", { attachedTo: null })),
      ),
      "alice",
    );
    expect(p.reason).toBe("new VM on the same disk: data disk alice-data is not attached to the VM");
  });

  it("replaces a VM whose data disk is not at LUN 0, where boot.sh looks for it", () => {
    const p = claw(
      planFleet(desired, fleetWith(vm("alice", { image: "1.0.0", lun: 2 }), disk("alice-data"))),
      "alice",
    );
    expect(p.reason).toMatch(/at LUN 2, not 0/);
  });

  it("folds a resize and a disk growth into the replace", () => {
    const d = desiredOf(
      manifestText({
        20: '  alice: { image_version: "1.1.0", vm_size: Standard_D8s_v5, data_disk_size_gb: 64 }',
      }),
    );
    const p = claw(planFleet(d, fleetWith(...aliceUp())), "alice");
    expect(p.action).toBe("replace");
    expect(p.changes).toEqual([
      { field: "imageVersion", from: "1.0.0", to: "1.1.0" },
      { field: "vmSize", from: "Standard_D4s_v5", to: "Standard_D8s_v5" },
      { field: "dataDiskSizeGb", from: 32, to: 64 },
    ]);
    expect(p.reason).toBe(
      "new VM on the same disk: image 1.0.0 → 1.1.0; size Standard_D4s_v5 → Standard_D8s_v5; grow data disk 32 → 64 GiB",
    );
  });

  it("is blocked when the new VM's image is gone from the gallery", () => {
    const d = desiredOf(manifestText(), () => "hash-2");
    const p = claw(planFleet(d, { ...fleetWith(...aliceUp()), imageVersions: ["1.1.0"] }), "alice");
    expect(p.action).toBe("blocked");
    expect(p.reason).toMatch(
      /^cannot replace \(cloud-init config changed\): image version 1\.0\.0 is not in the gallery/,
    );
  });
});

describe("resize and grow-disk", () => {
  it("resizes a VM whose size differs, gated", () => {
    const d = desiredOf(manifestText({ 20: "  alice: { vm_size: Standard_D16s_v5 }" }));
    const p = claw(planFleet(d, fleetWith(...aliceUp())), "alice");
    expect(p).toMatchObject({
      action: "resize",
      gated: true,
      reason: "resize VM Standard_D4s_v5 → Standard_D16s_v5",
    });
    expect(p.changes).toEqual([{ field: "vmSize", from: "Standard_D4s_v5", to: "Standard_D16s_v5" }]);
  });

  it("compares VM sizes case-insensitively, as Azure does", () => {
    const d = desiredOf(manifestText({ 20: "  alice: { vm_size: Standard_D4S_V5 }" }));
    expect(claw(planFleet(d, fleetWith(...aliceUp())), "alice").action).toBe("noop");
  });

  it("grows a disk smaller than asked, gated", () => {
    const d = desiredOf(manifestText({ 18: "  data_disk_size_gb: 100" }));
    const p = claw(planFleet(d, fleetWith(...aliceUp())), "alice");
    expect(p).toMatchObject({ action: "grow-disk", gated: true, reason: "grow data disk 32 → 100 GiB" });
  });

  it("resizes and grows together when both differ", () => {
    const d = desiredOf(
      manifestText({ 20: "  alice: { vm_size: Standard_D16s_v5, data_disk_size_gb: 64 }" }),
    );
    const p = claw(planFleet(d, fleetWith(...aliceUp())), "alice");
    expect(p.action).toBe("resize");
    expect(p.changes.map((c) => c.field)).toEqual(["vmSize", "dataDiskSizeGb"]);
  });
});

describe("blocked", () => {
  it("refuses to shrink a disk", () => {
    const p = claw(
      planFleet(desired, fleetWith(vm("alice", { image: "1.0.0" }), disk("alice-data", { size: 64 }))),
      "alice",
    );
    expect(p).toMatchObject({ action: "blocked", gated: false });
    expect(p.reason).toBe(
      "data disk alice-data is 64 GiB and the manifest asks for 32 GiB; Azure cannot shrink a disk (set data_disk_size_gb: 64 or more)",
    );
  });

  it("refuses a disk attached to a VM that is not the claw's", () => {
    const p = claw(planFleet(desired, fleetWith(disk("alice-data", { attachedTo: "intruder" }))), "alice");
    expect(p.reason).toBe(
      "data disk alice-data is attached to VM intruder, which is not this claw's VM; detach it there first",
    );
  });

  it("refuses to guess when the VM exists but its data disk does not", () => {
    const p = claw(planFleet(desired, fleetWith(vm("alice", { image: "1.0.0" }))), "alice");
    expect(p.reason).toMatch(/VM alice exists but data disk alice-data does not/);
  });

  it("refuses two VMs claiming one claw", () => {
    const p = claw(
      planFleet(desired, fleetWith(...aliceUp(), vm("alice-old", { image: "1.0.0", claw: "alice" }))),
      "alice",
    );
    expect(p.reason).toMatch(/^2 VMs belong to this claw \(alice, alice-old\)/);
    expect(p.resources?.vm).toBeUndefined();
  });

  it("lists a claw's disks by name then id, without case, in whatever order Azure returns them", () => {
    // Names the same but for case, so the ids decide; then a name that sorts before both.
    const upper = disk("ALICE-DATA", { claw: "alice" });
    upper.id = `${upper.id}-2`;
    const disks = [disk("alice-data"), upper, disk("Alice-Backup-Data", { claw: "alice" })];
    for (const order of [disks, [...disks].reverse(), [disks[1]!, disks[2]!, disks[0]!]]) {
      const p = claw(planFleet(desired, fleetWith(vm("alice", { image: "1.0.0" }), ...order)), "alice");
      expect(p.reason).toBe(
        "3 data disks belong to this claw (Alice-Backup-Data, alice-data, ALICE-DATA); the controller will not guess which one holds its state",
      );
    }
  });

  it("gives every claw asking for a version the gallery lacks the same reason, its versions in numeric order", () => {
    const d = desiredOf(
      manifestText({ 20: '  alice: { image_version: "2.0.0" }', 21: '  bob: { image_version: "2.0.0" }' }),
    );
    const plan = planFleet(d, observed({ imageVersions: ["1.10.0", "junk", "1.9.0"] }));
    const why = "cannot create: image version 2.0.0 is not in the gallery (it has 1.9.0, 1.10.0, junk)";
    expect(plan.claws.map((c) => [c.claw, c.action, c.reason])).toEqual([
      ["alice", "blocked", why],
      ["bob", "blocked", why],
    ]);
    // One request resolved, another not: each claw gets its own answer.
    const mixed = desiredOf(manifestText({ 20: '  alice: { image_version: "1.9.0" }', 21: "  bob: {}" }));
    expect(
      planFleet(mixed, observed({ imageVersions: ["1.9.0"] })).claws.map((c) => [c.claw, c.action]),
    ).toEqual([
      ["alice", "create"],
      ["bob", "blocked"],
    ]);
  });

  it("waits for a VM another operation is still changing", () => {
    const p = claw(
      planFleet(
        desired,
        fleetWith(vm("alice", { image: "1.0.0", provisioningState: "Updating" }), disk("alice-data")),
      ),
      "alice",
    );
    expect(p.reason).toBe("VM alice is Updating; plan again when that operation finishes");
  });
});

describe("retire", () => {
  const retired = desiredOf(manifestText({ 21: "  bob: { retired: true }" }));

  it("deletes VM, NIC and IP of a retired claw and keeps its disk", () => {
    const fleet = fleetWith(...aliceUp(), ...bobUp());
    fleet.nics.push(nic("bob-nic"));
    fleet.publicIps.push(pip("bob-pip"));
    const p = claw(planFleet(retired, fleet), "bob");
    expect(p).toMatchObject({ action: "retire", gated: false, currentImageVersion: "1.0.0" });
    expect(p.reason).toBe("retired: delete VM bob, NIC bob-nic, public IP bob-pip; keep data disk bob-data");
    expect(p.changes).toEqual([{ field: "exists", from: "vm+nic+pip+disk", to: "disk" }]);
    expect(p.targetImageVersion).toBeUndefined();
  });

  it("finishes a retire that stopped after deleting the VM", () => {
    const fleet = fleetWith(disk("bob-data", { attachedTo: null }));
    fleet.nics.push(nic("bob-nic"));
    expect(claw(planFleet(retired, fleet), "bob")).toMatchObject({
      action: "retire",
      reason: "retired: delete NIC bob-nic; keep data disk bob-data",
    });
  });

  it("is a noop once only the disk is left", () => {
    const p = claw(
      planFleet(retired, fleetWith(disk("bob-data", { attachedTo: null, lastImage: "1.0.0" }))),
      "bob",
    );
    expect(p).toMatchObject({
      action: "noop",
      reason: "retired; data disk bob-data kept",
      currentImageVersion: "1.0.0",
    });
  });

  it("is a noop when nothing is left", () => {
    expect(claw(planFleet(retired, observed()), "bob")).toMatchObject({
      action: "noop",
      reason: "retired; nothing left in Azure",
    });
  });

  it("does not need the image in the gallery", () => {
    expect(claw(planFleet(retired, { ...fleetWith(...bobUp()), imageVersions: [] }), "bob").action).toBe(
      "retire",
    );
  });
});

describe("orphans", () => {
  it("reports a tagged claw that is not in the manifest, once, and touches nothing", () => {
    const fleet = fleetWith(...aliceUp(), ...bobUp(), vm("zed", { image: "1.0.0" }), disk("zed-data"));
    fleet.nics.push(nic("zed-nic"));
    const plan = planFleet(desired, fleet);
    const p = claw(plan, "zed");
    expect(p).toMatchObject({ action: "orphan", gated: false, currentImageVersion: "1.0.0", changes: [] });
    expect(p.reason).toBe(
      "not in the manifest: VM zed, disk zed-data, NIC zed-nic (tagged with this claw's name) left untouched; add it back, or list it with retired: true to remove its VM",
    );
    expect(p.desired).toBeUndefined();
    expect(plan.claws.map((c) => c.claw)).toEqual(["alice", "bob", "zed"]);
  });

  it("recognises a seed claw removed from the manifest by its untagged data disk", () => {
    const fleet = fleetWith(
      ...aliceUp(),
      ...bobUp(),
      vm("yan", { claw: null, image: "1.0.0" }),
      disk("yan-data", { claw: null }),
    );
    fleet.nics.push(nic("yan-nic", null));
    const p = claw(planFleet(desired, fleet), "yan");
    expect(p.reason).toMatch(/VM yan, disk yan-data, NIC yan-nic \(named like a seed-deployed claw\)/);
  });

  it("ignores untagged resources that do not look like a claw", () => {
    const fleet = fleetWith(
      ...aliceUp(),
      ...bobUp(),
      vm("jumpbox", { claw: null, disk: null }),
      disk("jumpbox_OsDisk_1", { claw: null }),
    );
    expect(planFleet(desired, fleet).claws.map((c) => c.claw)).toEqual(["alice", "bob"]);
  });

  it("groups an orphan's resources whatever the case of its tag", () => {
    const fleet = fleetWith(vm("zed", { claw: "Zed", image: "1.0.0" }), disk("zed-data", { claw: "zed" }));
    const orphans = planFleet(desired, fleet).claws.filter((c) => c.action === "orphan");
    expect(orphans).toHaveLength(1);
    expect(orphans[0]!.claw).toBe("Zed");
  });

  it("is a retired claw rather than an orphan once the manifest lists it as retired", () => {
    const d = desiredOf(manifestText({ "+21": "  zed: { retired: true }" }));
    const fleet = fleetWith(...aliceUp(), ...bobUp(), vm("zed", { image: "1.0.0" }), disk("zed-data"));
    expect(claw(planFleet(d, fleet), "zed").action).toBe("retire");
  });
});

describe("the plan hash", () => {
  it("is a sha256 hex and the same for the same inputs", () => {
    const a = planFleet(desired, fleetWith(...aliceUp()));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(planFleet(desired, fleetWith(...aliceUp())).hash).toBe(a.hash);
  });

  it("changes when an action changes", () => {
    const a = planFleet(desired, fleetWith(...aliceUp(), ...bobUp()));
    const b = planFleet(
      desired,
      fleetWith(...aliceUp(), vm("bob", { image: "1.1.0", size: "Standard_D8s_v5" }), disk("bob-data")),
    );
    expect(a.hash).not.toBe(b.hash);
  });

  it("changes when the planned resource changes, even with the same actions", () => {
    const a = planFleet(desired, fleetWith(disk("alice-data", { attachedTo: null })));
    const other = disk("alice-data", { attachedTo: null });
    other.id = `${RG_ID}/providers/Microsoft.Compute/disks/alice-data-restored`;
    other.tags[TAGS.claw] = "alice";
    const b = planFleet(desired, fleetWith(other));
    expect(b.claws[0]!.action).toBe(a.claws[0]!.action);
    expect(a.hash).not.toBe(b.hash);
  });

  it("changes when what a new claw would be created with changes, though its action and image do not", () => {
    // The VM size, disk size and disk SKU of a create appear in no `changes` entry; an approved
    // plan for a 32 GiB claw on one size must not apply a 1 TiB claw on another.
    const a = planFleet(desired, observed());
    const bigger = planFleet(
      desiredOf(manifestText({ 20: "  alice: { vm_size: Standard_D64s_v5, data_disk_size_gb: 1024 }" })),
      observed(),
    );
    const premium = planFleet(
      desiredOf(manifestText({ 20: "  alice: { data_disk_sku: Premium_LRS }" })),
      observed(),
    );
    expect(bigger.claws[0]!).toMatchObject({ action: "create", targetImageVersion: "1.0.0" });
    expect(bigger.hash).not.toBe(a.hash);
    expect(premium.hash).not.toBe(a.hash);
  });

  it("does not cover the human reason", () => {
    // Proven healthy on 1.0.0, so the running VM is not an unproven claw to verify.
    const proven = () => {
      const d = disk("alice-data");
      d.tags[TAGS.lastHealthyImage] = "1.0.0";
      return d;
    };
    const a = planFleet(desired, fleetWith(vm("alice", { image: "1.0.0", power: "running" }), proven()));
    const b = planFleet(desired, fleetWith(vm("alice", { image: "1.0.0", power: "stopped" }), proven()));
    expect(a.claws[0]!.reason).not.toBe(b.claws[0]!.reason);
    expect(a.hash).toBe(b.hash);
  });
});

it("refuses a desired fleet with the same claw twice (a programmer error)", () => {
  const twice = { ...desired, claws: [desired.claws[0]!, { ...desired.claws[0]!, name: "ALICE" }] };
  expect(() => planFleet(twice, observed())).toThrow(/appears twice/);
});

describe("rollback image", () => {
  const upgrade = desiredOf(manifestText({ 17: '  image_version: "1.1.0"' }));
  const healthyOn = (version: string, o: Parameters<typeof disk>[1] = {}) => {
    const d = disk("alice-data", o);
    d.tags[TAGS.lastHealthyImage] = version;
    return d;
  };

  it("rolls an upgrade back to the image that last proved healthy on the disk", () => {
    const p = claw(
      planFleet(upgrade, fleetWith(vm("alice", { image: "1.0.0" }), healthyOn("1.0.0"), ...bobUp())),
      "alice",
    );
    expect(p).toMatchObject({
      action: "replace",
      currentImageVersion: "1.0.0",
      rollbackImageVersion: "1.0.0",
    });
  });

  it("returns a claw left on an unproven image to the last healthy one, not to the unproven one", () => {
    // A rollback failed part-way: the VM runs the new image, which never proved healthy.
    const changed = { ...upgrade, claws: upgrade.claws.map((c) => ({ ...c, configHash: "hash-2" })) };
    const p = claw(
      planFleet(changed, fleetWith(vm("alice", { image: "1.1.0" }), healthyOn("1.0.0"), ...bobUp())),
      "alice",
    );
    expect(p).toMatchObject({
      action: "replace",
      currentImageVersion: "1.1.0",
      rollbackImageVersion: "1.0.0",
    });
    const recover = claw(
      planFleet(upgrade, fleetWith(healthyOn("1.0.0", { attachedTo: null, lastImage: "1.1.0" }), ...bobUp())),
      "alice",
    );
    expect(recover).toMatchObject({
      action: "recover",
      currentImageVersion: "1.1.0",
      rollbackImageVersion: "1.0.0",
    });
  });

  it("blocks, naming the fix, a replace whose rollback image is gone from the gallery", () => {
    const fleet = {
      ...fleetWith(vm("alice", { image: "1.0.0" }), healthyOn("1.0.0"), ...bobUp()),
      imageVersions: ["1.1.0"],
    };
    const p = claw(planFleet(upgrade, fleet), "alice");
    expect(p.action).toBe("blocked");
    expect(p.reason).toBe(
      "cannot replace safely (image 1.0.0 → 1.1.0): the image to roll back to, 1.0.0, is no longer in the gallery; " +
        "publish 1.0.0 again, or set rollout.rollback: false to replace without a way back",
    );
    const noRollback = desiredOf(
      manifestText({ 17: '  image_version: "1.1.0"', "+23": "  rollback: false" }),
    );
    expect(claw(planFleet(noRollback, fleet), "alice").action).toBe("replace");
  });

  it("is part of the plan hash", () => {
    const withOld = (o: ReturnType<typeof fleetWith>) => ({
      ...o,
      imageVersions: ["0.9.0", "1.0.0", "1.1.0"],
    });
    const a = planFleet(
      upgrade,
      withOld(fleetWith(vm("alice", { image: "1.0.0" }), healthyOn("1.0.0"), ...bobUp())),
    );
    const b = planFleet(
      upgrade,
      withOld(fleetWith(vm("alice", { image: "1.0.0" }), healthyOn("0.9.0"), ...bobUp())),
    );
    expect(claw(b, "alice")).toMatchObject({ action: "replace", rollbackImageVersion: "0.9.0" });
    expect(a.hash).not.toBe(b.hash);
  });
});
