// The fleet's Key Vault through ARM only: the vault (created or adopted with RBAC authorisation,
// never deleted), its secrets' metadata (names and version ids — ARM never returns a value), and
// the role assignment that lets one claw's VM identity read its own secret and nothing else.
// deploy-fleet holds no data-plane role: it cannot read a secret's value on this path.
// https://learn.microsoft.com/rest/api/keyvault/keyvault/vaults/create-or-update
// https://learn.microsoft.com/rest/api/keyvault/keyvault/secrets/list
// https://learn.microsoft.com/azure/key-vault/general/rbac-guide
import { createHash } from "node:crypto";
import { createDefaultHttpClient, createPipelineRequest } from "@azure/core-rest-pipeline";
import {
  KEY_VAULT_SECRETS_USER_ROLE_ID,
  type ObservedVm,
  planSecretVersions,
  type ResolvedFleet,
  type SecretVersionChange,
  secretVersionOf,
  TAGS,
} from "@openclawps/fleet-model";
import { getIfExists } from "./arm-read.ts";
import { azureErrorCode } from "./azure-error.ts";
import type { AzureContext } from "./connect.ts";
import { mergeTags } from "./resource-tags.ts";
import { runScriptOnVm } from "./run-command.ts";
import { onHostThatAnswered } from "./same-host.ts";
import { isOtherTenant } from "./tenant.ts";

const VAULT_API = "2023-07-01";
const ROLE_ASSIGNMENT_API = "2022-04-01";

export interface ObservedVault {
  id: string;
  /** Data-plane URL, e.g. https://kv-claws.vault.azure.net/ — what a claw fetches from. */
  vaultUri: string;
  rbac: boolean;
  /** The tenant whose tokens the vault takes (`properties.tenantId`). */
  tenantId: string;
}

export function vaultId(ctx: AzureContext, vault: string): string {
  return `/subscriptions/${ctx.subscriptionId}/resourceGroups/${ctx.resourceGroup}/providers/Microsoft.KeyVault/vaults/${vault}`;
}

/** The vault, or undefined when it does not exist (one GET). */
export async function observeVault(ctx: AzureContext, vault: string): Promise<ObservedVault | undefined> {
  const r = await getIfExists(ctx.resources.resources.getById(vaultId(ctx, vault), VAULT_API));
  if (!r) return undefined;
  const p = (r.properties ?? {}) as Record<string, unknown>;
  return {
    id: r.id ?? vaultId(ctx, vault),
    vaultUri: String(p.vaultUri ?? ""),
    rbac: p.enableRbacAuthorization === true,
    tenantId: String(p.tenantId ?? ""),
  };
}

export interface VaultReport {
  vault: ObservedVault;
  created: boolean;
  /** Set when the vault exists but authorises with access policies: claws could not read with roles. */
  problem?: string;
}

