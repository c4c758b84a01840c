export {
  NOT_PAYLOAD_DIRECTORIES,
  REFUSED_ENTRY_FIX,
  REFUSED_ENTRY_FIX_SENTENCE,
  walkShippedTree,
} from "@openclawps/cloud-init";
export * from "./custom-data-check.ts";
export * from "./external-tool.ts";
export { checkKeyVaultSecretNames, type KeyVaultNamesCheck } from "./key-vault-check.ts";
export * from "./manifest-check.ts";
export * from "./overlay.ts";
export * from "./packer-check.ts";
export * from "./payload-check.ts";
export * from "./repo-paths.ts";
export * from "./secrets-check.ts";
export * from "./shellcheck.ts";
export * from "./summary-markdown.ts";
export * from "./update-scripts.ts";
export * from "./validate-fleet.ts";
export * from "./vm-runtime-check.ts";
export * from "./vm-runtime-tree.ts";
