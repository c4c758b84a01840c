// A large fleet: observation by list calls stays a handful of requests however many VMs there are.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, imageVersionId, powerState, startWithClients } from "./harness.ts";

let c: Clients;
const RG = "rg-large";
const COUNT = 1000;

beforeAll(async () => {
  c = await startWithClients();
  await c.azure.seedGalleryVersions(RG, "clawGallery", "claw-desktop", ["1.0.0"]);
  const names = Array.from({ length: COUNT }, (_, i) => `claw-${String(i).padStart(4, "0")}`);
  await c.azure.seedVirtualMachines(RG, names, { imageId: imageVersionId(c.azure, RG, "1.0.0") });
});

afterAll(async () => {
  await c.azure.stop();
});

describe("a 1000-VM resource group", () => {
  it("is listed with instance views in pages of 100 through the SDK", async () => {
    c.azure.resetLog();
    const seen = new Set<string>();
    for await (const vm of c.compute.virtualMachines.list(RG, { expand: "instanceView" })) {
      seen.add(vm.name!);
      expect(powerState(vm.instanceView?.statuses)).toBe("PowerState/running");
    }
    expect(seen.size).toBe(COUNT);
    expect(c.azure.counts().byOperation).toEqual({ "virtualMachines.list": COUNT / 100 });
  });

  it("has each seeded VM's data disk attached at LUN 0 and listed with the disks", async () => {
    let data = 0;
    for await (const d of c.compute.disks.listByResourceGroup(RG)) {
      if (d.name!.endsWith("-data")) {
        data++;
        expect(d.managedBy).toMatch(/\/virtualMachines\/claw-\d{4}$/);
      }
    }
    expect(data).toBe(COUNT);
  });

  it("gives every claw its own public IP on the loopback network", async () => {
    const addresses = new Set<string>();
    for await (const p of c.network.publicIPAddresses.list(RG)) addresses.add(p.ipAddress!);
    expect(addresses.size).toBe(COUNT);
    for (const a of addresses) expect(a).toMatch(/^127\.(1\d|[2-9]\d|1\d\d|2[0-4]\d)\.\d+\.\d+$/);
  });
});
