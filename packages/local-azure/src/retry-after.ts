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
// The stand-in scales these with its time scale, like every duration. `Retry-After` carries whole
// seconds only (RFC 9110 §10.2.3); when the scaled hint is not a whole number of seconds (a 3 s hint
// at x0.1 is 300 ms), the answer also carries `retry-after-ms`, the millisecond form Azure services
// send and the Azure SDKs read first (core-rest-pipeline's throttlingRetryStrategy: "retry-after-ms",
// "x-ms-retry-after-ms" : milliseconds; "Retry-After" : seconds), beside `Retry-After` rounded to
// the nearest whole second (at least 1) for clients that read only that.
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

/** The headers for a hint of `azureSeconds`, scaled; empty when there is none. */
export function retryAfterHeader(
  azureSeconds: number | undefined,
  timeScale: number,
): Record<string, string> {
  if (azureSeconds === undefined) return {};
  const seconds = azureSeconds * timeScale;
  const whole = Math.round(seconds);
  if (whole >= 1 && Math.abs(seconds - whole) < 1e-9) return { "retry-after": String(whole) };
  const ms = Math.round(seconds * 1000);
  // At time scale 0 (instant) there is nothing to wait for.
  if (ms <= 0) return {};
  return { "retry-after-ms": String(ms), "retry-after": String(Math.max(1, whole)) };
}

/** The wait an answer's headers ask for, ms (the request log records it); undefined when none. */
export function retryAfterMsOf(headers: Record<string, string> | undefined): number | undefined {
  const ms = headers?.["retry-after-ms"];
  if (ms !== undefined) return Number(ms);
  const s = headers?.["retry-after"];
  return s === undefined ? undefined : Number(s) * 1000;
}
