// Seeding: put resources into the world directly (no HTTP, no auth, no log), through the same
// handlers the API uses so seeded resources look exactly like created ones. For test setup and
// scale tests (a 1000-VM resource group).
import type { Arm } from "./arm.ts";

export interface SeedVmOptions {
  /** Id of the gallery image version (or image definition) the VMs run. */
  imageId: string;
  location?: string;
  vmSize?: string;
  /** Data disk per VM named `{vm}-data` at LUN 0 (default 32 GB); 0 = none. */
  dataDiskSizeGB?: number;
  /** Public IP per VM named `{vm}-pip` (default true). */
  publicIp?: boolean;
  tags?: Record<string, string>;
  /** Subnet for the NICs; default: VNet `seed-vnet` 10.0.0.0/16 with subnet `default` 10.0.0.0/20 in the resource group. */
  subnetId?: string;
  adminUsername?: string;
}

function put(arm: Arm, path: string, body: unknown, created: Set<string>): void {
  const before = new Set(Object.keys(arm.world.operations));
  arm.handle("PUT", path, new URLSearchParams({ "api-version": "seed" }), JSON.stringify(body));
  for (const id of Object.keys(arm.world.operations)) if (!before.has(id)) created.add(id);
  arm.finishNow(created);
  for (const id of created) delete arm.world.operations[id];
  created.clear();
}

function ensureResourceGroup(arm: Arm, rg: string, location: string): void {
  if (!arm.resourceGroup(rg))
    put(arm, `/subscriptions/${arm.subscriptionId}/resourceGroups/${rg}`, { location }, new Set());
}

export function seedGalleryVersions(
  arm: Arm,
  s: {
    rg: string;
    gallery: string;
    image: string;
    versions: string[];
    location: string;
    tags?: Record<string, string>;
  },
): void {
  const ops = new Set<string>();
  ensureResourceGroup(arm, s.rg, s.location);
  const rgPath = `/subscriptions/${arm.subscriptionId}/resourceGroups/${s.rg}`;
  const galleryPath = `${rgPath}/providers/Microsoft.Compute/galleries/${s.gallery}`;
  if (!arm.find(galleryPath)) put(arm, galleryPath, { location: s.location, properties: {} }, ops);
  const imagePath = `${galleryPath}/images/${s.image}`;
  if (!arm.find(imagePath)) {
    put(
      arm,
      imagePath,
      {
        location: s.location,
        properties: {
          osType: "Linux",
          osState: "Generalized",
          hyperVGeneration: "V2",
          identifier: { publisher: "openclawps", offer: "claw", sku: s.image },
        },
      },
      ops,
    );
  }
  for (const v of s.versions) {
    put(
      arm,
      `${imagePath}/versions/${v}`,
      {
        location: s.location,
        ...(s.tags ? { tags: s.tags } : {}),
        properties: {
          publishingProfile: { targetRegions: [{ name: s.location, regionalReplicaCount: 1 }] },
          storageProfile: { osDiskImage: { sizeInGB: 30, hostCaching: "ReadWrite" } },
        },
      },
      ops,
    );
  }
}

export function seedVirtualMachines(arm: Arm, rg: string, names: string[], o: SeedVmOptions): void {
  const ops = new Set<string>();
  const location = o.location ?? "westus";
  ensureResourceGroup(arm, rg, location);
  const rgPath = `/subscriptions/${arm.subscriptionId}/resourceGroups/${rg}`;
  let subnetId = o.subnetId;
  if (!subnetId) {
    const vnetPath = `${rgPath}/providers/Microsoft.Network/virtualNetworks/seed-vnet`;
    if (!arm.find(vnetPath)) {
      put(
        arm,
        vnetPath,
        {
          location,
          properties: {
            addressSpace: { addressPrefixes: ["10.0.0.0/16"] },
            subnets: [{ name: "default", properties: { addressPrefix: "10.0.0.0/20" } }],
          },
        },
        ops,
      );
    }
    subnetId = `${vnetPath}/subnets/default`;
  }
  const tags = o.tags ? { tags: o.tags } : {};
  for (const name of names) {
    const pipPath = `${rgPath}/providers/Microsoft.Network/publicIPAddresses/${name}-pip`;
    if (o.publicIp !== false) {
      put(
        arm,
        pipPath,
        { location, ...tags, sku: { name: "Standard" }, properties: { publicIPAllocationMethod: "Static" } },
        ops,
      );
    }
    const nicPath = `${rgPath}/providers/Microsoft.Network/networkInterfaces/${name}-nic`;
    put(
      arm,
      nicPath,
      {
        location,
        ...tags,
        properties: {
          ipConfigurations: [
            {
              name: "ipconfig1",
              properties: {
                subnet: { id: subnetId },
                ...(o.publicIp !== false ? { publicIPAddress: { id: pipPath } } : {}),
              },
            },
          ],
        },
      },
      ops,
    );
    const dataDisks: unknown[] = [];
    const size = o.dataDiskSizeGB ?? 32;
    if (size > 0) {
      const diskPath = `${rgPath}/providers/Microsoft.Compute/disks/${name}-data`;
      put(
        arm,
        diskPath,
        {
          location,
          ...tags,
          sku: { name: "Standard_LRS" },
          properties: { creationData: { createOption: "Empty" }, diskSizeGB: size },
        },
        ops,
      );
      dataDisks.push({
        lun: 0,
        createOption: "Attach",
        managedDisk: { id: diskPath },
        deleteOption: "Detach",
      });
    }
    put(
      arm,
      `${rgPath}/providers/Microsoft.Compute/virtualMachines/${name}`,
      {
        location,
        ...tags,
        properties: {
          hardwareProfile: { vmSize: o.vmSize ?? "Standard_B2s" },
          storageProfile: {
            imageReference: { id: o.imageId },
            osDisk: {
              createOption: "FromImage",
              deleteOption: "Delete",
              managedDisk: { storageAccountType: "Standard_LRS" },
            },
            dataDisks,
          },
          osProfile: {
            computerName: name,
            adminUsername: o.adminUsername ?? "azureuser",
            linuxConfiguration: { disablePasswordAuthentication: true },
          },
          networkProfile: {
            networkInterfaces: [{ id: nicPath, properties: { primary: true, deleteOption: "Delete" } }],
          },
        },
      },
      ops,
    );
  }
}
