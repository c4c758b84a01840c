// Microsoft.Compute: managed disks, snapshots, virtual machines.
// https://learn.microsoft.com/rest/api/compute/disks
// https://learn.microsoft.com/rest/api/compute/snapshots
// https://learn.microsoft.com/rest/api/compute/virtual-machines
//
// LRO habits (and what @azure/arm-compute 25's pollers expect, `resourceLocationConfig: "location"`):
// - VM PUT: 201 (new) / 200 (update) + `Azure-AsyncOperation`, body provisioningState Creating/Updating;
//   the poller then GETs the VM.
// - VM DELETE and POST actions (deallocate, start, restart, powerOff): 202 + `Location` +
//   `Azure-AsyncOperation`; after success the poller GETs the Location URL (200).
// - Disk / snapshot PUT and PATCH: 202 + `Location` + `Azure-AsyncOperation`; the Location URL
//   returns the resource when done.
import { randomBytes, randomUUID } from "node:crypto";
import type { Arm, Reply, ResourceRequest, ResourceType } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter, resourceNotFound } from "../arm-error.ts";
import { setProvisioningState } from "../lifecycle.ts";
import type { OperationRecord, StoredResource } from "../world.ts";
import {
  computeTime,
  describeId,
  idOf,
  obj,
  properties,
  readTags,
  requireLocation,
  requireSameLocation,
} from "./common.ts";
import { GALLERY_IMAGE, GALLERY_IMAGE_VERSION, latestVersion, missing } from "./gallery.ts";
import { applyIdentity } from "./managed-identity.ts";
import { attachNic, deleteNic, NETWORK_TYPES, releaseNicAfterVmDelete } from "./network.ts";
import { RUN_COMMAND, runCommands, type VmAgents, vmAgentView } from "./run-commands.ts";
import { checkVmSize, registerVmSizes } from "./vm-sizes.ts";

export const DISK = "Microsoft.Compute/disks";
export const SNAPSHOT = "Microsoft.Compute/snapshots";
export const VM = "Microsoft.Compute/virtualMachines";

// Managed disk sizes: 1 GiB to 32,767 GiB (Standard HDD/SSD, Premium SSD).
// https://learn.microsoft.com/azure/virtual-machines/disks-scalability-targets
const DISK_MAX_GB = 32_767;
// Base64 customData is limited to 87380 characters (64 KiB decoded).
// https://learn.microsoft.com/azure/virtual-machines/custom-data
const CUSTOM_DATA_MAX = 87_380;
// At most 500 incremental snapshots of one disk exist at a time (deleting older ones makes room).
// https://learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots#restrictions
export const INCREMENTAL_SNAPSHOTS_PER_DISK = 500;
// Data disk LUNs range 0-63. https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update#datadisk
const MAX_LUN = 63;

type Power = "starting" | "running" | "stopping" | "stopped" | "deallocating" | "deallocated";

function hidden(r: StoredResource): Record<string, unknown> {
  r.hidden ??= {};
  return r.hidden;
}

function skuTier(name: string): string {
  return name.startsWith("Premium") ? "Premium" : "Standard";
}

function lroLocation(r: StoredResource): string {
  return r.location ?? "westus";
}

// ---------------------------------------------------------------- disks

function diskView(r: StoredResource): unknown {
  const v = stripHidden(r);
  const props = v.properties as Record<string, unknown>;
  const size = Number(props.diskSizeGB ?? 0);
  props.diskSizeBytes = size * 1024 ** 3;
  props.diskState = r.managedBy ? "Attached" : "Unattached";
  return v;
}

function diskSize(value: unknown, target: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > DISK_MAX_GB) {
    throw invalidParameter(
      `The specified disk size ${String(value)} GB is not in the allowed range. Disk size must be between 1 and ${DISK_MAX_GB} GB.`,
      target,
    );
  }
  return value;
}

function shrinkRefused(id: string): ArmError {
  // Message as the Disks RP words it (quoted in MicrosoftDocs/azure-docs#57951).
  return new ArmError(
    400,
    "BadRequest",
    `The disk/snapshot resource with id ${id} cannot be resized down. Reducing disk/snapshot size is not supported in Azure to prevent data loss. If you do need to reduce the size of the disk, please create new snapshot/disks with the appropriate size. More information is available at https://aka.ms/AzureDisksFAQ`,
  );
}

function diskAccepted(
  arm: Arm,
  req: ResourceRequest,
  disk: StoredResource,
  kind: "disk.create" | "disk.update" | "snapshot.create",
): Reply {
  return arm.accept(req, {
    kind,
    completion: "provision",
    resourceId: disk.id,
    location: lroLocation(disk),
    status: 202,
    headers: "both",
    data: { returnResource: true },
  });
}

function sourceSize(arm: Arm, sourceId: string, target: string): { size: number; source: StoredResource } {
  const source = arm.find(sourceId);
  if (!source || (source.type !== DISK && source.type !== SNAPSHOT)) {
    const d = describeId(sourceId);
    const err = resourceNotFound(d.typeAndName, d.resourceGroup);
    throw new ArmError(err.status, err.code, err.message, target);
  }
  return { size: Number(source.properties.diskSizeGB ?? 0), source };
}

