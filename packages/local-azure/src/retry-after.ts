// The `Retry-After` ARM sends on long-running operations, per resource provider, as recorded in
// the public SDKs' test suites (real answers of ARM):
//   - Microsoft.Network: the 201 of a create carries `Retry-After: 3`, the 202 of a delete `10`,
//     and every `InProgress` status answer `10`; the final status answer none.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/network/azure-mgmt-network/tests/recordings/test_cli_mgmt_network_ip_addresses.pyTestMgmtNetworktest_network.json
//   - Microsoft.Compute virtual machines: the 201 of a create carries `Retry-After: 10`; the first
//     `InProgress` status answer `50`, later ones none.
//     https://github.com/Azure/azure-sdk-for-js/blob/main/sdk/compute/arm-compute/recordings/node/compute_test/recording_virtualmachines_create_test.json
//   - Microsoft.Compute disks and snapshots (DiskOperations): none, on the 202 or on the status.
//     https://github.com/Azure/azure-sdk-for-python/blob/main/sdk/compute/azure-mgmt-compute/tests/recordings/test_mgmt_managed_disks.test_empty_md.yaml
// Other operations (resource groups, galleries, Run Command) send none here.
//
// The stand-in scales these with its time scale, like every duration. The header carries whole
// seconds only (RFC 9110 §10.2.3), so a hint that does not scale to a whole number of seconds is
// left out, and the client falls back to its own interval, as with an operation that sends none.
import type { OperationKind } from "./operation-kind.ts";

/** Azure seconds in the answer that accepts an operation of this kind, if ARM sends any. */
export function acceptedRetryAfter(kind: OperationKind): number | undefined {
  if (kind === "network.write") return 3;
  if (kind === "network.delete") return 10;
  if (kind.startsWith("vm.")) return 10;
  return undefined;
}

/** Azure seconds in an `InProgress` status answer; `answered` = status answers already given. */
export function inProgressRetryAfter(kind: OperationKind, answered: number): number | undefined {
  if (kind.startsWith("network.")) return 10;
  if (kind === "vm.create" && answered === 0) return 50;
  return undefined;
}

/** The header for a hint of `azureSeconds`, scaled; empty when there is none or it has no whole-second form. */
export function retryAfterHeader(
  azureSeconds: number | undefined,
  timeScale: number,
): Record<string, string> {
  if (azureSeconds === undefined) return {};
  const seconds = azureSeconds * timeScale;
  const whole = Math.round(seconds);
  if (whole < 1 || Math.abs(seconds - whole) > 1e-9) return {};
  return { "retry-after": String(whole) };
}
