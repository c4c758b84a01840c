// Request bodies for one claw's resources: public IP, NIC, data disk, VM, snapshot. Pure, so
// the invariants in them (disk attached at LUN 0 with createOption Attach, data disk and NIC
// detached — never deleted — with the VM) can be read in one place and tested without Azure.
import { createHash } from "node:crypto";
import type { Disk, Snapshot, VirtualMachine } from "@azure/arm-compute";
import { type DesiredClaw, type DesiredFleet, TAGS } from "@openclawps/fleet-model";
import type { NetworkInterface, PublicIpAddress } from "./network-client.ts";
import { clawTags, type Tags } from "./resource-tags.ts";

export type ClawFleet = Pick<DesiredFleet, "azure" | "ssh"> & Partial<Pick<DesiredFleet, "secrets">>;

/** The data disk always sits at LUN 0: boot.sh finds it at /dev/disk/azure/scsi1/lun0. */
export const DATA_DISK_LUN = 0;

export function publicIpBody(fleet: ClawFleet, claw: DesiredClaw): PublicIpAddress {
  return {
    location: fleet.azure.location,
    tags: clawTags(fleet, claw),
    // Standard SKU public IPs are static and closed to inbound traffic unless an NSG allows it
    // (https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses#sku).
    sku: { name: "Standard", tier: "Regional" },
    properties: { publicIPAllocationMethod: "Static", publicIPAddressVersion: "IPv4" },
  };
}

export function nicBody(
  fleet: ClawFleet,
  claw: DesiredClaw,
  refs: { subnetId: string; publicIpId: string; nsgId: string },
): NetworkInterface {
  return {
    location: fleet.azure.location,
    tags: clawTags(fleet, claw),
    properties: {
      // NSG on the NIC, as the seed associated it (per claw), so the subnet stays the user's.
      networkSecurityGroup: { id: refs.nsgId },
      ipConfigurations: [
        {
          name: "ipconfig1",
          properties: {
            primary: true,
            privateIPAllocationMethod: "Dynamic",
            subnet: { id: refs.subnetId },
            publicIPAddress: { id: refs.publicIpId },
          },
        },
      ],
    },
  };
}

export function dataDiskBody(fleet: ClawFleet, claw: DesiredClaw): Disk {
  return {
    location: fleet.azure.location,
    tags: clawTags(fleet, claw),
    sku: { name: claw.settings.data_disk_sku as NonNullable<Disk["sku"]>["name"] },
    diskSizeGB: claw.settings.data_disk_size_gb,
    // Empty: boot.sh formats it on first boot, only when it is verifiably blank.
    creationData: { createOption: "Empty" },
  };
}

export function snapshotBody(fleet: ClawFleet, claw: DesiredClaw, disk: Disk, tags: Tags): Snapshot {
  return {
    location: disk.location ?? fleet.azure.location,
    tags: { ...clawTags(fleet, claw), ...tags },
    // Incremental snapshots store only the changes since the last one and are billed for used
    // size (https://learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots).
    incremental: true,
    sku: { name: "Standard_LRS" },
    creationData: { createOption: "Copy", sourceResourceId: disk.id },
  };
}

export interface VmBodyInput {
  fleet: ClawFleet;
  claw: DesiredClaw;
  imageVersion: string;
  imageVersionId: string;
  dataDiskId: string;
  nicId: string;
  /** base64 cloud-init (from the renderer). */
  customData: string;
  configHash: string;
  hostKeyFingerprint: string;
  rolloutId: string;
  /** Key Vault secrets: the claw's secret version the VM's first boot loads (TAGS.secretVersion). */
  secretVersion?: string;
  /** The power schedule's mark (TAGS.parkedBy) of the VM this one replaces, carried over. */
  parkedBy?: string;
  /** "NVMe" for an NVMe-only size (VmCreateCheck.diskController); absent: Azure's default, SCSI. */
  diskControllerType?: "NVMe" | "SCSI";
}