function disks(arm: Arm): ResourceType {
  return {
    type: DISK,
    sdkName: "disks",
    put(req, existing) {
      const location = requireLocation(req.body);
      if (existing) requireSameLocation(existing, location);
      const props = properties(req.body);
      const creation = obj(props.creationData);
      const createOption = creation?.createOption;
      if (typeof createOption !== "string") throw missing("disk.properties.creationData.createOption");
      const sku = obj(req.body?.sku);
      const skuName =
        typeof sku?.name === "string"
          ? sku.name
          : ((existing?.sku as { name?: string } | undefined)?.name ?? "Standard_LRS");

      if (existing) {
        const before = obj(existing.properties.creationData);
        if (before?.createOption !== createOption) {
          throw new ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'creationData.createOption' is not allowed.",
            "creationData.createOption",
          );
        }
        const size =
          props.diskSizeGB === undefined
            ? Number(existing.properties.diskSizeGB)
            : diskSize(props.diskSizeGB, "diskSizeGB");
        if (size < Number(existing.properties.diskSizeGB)) throw shrinkRefused(existing.id);
        const { creationData: _c, timeCreated: _t, uniqueId: _u, diskState: _s, ...rest } = props;
        existing.properties = {
          ...existing.properties,
          ...rest,
          diskSizeGB: size,
          provisioningState: "Updating",
        };
        existing.sku = { name: skuName, tier: skuTier(skuName) };
        const tags = readTags(req.body);
        if (tags !== undefined) existing.tags = tags;
        return diskAccepted(arm, req, existing, "disk.update");
      }

      let size: number;
      const creationData: Record<string, unknown> = { ...creation };
      switch (createOption) {
        case "Empty":
          if (props.diskSizeGB === undefined) throw missing("disk.properties.diskSizeGB");
          size = diskSize(props.diskSizeGB, "diskSizeGB");
          break;
        case "Copy": {
          const sourceId = creation?.sourceResourceId;
          if (typeof sourceId !== "string") throw missing("disk.properties.creationData.sourceResourceId");
          const { size: srcSize, source } = sourceSize(arm, sourceId, "sourceResourceId");
          size = props.diskSizeGB === undefined ? srcSize : diskSize(props.diskSizeGB, "diskSizeGB");
          if (size < srcSize) throw shrinkRefused(req.id);
          creationData.sourceUniqueId = source.properties.uniqueId;
          break;
        }
        case "FromImage":
          size = props.diskSizeGB === undefined ? 30 : diskSize(props.diskSizeGB, "diskSizeGB");
          break;
        default:
          throw invalidParameter(
            `The value '${createOption}' of parameter 'creationData.createOption' is not supported by this stand-in; use Empty, Copy or FromImage.`,
            "creationData.createOption",
          );
      }
      const disk: StoredResource = {
        id: req.id,
        name: req.name,
        type: DISK,
        location,
        sku: { name: skuName, tier: skuTier(skuName) },
        properties: {
          encryption: { type: "EncryptionAtRestWithPlatformKey" },
          networkAccessPolicy: "AllowAll",
          publicNetworkAccess: "Enabled",
          ...props,
          creationData,
          diskSizeGB: size,
          uniqueId: randomUUID(),
          // timeCreated is set once, at creation, and never changes.
          timeCreated: computeTime(arm.now()),
          provisioningState: "Updating",
        },
      };
      const tags = readTags(req.body);
      if (tags !== undefined) disk.tags = tags;
      if (Array.isArray(req.body?.zones)) disk.zones = req.body.zones;
      arm.upsert(disk);
      return diskAccepted(arm, req, disk, "disk.create");
    },
    patch(req, existing) {
      const props = properties(req.body);
      if (props.diskSizeGB !== undefined) {
        const size = diskSize(props.diskSizeGB, "diskSizeGB");
        if (size < Number(existing.properties.diskSizeGB)) throw shrinkRefused(existing.id);
        existing.properties.diskSizeGB = size;
      }
      const tags = readTags(req.body);
      if (tags !== undefined) existing.tags = tags;
      const sku = obj(req.body?.sku);
      if (typeof sku?.name === "string") existing.sku = { name: sku.name, tier: skuTier(sku.name) };
      existing.properties.provisioningState = "Updating";
      return diskAccepted(arm, req, existing, "disk.update");
    },
    delete(req, existing) {
      if (existing.managedBy) {
        // https://learn.microsoft.com/azure/virtual-machines/disks-find-unattached-portal — an attached disk cannot be deleted.
        // Wording as the Disks RP returns it (seen in ansible/ansible#54644).
        throw new ArmError(
          409,
          "OperationNotAllowed",
          `Disk ${existing.name} is attached to VM ${String(existing.managedBy)}.`,
        );
      }
      existing.properties.provisioningState = "Deleting";
      return arm.accept(req, {
        kind: "disk.delete",
        completion: "delete",
        resourceId: existing.id,
        location: lroLocation(existing),
        status: 202,
        headers: "both",
      });
    },
    view: diskView,
  };
}

function snapshots(arm: Arm): ResourceType {
  return {
    type: SNAPSHOT,
    sdkName: "snapshots",
    put(req, existing) {
      const location = requireLocation(req.body);
      const props = properties(req.body);
      const tags = readTags(req.body);
      if (existing) {
        if (tags !== undefined) existing.tags = tags;
        existing.properties.provisioningState = "Updating";
        return diskAccepted(arm, req, existing, "snapshot.create");
      }
      const creation = obj(props.creationData);
      const createOption = creation?.createOption;
      if (createOption !== "Copy" && createOption !== "CopyStart") {
        throw invalidParameter(
          `Snapshots support creationData.createOption Copy or CopyStart here; got '${String(createOption)}'.`,
          "creationData.createOption",
        );
      }
      const sourceId = creation?.sourceResourceId;
      if (typeof sourceId !== "string") throw missing("snapshot.properties.creationData.sourceResourceId");
      const { size, source } = sourceSize(arm, sourceId, "sourceResourceId");
      if (props.incremental === true) {
        const taken = arm
          .ofType(SNAPSHOT)
          .filter(
            (s) =>
              s.properties.incremental === true &&
              String(obj(s.properties.creationData)?.sourceResourceId ?? "").toLowerCase() ===
                source.id.toLowerCase(),
          ).length;
        if (taken >= INCREMENTAL_SNAPSHOTS_PER_DISK) {
          // The limit is documented (see INCREMENTAL_SNAPSHOTS_PER_DISK); the wording is this stand-in's.
          throw new ArmError(
            409,
            "OperationNotAllowed",
            `Disk ${source.name} already has ${taken} incremental snapshots, the most a disk can have at a time (${INCREMENTAL_SNAPSHOTS_PER_DISK}). Delete older snapshots of the disk to make room.`,
          );
        }
      }
      const sku = obj(req.body?.sku);
      const skuName = typeof sku?.name === "string" ? sku.name : "Standard_LRS";
      const snapshot: StoredResource = {
        id: req.id,
        name: req.name,
        type: SNAPSHOT,
        location,
        sku: { name: skuName, tier: "Standard" },
        properties: {
          ...props,
          creationData: { ...creation, sourceUniqueId: source.properties.uniqueId },
          diskSizeGB: size,
          // Incremental snapshots store only the changes since the previous one and are billed on used size.
          // https://learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots
          incremental: props.incremental === true,
          uniqueId: randomUUID(),
          timeCreated: computeTime(arm.now()),
          provisioningState: "Updating",
          diskState: "Unattached",
          encryption: { type: "EncryptionAtRestWithPlatformKey" },
        },
      };
      if (tags !== undefined) snapshot.tags = tags;
      arm.upsert(snapshot);
      return diskAccepted(arm, req, snapshot, "snapshot.create");
    },
    patch(req, existing) {
      const tags = readTags(req.body);
      if (tags !== undefined) existing.tags = tags;
      return { status: 200, body: stripHidden(existing) };
    },
    delete(req, existing) {
      existing.properties.provisioningState = "Deleting";
      return arm.accept(req, {
        kind: "snapshot.delete",
        completion: "delete",
        resourceId: existing.id,
        location: lroLocation(existing),
        status: 202,
        headers: "both",
      });
    },
  };
}

