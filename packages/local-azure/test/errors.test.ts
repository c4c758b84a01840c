// Each error the fleet can run into, surfacing through the SDK as the RestError users see from Azure.
import { ResourceManagementClient } from "@azure/arm-resources";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  createClaw,
  createClawNetwork,
  createFleetBase,
  createVm,
  LOCATION,
  NOW,
  startWithClients,
} from "./harness.ts";

let c: Clients;
const RG = "rg-errors";
let base: Awaited<ReturnType<typeof createFleetBase>>;
let alice: Awaited<ReturnType<typeof createClaw>>;

beforeAll(async () => {
  c = await startWithClients();
  base = await createFleetBase(c, RG);
  alice = await createClaw(c, RG, "alice", base);
});

afterAll(async () => {
  await c.azure.stop();
});

describe("not found", () => {
  it("answers ResourceGroupNotFound for anything under a missing resource group", async () => {
    await expect(c.compute.virtualMachines.get("rg-missing", "vm")).rejects.toMatchObject({
      name: "RestError",
      statusCode: 404,
      code: "ResourceGroupNotFound",
      message: "Resource group 'rg-missing' could not be found.",
    });
    await expect(c.resources.resourceGroups.get("rg-missing")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
  });

  it("answers SubscriptionNotFound (404) for a subscription it does not hold, for reads, lists and writes alike", async () => {
    const wrong = "11111111-2222-3333-4444-555555555555";
    const other = new ResourceManagementClient(c.credential, wrong, { endpoint: c.azure.armEndpoint });
    const expected = {
      statusCode: 404,
      code: "SubscriptionNotFound",
      message: `The subscription '${wrong}' could not be found.`,
    };
    await expect(other.resourceGroups.get(RG)).rejects.toMatchObject(expected);
    await expect(other.resourceGroups.createOrUpdate("rg-x", { location: LOCATION })).rejects.toMatchObject(
      expected,
    );
    const listing = async () => {
      for await (const _ of other.resourceGroups.list()) {
        // drains the pages
      }
    };
    // The SDK's pager rewords the message ("Pagination failed ..."); the code and status are ARM's.
    await expect(listing()).rejects.toMatchObject({ statusCode: 404, code: "SubscriptionNotFound" });
  });

  it("answers ResourceNotFound for a missing VM, in ARM's wording", async () => {
    await expect(c.compute.virtualMachines.get(RG, "nobody")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
      message: `The Resource 'Microsoft.Compute/virtualMachines/nobody' under resource group '${RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    });
  });

  it("answers ParentResourceNotFound for a version of a missing image definition", async () => {
    await expect(
      c.compute.galleryImageVersions.get(RG, "clawGallery", "no-such-image", "1.0.0"),
    ).rejects.toMatchObject({
      statusCode: 404,
      code: "ParentResourceNotFound",
    });
  });

  it("treats deleting a resource that does not exist as done (204)", async () => {
    await expect(c.compute.disks.delete(RG, "never-existed", NOW)).resolves.toBeUndefined();
  });
});

describe("disks in use", () => {
  it("refuses to delete an attached disk with OperationNotAllowed", async () => {
    await expect(c.compute.disks.delete(RG, "alice-data", NOW)).rejects.toMatchObject({
      statusCode: 409,
      code: "OperationNotAllowed",
      message: `Disk alice-data is attached to VM ${alice.vm.id}.`,
    });
    expect((await c.compute.disks.get(RG, "alice-data")).managedBy).toBe(alice.vm.id);
  });

  it("refuses to attach a disk another VM owns with ConflictingUserInput", async () => {
    const { nic } = await createClawNetwork(c, RG, "mallory", base.subnetId);
    await expect(
      createVm(c, RG, "mallory", base.imageId("1.0.0"), nic.id!, alice.disk.id!),
    ).rejects.toMatchObject({
      statusCode: 409,
      code: "ConflictingUserInput",
      message: expect.stringContaining(`because it is already attached to VM ${alice.vm.id}`),
    });
    // Nothing was created and nothing was taken from alice.
    await expect(c.compute.virtualMachines.get(RG, "mallory")).rejects.toMatchObject({ statusCode: 404 });
    expect((await c.network.networkInterfaces.get(RG, "mallory-nic")).virtualMachine).toBeUndefined();
    expect((await c.compute.disks.get(RG, "alice-data")).managedBy).toBe(alice.vm.id);
  });

  it("refuses to shrink a disk", async () => {
    await expect(c.compute.disks.update(RG, "alice-data", { diskSizeGB: 16 }, NOW)).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("cannot be resized down"),
    });
  });

  it("refuses a disk size outside Azure's limits with InvalidParameter", async () => {
    await expect(
      c.compute.disks.createOrUpdate(
        RG,
        "huge",
        { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 40_000 },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
  });
});

describe("references a VM makes", () => {
  it("refuses a VM on a gallery version that does not exist", async () => {
    const nic = await c.network.networkInterfaces.createOrUpdate(
      RG,
      "ghost-nic",
      { location: LOCATION, ipConfigurations: [{ name: "ipconfig1", subnet: { id: base.subnetId } }] },
      NOW,
    );
    const disk = await c.compute.disks.createOrUpdate(
      RG,
      "ghost-data",
      { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 8 },
      NOW,
    );
    await expect(createVm(c, RG, "ghost", base.imageId("9.9.9"), nic.id!, disk.id!)).rejects.toMatchObject({
      statusCode: 404,
      code: "GalleryImageNotFound",
    });
    expect((await c.compute.disks.get(RG, "ghost-data")).managedBy).toBeUndefined();
  });

  it("refuses a VM whose NIC does not exist", async () => {
    const nicId = alice.nic.id!.replace("alice-nic", "missing-nic");
    const disk = await c.compute.disks.createOrUpdate(
      RG,
      "orphan-data",
      { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 8 },
      NOW,
    );
    await expect(createVm(c, RG, "orphan", base.imageId("1.0.0"), nicId, disk.id!)).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidResourceReference",
    });
  });

  it("refuses a VM whose data disk does not exist", async () => {
    const diskId = alice.disk.id!.replace("alice-data", "missing-data");
    const nic = await c.network.networkInterfaces.get(RG, "ghost-nic");
    await expect(createVm(c, RG, "ghost2", base.imageId("1.0.0"), nic.id!, diskId)).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });
  });

  it("refuses to change customData of an existing VM (it is fixed at creation)", async () => {
    const vm = await c.compute.virtualMachines.get(RG, "alice");
    await expect(
      c.compute.virtualMachines.createOrUpdate(
        RG,
        "alice",
        {
          ...vm,
          osProfile: {
            ...vm.osProfile,
            customData: Buffer.from("#cloud-config\nnew: true\n").toString("base64"),
          },
        },
        NOW,
      ),
    ).rejects.toMatchObject({
      statusCode: 409,
      code: "PropertyChangeNotAllowed",
      message: "Changing property 'customData' is not allowed.",
    });
  });

  it("refuses customData that is not base64", async () => {
    const nic = await c.network.networkInterfaces.get(RG, "ghost-nic");
    const disk = await c.compute.disks.get(RG, "ghost-data");
    await expect(
      c.compute.virtualMachines.createOrUpdate(
        RG,
        "badcustom",
        {
          location: LOCATION,
          hardwareProfile: { vmSize: "Standard_B2s" },
          storageProfile: {
            imageReference: { id: base.imageId("1.0.0") },
            dataDisks: [{ lun: 0, createOption: "Attach", managedDisk: { id: disk.id! } }],
          },
          osProfile: { computerName: "badcustom", adminUsername: "azureuser", customData: "not base64!" },
          networkProfile: { networkInterfaces: [{ id: nic.id! }] },
        },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
  });

  it("refuses a body without the VM size as InvalidParameter", async () => {
    await expect(
      c.compute.virtualMachines.createOrUpdate(RG, "nosize", { location: LOCATION, storageProfile: {} }, NOW),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: "Required parameter 'hardwareProfile.vmSize' is missing (null).",
    });
  });
});

describe("snapshot limits", () => {
  it("refuses a disk's 501st incremental snapshot, and takes one again once an older one is deleted", async () => {
    const disk = await c.compute.disks.createOrUpdate(
      RG,
      "many-snaps",
      {
        location: LOCATION,
        sku: { name: "Standard_LRS" },
        creationData: { createOption: "Empty" },
        diskSizeGB: 4,
      },
      NOW,
    );
    const snap = (name: string) =>
      c.compute.snapshots.createOrUpdate(
        RG,
        name,
        {
          location: LOCATION,
          incremental: true,
          creationData: { createOption: "Copy", sourceResourceId: disk.id! },
        },
        NOW,
      );
    for (let i = 0; i < 500; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => snap(`many-snaps-${i + j}`)));
    await expect(snap("many-snaps-500")).rejects.toMatchObject({
      statusCode: 409,
      code: "OperationNotAllowed",
      message: expect.stringContaining("the most a disk can have at a time (500)"),
    });
    await c.compute.snapshots.delete(RG, "many-snaps-0", NOW);
    await expect(snap("many-snaps-500")).resolves.toMatchObject({ incremental: true });
  });
});

describe("network rules", () => {
  it("refuses to delete a NIC attached to a VM", async () => {
    await expect(c.network.networkInterfaces.delete(RG, "alice-nic", NOW)).rejects.toMatchObject({
      statusCode: 400,
      code: "NicInUse",
    });
  });

  it("refuses to delete a public IP a NIC uses", async () => {
    await expect(c.network.publicIPAddresses.delete(RG, "alice-pip", NOW)).rejects.toMatchObject({
      statusCode: 400,
      code: "PublicIPAddressCannotBeDeleted",
    });
  });

  it("refuses a subnet outside the virtual network's address space", async () => {
    await expect(
      c.network.subnets.createOrUpdate(RG, `${RG}-vnet`, "outside", { addressPrefix: "192.168.0.0/24" }, NOW),
    ).rejects.toMatchObject({ statusCode: 400, code: "NetcfgSubnetRangeOutsideVnet" });
  });

  it("refuses an NSG rule priority outside 100-4096", async () => {
    await expect(
      c.network.securityRules.createOrUpdate(
        RG,
        `${RG}-nsg`,
        "bad",
        {
          protocol: "Tcp",
          access: "Allow",
          direction: "Inbound",
          priority: 50,
          sourceAddressPrefix: "*",
          sourcePortRange: "*",
          destinationAddressPrefix: "*",
          destinationPortRange: "80",
        },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleInvalidPriority" });
  });

  const rule = {
    protocol: "*",
    access: "Deny",
    direction: "Inbound",
    priority: 4000,
    sourceAddressPrefix: "10.0.0.0/24",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.0.0/24",
    destinationPortRange: "*",
  };

  it("refuses an NSG rule without a source or destination address, or without a port range", async () => {
    const { sourceAddressPrefix: _s, ...noSource } = rule;
    await expect(
      c.network.securityRules.createOrUpdate(RG, `${RG}-nsg`, "no-source", noSource, NOW),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleInvalidAddressPrefix" });
    const { destinationAddressPrefix: _d, ...noDestination } = rule;
    await expect(
      c.network.securityRules.createOrUpdate(RG, `${RG}-nsg`, "no-destination", noDestination, NOW),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleInvalidAddressPrefix" });
    const { destinationPortRange: _p, ...noPorts } = rule;
    await expect(
      c.network.securityRules.createOrUpdate(RG, `${RG}-nsg`, "no-ports", noPorts, NOW),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleInvalidPortRange" });
    await expect(
      c.network.securityRules.createOrUpdate(
        RG,
        `${RG}-nsg`,
        "bad-port",
        { ...rule, destinationPortRange: "22-70000" },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleInvalidPortRange" });
  });

  it("refuses a service tag inside an address prefix list, and two inbound rules with one priority", async () => {
    const { sourceAddressPrefix: _s, ...noSource } = rule;
    await expect(
      c.network.securityRules.createOrUpdate(
        RG,
        `${RG}-nsg`,
        "tag-in-list",
        { ...noSource, sourceAddressPrefixes: ["VirtualNetwork", "10.0.0.0/24"] },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleParameterContainsUnsupportedValue" });
    const nsg = await c.network.networkSecurityGroups.get(RG, `${RG}-nsg`);
    await expect(
      c.network.networkSecurityGroups.createOrUpdate(
        RG,
        `${RG}-nsg`,
        {
          location: nsg.location,
          securityRules: [
            { name: "a", ...rule },
            { name: "b", ...rule, access: "Allow" },
          ],
        },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "SecurityRuleConflict" });
    // The same priority in the other direction is another rule's business.
    const both = await c.network.networkSecurityGroups.createOrUpdate(
      RG,
      `${RG}-nsg`,
      {
        location: nsg.location,
        securityRules: [...(nsg.securityRules ?? []), { name: "out", ...rule, direction: "Outbound" }],
      },
      NOW,
    );
    expect(both.securityRules?.map((r) => r.name)).toContain("out");
  });
});

describe("gallery", () => {
  it("refuses an image version name that is not Major.Minor.Patch", async () => {
    await expect(
      c.compute.galleryImageVersions.createOrUpdate(
        RG,
        "clawGallery",
        "claw-desktop",
        "1.0",
        { location: LOCATION },
        NOW,
      ),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: expect.stringContaining("Major(int32).Minor(int32).Patch(int32)"),
    });
  });

  it("creates a version for tests and updates its tags", async () => {
    const v = await c.compute.galleryImageVersions.createOrUpdate(
      RG,
      "clawGallery",
      "claw-desktop",
      "2.0.0",
      { location: LOCATION, tags: { "openclawps.baked-from": "abc123" }, storageProfile: {} },
      NOW,
    );
    expect(v.provisioningState).toBe("Succeeded");
    const updated = await c.compute.galleryImageVersions.update(
      RG,
      "clawGallery",
      "claw-desktop",
      "2.0.0",
      { tags: { "openclawps.healthy": "true" } },
      NOW,
    );
    expect(updated.tags).toEqual({ "openclawps.healthy": "true" });
  });
});
