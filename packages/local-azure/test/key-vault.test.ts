// Key Vault through the real clients: the vault and role assignments through ARM
// (@azure/arm-resources' generic by-id calls), secrets through @azure/keyvault-secrets' SecretClient
// with the app's federated credential and with a VM's managed identity token from IMDS.
import { createHash } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { SecretClient } from "@azure/keyvault-secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_IN_ROLES, keyVaultClientOptions, vaultLookup } from "../src/index.ts";
import { type Clients, imageVersionId, LOCATION, startWithClients } from "./harness.ts";

const RG = "rg-kv";
const VAULT = "kv-claws";
const SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";
const SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

let c: Clients;
let vaultId: string;

function guid(...parts: string[]): string {
  const h = createHash("sha256").update(parts.join("|")).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function assign(
  scope: string,
  principalId: string,
  role: string,
  name = guid(scope, principalId, role),
) {
  return c.resources.resources.beginCreateOrUpdateByIdAndWait(
    `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    "2022-04-01",
    {
      properties: {
        roleDefinitionId: `/subscriptions/${c.azure.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
        principalId,
        principalType: "ServicePrincipal",
      },
    } as never,
    { updateIntervalInMs: 0 },
  );
}

/** A token credential that asks the given IMDS base URL, as code on the VM would. */
function imdsCredential(imds: string) {
  return {
    async getToken(scopes: string | string[]) {
      const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
      const resource = scope.replace(/\/\.default$/, "");
      const res = await fetch(
        `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`,
        { headers: { Metadata: "true" } },
      );
      const body = (await res.json()) as { access_token: string; expires_on: string };
      if (!res.ok) throw new Error(JSON.stringify(body));
      return { token: body.access_token, expiresOnTimestamp: Number(body.expires_on) * 1000 };
    },
  };
}

/** A GET with nothing but the given headers (the system resolver does not know the vault zone). */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(url), { lookup: vaultLookup, headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  c = await startWithClients();
  await c.resources.resourceGroups.createOrUpdate(RG, { location: LOCATION });
  vaultId = `/subscriptions/${c.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${VAULT}`;
  await c.resources.resources.beginCreateOrUpdateByIdAndWait(
    vaultId,
    "2023-07-01",
    {
      location: LOCATION,
      properties: {
        tenantId: c.azure.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    } as never,
    { updateIntervalInMs: 0 },
  );
});

afterAll(async () => {
  await c?.azure.stop();
});

