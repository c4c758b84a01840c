// The size catalogue served by the resource SKUs API, and the creates and resizes Azure refuses
// when size, image definition and request do not fit together.
import type { VirtualMachine } from "@azure/arm-compute";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, createFleetBase, LOCATION, NOW, startWithClients } from "./harness.ts";

let c: Clients;
const RG = "rg-sizes";
let base: Awaited<ReturnType<typeof createFleetBase>>;
const GALLERY = "clawGallery";

beforeAll(async () => {
  c = await startWithClients();
  base = await createFleetBase(c, RG);
});

afterAll(async () => {
  await c.azure.stop();
});

async function skus(filter?: string) {
  const out = [];
  for await (const s of c.compute.resourceSkus.list(filter ? { filter } : {})) out.push(s);
  return out;
}

/** An image definition with one version, as bake would make it. */
async function definition(
  name: string,
  extra: {
    features?: { name: string; value: string }[];
    purchasePlan?: object;
    hyperVGeneration?: "V1" | "V2";
  },
): Promise<string> {
  await c.compute.galleryImages.createOrUpdate(
    RG,
    GALLERY,
    name,
    {
      location: LOCATION,
      osType: "Linux",
      osState: "Generalized",
      hyperVGeneration: extra.hyperVGeneration ?? "V2",
      identifier: { publisher: "claw", offer: "claw-vm", sku: name },
      ...(extra.features ? { features: extra.features } : {}),
      ...(extra.purchasePlan ? { purchasePlan: extra.purchasePlan } : {}),
    },
    NOW,
  );
  await c.azure.seedGalleryVersions(RG, GALLERY, name, ["1.0.0"], LOCATION);
  return `/subscriptions/${c.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${name}/versions/1.0.0`;
}

let count = 0;
/** Creates a VM (and its NIC and data disk) with the given size, image and extras. */
async function create(opts: {
  vmSize: string;
  imageId: string;
  diskSku?: string;
  diskControllerType?: "SCSI" | "NVMe";
  extra?: Partial<VirtualMachine>;
}): Promise<VirtualMachine> {
  const name = `vm${++count}`;
  const nic = await c.network.networkInterfaces.createOrUpdate(
    RG,
    `${name}-nic`,
    { location: LOCATION, ipConfigurations: [{ name: "ipconfig1", subnet: { id: base.subnetId } }] },
    NOW,
  );
  const disk = await c.compute.disks.createOrUpdate(
    RG,
    `${name}-data`,
    {
      location: LOCATION,
      sku: { name: (opts.diskSku ?? "Standard_LRS") as "Standard_LRS" },
      creationData: { createOption: "Empty" },
      diskSizeGB: 32,
    },
    NOW,
  );
  return c.compute.virtualMachines.createOrUpdate(
    RG,
    name,
    {
      location: LOCATION,
      hardwareProfile: { vmSize: opts.vmSize },
      storageProfile: {
        imageReference: { id: opts.imageId },
        ...(opts.diskControllerType ? { diskControllerType: opts.diskControllerType } : {}),
        osDisk: { createOption: "FromImage", deleteOption: "Delete" },
        dataDisks: [
          { lun: 0, createOption: "Attach", managedDisk: { id: disk.id! }, deleteOption: "Detach" },
        ],
      },
      osProfile: {
        computerName: name,
        adminUsername: "azureuser",
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: {
            publicKeys: [{ path: "/home/azureuser/.ssh/authorized_keys", keyData: "ssh-ed25519 AAAA test" }],
          },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nic.id!, primary: true, deleteOption: "Detach" }] },
      ...opts.extra,
    },
    NOW,
  );
}

