// What a guest is made of, read from the ARM world: the VM's identity and customData, its
// image version, its data disk at LUN 0 and its public IP.
import type { Arm } from "../arm.ts";
import { obj } from "../providers/common.ts";
import type { StoredResource } from "../world.ts";

export interface GuestSpec {
  /** Lower-cased VM resource id. */
  key: string;
  name: string;
  vmId: string;
  computerName: string;
  /** base64 as the VM was created with; undefined = none. */
  customData: string | undefined;
  /** Lower-cased gallery image version id; undefined = not a gallery image. */
  imageVersionId: string | undefined;
  /** Tags of that version (a defect tag marks a defective image). */
  imageTags: Record<string, string>;
  dataDisk: { key: string; uniqueId: string; name: string; sizeGB: number } | undefined;
  publicIp: string | undefined;
}

export function guestSpec(arm: Arm, vm: StoredResource): GuestSpec {
  const storage = obj(vm.properties.storageProfile) ?? {};
  const image = obj(storage.imageReference) ?? {};
  let imageVersionId: string | undefined;
  if (typeof image.id === "string") {
    imageVersionId = image.id.toLowerCase();
    if (typeof image.exactVersion === "string" && !/\/versions\//i.test(image.id))
      imageVersionId = `${imageVersionId}/versions/${image.exactVersion.toLowerCase()}`;
  }
  const version = imageVersionId ? arm.find(imageVersionId) : undefined;
  const lun0 = ((storage.dataDisks as Record<string, unknown>[] | undefined) ?? []).find((d) => d.lun === 0);
  const diskId = lun0 ? String(obj(lun0.managedDisk)?.id ?? "") : "";
  const disk = diskId ? arm.find(diskId) : undefined;
  let publicIp: string | undefined;
  const nics = (obj(vm.properties.networkProfile)?.networkInterfaces as { id: string }[] | undefined) ?? [];
  for (const ref of nics) {
    const nic = arm.find(ref.id);
    const configs = (nic?.properties.ipConfigurations as Record<string, unknown>[] | undefined) ?? [];
    for (const c of configs) {
      const pipId = obj(obj(c.properties)?.publicIPAddress)?.id;
      const pip = typeof pipId === "string" ? arm.find(pipId) : undefined;
      if (typeof pip?.properties.ipAddress === "string") publicIp ??= pip.properties.ipAddress;
    }
  }
  const os = obj(vm.properties.osProfile) ?? {};
  return {
    key: vm.id.toLowerCase(),
    name: vm.name,
    vmId: String(vm.properties.vmId),
    computerName: String(os.computerName ?? vm.name),
    customData: typeof vm.hidden?.customData === "string" ? vm.hidden.customData : undefined,
    imageVersionId,
    imageTags: version?.tags ?? {},
    dataDisk: disk
      ? {
          key: disk.id.toLowerCase(),
          uniqueId: String(disk.properties.uniqueId),
          name: disk.name,
          sizeGB: Number(disk.properties.diskSizeGB ?? 1),
        }
      : undefined,
    publicIp,
  };
}
