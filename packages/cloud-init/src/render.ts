// Renders a claw's customData (base64 of gzip'd #cloud-config) and its config hash.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { ClawSecrets, ResolvedClaw, ResolvedFleet } from "@openclawps/fleet-model";
import { canonicalJson } from "@openclawps/fleet-model";
import { stringify } from "yaml";
import { buildCloudConfig, type CloudConfigParts, type WriteFile } from "./cloud-config.ts";
import {
  CUSTOM_DATA_LIMIT_BYTES,
  CustomDataTooLargeError,
  type SizeContributor,
} from "./custom-data-limit.ts";
import type { HostKey } from "./host-key.ts";
import { collectPayload, type Payload, type PayloadFile } from "./payload.ts";
import { type KeyVaultSecretRef, renderKeyVaultEnv, renderSecretsEnv, renderSettingsEnv } from "./staging.ts";

export interface RenderInput {
  fleet: ResolvedFleet;
  claw: ResolvedClaw;
  /** CLAW_SECRETS_JSON's entry for the claw; required unless `keyVault` is given (then unused). */
  secrets?: ClawSecrets;
  /** Key Vault secrets: the claw fetches its secret itself; customData carries only where it is. */
  keyVault?: KeyVaultSecretRef;
  /** The shipped vm-runtime directory. */
  vmRuntimeDir: string;
  /** Optional fleet-repo overlay whose files add to / replace shipped ones. */
  overlayDir?: string;
  /**
   * collectPayload(vmRuntimeDir, overlayDir), read once for a whole run: the payload is the same
   * for every claw, and reading it per claw was most of plan's CPU at 1000 claws.
   */
  payload?: Payload;
}

export interface RenderResult {
  /** base64(gzip(cloud-config)): what goes into osProfile.customData. */
  customData: string;
  /** Independent of the host key: unchanged claw → same hash on every run. */
  configHash: string;
  /** Decoded size of customData in bytes (gzip output): Azure allows CUSTOM_DATA_LIMIT_BYTES. */
  bytes: number;
}

/** Changing this deliberately changes every claw's hash (and so rolls the fleet). */
const HASH_DOMAIN = "openclawps.cloud-init.v1";

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** Everything the document is made of, read once. */
interface Prepared {
  parts: Omit<CloudConfigParts, "hostKey">;
  /** Undefined with Key Vault secrets (no secrets file). */
  secretsEnvHash: string | undefined;
  /** keyvault.env as the hash sees it: the vault's name in place of its URL. */
  keyVaultHashView: string | undefined;
}

function prepare(input: RenderInput): Prepared {
  const adminPublicKey = input.fleet.ssh.admin_public_key?.trim();
  if (!adminPublicKey) {
    throw new Error(
      `cannot render cloud-init for claw "${input.claw.name}": ssh.admin_public_key is not set in ${input.fleet.manifestFile}`,
    );
  }
  const payload = input.payload ?? collectPayload(input.vmRuntimeDir, input.overlayDir);
  if (payload.issues.length > 0) {
    const list = payload.issues.map((i) => `${i.file}: ${i.message} (fix: ${i.fix})`).join("; ");
    throw new Error(`cannot render cloud-init for claw "${input.claw.name}": ${list}`);
  }
  if (!input.keyVault && !input.secrets)
    throw new Error(`cannot render cloud-init for claw "${input.claw.name}": no secrets and no Key Vault`);
  const secretsEnv = input.keyVault ? undefined : renderSecretsEnv(input.claw.name, input.secrets!);
  return {
    parts: {
      claw: input.claw.name,
      adminUsername: input.claw.settings.admin_username,
      adminPublicKey,
      ...(secretsEnv !== undefined ? { secretsEnv } : {}),
      ...(input.keyVault ? { keyVaultEnv: renderKeyVaultEnv(input.claw.name, input.keyVault) } : {}),
      settingsEnv: renderSettingsEnv(input.claw),
      payload: payload.files,
    },
    secretsEnvHash: secretsEnv === undefined ? undefined : sha256(secretsEnv),
    keyVaultHashView: input.keyVault
      ? renderKeyVaultEnv(input.claw.name, { ...input.keyVault, vaultUrl: `vault:${input.keyVault.vault}` })
      : undefined,
  };
}