describe("Key Vault", () => {
  it("creates an RBAC vault whose vaultUri is its data plane", async () => {
    const vault = await c.resources.resources.getById(vaultId, "2023-07-01");
    const props = vault.properties as Record<string, unknown>;
    expect(props.enableRbacAuthorization).toBe(true);
    expect(props.vaultUri).toBe(c.azure.vaultUrl(VAULT));
    expect(String(props.vaultUri)).toMatch(/^https:\/\/kv-claws\.vault\.localhost:\d+\/$/);
  });

  it("refuses a vault name Azure refuses", async () => {
    const bad = vaultId.replace(/vaults\/.*/, "vaults/no--double");
    await expect(
      c.resources.resources.beginCreateOrUpdateByIdAndWait(
        bad,
        "2023-07-01",
        {
          location: LOCATION,
          properties: { tenantId: c.azure.tenantId, sku: { family: "A", name: "standard" } },
        } as never,
        { updateIntervalInMs: 0 },
      ),
    ).rejects.toMatchObject({ code: "VaultNameNotValid" });
  });

  it("sets and reads secrets through SecretClient once the app holds Secrets Officer; versions accumulate", async () => {
    const client = new SecretClient(c.azure.vaultUrl(VAULT), c.credential, keyVaultClientOptions());
    // Before any role assignment: Key Vault's RBAC denial.
    await expect(client.setSecret("claw-a", "{}")).rejects.toMatchObject({
      statusCode: 403,
      code: "Forbidden",
    });
    await assign(vaultId, c.azure.objectId, SECRETS_OFFICER);
    const first = await client.setSecret("claw-a", JSON.stringify({ xai_api_key: "one" }));
    const second = await client.setSecret("claw-a", JSON.stringify({ xai_api_key: "two" }));
    expect(first.properties.version).toMatch(/^[0-9a-f]{32}$/);
    expect(second.properties.version).not.toBe(first.properties.version);
    expect(second.properties.id).toBe(
      `${c.azure.vaultUrl(VAULT)}secrets/claw-a/${second.properties.version}`,
    );
    expect((await client.getSecret("claw-a")).value).toBe(JSON.stringify({ xai_api_key: "two" }));
    expect((await client.getSecret("claw-a", { version: first.properties.version! })).value).toContain("one");
    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions("claw-a")) versions.push(p.version!);
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());
    await expect(client.getSecret("claw-missing")).rejects.toMatchObject({
      statusCode: 404,
      code: "SecretNotFound",
    });
  });

  it("pages the secret list 25 at a time and ARM lists the same secrets without values", async () => {
    const secrets: Record<string, string> = {};
    for (let i = 0; i < 60; i++) secrets[`claw-p${i}`] = `value-${i}`;
    await c.azure.seedKeyVaultSecrets(RG, VAULT, secrets);
    const client = new SecretClient(c.azure.vaultUrl(VAULT), c.credential, keyVaultClientOptions());
    c.azure.resetLog();
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(Object.keys(secrets)));
    const pages = c.azure.requestLog.filter((e) => e.operation === "keyVault.getSecrets" && e.status === 200);
    expect(pages.length).toBe(Math.ceil(names.length / 25));
    const arm = await c.resources.resources.getById(`${vaultId}/secrets/claw-p7`, "2023-07-01");
    const props = arm.properties as Record<string, unknown>;
    expect(props.value).toBeUndefined();
    expect(String(props.secretUriWithVersion)).toMatch(/\/secrets\/claw-p7\/[0-9a-f]{32}$/);
    expect(JSON.stringify(arm)).not.toContain("value-7");
  });

  it("refuses data-plane requests without a token with Key Vault's challenge", async () => {
    const { status, headers, body } = await rawGet(
      `${c.azure.vaultUrl(VAULT)}secrets/claw-a?api-version=7.4`,
    );
    expect(status).toBe(401);
    expect(String(headers["www-authenticate"])).toBe(
      `Bearer authorization="${c.azure.authorityHost}/${c.azure.tenantId}", resource="https://vault.azure.net"`,
    );
    expect(JSON.parse(body)).toMatchObject({ error: { code: "Unauthorized" } });
  });
});

