// Observe the fleet's resource group with list calls only: one paged list per resource type,
// whatever the number of claws (Terraform refreshes each resource with its own GET; at a few
// hundred claws that alone hits ARM's read bucket).
import type { Disk, VirtualMachine } from "@azure/arm-compute";
import type { NetworkInterface, PublicIPAddress } from "@azure/arm-network";
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
import type { AzureContext } from "./connect.ts";
import { parseLease } from "./lease.ts";
import { imageVersionOf, sameId } from "./resource-ids.ts";
import { clawTags, mergeTags } from "./resource-tags.ts";
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
    listAll(ctx.compute.virtualMachines.list(rg, { expand: "instanceView" }), { missingOk: true }),
    listAll(ctx.compute.disks.listByResourceGroup(rg), { missingOk: true }),
    listAll(ctx.network.networkInterfaces.list(rg), { missingOk: true }),
    listAll(ctx.network.publicIPAddresses.list(rg), { missingOk: true }),
    listAll(
      ctx.compute.galleryImageVersions.listByGalleryImage(
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
        (v) => v.name && isGalleryVersion(v.name) && (v.provisioningState ?? "Succeeded") === "Succeeded",
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

export function powerStateOf(vm: Pick<VirtualMachine, "instanceView">): PowerState {
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
export function vmImageVersion(vm: Pick<VirtualMachine, "storageProfile" | "tags">): string | undefined {
  const ref = vm.storageProfile?.imageReference;
  return imageVersionOf(ref?.id) ?? ref?.exactVersion ?? vm.tags?.[TAGS.imageVersion];
}

/** Time of the VM's last completed operation: its provisioning status's (the power status has none). */
export function lastOperationOf(vm: Pick<VirtualMachine, "instanceView">): string | undefined {
  const time = vm.instanceView?.statuses?.find((s) => s.code?.startsWith("ProvisioningState/"))?.time;
  return time ? new Date(time).toISOString() : undefined;
}

export function toObservedVm(vm: VirtualMachine): ObservedVm {
  const lastOperationAt = lastOperationOf(vm);
  return {
    ...(lastOperationAt ? { lastOperationAt } : {}),
    id: vm.id ?? "",
    name: vm.name ?? "",
    vmSize: vm.hardwareProfile?.vmSize ?? "",
    provisioningState: vm.provisioningState ?? "",
    powerState: powerStateOf(vm),
    imageVersion: vmImageVersion(vm),
    dataDisks: (vm.storageProfile?.dataDisks ?? []).map((d) => ({
      lun: d.lun,
      diskId: d.managedDisk?.id ?? "",
      name: d.name ?? "",
    })),
    nicIds: (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? "").filter(Boolean),
    tags: vm.tags ?? {},
  };
}

export function toObservedDisk(disk: Disk): ObservedDisk {
  return {
    id: disk.id ?? "",
    name: disk.name ?? "",
    sizeGb: disk.diskSizeGB ?? 0,
    sku: disk.sku?.name ?? "",
    managedBy: disk.managedBy || undefined,
    timeCreated: disk.timeCreated?.toISOString(),
    tags: disk.tags ?? {},
  };
}

export function toObservedNic(nic: NetworkInterface): ObservedNic {
  const primary = nic.ipConfigurations?.find((c) => c.primary) ?? nic.ipConfigurations?.[0];
  return {
    id: nic.id ?? "",
    name: nic.name ?? "",
    vmId: nic.virtualMachine?.id,
    publicIpId: primary?.publicIPAddress?.id,
    subnetId: primary?.subnet?.id,
    tags: nic.tags ?? {},
  };
}

export function toObservedPublicIp(pip: PublicIPAddress): ObservedPublicIp {
  return {
    id: pip.id ?? "",
    name: pip.name ?? "",
    ipAddress: pip.ipAddress,
    attachedTo: pip.ipConfiguration?.id,
    tags: pip.tags ?? {},
  };
}

// ---------------------------------------------------------------- adopting seed-deployed resources

export interface SeedResource {
  claw: string;
  kind: "vm" | "nic" | "publicIp" | "disk";
  name: string;
  id: string;
}

/**
 * Resources named the seed's way (`{claw}`, `{claw}-nic`, `{claw}-pip`, `{claw}-data`) that carry
 * no claw tag yet. Pure: plan mode reports them; apply tags them with adoptSeedResources.
 */
export function seedResourcesToAdopt(
  fleet: Pick<ResolvedFleet, "claws">,
  observed: ObservedFleet,
): SeedResource[] {
  const out: SeedResource[] = [];
  // Each list indexed once by name (Azure names are case-insensitive): linear in claws plus
  // resources, where a scan per claw was quadratic (0.3 s of plan at 1000 claws).
  const untaggedByName = <T extends { name: string; id: string; tags: Record<string, string> }>(
    list: T[],
  ) => {
    const byName = new Map<string, T>();
    for (const r of list) {
      const key = r.name.toLowerCase();
      if (r.tags[TAGS.claw] === undefined && !byName.has(key)) byName.set(key, r);
    }
    return (name: string) => byName.get(name.toLowerCase());
  };
  const vm = untaggedByName(observed.vms);
  const nic = untaggedByName(observed.nics);
  const publicIp = untaggedByName(observed.publicIps);
  const disk = untaggedByName(observed.disks);
  for (const claw of fleet.claws) {
    const candidates: [SeedResource["kind"], { name: string; id: string } | undefined][] = [
      ["vm", vm(claw.names.vm)],
      ["nic", nic(claw.names.nic)],
      ["publicIp", publicIp(claw.names.publicIp)],
      ["disk", disk(claw.names.dataDisk)],
    ];
    for (const [kind, r] of candidates) if (r) out.push({ claw: claw.name, kind, name: r.name, id: r.id });
  }
  return out;
}

/**
 * Tags each untagged seed-named resource with the claw's tags (merged into what it has), so
 * later observes and the orphan check recognise it. Apply mode only: plan mode makes no writes.
 * Returns what was tagged; the observed fleet is updated in place.
 */
export async function adoptSeedResources(
  ctx: AzureContext,
  fleet: Pick<ResolvedFleet, "claws" | "azure">,
  observed: ObservedFleet,
): Promise<SeedResource[]> {
  const adopt = seedResourcesToAdopt(fleet, observed);
  const rg = ctx.resourceGroup;
  await Promise.all(
    adopt.map(async (r) => {
      const claw = fleet.claws.find((c) => c.name === r.claw)!;
      const wanted = clawTags(fleet, claw);
      switch (r.kind) {
        case "vm": {
          const o = observed.vms.find((v) => sameId(v.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.compute.virtualMachines.update(rg, r.name, { tags: o.tags }, ctx.poll);
          break;
        }
        case "disk": {
          const o = observed.disks.find((d) => sameId(d.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.compute.disks.update(rg, r.name, { tags: o.tags }, ctx.poll);
          break;
        }
        case "nic": {
          const o = observed.nics.find((n) => sameId(n.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.network.networkInterfaces.updateTags(rg, r.name, { tags: o.tags });
          break;
        }
        case "publicIp": {
          const o = observed.publicIps.find((p) => sameId(p.id, r.id))!;
          o.tags = mergeTags(o.tags, wanted);
          await ctx.network.publicIPAddresses.updateTags(rg, r.name, { tags: o.tags });
          break;
        }
      }
    }),
  );
  return adopt;
}
