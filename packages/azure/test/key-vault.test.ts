// Key Vault through the adapter against the local Azure: the vault created with RBAC and adopted,
// secret versions read from ARM's metadata (never a value), one claw's VM identity allowed to read
// its own secret only, and the role's actions derived from the requests made.

import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SecretClient } from "@azure/keyvault-secrets";
import { KEY_VAULT_SECRETS_USER_ROLE_ID, planSecretVersions, TAGS } from "@openclawps/fleet-model";
import { keyVaultClientOptions, type LocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARM_ACTIONS, READER_ACTIONS } from "../src/arm-actions.ts";
import { AzureClawOperations } from "../src/claw-operations.ts";
import { vmBody } from "../src/claw-resources.ts";
import type { AzureContext } from "../src/connect.ts";
import {
  ensureVault,
  grantSecretRead,
  observeSecretReaders,
  observeSecretVersions,
  observeVault,
  secretScope,
} from "../src/key-vault.ts";
import { ensureSharedInfra } from "../src/shared-infra.ts";
import { claw, fleet } from "./fixtures.ts";
import { connectTo, operationsSince, startAzure } from "./local-azure.ts";

const OPERATOR_CONDITION = resolve(import.meta.dirname, "../../../infra/azure/fleet-operator-condition.txt");
const RG = "rg-claw-kv";
const VAULT = "kv-claws-test";
const FLEET = { ...fleet([], { resourceGroup: RG }), secrets: { key_vault: VAULT } };

let azure: LocalAzure;
let ctx: AzureContext;

beforeAll(async () => {
  azure = await startAzure();
  ctx = connectTo(azure, RG);
  await ctx.resources.resourceGroups.createOrUpdate(RG, { location: "westus" });
});

afterAll(async () => {
  await azure?.stop();
});

/** A credential standing for code on a VM: tokens from that VM's IMDS. */
function imdsCredential(imds: string) {
  return {
    async getToken(scopes: string | string[]) {
      const resource = (Array.isArray(scopes) ? scopes[0]! : scopes).replace(/\/\.default$/, "");
      const res = await fetch(
        `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`,
        { headers: { Metadata: "true" } },
      );
      const body = (await res.json()) as { access_token: string; expires_on: string };
      return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000 };
    },
  };
}