describe("managed identity and IMDS", () => {
  let vmA: string;
  let vmB: string;
  let principalA: string;

  beforeAll(async () => {
    await c.azure.seedGalleryVersions(RG, "clawGallery", "claw-desktop", ["1.0.0"], LOCATION);
    await c.azure.seedVirtualMachines(RG, ["claw-a", "claw-b"], {
      imageId: imageVersionId(c.azure, RG, "1.0.0"),
    });
    vmA = "claw-a";
    vmB = "claw-b";
    const a = await c.compute.virtualMachines.beginUpdateAndWait(
      RG,
      vmA,
      { identity: { type: "SystemAssigned" } },
      { updateIntervalInMs: 0 },
    );
    principalA = a.identity!.principalId!;
    await c.compute.virtualMachines.beginUpdateAndWait(
      RG,
      vmB,
      { identity: { type: "SystemAssigned" } },
      { updateIntervalInMs: 0 },
    );
    await c.azure.seedKeyVaultSecrets(RG, VAULT, { "claw-b": JSON.stringify({ xai_api_key: "bee" }) });
    await assign(`${vaultId}/secrets/claw-a`, principalA, SECRETS_USER);
  });

  it("gives a VM a system-assigned identity whose principal survives updates", async () => {
    expect(principalA).toMatch(/^[0-9a-f-]{36}$/);
    const again = await c.compute.virtualMachines.beginUpdateAndWait(
      RG,
      vmA,
      { tags: { touched: "yes" } },
      { updateIntervalInMs: 0 },
    );
    expect(again.identity?.principalId).toBe(principalA);
    expect(again.identity?.tenantId).toBe(c.azure.tenantId);
    expect(BUILT_IN_ROLES[SECRETS_USER]?.roleName).toBe("Key Vault Secrets User");
  });

  it("answers IMDS token requests only with the Metadata header, for a VM with an identity", async () => {
    const imds = await c.azure.imdsEndpoint(RG, vmA);
    const url = `${imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
    const bare = await fetch(url);
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({
      error: "invalid_request",
      error_description: "Required metadata header not specified",
    });
    const ok = await fetch(url, { headers: { Metadata: "true" } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Record<string, string>;
    expect(body).toMatchObject({ resource: "https://vault.azure.net", token_type: "Bearer" });
    expect(typeof body.expires_on).toBe("string");
    const claims = JSON.parse(
      Buffer.from(body.access_token!.split(".")[1]!, "base64url").toString(),
    ) as Record<string, string>;
    expect(claims.oid).toBe(principalA);
    expect(claims.aud).toBe("https://vault.azure.net");

    await c.azure.seedVirtualMachines(RG, ["claw-noid"], { imageId: imageVersionId(c.azure, RG, "1.0.0") });
    const none = await fetch(
      `${await c.azure.imdsEndpoint(RG, "claw-noid")}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`,
      { headers: { Metadata: "true" } },
    );
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error_description: "Identity not found" });
  });

  it("lets a VM read its own secret, and refuses another claw's with ForbiddenByRbac", async () => {
    await c.azure.seedKeyVaultSecrets(RG, VAULT, { "claw-a": JSON.stringify({ xai_api_key: "ay" }) });
    const asA = new SecretClient(
      c.azure.vaultUrl(VAULT),
      imdsCredential(await c.azure.imdsEndpoint(RG, vmA)),
      keyVaultClientOptions(),
    );
    expect((await asA.getSecret("claw-a")).value).toBe(JSON.stringify({ xai_api_key: "ay" }));
    const refused = await asA.getSecret("claw-b").catch((e: unknown) => e);
    expect(refused).toMatchObject({ statusCode: 403, code: "Forbidden" });
    const token = await imdsCredential(await c.azure.imdsEndpoint(RG, vmA)).getToken(
      "https://vault.azure.net/.default",
    );
    const raw = await rawGet(`${c.azure.vaultUrl(VAULT)}secrets/claw-b?api-version=7.4`, {
      authorization: `Bearer ${token.token}`,
    });
    expect(raw.status).toBe(403);
    expect(JSON.parse(raw.body)).toMatchObject({
      error: { code: "Forbidden", innererror: { code: "ForbiddenByRbac" } },
    });
    const inner = c.azure.requestLog.filter((e) => e.service === "keyvault" && e.status === 403).at(-1);
    expect(inner?.scope.toLowerCase()).toBe(`${vaultId}/secrets/claw-b`.toLowerCase());
    expect(String((refused as Error).message)).toContain(
      "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
    );
    // Secrets User at one secret's scope cannot set it either.
    await expect(asA.setSecret("claw-a", "x")).rejects.toMatchObject({ statusCode: 403 });
  });

  it("refuses a second role assignment for the same principal, role and scope", async () => {
    await expect(
      assign(`${vaultId}/secrets/claw-a`, principalA, SECRETS_USER, "0b0b0b0b-0000-4000-8000-000000000001"),
    ).rejects.toMatchObject({ code: "RoleAssignmentExists", statusCode: 409 });
    // The same name again is the same assignment (idempotent).
    await expect(assign(`${vaultId}/secrets/claw-a`, principalA, SECRETS_USER)).resolves.toBeDefined();
  });
});