export function vmTags(
  input: Omit<VmBodyInput, "customData" | "dataDiskId" | "nicId" | "imageVersionId" | "diskControllerType">,
): Tags {
  return {
    ...clawTags(input.fleet, input.claw),
    [TAGS.imageVersion]: input.imageVersion,
    [TAGS.configHash]: input.configHash,
    [TAGS.hostKey]: input.hostKeyFingerprint,
    [TAGS.rolloutId]: input.rolloutId,
    ...(input.secretVersion ? { [TAGS.secretVersion]: input.secretVersion } : {}),
    ...(input.parkedBy ? { [TAGS.parkedBy]: input.parkedBy } : {}),
  };
}

export function vmBody(input: VmBodyInput): VirtualMachine {
  const { fleet, claw } = input;
  const s = claw.settings;
  const def = fleet.azure.image_definitions[fleet.azure.fleet_image_definition_name];
  const adminKey = fleet.ssh.admin_public_key;
  if (!adminKey) {
    throw new Error(
      `${claw.name}: ssh.admin_public_key is required to create a VM (Linux VMs here use key auth only)`,
    );
  }
  return {
    location: fleet.azure.location,
    tags: vmTags(input),
    // A gallery image derived from a marketplace image with a plan needs the same plan on the VM
    // (https://learn.microsoft.com/azure/virtual-machines/marketplace-images#create-a-vm-from-a-vhd-with-plan-information).
    ...(def?.purchase_plan ? { plan: { ...def.purchase_plan } } : {}),
    // Key Vault secrets: the VM's own identity reads the claw's secret through IMDS at every boot.
    ...(fleet.secrets?.key_vault ? { identity: { type: "SystemAssigned" } } : {}),
    hardwareProfile: { vmSize: s.vm_size },
    storageProfile: {
      imageReference: { id: input.imageVersionId },
      // The data disk then appears as an NVMe namespace; boot.sh finds it either way.
      ...(input.diskControllerType ? { diskControllerType: input.diskControllerType } : {}),
      // The OS disk is disposable; it goes with the VM.
      osDisk: { createOption: "FromImage", deleteOption: "Delete", osType: "Linux" },
      dataDisks: [
        {
          lun: DATA_DISK_LUN,
          // Attach the existing managed disk: the claw's state moves to the new VM unchanged.
          createOption: "Attach",
          managedDisk: { id: input.dataDiskId },
          // Deleting the VM must leave the disk (design invariant 2).
          deleteOption: "Detach",
        },
      ],
    },
    osProfile: {
      computerName: claw.names.computerName,
      adminUsername: s.admin_username,
      customData: input.customData,
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: `/home/${s.admin_username}/.ssh/authorized_keys`, keyData: adminKey }] },
      },
    },
    networkProfile: {
      networkInterfaces: [{ id: input.nicId, primary: true, deleteOption: "Detach" }],
    },
    ...(s.enable_trusted_launch
      ? {
          securityProfile: {
            securityType: "TrustedLaunch",
            uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
          },
        }
      : {}),
  };
}

const SNAPSHOT_NAME_MAX = 80;

/** Azure resource names: letters, digits, `_ . -`, at most 80 characters, not ending in `.` or `-`. */
export function snapshotName(diskName: string, fromImage: string | undefined, rolloutId: string): string {
  const raw = `${diskName}-pre-${fromImage ?? "unknown"}-${rolloutId}`.replace(/[^A-Za-z0-9_.-]/g, "-");
  if (raw.length <= SNAPSHOT_NAME_MAX) return raw.replace(/[.-]+$/, "");
  // A plain cut would drop the image and rollout id of a long disk name, so two rollouts would
  // share a name and the second would find the first's snapshot and take none of its own. A hash
  // of the whole name keeps each one distinct.
  const digest = createHash("sha256").update(raw).digest("hex").slice(0, 12);
  const head = raw.slice(0, SNAPSHOT_NAME_MAX - digest.length - 1).replace(/[.-]+$/, "");
  return `${head}-${digest}`;
}
