// The fleet's life cycle through the real SDK clients and workload identity federation:
// create a claw, observe, deallocate, replace its VM on another image keeping the data disk.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  createClaw,
  createFleetBase,
  createVm,
  LOCATION,
  NOW,
  powerState,
  startWithClients,
} from "./harness.ts";

let c: Clients;
const RG = "rg-claw-westus";
let base: Awaited<ReturnType<typeof createFleetBase>>;

beforeAll(async () => {
  c = await startWithClients({ pageSize: 2 });
  base = await createFleetBase(c, RG);
});

afterAll(async () => {
  await c.azure.stop();
});

describe("a claw's resources created through the real SDK clients", () => {
  let claw: Awaited<ReturnType<typeof createClaw>>;

  beforeAll(async () => {
    claw = await createClaw(c, RG, "alice", base, "1.0.0");
  });

  it("gets a static public IP from 127.0.0.0/8 that a local process can listen on", () => {
    expect(claw.pip.provisioningState).toBe("Succeeded");
    expect(claw.pip.publicIPAllocationMethod).toBe("Static");
    expect(claw.pip.ipAddress).toMatch(/^127\.\d+\.\d+\.\d+$/);
  });

  it("gives the NIC a private address in the subnet and links the public IP to it", async () => {
    expect(claw.nic.ipConfigurations?.[0]?.privateIPAddress).toBe("10.0.0.4");
    const pip = await c.network.publicIPAddresses.get(RG, "alice-pip");
    expect(pip.ipConfiguration?.id).toBe(`${claw.nic.id}/ipConfigurations/ipconfig1`);
  });

  it("creates the VM from the gallery version with the data disk at LUN 0", async () => {
    expect(claw.vm.provisioningState).toBe("Succeeded");
    expect(claw.vm.storageProfile?.imageReference?.id).toBe(base.imageId("1.0.0"));
    expect(claw.vm.storageProfile?.dataDisks?.map((d) => [d.lun, d.managedDisk?.id])).toEqual([
      [0, claw.disk.id],
    ]);
    const disk = await c.compute.disks.get(RG, "alice-data");
    expect(disk.managedBy).toBe(claw.vm.id);
    expect(disk.diskState).toBe("Attached");
  });

  it("never returns customData, as Azure does not", async () => {
    const vm = await c.compute.virtualMachines.get(RG, "alice");
    expect(vm.osProfile?.adminUsername).toBe("azureuser");
    expect(vm.osProfile?.customData).toBeUndefined();
    expect(c.azure.state().virtualMachines[vm.id!]?.customData).toBe(
      Buffer.from("#cloud-config\n").toString("base64"),
    );
  });

  it("reports the VM running in its instance view", async () => {
    const vm = await c.compute.virtualMachines.get(RG, "alice", { expand: "instanceView" });
    expect(powerState(vm.instanceView?.statuses)).toBe("PowerState/running");
    expect(vm.instanceView?.statuses?.[0]?.code).toBe("ProvisioningState/succeeded");
  });

  it("attaches the NIC to the VM", async () => {
    const nic = await c.network.networkInterfaces.get(RG, "alice-nic");
    expect(nic.virtualMachine?.id).toBe(claw.vm.id);
  });
});

