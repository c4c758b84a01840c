// Builders for observed fleets, shaped like what the Azure adapter fills in.
import { TAGS } from "../src/tags.ts";
import type {
  DesiredFleet,
  ObservedDisk,
  ObservedFleet,
  ObservedNic,
  ObservedPublicIp,
  ObservedVm,
} from "../src/types.ts";

export const RG_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-claw";
export const vmId = (name: string) => `${RG_ID}/providers/Microsoft.Compute/virtualMachines/${name}`;
export const diskId = (name: string) => `${RG_ID}/providers/Microsoft.Compute/disks/${name}`;
export const nicId = (name: string) => `${RG_ID}/providers/Microsoft.Network/networkInterfaces/${name}`;
export const pipId = (name: string) => `${RG_ID}/providers/Microsoft.Network/publicIPAddresses/${name}`;

export interface VmOptions {
  size?: string;
  image?: string;
  configHash?: string | null;
  /** Claw tag; null for an untagged (seed) VM. */
  claw?: string | null;
  disk?: string | null;
  lun?: number;
  power?: ObservedVm["powerState"];
  provisioningState?: string;
  tags?: Record<string, string>;
}

export function vm(name: string, o: VmOptions = {}): ObservedVm {
  const tags: Record<string, string> = { ...o.tags };
  const claw = o.claw === undefined ? name : o.claw;
  if (claw !== null) tags[TAGS.claw] = claw;
  if (o.configHash !== null && claw !== null) tags[TAGS.configHash] = o.configHash ?? "hash-1";
  if (o.image && claw !== null) tags[TAGS.imageVersion] = o.image;
  const disk = o.disk === undefined ? `${name}-data` : o.disk;
  const v: ObservedVm = {
    id: vmId(name),
    name,
    vmSize: o.size ?? "Standard_D4s_v5",
    provisioningState: o.provisioningState ?? "Succeeded",
    powerState: o.power ?? "running",
    dataDisks: disk === null ? [] : [{ lun: o.lun ?? 0, diskId: diskId(disk), name: disk }],
    nicIds: [nicId(`${name}-nic`)],
    tags,
  };
  if (o.image) v.imageVersion = o.image;
  return v;
}

export interface DiskOptions {
  size?: number;
  /** VM name it is attached to; null for detached. */
  attachedTo?: string | null;
  claw?: string | null;
  lastImage?: string;
}

export function disk(name: string, o: DiskOptions = {}): ObservedDisk {
  const owner = name.replace(/-data$/, "");
  const claw = o.claw === undefined ? owner : o.claw;
  const tags: Record<string, string> = {};
  if (claw !== null) tags[TAGS.claw] = claw;
  if (o.lastImage) tags[TAGS.lastImage] = o.lastImage;
  const attachedTo = o.attachedTo === undefined ? owner : o.attachedTo;
  const d: ObservedDisk = { id: diskId(name), name, sizeGb: o.size ?? 32, sku: "Standard_LRS", tags };
  if (attachedTo !== null) d.managedBy = vmId(attachedTo);
  return d;
}

export function nic(name: string, claw: string | null = name.replace(/-nic$/, "")): ObservedNic {
  const n: ObservedNic = { id: nicId(name), name, tags: claw === null ? {} : { [TAGS.claw]: claw } };
  n.vmId = vmId(name.replace(/-nic$/, ""));
  return n;
}

export function pip(name: string, claw: string | null = name.replace(/-pip$/, "")): ObservedPublicIp {
  return { id: pipId(name), name, tags: claw === null ? {} : { [TAGS.claw]: claw } };
}

export function observed(parts: Partial<ObservedFleet> = {}): ObservedFleet {
  return { vms: [], disks: [], nics: [], publicIps: [], imageVersions: ["1.0.0", "1.1.0"], ...parts };
}

/**
 * What Azure looks like after a successful apply of `desired`: every active claw has its VM
 * (tagged, on the resolved image, right size and config hash), NIC, IP and disk; retired
 * claws keep only their disk.
 */
export function convergedFleet(
  desired: DesiredFleet,
  imageVersions: string[],
  resolve: (requested: string) => string,
): ObservedFleet {
  const fleet = observed({ imageVersions });
  for (const c of desired.claws) {
    fleet.disks.push(
      disk(c.names.dataDisk, {
        size: c.settings.data_disk_size_gb,
        attachedTo: c.retired ? null : c.names.vm,
        claw: c.name,
      }),
    );
    if (c.retired) continue;
    fleet.vms.push(
      vm(c.names.vm, {
        size: c.settings.vm_size,
        image: resolve(c.settings.image_version),
        configHash: c.configHash,
        claw: c.name,
      }),
    );
    fleet.nics.push(nic(c.names.nic, c.name));
    fleet.publicIps.push(pip(c.names.publicIp, c.name));
  }
  return fleet;
}