// The hash covers the secrets through their hash only: a rotation changes it, and the value
// never enters anything that is hashed, logged or compared. The host key is left out.
function hashMaterialOf(prepared: Prepared): string {
  return canonicalJson(
    buildCloudConfig({
      ...prepared.parts,
      ...(prepared.secretsEnvHash !== undefined ? { secretsEnv: `sha256:${prepared.secretsEnvHash}` } : {}),
      ...(prepared.keyVaultHashView !== undefined ? { keyVaultEnv: prepared.keyVaultHashView } : {}),
    }),
  );
}

const hashOf = (material: string) => sha256(`${HASH_DOMAIN}\n${material}`);

/**
 * The exact text the config hash is computed over: the cloud-config without the host key,
 * with the secrets file replaced by its sha256, as canonical JSON (sorted keys, so it does
 * not depend on YAML formatting). No timestamps, no random material. Useful to diff when a
 * hash changes unexpectedly.
 */
export function configHashMaterial(input: RenderInput): string {
  return hashMaterialOf(prepare(input));
}

/** Hash only (no host key needed): what plan mode uses. */
export function configHash(input: RenderInput): string {
  return hashOf(configHashMaterial(input));
}

function toYaml(doc: Record<string, unknown>, header: string[]): string {
  const body = stringify(doc, { lineWidth: 0, blockQuote: "literal", aliasDuplicateObjects: false });
  return `#cloud-config\n${header.map((line) => `# ${line}\n`).join("")}${body}`;
}

function contributors(config: Record<string, unknown>, files: PayloadFile[]): SizeContributor[] {
  const overlay = new Set(files.filter((f) => f.origin === "overlay").map((f) => f.destination));
  const list: SizeContributor[] = (config.write_files as WriteFile[]).map((f) => ({
    name: overlay.has(f.path) ? `${f.path} (overlay)` : f.path,
    bytes: gzipSync(f.content, { level: 9 }).length,
  }));
  const keys = config.ssh_keys as Record<string, string> | undefined;
  if (keys) list.push({ name: "ssh host key", bytes: gzipSync(Object.values(keys).join("\n")).length });
  return list.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}

/** The customData for a new VM of this claw, with its config hash. */
export function renderCustomData(input: RenderInput & { hostKey: HostKey }): RenderResult {
  const prepared = prepare(input);
  const hash = hashOf(hashMaterialOf(prepared));
  const config = buildCloudConfig({ ...prepared.parts, hostKey: input.hostKey });
  const yaml = toYaml(config, [
    `openclawps: claw ${input.claw.name}, config hash ${hash}.`,
    "Rendered by deploy-fleet from the deploying commit's vm-runtime; do not edit on the VM.",
  ]);
  const gz = gzipSync(Buffer.from(yaml, "utf8"), { level: 9 });
  if (gz.length > CUSTOM_DATA_LIMIT_BYTES) {
    const all = contributors(config, prepared.parts.payload);
    const top = all
      .slice(0, 5)
      .map((c) => `${c.name} ${c.bytes.toLocaleString("en-US")} B`)
      .join(", ");
    throw new CustomDataTooLargeError(
      `customData for claw "${input.claw.name}" is ${gz.length.toLocaleString("en-US")} bytes gzip'd; ` +
        `Azure accepts at most ${CUSTOM_DATA_LIMIT_BYTES.toLocaleString("en-US")} (osProfile.customData). ` +
        `Largest contributors (compressed alone): ${top}. ` +
        "Fix: shrink or remove the largest overlay files; ship large assets from an update script instead.",
      all,
    );
  }
  return { customData: gz.toString("base64"), configHash: hash, bytes: gz.length };
}

/** The #cloud-config text inside a customData string (for tests, debugging and validate). */
export function decodeCustomData(customData: string): string {
  return gunzipSync(Buffer.from(customData, "base64")).toString("utf8");
}
