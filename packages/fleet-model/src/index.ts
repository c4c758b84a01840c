export { canonicalJson } from "./canonical-json.ts";
export { formatDuration } from "./duration-text.ts";
export { ENV_SAFE_VALUE, envValueProblem } from "./env-value.ts";
export * from "./fingerprint.ts";
export {
  compareGalleryVersions,
  imageVersionProblem,
  isGalleryVersion,
  LATEST,
  parseGalleryVersion,
  resolveImageVersion,
} from "./image-version.ts";
export {
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_DEPTH,
  MAX_PROBLEMS_PER_MAP,
  manifestTooLarge,
  parseManifest,
  type WorkMeter,
} from "./manifest.ts";
export {
  DATA_DISK_MAX_GB,
  DATA_DISK_MIN_GB,
  DATA_DISK_SKUS,
  DEFAULT_ADMIN_USERNAME,
  MAX_PARALLELISM,
  MAX_PAUSE_SECONDS,
  MAX_SNAPSHOTS_KEPT,
  ROLLOUT_DEFAULTS,
} from "./manifest-schema.ts";
export { markdownCell } from "./markdown-cell.ts";
export { type AdminKeyChoice, chooseAdminKey, openSshPublicKeyProblem } from "./openssh-key.ts";
export {
  ACTIONABLE,
  clawResourcesOf,
  clawsWithOtherConfigHash,
  GATED,
  type HashedPlan,
  type PlanOptions,
  planFleet,
  planHash,
  planNeedsApply,
  planProblems,
  tagValue,
  unprovenClaws,
  vmImageVersion,
} from "./plan.ts";
export { planCounts, renderPlanMarkdown, renderPlanText } from "./plan-markdown.ts";
export {
  type ClawPower,
  clawSchedule,
  type PowerMode,
  type PowerPlan,
  type PowerRequest,
  powerActions,
} from "./power-plan.ts";
export {
  ALWAYS_ON,
  DEFAULT_PARKED_UPGRADE,
  formatParkedBy,
  localTimeText,
  nextScheduledStart,
  PARKED_UPGRADES,
  type ParkedBy,
  type ParkedUpgrade,
  type PowerSchedule,
  parseParkedBy,
  parseSchedule,
  type ScheduleSetting,
  scheduledToRun,
  scheduleProblems,
  scheduleText,
} from "./power-schedule.ts";
export { clawTags, resolveFleet } from "./resolve.ts";
export { deriveResourceNames } from "./resource-names.ts";
export { type RolloutFieldProblem, rolloutPolicyProblems } from "./rollout-policy.ts";
export {
  KEY_VAULT_SECRET_PREFIX,
  KEY_VAULT_SECRETS_USER_ROLE_ID,
  keyVaultOf,
  keyVaultSecretName,
  planSecretVersions,
  renderSecretVersionsMarkdown,
  type SecretVersionChange,
  secretVersionOf,
} from "./secret-source.ts";
export {
  isPlaceholderSecret,
  PROVIDER_KEYS,
  parseSecrets,
  SECRET_KEYS,
  type SecretsResult,
  secretsHash,
  secretValues,
} from "./secrets.ts";
export {
  desiredIsolationRule,
  desiredManagedRules,
  desiredSshRule,
  ISOLATION_RULE_NAME,
  MANAGED_RULE_NAMES,
  planSharedInfra,
  type SharedInfraFleet,
  type SharedInfraPlan,
  type SharedScope,
  SSH_RULE_NAME,
  sameSecurityRule,
} from "./shared-infra-plan.ts";
export * from "./tags.ts";
export * from "./types.ts";
export {
  type CreateProblem,
  diskControllerFor,
  type ImageDefinitionFacts,
  listValue,
  type SizeCapabilities,
  type VmCreateRequest,
  vmCreateProblems,
} from "./vm-compatibility.ts";
export { maxUnhealthyCount, planWaves, waveSizeCount } from "./waves.ts";