describe("the fleet's Key Vault", () => {
  it("is created with RBAC authorisation when missing, and adopted with reads only after that", async () => {
    const first = await ensureVault(ctx, FLEET, VAULT);
    expect(first).toMatchObject({ created: true, vault: { rbac: true } });
    expect(first.vault.vaultUri).toBe(azure.vaultUrl(VAULT));
    const since = Date.now();
    const again = await ensureVault(ctx, FLEET, VAULT);
    expect(again).toMatchObject({ created: false, vault: { rbac: true } });
    expect(azure.counts({ since, excludePolling: true }).writes).toBe(0);
  });

  it("names an access-policy vault as a problem instead of changing it", async () => {
    await ctx.resources.resources.beginCreateOrUpdateByIdAndWait(
      `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-policies`,
      "2023-07-01",
      {
        location: "westus",
        properties: { tenantId: azure.tenantId, sku: { family: "A", name: "standard" } },
      } as never,
      ctx.poll,
    );
    const r = await ensureVault(ctx, FLEET, "kv-policies");
    expect(r.problem).toMatch(/access policies.*--enable-rbac-authorization true/);
    expect((await observeVault(ctx, "kv-policies"))?.rbac).toBe(false);
  });

  it("gives each claw's VM a system-assigned identity in its create body", () => {
    const input = {
      claw: claw("alice"),
      imageVersion: "1.0.0",
      imageVersionId: "/x/versions/1.0.0",
      dataDiskId: "/disk",
      nicId: "/nic",
      customData: "",
      configHash: "h",
      hostKeyFingerprint: "SHA256:x",
      rolloutId: "r",
    };
    expect(vmBody({ ...input, fleet: FLEET }).identity).toEqual({ type: "SystemAssigned" });
    // The secret version its first boot loads is recorded, so a later rotation shows in the plan.
    const v = "ab".repeat(16);
    expect(vmBody({ ...input, fleet: FLEET, secretVersion: v }).tags?.[TAGS.secretVersion]).toBe(v);
    // CLAW_SECRETS_JSON fleets keep VMs without an identity.
    expect(vmBody({ ...input, fleet: fleet([]) }).identity).toBeUndefined();
  });

  it("reads 1000 claws' secret versions in ten paged ARM reads, with no value in any answer, and plans them", async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `claw-${String(i).padStart(4, "0")}`);
    const canary = "canary-secret-value-7f3e";
    await azure.seedKeyVaultSecrets(
      RG,
      VAULT,
      Object.fromEntries(names.map((n) => [`claw-${n}`, JSON.stringify({ xai_api_key: `${canary}-${n}` })])),
    );
    const since = Date.now();
    const versions = await observeSecretVersions(ctx, VAULT);
    const ops = operationsSince(azure, since);
    expect(ops).toEqual({ "secrets.list": 10 });
    expect(versions.size).toBe(1000);
    expect(JSON.stringify([...versions])).not.toContain(canary);
    // One claw's VM loaded an older version: the plan names it rotated, by version ids only.
    const f = fleet(names);
    const loaded = new Map([[names[3]!, { [TAGS.secretVersion]: "0".repeat(32) }]]);
    const changes = planSecretVersions(f, versions, loaded);
    expect(changes.filter((c) => c.status === "rotated").map((c) => c.claw)).toEqual([names[3]]);
    expect(changes.filter((c) => c.status === "new")).toHaveLength(999);
    expect(JSON.stringify(changes)).not.toContain(canary);
  });

  it("lets a claw's VM identity read its own secret and refuses it another claw's", async () => {
    await azure.seedGalleryVersions(RG, "clawGallery", "claw-desktop", ["1.0.0"]);
    const image = `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/clawGallery/images/claw-desktop/versions/1.0.0`;
    await azure.seedVirtualMachines(RG, ["alice"], { imageId: image });
    const vm = await ctx.compute.virtualMachines.beginUpdateAndWait(
      RG,
      "alice",
      { identity: { type: "SystemAssigned" } },
      ctx.poll,
    );
    const principal = vm.identity!.principalId!;
    await azure.seedKeyVaultSecrets(RG, VAULT, {
      "claw-alice": JSON.stringify({ xai_api_key: "alice-key" }),
      "claw-bob": JSON.stringify({ xai_api_key: "bob-key" }),
    });
    expect(await grantSecretRead(ctx, VAULT, "claw-alice", principal)).toBe("granted");
    // Re-running is a no-op, not an error.
    expect(await grantSecretRead(ctx, VAULT, "claw-alice", principal)).toBe("granted");
    const readers = await observeSecretReaders(ctx, VAULT);
    expect(readers.has(`${secretScope(ctx, VAULT, "claw-alice").toLowerCase()}|${principal}`)).toBe(true);

    trustCaInProcess(azure.caCertPem);
    const asAlice = new SecretClient(
      azure.vaultUrl(VAULT),
      imdsCredential(await azure.imdsEndpoint(RG, "alice")),
      keyVaultClientOptions(),
    );
    expect((await asAlice.getSecret("claw-alice")).value).toContain("alice-key");
    await expect(asAlice.getSecret("claw-bob")).rejects.toMatchObject({ statusCode: 403 });
  });

  it("grants under the operator assignment's condition (infra/azure), which refuses any other role", async () => {
    // The condition the bootstrap puts on the operator's assignment, evaluated by the local Azure
    // as ARM evaluates a delegated role-assignment condition.
    azure.setAssignmentCondition(readFileSync(OPERATOR_CONDITION, "utf8"));
    try {
      const principal = (await ctx.compute.virtualMachines.get(RG, "alice")).identity!.principalId!;
      await azure.seedKeyVaultSecrets(RG, VAULT, { "claw-carol": "{}" });
      expect(await grantSecretRead(ctx, VAULT, "claw-carol", principal)).toBe("granted");
      const scope = `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}`;
      const contributor = "b24988ac-6180-42a0-ab88-20f7382dd24c";
      const grant = (principalType: string, role: string) =>
        ctx.resources.resources.beginCreateOrUpdateByIdAndWait(
          `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
          "2022-04-01",
          {
            properties: {
              roleDefinitionId: `/subscriptions/${azure.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
              principalId: principal,
              principalType,
            },
          } as Parameters<typeof ctx.resources.resources.beginCreateOrUpdateByIdAndWait>[2],
          ctx.poll,
        );
      await expect(grant("ServicePrincipal", contributor)).rejects.toMatchObject({
        statusCode: 403,
        code: "AuthorizationFailed",
      });
      // The right role for a user rather than a VM identity is refused too.
      await expect(grant("User", KEY_VAULT_SECRETS_USER_ROLE_ID)).rejects.toMatchObject({ statusCode: 403 });
    } finally {
      azure.setAssignmentCondition(undefined);
    }
  });

  it("creates a claw's VM with an identity that may read its own secret from its first boot", async () => {
    await ensureSharedInfra(ctx, FLEET);
    await azure.seedGalleryVersions(RG, FLEET.azure.gallery_name, FLEET.azure.fleet_image_definition_name, [
      "1.0.0",
    ]);
    const carol = claw("carol");
    const ops = new AzureClawOperations(
      ctx,
      { ...FLEET, claws: [carol] },
      {
        render: (c) => ({ customData: "", configHash: c.configHash, hostKeyFingerprint: "SHA256:x" }),
        rolloutId: "run-kv",
        snapshotBeforeReplace: false,
      },
    );
    await azure.seedKeyVaultSecrets(RG, VAULT, {
      "claw-carol": JSON.stringify({ xai_api_key: "carol-key" }),
    });
    const lines: string[] = [];
    await ops.create(
      {
        claw: "carol",
        action: "create",
        reason: "test",
        changes: [],
        desired: carol,
        targetImageVersion: "1.0.0",
        gated: false,
      },
      (claw, step) => lines.push(`${claw}:${step}`),
    );
    expect(lines.some((l) => l.startsWith("carol:grant-secret"))).toBe(true);
    trustCaInProcess(azure.caCertPem);
    const asCarol = new SecretClient(
      azure.vaultUrl(VAULT),
      imdsCredential(await azure.imdsEndpoint(RG, "carol")),
      keyVaultClientOptions(),
    );
    expect((await asCarol.getSecret("claw-carol")).value).toContain("carol-key");
    await expect(asCarol.getSecret("claw-alice")).rejects.toMatchObject({ statusCode: 403 });
  });

  it("needs only the role's actions; the reader's are enough to observe", async () => {
    const used = new Set(
      azure.requestLog
        .filter((e) => e.service === "arm" && e.action && /KeyVault|Authorization/.test(e.action))
        .map((e) => e.action),
    );
    const granted = new Set<string>(ARM_ACTIONS);
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
    expect([...granted].filter((a) => /KeyVault|Authorization/.test(a) && !used.has(a))).toEqual([]);
    azure.setAllowedActions([...READER_ACTIONS]);
    try {
      await expect(observeVault(ctx, VAULT)).resolves.toBeDefined();
      await expect(observeSecretVersions(ctx, VAULT)).resolves.toBeInstanceOf(Map);
      await expect(observeSecretReaders(ctx, VAULT)).resolves.toBeInstanceOf(Set);
      await expect(
        grantSecretRead(ctx, VAULT, "claw-bob", "00000000-0000-4000-8000-000000000000"),
      ).rejects.toMatchObject({
        code: "AuthorizationFailed",
      });
    } finally {
      azure.setAllowedActions(undefined);
    }
  });

  it("serves a Key Vault client the operator's own token with Key Vault's scope: one more exchange, then shared", async () => {
    // The app reads a secret itself only here: deploy-fleet never does.
    expect(await grantSecretRead(ctx, VAULT, "claw-bob", azure.objectId)).toBe("granted");
    trustCaInProcess(azure.caCertPem);
    const since = Date.now();
    const asOperator = new SecretClient(azure.vaultUrl(VAULT), ctx.credential, keyVaultClientOptions());
    expect((await asOperator.getSecret("claw-bob")).value).toContain("bob-key");
    await expect(asOperator.getSecret("claw-alice")).rejects.toMatchObject({ statusCode: 403 });
    const exchanges = azure.requestLog.filter((e) => e.operation === "entra.token" && e.at >= since);
    expect(exchanges.map((e) => [e.scope, e.status])).toEqual([["https://vault.azure.net/.default", 200]]);
  });

  it("names a vault in another tenant instead of sending it a token it refuses (AKV10032)", async () => {
    const elsewhere = "11111111-2222-4333-8444-555555555555";
    await ctx.resources.resources.beginCreateOrUpdateByIdAndWait(
      `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-elsewhere`,
      "2023-07-01",
      {
        location: "westus",
        properties: {
          tenantId: elsewhere,
          sku: { family: "A", name: "standard" },
          enableRbacAuthorization: true,
        },
      } as never,
      ctx.poll,
    );
    // Named at plan time (ensureVault), before any token is asked for...
    const adopted = await ensureVault(ctx, FLEET, "kv-elsewhere");
    expect(adopted.problem).toBe(
      `Key Vault kv-elsewhere belongs to tenant ${elsewhere}, but the fleet's app signs in to tenant ${azure.tenantId}, whose tokens the vault refuses (AKV10032: Invalid issuer): the fleet's vault must be in tenant ${azure.tenantId}.`,
    );
    // ...and by the credential, should a client reach it anyway.
    trustCaInProcess(azure.caCertPem);
    const url = azure.vaultUrl("kv-elsewhere");
    // Key Vault's challenge names the vault's tenant; the SDK asks the credential for it.
    const since = Date.now();
    await expect(
      new SecretClient(url, ctx.credential, keyVaultClientOptions()).getSecret("x"),
    ).rejects.toThrow(
      `https://vault.azure.net/.default asks for a token of tenant ${elsewhere}, but this workflow's app (client ${azure.clientId}) signs in to tenant ${azure.tenantId} only`,
    );
    expect(azure.requestLog.filter((e) => e.operation === "entra.token" && e.at >= since)).toEqual([]);
    // A credential that ignores the tenant gets the home tenant's token, which the vault refuses.
    const ignoring = { getToken: (scopes: string | string[]) => ctx.credential.getToken(scopes) };
    await expect(
      new SecretClient(url, ignoring, keyVaultClientOptions()).getSecret("x"),
    ).rejects.toMatchObject({
      statusCode: 401,
      message: expect.stringMatching(
        new RegExp(
          `^AKV10032: Invalid issuer\\. Expected one of https://sts\\.windows\\.net/${elsewhere}/, found https://sts\\.windows\\.net/${azure.tenantId}/`,
        ),
      ),
    });
  });
});