describe("listing", () => {
  beforeAll(async () => {
    for (const name of ["bob", "carol", "dave"]) await createClaw(c, RG, name, base);
  });

  it("pages VMs with nextLink at the configured page size and the SDK follows it", async () => {
    const names: string[] = [];
    for await (const vm of c.compute.virtualMachines.list(RG, { expand: "instanceView" })) {
      names.push(vm.name!);
      expect(powerState(vm.instanceView?.statuses)).toBe("PowerState/running");
    }
    expect(names.sort()).toEqual(["alice", "bob", "carol", "dave"]);
    const listCalls = c.azure.requestLog.filter((e) => e.operation === "virtualMachines.list");
    expect(listCalls.length).toBeGreaterThanOrEqual(2);
    expect(listCalls.some((e) => e.query.includes("skiptoken"))).toBe(true);
  });

  it("reports every VM's power state alone through List All with statusOnly=true", async () => {
    const states = new Map<string, string | undefined>();
    for await (const vm of c.compute.virtualMachines.listAll({ statusOnly: "true" })) {
      states.set(vm.name!, powerState(vm.instanceView?.statuses));
      expect(vm.storageProfile).toBeUndefined();
    }
    expect(Object.fromEntries(states)).toEqual({
      alice: "PowerState/running",
      bob: "PowerState/running",
      carol: "PowerState/running",
      dave: "PowerState/running",
    });
  });

  it("refuses a VM list $filter other than virtualMachineScaleSet/id", async () => {
    const list = async () => {
      for await (const _ of c.compute.virtualMachines.list(RG, { filter: "name eq 'alice'" })) {
        // the first page already fails
      }
    };
    // The SDK's pager words the message itself ("Pagination failed with unexpected statusCode 400").
    await expect(list()).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
  });

  it("lists disks, NICs and public IPs of the resource group", async () => {
    const disks: string[] = [];
    for await (const d of c.compute.disks.listByResourceGroup(RG)) disks.push(d.name!);
    expect(disks.filter((n) => n.endsWith("-data")).sort()).toEqual([
      "alice-data",
      "bob-data",
      "carol-data",
      "dave-data",
    ]);
    expect(disks.filter((n) => n.includes("_OsDisk_"))).toHaveLength(4);
    const nics: string[] = [];
    for await (const n of c.network.networkInterfaces.list(RG)) nics.push(n.name!);
    expect(nics).toHaveLength(4);
    const pips: string[] = [];
    for await (const p of c.network.publicIPAddresses.list(RG)) pips.push(p.ipAddress!);
    expect(new Set(pips).size).toBe(4);
  });

  it("lists gallery image versions of an image definition", async () => {
    const versions: string[] = [];
    for await (const v of c.compute.galleryImageVersions.listByGalleryImage(
      RG,
      "clawGallery",
      "claw-desktop",
    ))
      versions.push(v.name!);
    expect(versions.sort()).toEqual(["1.0.0", "1.1.0"]);
  });
});

describe("replacing a VM on a new image while keeping its data disk", () => {
  it("deallocates, deletes the VM with the disk detached, and recreates it on 1.1.0 with the same disk", async () => {
    const before = await c.compute.disks.get(RG, "bob-data");
    const oldVm = await c.compute.virtualMachines.get(RG, "bob");
    const osDiskId = oldVm.storageProfile!.osDisk!.managedDisk!.id!;

    await c.compute.virtualMachines.deallocate(RG, "bob", NOW);
    const view = await c.compute.virtualMachines.instanceView(RG, "bob");
    expect(powerState(view.statuses)).toBe("PowerState/deallocated");

    const snap = await c.compute.snapshots.createOrUpdate(
      RG,
      "bob-data-snap-1",
      {
        location: LOCATION,
        incremental: true,
        creationData: { createOption: "Copy", sourceResourceId: before.id! },
      },
      NOW,
    );
    expect(snap.incremental).toBe(true);
    expect(snap.creationData?.sourceResourceId).toBe(before.id);
    expect(snap.diskSizeGB).toBe(32);

    await c.compute.virtualMachines.delete(RG, "bob", NOW);
    await expect(c.compute.virtualMachines.get(RG, "bob")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });

    const detached = await c.compute.disks.get(RG, "bob-data");
    expect(detached.managedBy).toBeUndefined();
    expect(detached.diskState).toBe("Unattached");
    expect(detached.timeCreated).toEqual(before.timeCreated);
    expect(detached.uniqueId).toBe(before.uniqueId);
    // OS disk had deleteOption Delete; the NIC had Detach.
    expect(c.azure.state().disks[osDiskId]).toBeUndefined();
    const nic = await c.network.networkInterfaces.get(RG, "bob-nic");
    expect(nic.virtualMachine).toBeUndefined();

    const vm = await createVm(c, RG, "bob", base.imageId("1.1.0"), nic.id!, detached.id!);
    expect(vm.storageProfile?.imageReference?.id).toBe(base.imageId("1.1.0"));
    expect(vm.storageProfile?.dataDisks?.[0]).toMatchObject({ lun: 0, managedDisk: { id: detached.id } });
    const after = await c.compute.disks.get(RG, "bob-data");
    expect(after.managedBy).toBe(vm.id);
    expect(after.timeCreated).toEqual(before.timeCreated);
  });

  it("starts a deallocated VM again", async () => {
    await c.compute.virtualMachines.deallocate(RG, "carol", NOW);
    await c.compute.virtualMachines.start(RG, "carol", NOW);
    expect(powerState((await c.compute.virtualMachines.instanceView(RG, "carol")).statuses)).toBe(
      "PowerState/running",
    );
  });
});