// ---------------------------------------------------------------- virtual machines

interface DataDiskSpec {
  lun: number;
  diskId: string;
  name: string;
  createOption: string;
  caching: string;
  deleteOption: string;
  storageAccountType: string;
  diskSizeGB: number;
}

function powerStatus(power: Power): { code: string; level: string; displayStatus: string } {
  const display: Record<Power, string> = {
    starting: "VM starting",
    running: "VM running",
    stopping: "VM stopping",
    stopped: "VM stopped",
    deallocating: "VM deallocating",
    deallocated: "VM deallocated",
  };
  return { code: `PowerState/${power}`, level: "Info", displayStatus: display[power] };
}

/**
 * The provisioning status carries the time of the VM's last completed operation (create, start,
 * deallocate, ...); the power status carries none. Instance view example:
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/instance-view
 */
function provisioningStatus(vm: StoredResource): Record<string, unknown> {
  const time = (hidden(vm).statusTime as string | undefined) ?? vm.properties.timeCreated;
  const state = String(vm.properties.provisioningState ?? "Succeeded");
  if (state === "Failed") {
    const err = obj(hidden(vm).lastError);
    return {
      code: `ProvisioningState/failed/${String(err?.code ?? "InternalOperationError")}`,
      level: "Error",
      displayStatus: "Provisioning failed",
      message: String(err?.message ?? "The operation failed."),
      time,
    };
  }
  const lower = state.toLowerCase();
  return {
    code: `ProvisioningState/${lower}`,
    level: "Info",
    displayStatus: lower === "succeeded" ? "Provisioning succeeded" : `${state}`,
    time,
  };
}

/**
 * The VM instance view: provisioning and power state as Azure reports them, and the VM agent
 * (Ready once the guest's agent is up; absent while deallocated). `agentReady` undefined: no
 * agent is known (an instance view without a vmAgent section).
 */
export function instanceView(vm: StoredResource, agentReady?: boolean): Record<string, unknown> {
  const power = (hidden(vm).power as Power | undefined) ?? "running";
  const storage = obj(vm.properties.storageProfile) ?? {};
  const diskNames = [
    obj(storage.osDisk),
    ...((storage.dataDisks as Record<string, unknown>[] | undefined) ?? []),
  ]
    .filter((d): d is Record<string, unknown> => d !== undefined)
    .map((d) => String(d.name));
  const osProfile = obj(vm.properties.osProfile) ?? {};
  return {
    computerName: osProfile.computerName,
    osName: "linux",
    hyperVGeneration: "V2",
    disks: diskNames.map((name) => ({
      name,
      statuses: [
        { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded" },
      ],
    })),
    ...(agentReady === undefined || power === "deallocated" || power === "deallocating"
      ? {}
      : { vmAgent: vmAgentView(agentReady && power === "running") }),
    statuses: [provisioningStatus(vm), powerStatus(power)],
  };
}

function vmView(vm: StoredResource, query: URLSearchParams | undefined, agentReady?: boolean): unknown {
  const expand = (query?.get("$expand") ?? "").toLowerCase();
  if (query?.get("statusOnly") === "true") {
    // statusOnly=true answers with the run-time status only.
    return {
      id: vm.id,
      name: vm.name,
      type: vm.type,
      location: vm.location,
      properties: { instanceView: instanceView(vm, agentReady) },
    };
  }
  const v = stripHidden(vm);
  const props = v.properties as Record<string, unknown>;
  if (expand.includes("instanceview")) props.instanceView = instanceView(vm, agentReady);
  // userData is returned only on request; customData and adminPassword never are.
  // https://learn.microsoft.com/azure/virtual-machines/user-data
  if (expand.includes("userdata") && typeof hidden(vm).userData === "string")
    props.userData = hidden(vm).userData;
  return v;
}

/**
 * Virtual Machines - List / List All. `$expand=instanceView` returns every VM's run-time status
 * with the list. The spec text says it "can only be specified if a valid $filter option is
 * specified" (https://learn.microsoft.com/rest/api/compute/virtual-machines/list;
 * Azure/azure-rest-api-specs#42411 asks to document it without), yet the service answers it
 * without a filter: Azure's own Java management SDK lists VMs with instance views that way since
 * 2.12.0 (Azure/azure-sdk-for-java#26618). The stand-in does the same. `statusOnly=true` (List All
 * only) answers with the statuses alone; the only `$filter` is `virtualMachineScaleSet/id`.
 */
function filterVmList(
  items: StoredResource[],
  query: URLSearchParams,
  scope: "subscription" | "parent",
): StoredResource[] {
  const filter = query.get("$filter");
  if (query.get("statusOnly") === "true" && scope !== "subscription") {
    throw invalidParameter(
      "statusOnly is supported by Virtual Machines - List All (subscription scope) only.",
      "statusOnly",
    );
  }
  if (!filter) return items;
  const m = /^\s*'?virtualMachineScaleSet\/id'?\s+eq\s+'([^']+)'\s*$/i.exec(filter);
  if (!m)
    throw invalidParameter(
      `The $filter '${filter}' is not supported; only 'virtualMachineScaleSet/id' eq '<id>' is.`,
      "$filter",
    );
  const vmss = m[1]!.toLowerCase();
  return items.filter(
    (vm) => String(obj(vm.properties.virtualMachineScaleSet)?.id ?? "").toLowerCase() === vmss,
  );
}

function imageNotFound(imageId: string, location: string): ArmError {
  // The Compute RP's answer for a gallery image (version) it cannot use, e.g.
  // `GalleryImageNotFound: The gallery image /subscriptions/.../versions/1.2.0 is not available in
  // southeastasia region.` (seen in pulumi/pulumi-aws#5129).
  return new ArmError(
    404,
    "GalleryImageNotFound",
    `The gallery image ${imageId} is not available in ${location} region. Please contact image owner to replicate to this region, or change your requested region.`,
    "imageReference",
  );
}

