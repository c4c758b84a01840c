// Observe the fleet's resource group with list calls only: one paged list per resource type,
// whatever the number of claws (Terraform refreshes each resource with its own GET; at a few
// hundred claws that alone hits ARM's read bucket). The lists are read as ARM's JSON
// (compute-reads.ts, network-client.ts), not through the SDK's models.
import {
  compareGalleryVersions,
  isGalleryVersion,
  type ObservedDisk,
  type ObservedFleet,
  type ObservedNic,
  type ObservedPublicIp,
  type ObservedSnapshot,
  type ObservedVm,
  type PowerState,
  type ResolvedFleet,
  TAGS,
} from "@openclawps/fleet-model";
import { listAll } from "./arm-read.ts";
import type { ArmDisk, ArmVirtualMachine } from "./compute-reads.ts";
import type { AzureContext } from "./connect.ts";
import { parseLease } from "./lease.ts";
import { type NetworkInterface, type PublicIpAddress, primaryIpConfiguration } from "./network-client.ts";
import { imageVersionOf } from "./resource-ids.ts";
import { observeSharedInfra } from "./shared-infra.ts";

export async function observeFleet(
  ctx: AzureContext,
  fleet: Pick<ResolvedFleet, "azure">,
): Promise<ObservedFleet> {
  const rg = ctx.resourceGroup;
  // The shared resources first: their resource-group read is the one that tells a subscription
  // that does not exist (or that the app cannot see) from a fleet that does not exist yet.
  const shared = await observeSharedInfra(ctx, fleet);
  const [vms, disks, nics, publicIps, imageVersions] = await Promise.all([
    // `$expand=instanceView` on the resource-group list returns each VM's power state in the
    // same response (the service honours it without a $filter, despite the spec's note; the
    // Java SDK relies on it: https://github.com/Azure/azure-sdk-for-java/issues/26618).
    listAll(ctx.computeReads.virtualMachines.list(rg, { expand: "instanceView" }), { missingOk: true }),
    listAll(ctx.computeReads.disks.listByResourceGroup(rg), { missingOk: true }),
    listAll(ctx.network.networkInterfaces.list(rg), { missingOk: true }),
    listAll(ctx.network.publicIPAddresses.list(rg), { missingOk: true }),
    listAll(
      ctx.computeReads.galleryImageVersions.listByGalleryImage(
        rg,
        fleet.azure.gallery_name,
        fleet.azure.fleet_image_definition_name,
      ),
      { missingOk: true },
    ),
  ]);
  return {
    vms: vms.map(toObservedVm),
    disks: disks.map(toObservedDisk),
    nics: nics.map(toObservedNic),
    publicIps: publicIps.map(toObservedPublicIp),
    imageVersions: imageVersions
      // A version still replicating (or failed) cannot be deployed yet.
      .filter(
        (v) =>
          v.name &&
          isGalleryVersion(v.name) &&
          (v.properties?.provisioningState ?? "Succeeded") === "Succeeded",
      )
      .map((v) => v.name!)
      .sort(compareGalleryVersions),
    shared,
    ...leaseOf(shared.resourceGroup?.tags),
  };
}

/**
 * Snapshots in the resource group per source disk id (lower-cased): one paged list, whatever the
 * number of claws. What the status view counts; the controller only ever creates them.
 */
export async function observeSnapshots(ctx: AzureContext): Promise<Map<string, ObservedSnapshot[]>> {
  const snapshots = await listAll(ctx.compute.snapshots.listByResourceGroup(ctx.resourceGroup), {
    missingOk: true,
  });
  const bySource = new Map<string, ObservedSnapshot[]>();
  for (const s of snapshots) {
    const source = s.creationData?.sourceResourceId?.toLowerCase();
    if (!source) continue;
    const list = bySource.get(source) ?? [];
    list.push({
      name: s.name ?? "",
      ...(s.timeCreated ? { timeCreated: s.timeCreated.toISOString() } : {}),
    });
    bySource.set(source, list);
  }
  return bySource;
}

function leaseOf(tags: Record<string, string> | undefined): Pick<ObservedFleet, "lease"> {
  const held = parseLease(tags?.[TAGS.lease]);
  return held ? { lease: { runId: held.runId, expiresAt: held.expiresAt.toISOString() } } : {};
}