describe("disks", () => {
  it("grows a disk, keeps its creation time, and updates tags", async () => {
    const before = await c.compute.disks.get(RG, "dave-data");
    const grown = await c.compute.disks.update(
      RG,
      "dave-data",
      { diskSizeGB: 64, tags: { "openclawps.claw": "dave", "openclawps.image": "1.0.0" } },
      NOW,
    );
    expect(grown.diskSizeGB).toBe(64);
    expect(grown.tags).toEqual({ "openclawps.claw": "dave", "openclawps.image": "1.0.0" });
    expect(grown.timeCreated).toEqual(before.timeCreated);
  });

  it("deletes an unattached disk", async () => {
    await c.compute.disks.createOrUpdate(
      RG,
      "scratch",
      { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 4 },
      NOW,
    );
    await c.compute.disks.delete(RG, "scratch", NOW);
    await expect(c.compute.disks.get(RG, "scratch")).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("tags", () => {
  it("updates resource group tags with PATCH and resource tags at scope", async () => {
    const rg = await c.resources.resourceGroups.update(RG, {
      tags: { project: "openclawps", "openclawps.lease": "run-1" },
    });
    expect(rg.tags).toEqual({ project: "openclawps", "openclawps.lease": "run-1" });
    const vm = await c.compute.virtualMachines.get(RG, "alice");
    await c.resources.tagsOperations.updateAtScope(
      vm.id!,
      { operation: "Merge", properties: { tags: { "openclawps.rollout": "r1" } } },
      NOW,
    );
    const again = await c.compute.virtualMachines.get(RG, "alice");
    expect(again.tags).toEqual({ "openclawps.claw": "alice", "openclawps.rollout": "r1" });
  });
});

describe("request log", () => {
  it("records the ARM action of every request, which a least-privilege role can be derived from", () => {
    const actions = new Set(
      c.azure.requestLog.filter((e) => e.service === "arm" && !e.polling).map((e) => e.action),
    );
    for (const a of [
      "Microsoft.Compute/virtualMachines/write",
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Compute/virtualMachines/delete",
      "Microsoft.Compute/virtualMachines/deallocate/action",
      "Microsoft.Compute/virtualMachines/start/action",
      "Microsoft.Compute/disks/write",
      "Microsoft.Compute/snapshots/write",
      "Microsoft.Network/networkInterfaces/write",
      "Microsoft.Network/publicIPAddresses/write",
      "Microsoft.Resources/subscriptions/resourceGroups/write",
      "Microsoft.Resources/tags/write",
      "Microsoft.Compute/galleries/images/versions/read",
    ]) {
      expect(actions).toContain(a);
    }
  });

  it("counts reads and writes per operation", () => {
    const counts = c.azure.counts({ excludePolling: true });
    expect(counts.byOperation["virtualMachines.createOrUpdate"]).toBe(5);
    expect(counts.byOperation["virtualMachines.delete"]).toBe(1);
    expect(counts.writes).toBeGreaterThan(0);
    expect(counts.reads).toBeGreaterThan(0);
  });
});