/** Resolves `imageReference.id` (a gallery image version or an image definition meaning "latest"). */
function resolveImage(arm: Arm, imageId: string, location: string): StoredResource {
  const target = arm.find(imageId);
  if (target?.type === GALLERY_IMAGE_VERSION && target.properties.provisioningState !== "Deleting") {
    if (target.properties.provisioningState !== "Succeeded") {
      throw new ArmError(
        409,
        "GalleryImageVersionNotReady",
        `The gallery image version ${target.id} is still being created; wait for provisioningState Succeeded.`,
        "imageReference",
      );
    }
    const regions =
      (obj(target.properties.publishingProfile)?.targetRegions as { name?: string }[] | undefined) ?? [];
    const norm = (s: string) => s.toLowerCase().replace(/\s+/g, "");
    if (regions.length > 0 && !regions.some((r) => norm(String(r.name)) === norm(location)))
      throw imageNotFound(imageId, location);
    return target;
  }
  if (target?.type === GALLERY_IMAGE) {
    const latest = latestVersion(arm, target.id);
    if (latest) return latest;
  }
  throw imageNotFound(imageId, location);
}

function conflictingDisk(disk: StoredResource, vmId: string): ArmError {
  // Wording as the Compute RP returns it (seen in kubernetes-sigs/azuredisk-csi-driver#1378).
  return new ArmError(
    409,
    "ConflictingUserInput",
    `Cannot attach the disk ${disk.name} to VM ${vmId} because it is already attached to VM ${String(disk.managedBy)}. A disk can be attached to only one VM at a time.`,
    disk.id,
  );
}

function referencedDisk(arm: Arm, id: string, vmId: string, target: string): StoredResource {
  const disk = arm.find(id);
  if (!disk || disk.type !== DISK || disk.properties.provisioningState === "Deleting") {
    const d = describeId(id);
    const err = resourceNotFound(d.typeAndName, d.resourceGroup);
    throw new ArmError(err.status, err.code, err.message, target);
  }
  if (disk.managedBy && String(disk.managedBy).toLowerCase() !== vmId.toLowerCase())
    throw conflictingDisk(disk, vmId);
  return disk;
}

function immutable(property: string): ArmError {
  // https://learn.microsoft.com/azure/virtual-machines/custom-data: custom data cannot be changed after creation.
  return new ArmError(
    409,
    "PropertyChangeNotAllowed",
    `Changing property '${property}' is not allowed.`,
    property,
  );
}

function validateCustomData(value: unknown): void {
  if (value === undefined) return;
  if (
    typeof value !== "string" ||
    value.length > CUSTOM_DATA_MAX ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(value) ||
    value.length % 4 !== 0
  ) {
    throw invalidParameter(
      `Custom data in OSProfile must be in Base64 encoding and with a maximum length of ${CUSTOM_DATA_MAX} characters.`,
      "customData",
    );
  }
}

function parseDataDisks(
  arm: Arm,
  vmId: string,
  vmName: string,
  location: string,
  bodies: Record<string, unknown>[],
): { specs: DataDiskSpec[]; toCreate: StoredResource[] } {
  const specs: DataDiskSpec[] = [];
  const toCreate: StoredResource[] = [];
  const luns = new Set<number>();
  for (const [i, d] of bodies.entries()) {
    if (d.toBeDetached === true) continue;
    const lun = d.lun;
    if (typeof lun !== "number" || !Number.isInteger(lun) || lun < 0 || lun > MAX_LUN) {
      throw invalidParameter(
        `The value of parameter dataDisks[${i}].lun is invalid; use an integer 0-${MAX_LUN}.`,
        `dataDisks[${i}].lun`,
      );
    }
    if (luns.has(lun)) {
      throw invalidParameter(`A disk at LUN ${lun} already exists.`, `dataDisks[${i}].lun`);
    }
    luns.add(lun);
    const createOption = String(d.createOption ?? "");
    const managed = obj(d.managedDisk) ?? {};
    const caching = String(d.caching ?? "None");
    const deleteOption = String(d.deleteOption ?? "Detach");
    if (createOption === "Attach") {
      const id = typeof managed.id === "string" ? managed.id : undefined;
      if (!id) throw missing(`dataDisks[${i}].managedDisk.id`);
      const disk = referencedDisk(arm, id, vmId, `dataDisks[${i}].managedDisk.id`);
      const sku = (disk.sku as { name?: string } | undefined)?.name ?? "Standard_LRS";
      specs.push({
        lun,
        diskId: disk.id,
        name: disk.name,
        createOption,
        caching,
        deleteOption,
        storageAccountType: sku,
        diskSizeGB: Number(disk.properties.diskSizeGB),
      });
    } else if (createOption === "Empty") {
      const size = diskSize(d.diskSizeGB, `dataDisks[${i}].diskSizeGB`);
      const name =
        typeof d.name === "string" ? d.name : `${vmName}_disk${lun + 2}_${randomBytes(16).toString("hex")}`;
      const sku =
        typeof managed.storageAccountType === "string" ? managed.storageAccountType : "Standard_LRS";
      const id = `${vmId.split("/providers/")[0]}/providers/Microsoft.Compute/disks/${name}`;
      if (arm.find(id))
        throw new ArmError(
          409,
          "Conflict",
          `Disk ${name} already exists; attach it with createOption Attach.`,
          `dataDisks[${i}].name`,
        );
      toCreate.push(newDisk(arm, id, name, location, sku, size, { createOption: "Empty" }, vmId));
      specs.push({
        lun,
        diskId: id,
        name,
        createOption,
        caching,
        deleteOption,
        storageAccountType: sku,
        diskSizeGB: size,
      });
    } else {
      throw invalidParameter(
        `dataDisks[${i}].createOption '${createOption}' is not supported here; use Attach or Empty.`,
        `dataDisks[${i}].createOption`,
      );
    }
  }
  return { specs, toCreate };
}

function newDisk(
  arm: Arm,
  id: string,
  name: string,
  location: string,
  sku: string,
  size: number,
  creationData: Record<string, unknown>,
  managedBy: string,
): StoredResource {
  return {
    id,
    name,
    type: DISK,
    location,
    managedBy,
    sku: { name: sku, tier: skuTier(sku) },
    properties: {
      creationData,
      diskSizeGB: size,
      uniqueId: randomUUID(),
      timeCreated: computeTime(arm.now()),
      provisioningState: "Succeeded",
      encryption: { type: "EncryptionAtRestWithPlatformKey" },
      networkAccessPolicy: "AllowAll",
      publicNetworkAccess: "Enabled",
    },
  };
}

