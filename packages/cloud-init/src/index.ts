// Renders a claw's cloud-init customData from the shipped vm-runtime (plus a fleet's
// overlay), with a config hash that is stable for an unchanged claw. See README.md.
export { buildCloudConfig, type CloudConfigParts, type WriteFile } from "./cloud-config.ts";
export {
  CUSTOM_DATA_LIMIT_BASE64_CHARS,
  CUSTOM_DATA_LIMIT_BYTES,
  CustomDataTooLargeError,
  type SizeContributor,
} from "./custom-data-limit.ts";
export { generateHostKey, type HostKey } from "./host-key.ts";
export {
  CLAW_HOME,
  collectPayload,
  type Payload,
  type PayloadFile,
  type PayloadIssue,
  payloadDestination,
  REQUIRED_PAYLOAD,
  UPDATE_SCRIPT_NAME,
  withoutCommentLines,
} from "./payload.ts";
export {
  configHash,
  configHashMaterial,
  decodeCustomData,
  legacyConfigHash,
  type Measure,
  type MeasureOptions,
  measureCustomData,
  type RenderInput,
  type RenderResult,
  renderCustomData,
} from "./render.ts";
export {
  NOT_PAYLOAD_DIRECTORIES,
  REFUSED_ENTRY_FIX,
  REFUSED_ENTRY_FIX_SENTENCE,
  type RefusedEntry,
  type ShippedTree,
  type TreeFile,
  walkShippedTree,
} from "./shipped-tree.ts";
export {
  KEY_VAULT_ENV_PATH,
  type KeyVaultSecretRef,
  renderKeyVaultEnv,
  renderSecretsEnv,
  renderSettingsEnv,
  SECRET_ENV_NAMES,
  SECRETS_STAGING_PATH,
  SETTINGS_PATH,
  StagingValueError,
} from "./staging.ts";