/** Creates the vault with RBAC authorisation when missing; adopts an existing one as it is. */
export async function ensureVault(
  ctx: AzureContext,
  fleet: { azure: { location: string; tags: Record<string, string> } },
  vault: string,
): Promise<VaultReport> {
  const existing = await observeVault(ctx, vault);
  if (existing && isOtherTenant(existing.tenantId, ctx.options.tenantId)) {
    return {
      vault: existing,
      created: false,
      problem: `Key Vault ${vault} belongs to tenant ${existing.tenantId}, but the fleet's app signs in to tenant ${ctx.options.tenantId}, whose tokens the vault refuses (AKV10032: Invalid issuer): the fleet's vault must be in tenant ${ctx.options.tenantId}.`,
    };
  }
  if (existing) {
    return existing.rbac
      ? { vault: existing, created: false }
      : {
          vault: existing,
          created: false,
          problem: `Key Vault ${vault} authorises with access policies, so the claws' role assignments would not let them read their secrets. Switch it to Azure RBAC (az keyvault update --name ${vault} --enable-rbac-authorization true) after giving its current readers roles.`,
        };
  }
  const created = await ctx.resources.resources.beginCreateOrUpdateByIdAndWait(
    vaultId(ctx, vault),
    VAULT_API,
    {
      location: fleet.azure.location,
      tags: fleet.azure.tags,
      properties: {
        tenantId: ctx.options.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    } as Parameters<typeof ctx.resources.resources.beginCreateOrUpdateByIdAndWait>[2],
    ctx.poll,
  );
  const p = (created.properties ?? {}) as Record<string, unknown>;
  return {
    vault: {
      id: created.id ?? vaultId(ctx, vault),
      vaultUri: String(p.vaultUri ?? ""),
      rbac: true,
      tenantId: String(p.tenantId ?? ctx.options.tenantId),
    },
    created: true,
  };
}

const httpClient = createDefaultHttpClient();

/** GET of an ARM collection under a resource, every page (the clients have no call for these lists). */
async function listById(
  ctx: AzureContext,
  path: string,
  apiVersion: string,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let url: string | undefined = `${ctx.armEndpoint}${path}?api-version=${apiVersion}`;
  while (url) {
    // Through the client's pipeline: the same credential, CA, limiter, retries and timeouts.
    const res = await ctx.resources.pipeline.sendRequest(
      httpClient,
      createPipelineRequest({ url, method: "GET" }),
    );
    const body = JSON.parse(res.bodyAsText ?? "{}") as {
      value?: Record<string, unknown>[];
      nextLink?: string;
      error?: { code?: string; message?: string };
    };
    if (res.status >= 400) {
      const err = new Error(body.error?.message ?? `GET ${path} answered ${res.status}`) as Error & {
        statusCode: number;
        code?: string;
      };
      err.statusCode = res.status;
      if (body.error?.code) err.code = body.error.code;
      throw err;
    }
    out.push(...(body.value ?? []));
    url = body.nextLink ? onHostThatAnswered(body.nextLink, url, "nextLink") : undefined;
  }
  return out;
}

/**
 * Current version id of every secret in the vault, by lower-cased name, from ARM's secret
 * metadata (`secretUriWithVersion`): one paged list, never a value.
 */
export async function observeSecretVersions(ctx: AzureContext, vault: string): Promise<Map<string, string>> {
  const items = await listById(ctx, `${vaultId(ctx, vault)}/secrets`, VAULT_API);
  const out = new Map<string, string>();
  for (const s of items) {
    const version = secretVersionOf(
      String((s.properties as Record<string, unknown> | undefined)?.secretUriWithVersion ?? ""),
    );
    if (version) out.set(String(s.name).toLowerCase(), version);
  }
  return out;
}

/** The scope of one claw's secret: the only place its VM's identity gets a role. */
export function secretScope(ctx: AzureContext, vault: string, secret: string): string {
  return `${vaultId(ctx, vault)}/secrets/${secret}`;
}

/** Role assignment name: a GUID derived from scope, principal and role, so a re-run PUTs the same one. */
export function roleAssignmentName(scope: string, principalId: string, roleId: string): string {
  const h = createHash("sha256")
    .update(`${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleId}`)
    .digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** "scope|principal" of each Key Vault Secrets User assignment at or under the vault (one paged list). */
export async function observeSecretReaders(ctx: AzureContext, vault: string): Promise<Set<string>> {
  const items = await listById(
    ctx,
    `${vaultId(ctx, vault)}/providers/Microsoft.Authorization/roleAssignments`,
    ROLE_ASSIGNMENT_API,
  );
  const out = new Set<string>();
  for (const a of items) {
    const p = (a.properties ?? {}) as Record<string, unknown>;
    if (
      !String(p.roleDefinitionId ?? "")
        .toLowerCase()
        .endsWith(KEY_VAULT_SECRETS_USER_ROLE_ID)
    )
      continue;
    out.add(`${String(p.scope).toLowerCase()}|${String(p.principalId).toLowerCase()}`);
  }
  return out;
}

/**
 * Lets `principalId` (a claw VM's system identity) read `secret` and nothing else: Key Vault
 * Secrets User at the secret's scope. Idempotent: an assignment that exists already is success.
 */
export async function grantSecretRead(
  ctx: AzureContext,
  vault: string,
  secret: string,
  principalId: string,
): Promise<"granted" | "present"> {
  const scope = secretScope(ctx, vault, secret);
  const name = roleAssignmentName(scope, principalId, KEY_VAULT_SECRETS_USER_ROLE_ID);
  try {
    await ctx.resources.resources.beginCreateOrUpdateByIdAndWait(
      `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      ROLE_ASSIGNMENT_API,
      {
        properties: {
          roleDefinitionId: `/subscriptions/${ctx.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${KEY_VAULT_SECRETS_USER_ROLE_ID}`,
          principalId,
          principalType: "ServicePrincipal",
        },
      } as Parameters<typeof ctx.resources.resources.beginCreateOrUpdateByIdAndWait>[2],
      ctx.poll,
    );
    return "granted";
  } catch (err) {
    // The same principal, role and scope under another name: it is there already.
    if (azureErrorCode(err) === "RoleAssignmentExists") return "present";
    throw err;
  }
}

export interface KeyVaultReading {
  vault: ObservedVault | undefined;
  /** Per active claw: its secret's current version against the one its VM loaded. */
  changes: SecretVersionChange[];
}

/**
 * What plan shows of Key Vault secrets: the vault (one GET) and every secret's version (one paged
 * list) against each VM's TAGS.secretVersion, read from the VMs already observed.
 */
export async function readKeyVaultSecrets(
  ctx: AzureContext,
  fleet: Pick<ResolvedFleet, "claws" | "secrets">,
  vms: readonly ObservedVm[],
): Promise<KeyVaultReading> {
  const name = fleet.secrets.key_vault;
  if (!name) return { vault: undefined, changes: [] };
  const vault = await observeVault(ctx, name);
  const versions = vault ? await observeSecretVersions(ctx, name) : new Map<string, string>();
  const tags = new Map<string, Record<string, string>>();
  for (const vm of vms) tags.set(vm.tags[TAGS.claw] ?? vm.name, vm.tags);
  return { vault, changes: planSecretVersions(fleet, versions, tags) };
}

/** The Run Command that re-reads the claw's secret and rebuilds its .env (vm-runtime). */
export const REFRESH_SECRETS_SCRIPT = "/opt/claw/keyvault-secrets.sh --refresh";
export const REFRESH_RUN_COMMAND_NAME = "openclawps-refresh-secrets";

/**
 * Loads a claw's current secret version on its running VM without replacing it: runs the refresh
 * through Run Command and, once it succeeded, records the version on the VM (TAGS.secretVersion).
 */
export async function refreshClawSecret(
  ctx: AzureContext,
  change: SecretVersionChange,
  vmName: string,
  options: { timeoutSeconds?: number; clientId?: string } = {},
): Promise<{ ok: boolean; detail: string }> {
  const outcome = await runScriptOnVm(ctx, vmName, REFRESH_SECRETS_SCRIPT, {
    timeoutSeconds: options.timeoutSeconds ?? 300,
    name: REFRESH_RUN_COMMAND_NAME,
    ...(options.clientId ? { clientId: options.clientId } : {}),
  });
  if (outcome.executionState !== "Succeeded" || outcome.exitCode !== 0) {
    return {
      ok: false,
      detail: `refresh ended ${outcome.executionState} (exit ${String(outcome.exitCode ?? "none")})`,
    };
  }
  const vm = await ctx.compute.virtualMachines.get(ctx.resourceGroup, vmName);
  await ctx.compute.virtualMachines.beginUpdateAndWait(
    ctx.resourceGroup,
    vmName,
    { tags: mergeTags(vm.tags, { [TAGS.secretVersion]: change.current }) },
    ctx.poll,
  );
  return { ok: true, detail: `loaded version ${change.current}` };
}