function parseNics(
  arm: Arm,
  vmId: string,
  props: Record<string, unknown>,
): { id: string; primary: boolean; deleteOption: string }[] {
  const networkProfile = obj(props.networkProfile);
  const list = Array.isArray(networkProfile?.networkInterfaces)
    ? (networkProfile.networkInterfaces as unknown[])
    : [];
  if (list.length === 0) throw missing("networkProfile.networkInterfaces");
  const nics = list.map((n, i) => {
    const o = obj(n) ?? {};
    const id = typeof o.id === "string" ? o.id : undefined;
    if (!id) throw missing(`networkProfile.networkInterfaces[${i}].id`);
    const nic = arm.find(id);
    if (!nic || nic.type !== NETWORK_TYPES.NIC || nic.properties.provisioningState === "Deleting") {
      throw new ArmError(
        400,
        "InvalidResourceReference",
        `Resource ${id} referenced by resource ${vmId} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
        `networkProfile.networkInterfaces[${i}].id`,
      );
    }
    const holder = idOf(nic.properties.virtualMachine);
    if (holder && holder.toLowerCase() !== vmId.toLowerCase()) {
      throw new ArmError(
        400,
        "NicInUse",
        `Network Interface ${nic.id} is used by existing resource ${holder}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
        `networkProfile.networkInterfaces[${i}].id`,
      );
    }
    const p = obj(o.properties) ?? {};
    return {
      id: nic.id,
      primary: p.primary === true || (list.length === 1 && p.primary !== false),
      deleteOption: String(p.deleteOption ?? "Detach"),
    };
  });
  if (nics.length > 1 && nics.filter((n) => n.primary).length !== 1) {
    throw invalidParameter(
      "Virtual machine with multiple network interfaces must have exactly one primary network interface.",
      "networkProfile.networkInterfaces",
    );
  }
  return nics;
}

function dataDiskEntries(specs: DataDiskSpec[]): Record<string, unknown>[] {
  return specs
    .sort((a, b) => a.lun - b.lun)
    .map((s) => ({
      lun: s.lun,
      name: s.name,
      createOption: s.createOption,
      caching: s.caching,
      managedDisk: { id: s.diskId, storageAccountType: s.storageAccountType },
      deleteOption: s.deleteOption,
      diskSizeGB: s.diskSizeGB,
      toBeDetached: false,
    }));
}

