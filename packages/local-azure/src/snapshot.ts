// A read-only view of the world for test assertions, with what the API hides made visible
// (power state, customData) and the common questions pre-answered.
import type { Arm } from "./arm.ts";
import { obj } from "./providers/common.ts";
import { powerState } from "./providers/compute.ts";
import type { OperationRecord, ResourceGroupRecord, StoredResource } from "./world.ts";

export interface DiskSummary {
  id: string;
  name: string;
  resourceGroup: string;
  diskSizeGB: number;
  sku: string;
  /** Id of the VM the disk is attached to. */
  managedBy?: string;
  timeCreated: string;
  provisioningState: string;
  tags: Record<string, string>;
}

export interface VmSummary {
  id: string;
  name: string;
  resourceGroup: string;
  provisioningState: string;
  powerState: string;
  vmSize: string;
  imageReferenceId?: string;
  osDiskId: string;
  dataDisks: { lun: number; diskId: string; deleteOption: string }[];
  networkInterfaceIds: string[];
  /** Base64 customData as sent (the API never returns it). */
  customData?: string;
  tags: Record<string, string>;
}

export interface LocalAzureState {
  resourceGroups: Record<string, ResourceGroupRecord>;
  /** Every resource by id (as created), bookkeeping included. */
  resources: Record<string, StoredResource>;
  disks: Record<string, DiskSummary>;
  snapshots: Record<string, StoredResource>;
  virtualMachines: Record<string, VmSummary>;
  /** Public IP id → address. */
  publicIps: Record<string, string>;
  networkInterfaces: Record<string, StoredResource>;
  galleryImageVersions: Record<string, StoredResource>;
  operations: OperationRecord[];
}

function rgOf(id: string): string {
  const parts = id.split("/");
  return parts[4] ?? "";
}

export function snapshot(arm: Arm): LocalAzureState {
  const world = structuredClone(arm.world);
  const resources: Record<string, StoredResource> = {};
  const disks: Record<string, DiskSummary> = {};
  const snapshots: Record<string, StoredResource> = {};
  const virtualMachines: Record<string, VmSummary> = {};
  const publicIps: Record<string, string> = {};
  const networkInterfaces: Record<string, StoredResource> = {};
  const galleryImageVersions: Record<string, StoredResource> = {};
  for (const r of Object.values(world.resources)) {
    resources[r.id] = r;
    switch (r.type) {
      case "Microsoft.Compute/disks":
        disks[r.id] = {
          id: r.id,
          name: r.name,
          resourceGroup: rgOf(r.id),
          diskSizeGB: Number(r.properties.diskSizeGB),
          sku: String((r.sku as { name?: string } | undefined)?.name ?? ""),
          ...(r.managedBy ? { managedBy: String(r.managedBy) } : {}),
          timeCreated: String(r.properties.timeCreated),
          provisioningState: String(r.properties.provisioningState),
          tags: r.tags ?? {},
        };
        break;
      case "Microsoft.Compute/snapshots":
        snapshots[r.id] = r;
        break;
      case "Microsoft.Compute/virtualMachines": {
        const storage = obj(r.properties.storageProfile) ?? {};
        const dataDisks = ((storage.dataDisks as Record<string, unknown>[] | undefined) ?? []).map((d) => ({
          lun: Number(d.lun),
          diskId: String(obj(d.managedDisk)?.id),
          deleteOption: String(d.deleteOption),
        }));
        const nics =
          (obj(r.properties.networkProfile)?.networkInterfaces as { id: string }[] | undefined) ?? [];
        const imageId = obj(storage.imageReference)?.id;
        virtualMachines[r.id] = {
          id: r.id,
          name: r.name,
          resourceGroup: rgOf(r.id),
          provisioningState: String(r.properties.provisioningState),
          powerState: powerState(r),
          vmSize: String(obj(r.properties.hardwareProfile)?.vmSize),
          ...(typeof imageId === "string" ? { imageReferenceId: imageId } : {}),
          osDiskId: String(obj(obj(storage.osDisk)?.managedDisk)?.id),
          dataDisks,
          networkInterfaceIds: nics.map((n) => n.id),
          ...(typeof r.hidden?.customData === "string" ? { customData: r.hidden.customData } : {}),
          tags: r.tags ?? {},
        };
        break;
      }
      case "Microsoft.Network/publicIPAddresses":
        publicIps[r.id] = String(r.properties.ipAddress);
        break;
      case "Microsoft.Network/networkInterfaces":
        networkInterfaces[r.id] = r;
        break;
      case "Microsoft.Compute/galleries/images/versions":
        galleryImageVersions[r.id] = r;
        break;
    }
  }
  return {
    resourceGroups: world.resourceGroups,
    resources,
    disks,
    snapshots,
    virtualMachines,
    publicIps,
    networkInterfaces,
    galleryImageVersions,
    operations: Object.values(world.operations),
  };
}