/**
 * What a VM's power state and last operation are read from: its instance view. The SDK's VM
 * (claw-operations.ts: `virtualMachines.get`) and a REST VM's `properties` (observe) both have it.
 */
export interface VmInstanceViewFacts {
  instanceView?: { statuses?: { code?: string; time?: Date | string }[] };
}

/** What a VM's image version is read from: the SDK's VM, or a REST VM's `properties` with its `tags`. */
export interface VmImageFacts {
  storageProfile?: { imageReference?: { id?: string; exactVersion?: string } };
  tags?: Record<string, string>;
}

export function powerStateOf(vm: VmInstanceViewFacts): PowerState {
  // Instance view statuses carry "PowerState/running", "PowerState/deallocated", ...
  // https://learn.microsoft.com/azure/virtual-machines/states-billing#power-states-and-billing
  const code = vm.instanceView?.statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;
  const state = code?.slice("PowerState/".length).toLowerCase();
  switch (state) {
    case "running":
    case "starting":
    case "stopping":
    case "stopped":
    case "deallocating":
    case "deallocated":
      return state;
    default:
      return "unknown";
  }
}

/**
 * The gallery image version a VM runs: from its image reference id, or `exactVersion` when it was
 * created from an image definition (the latest version at the time), or our tag.
 */
export function vmImageVersion(vm: VmImageFacts): string | undefined {
  const ref = vm.storageProfile?.imageReference;
  return imageVersionOf(ref?.id) ?? ref?.exactVersion ?? vm.tags?.[TAGS.imageVersion];
}

/** Time of the VM's last completed operation: its provisioning status's (the power status has none). */
export function lastOperationOf(vm: VmInstanceViewFacts): string | undefined {
  return isoTime(vm.instanceView?.statuses?.find((s) => s.code?.startsWith("ProvisioningState/"))?.time);
}

/**
 * A time as the fleet records it: `Date#toISOString()`, milliseconds and `Z`. ARM writes
 * "2026-12-03T09:10:00.1234567+00:00"; the SDK made a Date of it, and the observed fleet has always
 * held that Date's ISO string ("2026-12-03T09:10:00.123Z").
 */
function isoTime(time: Date | string | undefined): string | undefined {
  return time ? new Date(time).toISOString() : undefined;
}

export function toObservedVm(vm: ArmVirtualMachine): ObservedVm {
  const p = vm.properties ?? {};
  const lastOperationAt = lastOperationOf(p);
  return {
    ...(lastOperationAt ? { lastOperationAt } : {}),
    id: vm.id ?? "",
    name: vm.name ?? "",
    vmSize: p.hardwareProfile?.vmSize ?? "",
    provisioningState: p.provisioningState ?? "",
    powerState: powerStateOf(p),
    imageVersion: vmImageVersion({ storageProfile: p.storageProfile, tags: vm.tags }),
    dataDisks: (p.storageProfile?.dataDisks ?? []).map((d) => ({
      lun: d.lun,
      diskId: d.managedDisk?.id ?? "",
      name: d.name ?? "",
    })),
    nicIds: (p.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? "").filter(Boolean),
    tags: vm.tags ?? {},
  };
}

export function toObservedDisk(disk: ArmDisk): ObservedDisk {
  return {
    id: disk.id ?? "",
    name: disk.name ?? "",
    sizeGb: disk.properties?.diskSizeGB ?? 0,
    sku: disk.sku?.name ?? "",
    managedBy: disk.managedBy || undefined,
    timeCreated: isoTime(disk.properties?.timeCreated),
    tags: disk.tags ?? {},
  };
}

export function toObservedNic(nic: NetworkInterface): ObservedNic {
  const primary = primaryIpConfiguration(nic);
  return {
    id: nic.id ?? "",
    name: nic.name ?? "",
    vmId: nic.properties?.virtualMachine?.id,
    publicIpId: primary?.publicIPAddress?.id,
    subnetId: primary?.subnet?.id,
    tags: nic.tags ?? {},
  };
}

export function toObservedPublicIp(pip: PublicIpAddress): ObservedPublicIp {
  return {
    id: pip.id ?? "",
    name: pip.name ?? "",
    ipAddress: pip.properties?.ipAddress,
    attachedTo: pip.properties?.ipConfiguration?.id,
    tags: pip.tags ?? {},
  };
}