function vmCreate(arm: Arm, req: ResourceRequest, location: string): Reply {
  const props = properties(req.body);
  const hardware = obj(props.hardwareProfile);
  if (typeof hardware?.vmSize !== "string") throw missing("hardwareProfile.vmSize");
  const storage = obj(props.storageProfile) ?? {};
  const osDiskBody = obj(storage.osDisk) ?? {};
  const osCreate = String(osDiskBody.createOption ?? "FromImage");
  const imageRef = obj(storage.imageReference);
  const osProfileBody = obj(props.osProfile);

  let imageReference: Record<string, unknown> | undefined;
  let osDiskSize = typeof osDiskBody.diskSizeGB === "number" ? osDiskBody.diskSizeGB : undefined;
  let osDiskId: string;
  let osDiskName: string;
  let osDiskToCreate: StoredResource | undefined;
  const osManaged = obj(osDiskBody.managedDisk) ?? {};
  const osSku =
    typeof osManaged.storageAccountType === "string" ? osManaged.storageAccountType : "Standard_LRS";
  const rgPrefix = req.id.split("/providers/")[0];

  if (osCreate === "FromImage") {
    if (!imageRef) throw missing("storageProfile.imageReference");
    if (typeof imageRef.id === "string") {
      const version = resolveImage(arm, imageRef.id, location);
      imageReference = { id: imageRef.id };
      if (arm.find(imageRef.id)?.type === GALLERY_IMAGE) imageReference.exactVersion = version.name;
      const imageSize = Number(obj(obj(version.properties.storageProfile)?.osDiskImage)?.sizeInGB ?? 30);
      if (osDiskSize !== undefined && osDiskSize < imageSize) {
        throw invalidParameter(
          `The specified disk size ${osDiskSize} GB is smaller than the size of the corresponding disk in the VM image: ${imageSize} GB. This is not allowed. Please choose equal or greater size or do not specify an explicit size.`,
          "osDisk.diskSizeGB",
        );
      }
      osDiskSize ??= imageSize;
    } else if (
      typeof imageRef.publisher === "string" &&
      typeof imageRef.offer === "string" &&
      typeof imageRef.sku === "string"
    ) {
      // Marketplace images are not modelled beyond their reference.
      imageReference = {
        ...imageRef,
        exactVersion:
          imageRef.version === "latest" || imageRef.version === undefined ? "1.0.0" : imageRef.version,
      };
      osDiskSize ??= 30;
    } else {
      throw invalidParameter(
        "The imageReference must have either an id or publisher, offer and sku.",
        "imageReference",
      );
    }
    if (!osProfileBody) throw missing("osProfile");
    if (typeof osProfileBody.adminUsername !== "string") throw missing("osProfile.adminUsername");
    osDiskName =
      typeof osDiskBody.name === "string"
        ? osDiskBody.name
        : `${req.name}_OsDisk_1_${randomBytes(16).toString("hex")}`;
    osDiskId = `${rgPrefix}/providers/Microsoft.Compute/disks/${osDiskName}`;
    if (arm.find(osDiskId))
      throw new ArmError(409, "Conflict", `Disk ${osDiskName} already exists.`, "osDisk.name");
    const creationData: Record<string, unknown> = imageReference.id
      ? { createOption: "FromImage", galleryImageReference: { id: imageReference.id } }
      : {
          createOption: "FromImage",
          imageReference: {
            id: `/Subscriptions/${arm.subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${String(imageRef.publisher)}`,
          },
        };
    osDiskToCreate = newDisk(arm, osDiskId, osDiskName, location, osSku, osDiskSize, creationData, req.id);
    osDiskToCreate.properties.osType = "Linux";
  } else if (osCreate === "Attach") {
    const id = typeof osManaged.id === "string" ? osManaged.id : undefined;
    if (!id) throw missing("storageProfile.osDisk.managedDisk.id");
    const disk = referencedDisk(arm, id, req.id, "osDisk.managedDisk.id");
    osDiskId = disk.id;
    osDiskName = disk.name;
    osDiskSize = Number(disk.properties.diskSizeGB);
  } else {
    throw invalidParameter(
      `osDisk.createOption '${osCreate}' is not supported here; use FromImage or Attach.`,
      "osDisk.createOption",
    );
  }

  validateCustomData(osProfileBody?.customData);
  const dataBodies = Array.isArray(storage.dataDisks)
    ? (storage.dataDisks as unknown[]).map((d) => obj(d) ?? {})
    : [];
  const { specs, toCreate } = parseDataDisks(arm, req.id, req.name, location, dataBodies);
  const nics = parseNics(arm, req.id, props);
  const security = obj(props.securityProfile);
  const diskControllerType = checkVmSize(arm, {
    vmId: req.id,
    vmSize: hardware.vmSize,
    location,
    ...(typeof storage.diskControllerType === "string"
      ? { diskControllerType: storage.diskControllerType }
      : {}),
    ...(typeof imageRef?.id === "string" ? { imageId: imageRef.id } : {}),
    ...(typeof security?.securityType === "string" ? { securityType: security.securityType } : {}),
    ...(obj(req.body?.plan) ? { plan: obj(req.body?.plan) } : {}),
    disks: [
      { name: osDiskName, sku: osSku },
      ...specs.map((s) => ({ name: s.name, sku: s.storageAccountType })),
    ],
  });

  // Validation passed: create everything.
  const { customData, adminPassword, ...osProfileRest } = osProfileBody ?? {};
  const vm: StoredResource = {
    id: req.id,
    name: req.name,
    type: VM,
    location,
    properties: {
      ...props,
      vmId: randomUUID(),
      hardwareProfile: { vmSize: hardware.vmSize },
      storageProfile: {
        ...(imageReference ? { imageReference } : {}),
        osDisk: {
          osType: "Linux",
          name: osDiskName,
          createOption: osCreate,
          caching: String(osDiskBody.caching ?? "ReadWrite"),
          managedDisk: { id: osDiskId, storageAccountType: osSku },
          // The OS disk's deleteOption defaults to Detach when not given.
          // https://learn.microsoft.com/azure/virtual-machines/delete#delete-a-vm-and-its-attached-resources
          deleteOption: String(osDiskBody.deleteOption ?? "Detach"),
          diskSizeGB: osDiskSize,
        },
        dataDisks: dataDiskEntries(specs),
        diskControllerType,
      },
      networkProfile: {
        networkInterfaces: nics.map((n) => ({
          id: n.id,
          properties: { primary: n.primary, deleteOption: n.deleteOption },
        })),
      },
      provisioningState: "Creating",
      timeCreated: computeTime(arm.now()),
    },
  };
  if (osProfileBody) {
    vm.properties.osProfile = {
      computerName: req.name,
      secrets: [],
      allowExtensionOperations: true,
      requireGuestProvisionSignal: true,
      ...osProfileRest,
    };
  }
  delete vm.properties.userData;
  const tags = readTags(req.body);
  if (tags !== undefined) vm.tags = tags;
  if (req.body?.plan !== undefined) vm.plan = req.body.plan;
  if (Array.isArray(req.body?.zones)) vm.zones = req.body.zones;
  applyIdentity(vm, req.body?.identity, arm.tenantId);
  const h = hidden(vm);
  h.power = "starting";
  if (typeof customData === "string") h.customData = customData;
  if (typeof adminPassword === "string") h.hasPassword = true;
  if (typeof props.userData === "string") h.userData = props.userData;

  if (osDiskToCreate) arm.upsert(osDiskToCreate);
  else {
    const os = arm.find(osDiskId)!;
    os.managedBy = req.id;
  }
  for (const d of toCreate) arm.upsert(d);
  for (const s of specs) arm.find(s.diskId)!.managedBy = req.id;
  for (const n of nics) attachNic(arm, n.id, req.id);
  arm.upsert(vm);
  return arm.accept(req, {
    kind: "vm.create",
    completion: "vm.create",
    resourceId: vm.id,
    location,
    status: 201,
    body: vmView(vm, undefined),
    headers: "async",
  });
}

