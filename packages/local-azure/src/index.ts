export { FEDERATION_AUDIENCE } from "./entra.ts";
export type { FaultMode, FaultSpec } from "./faults.ts";
export { DEFAULT_SUBJECT } from "./github-oidc.ts";
export {
  DEFECT_TAG,
  DEFECTS,
  GuestManager,
  type GuestOptions,
  type GuestStatus,
} from "./guests/guest-manager.ts";
export { guestsUnavailableReason } from "./guests/host-check.ts";
export { KEY_VAULT_AUDIENCE } from "./key-vault-data.ts";
export {
  type LocalAzure,
  type LocalAzureConnection,
  type LocalAzureOptions,
  type SeedGalleryOptions,
  startLocalAzure,
} from "./local-azure.ts";
export { AZURE_LATENCY_MS, type OperationKind } from "./operation-kind.ts";
export type { InboundFlow, NsgVerdict } from "./providers/network.ts";
export { BUILT_IN_ROLES } from "./providers/role-assignments.ts";
export type { CountFilter, Counts, RequestLogEntry } from "./request-log.ts";
export type { SeedVmOptions } from "./seed.ts";
export type { DiskSummary, LocalAzureState, VmSummary } from "./snapshot.ts";
export { AZURE_THROTTLE_LIMITS, type BucketConfig, type ThrottleConfig } from "./throttling.ts";
export { trustCaInProcess } from "./trust.ts";
export { keyVaultClientOptions, vaultLookup } from "./vault-client.ts";
