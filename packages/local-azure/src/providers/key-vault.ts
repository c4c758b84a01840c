// Microsoft.KeyVault through ARM: vaults and their secrets' metadata.
// https://learn.microsoft.com/rest/api/keyvault/keyvault/vaults/create-or-update
// https://learn.microsoft.com/rest/api/keyvault/secrets/secrets (the management-plane secrets API)
//
// A vault PUT answers 200/201 with the vault (provisioningState Succeeded): no polling headers.
// Secrets live in the same records for ARM and for the data plane (key-vault-data.ts): ARM shows
// their metadata (`secretUri`, `secretUriWithVersion`, attributes) and never a value.
import { randomBytes } from "node:crypto";
import type { Arm, Reply, ResourceRequest } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError } from "../arm-error.ts";
import type { StoredResource } from "../world.ts";
import { obj, properties, readTags, requireLocation, requireSameLocation } from "./common.ts";

export const VAULT = "Microsoft.KeyVault/vaults";
export const VAULT_SECRET = "Microsoft.KeyVault/vaults/secrets";

/** The DNS zone vaults are served under here (Azure's is vault.azure.net). */
export const VAULT_DNS_SUFFIX = "vault.localhost";

// Vault names: 3-24 characters, alphanumerics and hyphens, start with a letter, end with a letter or
// digit, no consecutive hyphens.
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftkeyvault
const VAULT_NAME = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
// Secret names: 1-127 alphanumerics and hyphens (Set Secret's `secret-name` pattern ^[0-9a-zA-Z-]+$).
// https://learn.microsoft.com/rest/api/keyvault/secrets/set-secret/set-secret
export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
// "Key Vault stores and manages secrets as sequences of octets (8-bit bytes), with a maximum size of
// 25k bytes each." https://learn.microsoft.com/azure/key-vault/secrets/about-secrets
export const MAX_SECRET_BYTES = 25 * 1024;

/** One version of a secret, as the data plane keeps it. */
export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  /** Unix seconds, as Key Vault's attributes carry them. */
  created: number;
  updated: number;
}

export function vaultUri(arm: Arm, vault: string): string {
  const port = new URL(arm.options.baseUrl()).port;
  return `https://${vault.toLowerCase()}.${VAULT_DNS_SUFFIX}${port ? `:${port}` : ""}/`;
}

export function findVault(arm: Arm, name: string): StoredResource | undefined {
  const lower = name.toLowerCase();
  return arm.ofType(VAULT).find((v) => v.name.toLowerCase() === lower);
}

export function secretVersions(secret: StoredResource): SecretVersion[] {
  secret.hidden ??= {};
  secret.hidden.versions ??= [];
  return secret.hidden.versions as SecretVersion[];
}

/** Adds a version (Key Vault: "If the named secret already exists, ... creates a new version"). */
export function addSecretVersion(
  arm: Arm,
  vault: StoredResource,
  name: string,
  input: { value: string; contentType?: string; tags?: Record<string, string>; enabled?: boolean },
): { secret: StoredResource; version: SecretVersion } {
  if (!SECRET_NAME.test(name)) {
    throw new ArmError(
      400,
      "BadParameter",
      `The request URI contains an invalid name: ${name}. Secret names are 1-127 characters: letters, digits and hyphens.`,
    );
  }
  if (Buffer.byteLength(input.value, "utf8") > MAX_SECRET_BYTES) {
    throw new ArmError(
      400,
      "BadParameter",
      `Secret value exceeds the maximum size of ${MAX_SECRET_BYTES} bytes.`,
    );
  }
  const id = `${vault.id}/secrets/${name}`;
  const secret: StoredResource = arm.find(id) ?? {
    id,
    name,
    type: VAULT_SECRET,
    location: vault.location ?? "westus",
    properties: {},
  };
  const now = Math.floor(arm.now() / 1000);
  const version: SecretVersion = {
    version: randomBytes(16).toString("hex"),
    value: input.value,
    enabled: input.enabled ?? true,
    created: now,
    updated: now,
    ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
    ...(input.tags !== undefined ? { tags: input.tags } : {}),
  };
  secretVersions(secret).push(version);
  const base = `${vaultUri(arm, vault.name)}secrets/${name}`;
  secret.properties = {
    ...(version.contentType !== undefined ? { contentType: version.contentType } : {}),
    attributes: { enabled: version.enabled, created: version.created, updated: version.updated },
    secretUri: base,
    secretUriWithVersion: `${base}/${version.version}`,
  };
  if (input.tags !== undefined) secret.tags = input.tags;
  arm.upsert(secret);
  return { secret, version };
}