describe("Resource Skus - List", () => {
  it("describes each size's capabilities for the location asked, and its restrictions", async () => {
    c.azure.restrictVmSize("Standard_D8s_v5");
    const list = await skus("location eq 'westus'");
    c.azure.restrictVmSize("Standard_D8s_v5", false);
    const byName = new Map(list.map((s) => [s.name, s]));
    const cap = (size: string, name: string) =>
      byName.get(size)?.capabilities?.find((x) => x.name === name)?.value;
    expect(byName.get("Standard_B2s")).toMatchObject({
      resourceType: "virtualMachines",
      locations: ["westus"],
    });
    expect(cap("Standard_D2_v5", "PremiumIO")).toBe("False");
    expect(cap("Standard_D2s_v5", "PremiumIO")).toBe("True");
    expect(cap("Standard_A2_v2", "HyperVGenerations")).toBe("V1");
    expect(cap("Standard_D2ads_v6", "DiskControllerTypes")).toBe("NVMe");
    expect(cap("Standard_B2s", "DiskControllerTypes")).toBeUndefined();
    expect(byName.get("Standard_D8s_v5")?.restrictions).toEqual([
      expect.objectContaining({
        type: "Location",
        reasonCode: "NotAvailableForSubscription",
        values: ["westus"],
      }),
    ]);
    expect(byName.get("Standard_D4s_v5")?.restrictions).toEqual([]);
  });

  it("refuses any filter but the location one, as Azure documents", async () => {
    await expect(skus("name eq 'Standard_B2s'")).rejects.toMatchObject({ code: "InvalidParameter" });
  });
});