function vmUpdate(arm: Arm, req: ResourceRequest, existing: StoredResource, merge: boolean): Reply {
  if (existing.properties.provisioningState === "Deleting") {
    throw new ArmError(
      409,
      "OperationNotAllowed",
      `Operation on VM '${existing.name}' is not allowed because the VM is being deleted.`,
    );
  }
  const props = properties(req.body);
  const storageBody = obj(props.storageProfile);
  const currentStorage = obj(existing.properties.storageProfile) ?? {};
  const imageRef = obj(storageBody?.imageReference);
  const currentImage = obj(currentStorage.imageReference);
  if (
    imageRef &&
    typeof imageRef.id === "string" &&
    String(currentImage?.id ?? "").toLowerCase() !== imageRef.id.toLowerCase()
  ) {
    // The image of an existing VM cannot change (a new image means a new VM; reimage is separate).
    throw immutable("imageReference");
  }
  const osProfileBody = obj(props.osProfile);
  const currentOs = obj(existing.properties.osProfile) ?? {};
  if (osProfileBody) {
    if (osProfileBody.customData !== undefined && osProfileBody.customData !== hidden(existing).customData)
      throw immutable("customData");
    if (osProfileBody.adminUsername !== undefined && osProfileBody.adminUsername !== currentOs.adminUsername)
      throw immutable("adminUsername");
    if (osProfileBody.computerName !== undefined && osProfileBody.computerName !== currentOs.computerName)
      throw immutable("computerName");
  }
  const location = existing.location ?? "westus";

  let specs: DataDiskSpec[] | undefined;
  let toCreate: StoredResource[] = [];
  if (storageBody && Array.isArray(storageBody.dataDisks)) {
    const parsed = parseDataDisks(
      arm,
      existing.id,
      existing.name,
      location,
      (storageBody.dataDisks as unknown[]).map((d) => obj(d) ?? {}),
    );
    specs = parsed.specs;
    toCreate = parsed.toCreate;
  }
  let nics: { id: string; primary: boolean; deleteOption: string }[] | undefined;
  if (obj(props.networkProfile)?.networkInterfaces !== undefined) nics = parseNics(arm, existing.id, props);

  const hardware = obj(props.hardwareProfile);
  const currentSize = obj(existing.properties.hardwareProfile)?.vmSize;
  if (typeof hardware?.vmSize === "string" && hardware.vmSize !== currentSize) {
    // A resize is checked as a create on the new size would be.
    const storage = obj(existing.properties.storageProfile) ?? {};
    const diskEntries = [
      obj(storage.osDisk),
      ...((storage.dataDisks as Record<string, unknown>[] | undefined) ?? []),
    ].filter((d): d is Record<string, unknown> => d !== undefined);
    const imageId = obj(storage.imageReference)?.id;
    const securityType = obj(existing.properties.securityProfile)?.securityType;
    // The VM keeps its controller unless the update asks for another one with the new size.
    const controller = storageBody?.diskControllerType ?? storage.diskControllerType;
    const diskControllerType = checkVmSize(arm, {
      vmId: existing.id,
      vmSize: hardware.vmSize,
      location,
      ...(typeof controller === "string" ? { diskControllerType: controller } : {}),
      ...(typeof imageId === "string" ? { imageId } : {}),
      ...(typeof securityType === "string" ? { securityType } : {}),
      ...(obj(existing.plan) ? { plan: obj(existing.plan) } : {}),
      disks: diskEntries.map((d) => ({
        name: String(d.name),
        sku: String(obj(d.managedDisk)?.storageAccountType ?? "Standard_LRS"),
      })),
    });
    currentStorage.diskControllerType = diskControllerType;
  } else if (
    storageBody?.diskControllerType !== undefined &&
    storageBody.diskControllerType !== currentStorage.diskControllerType
  ) {
    // https://learn.microsoft.com/azure/virtual-machines/enable-nvme-interface: the controller
    // changes with a new size, or on a deallocated VM.
    if (hidden(existing).power !== "deallocated")
      throw new ArmError(
        409,
        "OperationNotAllowed",
        "The disk controller type of a VM can be changed only when the VM is deallocated, or together with its size.",
      );
    currentStorage.diskControllerType = checkVmSize(arm, {
      vmId: existing.id,
      vmSize: String(currentSize),
      location,
      diskControllerType: String(storageBody.diskControllerType),
      ...(typeof obj(currentStorage.imageReference)?.id === "string"
        ? { imageId: String(obj(currentStorage.imageReference)?.id) }
        : {}),
      disks: [],
    });
  }
  if (hardware?.vmSize !== undefined) existing.properties.hardwareProfile = { vmSize: hardware.vmSize };
  if (specs) {
    const before = (currentStorage.dataDisks as Record<string, unknown>[] | undefined) ?? [];
    for (const old of before) {
      const id = String(obj(old.managedDisk)?.id ?? "");
      if (!specs.some((s) => s.diskId.toLowerCase() === id.toLowerCase())) {
        const disk = arm.find(id);
        if (disk) delete disk.managedBy;
      }
    }
    for (const d of toCreate) arm.upsert(d);
    for (const s of specs) arm.find(s.diskId)!.managedBy = existing.id;
    currentStorage.dataDisks = dataDiskEntries(specs);
  }
  const osDiskBody = obj(storageBody?.osDisk);
  const currentOsDisk = obj(currentStorage.osDisk);
  if (osDiskBody?.deleteOption !== undefined && currentOsDisk)
    currentOsDisk.deleteOption = osDiskBody.deleteOption;
  existing.properties.storageProfile = currentStorage;
  if (nics) {
    const before =
      (obj(existing.properties.networkProfile)?.networkInterfaces as { id: string }[] | undefined) ?? [];
    for (const old of before)
      if (!nics.some((n) => n.id.toLowerCase() === old.id.toLowerCase())) attachNic(arm, old.id, undefined);
    for (const n of nics) attachNic(arm, n.id, existing.id);
    existing.properties.networkProfile = {
      networkInterfaces: nics.map((n) => ({
        id: n.id,
        properties: { primary: n.primary, deleteOption: n.deleteOption },
      })),
    };
  }
  applyIdentity(existing, req.body?.identity, arm.tenantId);
  const tags = readTags(req.body);
  // PUT replaces the tags (absent = none); PATCH replaces them only when given.
  if (tags !== undefined) existing.tags = tags;
  else if (!merge) delete existing.tags;
  existing.properties.provisioningState = "Updating";
  return arm.accept(req, {
    kind: "vm.update",
    completion: "provision",
    resourceId: existing.id,
    location,
    status: 200,
    body: vmView(existing, undefined),
    headers: "async",
  });
}

function powerAction(
  arm: Arm,
  kind: "vm.deallocate" | "vm.start" | "vm.restart" | "vm.powerOff",
  transitional: Power,
) {
  return {
    method: "POST" as const,
    handler(req: ResourceRequest, vm: StoredResource): Reply {
      const state = vm.properties.provisioningState;
      if (state === "Deleting" || state === "Creating") {
        // A VM accepts one operation at a time; others are refused while it is busy.
        throw new ArmError(
          409,
          "OperationNotAllowed",
          `Operation '${kind.split(".")[1]}' is not allowed on VM '${vm.name}' since the VM is ${state === "Deleting" ? "marked for deletion" : "being created"}.`,
        );
      }
      hidden(vm).power = transitional;
      return arm.accept(req, {
        kind,
        completion: kind,
        resourceId: vm.id,
        location: lroLocation(vm),
        status: 202,
        headers: "both",
      });
    },
  };
}

function virtualMachines(arm: Arm, agents: VmAgents | undefined): ResourceType {
  const agentReady = (vm: StoredResource) => agents?.ready(vm) ?? false;
  return {
    type: VM,
    sdkName: "virtualMachines",
    put(req, existing) {
      const location = requireLocation(req.body);
      if (existing) {
        requireSameLocation(existing, location);
        return vmUpdate(arm, req, existing, false);
      }
      return vmCreate(arm, req, location);
    },
    patch: (req, existing) => vmUpdate(arm, req, existing, true),
    delete(req, existing) {
      existing.properties.provisioningState = "Deleting";
      return arm.accept(req, {
        kind: "vm.delete",
        completion: "vm.delete",
        resourceId: existing.id,
        location: lroLocation(existing),
        status: 202,
        headers: "both",
      });
    },
    actions: {
      deallocate: powerAction(arm, "vm.deallocate", "deallocating"),
      start: powerAction(arm, "vm.start", "starting"),
      restart: powerAction(arm, "vm.restart", "starting"),
      poweroff: powerAction(arm, "vm.powerOff", "stopping"),
      instanceview: {
        method: "GET",
        handler: (_req, vm) => ({ status: 200, body: instanceView(vm, agentReady(vm)) }),
      },
    },
    view: (vm, query) => vmView(vm, query, agentReady(vm)),
    filterList: filterVmList,
  };
}