export function registerKeyVault(arm: Arm): void {
  arm.register({
    type: VAULT,
    sdkName: "vaults",
    put: (req, existing) => putVault(arm, req, existing),
    patch(req, existing) {
      const tags = readTags(req.body);
      if (tags !== undefined) existing.tags = tags;
      const p = properties(req.body);
      if (typeof p.enableRbacAuthorization === "boolean")
        existing.properties.enableRbacAuthorization = p.enableRbacAuthorization;
      return { status: 200, body: stripHidden(existing) };
    },
    delete(_req, existing) {
      // Soft delete keeps a deleted vault recoverable; here it is simply gone, secrets with it.
      for (const r of arm.subtree(existing.id)) arm.remove(r.id);
      return { status: 200 };
    },
  });
  arm.register({
    type: VAULT_SECRET,
    sdkName: "secrets",
    // ARM's secret PUT is meant for templates; it sets a new version as the data plane does.
    put(req, _existing): Reply {
      const vault = arm.find(req.parentId!)!;
      const p = properties(req.body);
      if (typeof p.value !== "string") {
        throw new ArmError(400, "BadRequest", "The property 'properties.value' is required.");
      }
      const attributes = obj(p.attributes);
      const { secret } = addSecretVersion(arm, vault, req.name, {
        value: p.value,
        ...(typeof p.contentType === "string" ? { contentType: p.contentType } : {}),
        ...(readTags(req.body) ? { tags: readTags(req.body)! } : {}),
        ...(typeof attributes?.enabled === "boolean" ? { enabled: attributes.enabled } : {}),
      });
      return { status: _existing ? 200 : 201, body: stripHidden(secret) };
    },
  });
}

function putVault(arm: Arm, req: ResourceRequest, existing: StoredResource | undefined): Reply {
  if (!VAULT_NAME.test(req.name)) {
    throw new ArmError(
      400,
      "VaultNameNotValid",
      `The vault name '${req.name}' is invalid. A vault's name must be between 3-24 alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.`,
    );
  }
  const location = requireLocation(req.body);
  if (existing) requireSameLocation(existing, location);
  const p = properties(req.body);
  const sku = obj(p.sku);
  if (typeof p.tenantId !== "string" || !sku || typeof sku.name !== "string") {
    throw new ArmError(
      400,
      "BadRequest",
      "The properties 'properties.tenantId' and 'properties.sku' (family A, name standard or premium) are required.",
    );
  }
  const vault: StoredResource = {
    id: req.id,
    name: req.name,
    type: VAULT,
    location,
    properties: {
      ...p,
      sku: { family: String(sku.family ?? "A"), name: sku.name },
      // Off unless asked for in the API versions the fleet uses (access policies are the default).
      enableRbacAuthorization: p.enableRbacAuthorization === true,
      enableSoftDelete: p.enableSoftDelete !== false,
      softDeleteRetentionInDays: Number(p.softDeleteRetentionInDays ?? 90),
      vaultUri: vaultUri(arm, req.name),
      provisioningState: "Succeeded",
    },
  };
  const tags = readTags(req.body);
  if (tags !== undefined) vault.tags = tags;
  arm.upsert(vault);
  return { status: existing ? 200 : 201, body: stripHidden(vault) };
}
