// How often each kind of long-running operation is polled when ARM says nothing.
//
// The SDK's poller (@azure/core-lro 3, createHttpPoller) polls once right after the operation is
// accepted, then waits the `Retry-After` of the last status answer that carried one, and
// `updateIntervalInMs` until one does. What ARM sends differs per resource provider (recorded
// answers of the public SDKs' test suites):
//   - Microsoft.Network (public IP, NIC, VNet): the 201/202 carries `Retry-After: 3` on a create and
//     `10` on a delete, and every `InProgress` status answer `Retry-After: 10`; the final answer
//     none. A NIC create may answer 201 already `Succeeded`.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/network/azure-mgmt-network/tests/recordings/test_cli_mgmt_network_ip_addresses.pyTestMgmtNetworktest_network.json
//     https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/compute/arm-compute/recordings/node/compute_test/recording_virtualmachines_create_test.json
//   - Microsoft.Compute virtual machines: the 201 of a create carries `Retry-After: 10`, its first
//     `InProgress` status answer `Retry-After: 50` and later ones none (same JS recording).
//   - Microsoft.Compute disks and snapshots (`DiskOperations`): no `Retry-After` at all; an empty
//     disk is created in a fraction of a second.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/compute/azure-mgmt-compute/tests/recordings/test_mgmt_managed_disks.test_empty_md.yaml
// So the fallback matters most for disks: at the VM's 10 s an empty disk that takes one second
// would cost ten. Each kind's fallback is a share of the VM operations' interval (the
// `pollIntervalMs` option), so one setting scales them all (tests use 0, the benchmark a scaled one).

/** A family of long-running operations that ARM answers alike. */
export type LroKind = "vm" | "disk" | "snapshot" | "network" | "runCommand" | "shared";

/**
 * Share of `pollIntervalMs` (default 10 s) each kind waits between polls when ARM sends no
 * Retry-After: VM operations take 30-90 s; network writes finish in seconds and ARM paces them
 * with its own Retry-After; disk writes finish in about a second and ARM sends no pace at all;
 * an incremental snapshot takes seconds to minutes.
 */
export const LRO_POLL_SHARE: Record<LroKind, number> = {
  vm: 1,
  runCommand: 1,
  shared: 1,
  network: 0.2,
  snapshot: 0.2,
  disk: 0.1,
};

/** Default interval of VM operations when ARM sends no Retry-After, ms. */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

/** The poller's fallback interval for one kind of operation, ms. */
export function pollIntervalFor(kind: LroKind, vmIntervalMs: number): number {
  return Math.round(vmIntervalMs * LRO_POLL_SHARE[kind]);
}