/** Deleting a VM releases or deletes what it used, per deleteOption (default Detach). */
function completeVmDelete(arm: Arm, op: OperationRecord): void {
  const vm = arm.find(op.resourceId);
  if (!vm) return;
  const storage = obj(vm.properties.storageProfile) ?? {};
  const disksUsed = [
    obj(storage.osDisk),
    ...((storage.dataDisks as Record<string, unknown>[] | undefined) ?? []),
  ].filter((d): d is Record<string, unknown> => d !== undefined);
  for (const d of disksUsed) {
    const id = String(obj(d.managedDisk)?.id ?? "");
    const disk = arm.find(id);
    if (!disk) continue;
    if (d.deleteOption === "Delete") arm.remove(disk.id);
    else delete disk.managedBy;
  }
  const nics =
    (obj(vm.properties.networkProfile)?.networkInterfaces as
      | { id: string; properties?: { deleteOption?: string } }[]
      | undefined) ?? [];
  for (const n of nics) {
    if (n.properties?.deleteOption === "Delete") deleteNic(arm, n.id);
    else releaseNicAfterVmDelete(arm, n.id, vm.id);
  }
  // Run Commands are the VM's child resources: they go with it.
  for (const rc of arm.children(vm.id, RUN_COMMAND)) arm.remove(rc.id);
  arm.remove(vm.id);
}

/** Told when a VM's power state settles (guest mode boots and stops guests from here). */
export interface VmPowerHooks {
  running(arm: Arm, vm: StoredResource): void;
  stopped(arm: Arm, vm: StoredResource): void;
  restarted(arm: Arm, vm: StoredResource): void;
  /** Before the VM leaves the world. */
  deleted(arm: Arm, vm: StoredResource): void;
}

/**
 * Test control: incremental snapshots of a disk, stored as a finished create would leave them
 * (no request, no LRO), for tests that need a disk at Azure's cap without 500 round trips.
 */
export function seedIncrementalSnapshots(
  arm: Arm,
  diskId: string,
  names: string[],
  resourceGroup?: string,
): void {
  const { size, source } = sourceSize(arm, diskId, "sourceResourceId");
  const diskGroup = source.id.slice(0, source.id.toLowerCase().indexOf("/providers/"));
  // Azure lets a snapshot of a disk live in another resource group of the subscription.
  const rgPrefix = resourceGroup
    ? diskGroup.replace(/\/resourceGroups\/[^/]+$/i, `/resourceGroups/${resourceGroup}`)
    : diskGroup;
  for (const name of names) {
    arm.upsert({
      id: `${rgPrefix}/providers/${SNAPSHOT}/${name}`,
      name,
      type: SNAPSHOT,
      location: source.location,
      sku: { name: "Standard_LRS", tier: "Standard" },
      properties: {
        creationData: {
          createOption: "Copy",
          sourceResourceId: source.id,
          sourceUniqueId: source.properties.uniqueId,
        },
        diskSizeGB: size,
        incremental: true,
        uniqueId: randomUUID(),
        timeCreated: computeTime(arm.now()),
        provisioningState: "Succeeded",
        diskState: "Unattached",
        encryption: { type: "EncryptionAtRestWithPlatformKey" },
      },
    });
  }
}

export function registerCompute(arm: Arm, hooks?: VmPowerHooks, agents?: VmAgents): void {
  arm.register(disks(arm));
  arm.register(snapshots(arm));
  arm.register(virtualMachines(arm, agents));
  registerVmSizes(arm);
  arm.register(runCommands(arm, agents, powerState));
  arm.registerCompletion("vm.create", (a, op) => {
    const vm = a.find(op.resourceId);
    if (!vm) return;
    setProvisioningState(a, vm.id, "Succeeded");
    hidden(vm).power = "running";
    hidden(vm).statusTime = computeTime(a.now());
    hooks?.running(a, vm);
  });
  arm.registerCompletion("vm.create:failed", (a, op) => {
    const vm = a.find(op.resourceId);
    if (!vm) return;
    vm.properties.provisioningState = "Failed";
    hidden(vm).power = "stopped";
    hidden(vm).lastError = op.error;
  });
  const power = (final: Power, hook?: keyof VmPowerHooks) => (a: Arm, op: OperationRecord) => {
    const vm = a.find(op.resourceId);
    if (!vm) return;
    hidden(vm).power = final;
    hidden(vm).statusTime = computeTime(a.now());
    if (hook) hooks?.[hook](a, vm);
  };
  // Deallocate and power off both stop the guest; the OS disk stays until the VM is deleted.
  arm.registerCompletion("vm.deallocate", power("deallocated", "stopped"));
  arm.registerCompletion("vm.start", power("running", "running"));
  arm.registerCompletion("vm.restart", power("running", "restarted"));
  arm.registerCompletion("vm.powerOff", power("stopped", "stopped"));
  for (const k of ["vm.deallocate", "vm.start", "vm.restart", "vm.powerOff"]) {
    // A failed power operation leaves the VM where it was before the transition finished.
    arm.registerCompletion(`${k}:failed`, (a, op) => {
      const vm = a.find(op.resourceId);
      if (vm)
        hidden(vm).power = k === "vm.deallocate" ? "running" : k === "vm.powerOff" ? "running" : "stopped";
    });
  }
  arm.registerCompletion("vm.delete", (a, op) => {
    const vm = a.find(op.resourceId);
    if (vm) hooks?.deleted(a, vm);
    completeVmDelete(a, op);
  });
  arm.registerCompletion("vm.delete:failed", (a, op) => {
    const vm = a.find(op.resourceId);
    if (vm) {
      vm.properties.provisioningState = "Failed";
      hidden(vm).lastError = op.error;
    }
  });
}

/** Power state of a stored VM (for `state()` snapshots). */
export function powerState(vm: StoredResource): Power {
  return (vm.hidden?.power as Power | undefined) ?? "running";
}