describe("VM create refusals", () => {
  it("refuses a size restricted for the subscription, and a size the location does not offer, with SkuNotAvailable", async () => {
    c.azure.restrictVmSize("Standard_D4s_v5");
    await expect(create({ vmSize: "Standard_D4s_v5", imageId: base.imageId("1.0.0") })).rejects.toMatchObject(
      {
        statusCode: 409,
        code: "SkuNotAvailable",
        message: expect.stringContaining("Standard_D4s_v5' is currently not available in location 'westus'"),
      },
    );
    c.azure.restrictVmSize("Standard_D4s_v5", false);
    await expect(create({ vmSize: "Standard_Q99_v9", imageId: base.imageId("1.0.0") })).rejects.toMatchObject(
      {
        code: "SkuNotAvailable",
      },
    );
    await expect(
      create({ vmSize: "Standard_D4s_v5", imageId: base.imageId("1.0.0") }),
    ).resolves.toMatchObject({
      provisioningState: "Succeeded",
    });
  });

  it("refuses a Gen2 image on a size that boots Gen1 only", async () => {
    await expect(create({ vmSize: "Standard_A2_v2", imageId: base.imageId("1.0.0") })).rejects.toMatchObject({
      statusCode: 400,
      code: "BadRequest",
      message: expect.stringMatching(
        /^The selected VM size 'Standard_A2_v2' cannot boot Hypervisor Generation '2'/,
      ),
    });
  });

  it("refuses a Trusted Launch VM from a definition without SecurityType, and a standard VM from a TrustedLaunch-only one", async () => {
    const trusted = {
      securityProfile: {
        securityType: "TrustedLaunch" as const,
        uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
      },
    };
    await expect(
      create({ vmSize: "Standard_B2s", imageId: base.imageId("1.0.0"), extra: trusted }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "BadRequest",
      message: expect.stringContaining("'TrustedLaunch' security type"),
    });
    const only = await definition("tl-only", {
      features: [{ name: "SecurityType", value: "TrustedLaunch" }],
    });
    await expect(create({ vmSize: "Standard_B2s", imageId: only })).rejects.toMatchObject({
      statusCode: 400,
      message:
        "The provided gallery image only supports creation of VMs and VM Scale Sets with 'TrustedLaunch' security type.",
    });
    const supported = await definition("tl-ok", {
      features: [{ name: "SecurityType", value: "TrustedLaunchSupported" }],
    });
    await expect(
      create({ vmSize: "Standard_B2s", imageId: supported, extra: trusted }),
    ).resolves.toBeDefined();
    await expect(create({ vmSize: "Standard_B2s", imageId: supported })).resolves.toBeDefined();
  });

  it("refuses an NVMe-only size for an image not tagged for NVMe", async () => {
    await expect(
      create({ vmSize: "Standard_D2ads_v6", imageId: base.imageId("1.0.0") }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: expect.stringMatching(/^The VM size 'Standard_D2ads_v6' cannot boot with OS image or disk/),
    });
    const nvme = await definition("nvme", {
      features: [{ name: "DiskControllerTypes", value: "SCSI, NVMe" }],
    });
    await expect(create({ vmSize: "Standard_D2ads_v6", imageId: nvme })).resolves.toBeDefined();
  });

  it("gives an NVMe-only size the NVMe controller, asked for or by default, and refuses SCSI on it", async () => {
    const nvme = await definition("nvme-default", {
      features: [{ name: "DiskControllerTypes", value: "SCSI, NVMe" }],
    });
    const asked = await create({ vmSize: "Standard_D2ads_v6", imageId: nvme, diskControllerType: "NVMe" });
    expect(asked.storageProfile?.diskControllerType).toBe("NVMe");
    const byDefault = await create({ vmSize: "Standard_D2ads_v6", imageId: nvme });
    expect(byDefault.storageProfile?.diskControllerType).toBe("NVMe");
    // A size with SCSI keeps SCSI unless the VM asks for NVMe (which this size does not have).
    const scsi = await create({ vmSize: "Standard_D2s_v5", imageId: nvme });
    expect(scsi.storageProfile?.diskControllerType).toBe("SCSI");
    await expect(
      create({ vmSize: "Standard_D2ads_v6", imageId: nvme, diskControllerType: "SCSI" }),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
    await expect(
      create({ vmSize: "Standard_D2s_v5", imageId: nvme, diskControllerType: "NVMe" }),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
  });

  it("resizes a SCSI VM to an NVMe-only size only when the same update asks for the NVMe controller", async () => {
    const nvme = await definition("nvme-resize", {
      features: [{ name: "DiskControllerTypes", value: "SCSI, NVMe" }],
    });
    const vm = await create({ vmSize: "Standard_D2s_v5", imageId: nvme });
    await c.compute.virtualMachines.deallocate(RG, vm.name!, NOW);
    await expect(
      c.compute.virtualMachines.update(
        RG,
        vm.name!,
        { hardwareProfile: { vmSize: "Standard_D2ads_v6" } },
        NOW,
      ),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
    const resized = await c.compute.virtualMachines.update(
      RG,
      vm.name!,
      { hardwareProfile: { vmSize: "Standard_D2ads_v6" }, storageProfile: { diskControllerType: "NVMe" } },
      NOW,
    );
    expect(resized.hardwareProfile?.vmSize).toBe("Standard_D2ads_v6");
    expect(resized.storageProfile?.diskControllerType).toBe("NVMe");
  });

  it("refuses a VM without the purchase plan its image definition carries (VMMarketplaceInvalidInput)", async () => {
    const plan = {
      name: "planid125",
      publisher: "amdinc1746636494855",
      product: "nvv5_v710_linux_rocm_image",
    };
    const image = await definition("planned", { purchasePlan: plan });
    await expect(create({ vmSize: "Standard_B2s", imageId: image })).rejects.toMatchObject({
      statusCode: 400,
      code: "VMMarketplaceInvalidInput",
      message: expect.stringMatching(
        /^Creating a virtual machine from Marketplace image or a custom image sourced from a Marketplace image requires Plan information in the request/,
      ),
    });
    await expect(
      create({ vmSize: "Standard_B2s", imageId: image, extra: { plan: { ...plan, name: "other" } } }),
    ).rejects.toMatchObject({ code: "VMMarketplaceInvalidInput" });
    await expect(create({ vmSize: "Standard_B2s", imageId: image, extra: { plan } })).resolves.toBeDefined();
  });

  it("refuses a premium data disk on a size without premium storage", async () => {
    await expect(
      create({ vmSize: "Standard_D2_v5", imageId: base.imageId("1.0.0"), diskSku: "Premium_LRS" }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "InvalidParameter",
      message: expect.stringMatching(
        /^Requested operation cannot be performed because the VM size Standard_D2_v5 does not support the storage account type Premium_LRS of disk 'vm\d+-data'/,
      ),
    });
  });

  it("refuses a resize to a size that cannot take the VM's disks, leaving the size as it was", async () => {
    const vm = await create({
      vmSize: "Standard_B2s",
      imageId: base.imageId("1.0.0"),
      diskSku: "Premium_LRS",
    });
    await c.compute.virtualMachines.deallocate(RG, vm.name!, NOW);
    await expect(
      c.compute.virtualMachines.update(RG, vm.name!, { hardwareProfile: { vmSize: "Standard_D2_v5" } }, NOW),
    ).rejects.toMatchObject({ statusCode: 400, code: "InvalidParameter" });
    expect((await c.compute.virtualMachines.get(RG, vm.name!)).hardwareProfile?.vmSize).toBe("Standard_B2s");
  });
});
