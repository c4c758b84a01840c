// How long things take in Azure, per kind of operation. The stand-in multiplies these by a
// time scale (0 = instant, the default; 0.01 = a 90 s VM create takes 0.9 s).

export type OperationKind =
  | "read"
  | "list"
  | "token"
  | "resourceGroup.write"
  | "resourceGroup.delete"
  | "network.write"
  | "network.delete"
  | "disk.create"
  | "disk.update"
  | "disk.delete"
  | "snapshot.create"
  | "snapshot.delete"
  | "vm.create"
  | "vm.update"
  | "vm.delete"
  | "vm.deallocate"
  | "vm.start"
  | "vm.restart"
  | "vm.powerOff"
  | "gallery.write"
  | "gallery.delete"
  | "imageVersion.create"
  | "imageVersion.delete"
  | "tags.write"
  | "runCommand.write"
  | "runCommand.delete"
  /** How long a NIC stays reserved for the VM just deleted: not a request, a hold. */
  | "nic.reservation";

/**
 * Typical durations in Azure, in milliseconds. Rough public figures: a Linux VM from a gallery image
 * provisions in about 1–2 minutes; deallocation and deletion take tens of seconds; managed-disk and
 * network writes a few seconds; a gallery image version replicates for many minutes.
 */
export const AZURE_LATENCY_MS: Record<OperationKind, number> = {
  read: 120,
  list: 300,
  token: 200,
  "resourceGroup.write": 500,
  "resourceGroup.delete": 60_000,
  "network.write": 3_000,
  "network.delete": 10_000,
  "disk.create": 5_000,
  "disk.update": 5_000,
  "disk.delete": 5_000,
  "snapshot.create": 10_000,
  "snapshot.delete": 5_000,
  "vm.create": 90_000,
  "vm.update": 30_000,
  "vm.delete": 60_000,
  "vm.deallocate": 60_000,
  "vm.start": 30_000,
  "vm.restart": 30_000,
  "vm.powerOff": 30_000,
  "gallery.write": 5_000,
  "gallery.delete": 5_000,
  "imageVersion.create": 600_000,
  "imageVersion.delete": 30_000,
  "tags.write": 500,
  // An asynchronous Run Command's PUT; a synchronous one lasts as long as its script.
  // "The minimum time to run a script is about 20 seconds"
  // (https://learn.microsoft.com/azure/virtual-machines/linux/run-command#restrictions).
  "runCommand.write": 20_000,
  "runCommand.delete": 10_000,
  // "Nic(s) in request is reserved for another Virtual Machine for 180 seconds. Please provide
  // another nic(s) or retry after 180 seconds." (NicReservedForAnotherVm, 400, after a VM delete;
  // https://github.com/microsoft/AzureTRE/pull/4511, https://github.com/rancher/machine/pull/359)
  "nic.reservation": 180_000,
};
