// Workload identity federation and ARM's token and role checks, as a workflow meets them.
import { request as httpsRequest } from "node:https";
import * as core from "@actions/core";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import { ClientAssertionCredential } from "@azure/identity";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SUBJECT, startLocalAzure } from "../src/index.ts";
import { type Clients, clientsFor, federatedCredential, startWithClients } from "./harness.ts";

let c: Clients;

beforeAll(async () => {
  c = await startWithClients();
  await c.resources.resourceGroups.createOrUpdate("rg-auth", { location: "westus" });
});

afterAll(async () => {
  await c.azure.stop();
});

afterEach(() => {
  c.azure.setIdTokenClaims({});
  c.azure.setFederatedSubjects([DEFAULT_SUBJECT]);
  c.azure.setAllowedActions(undefined);
  c.azure.clearFaults();
});

describe("Microsoft Entra token exchange", () => {
  it("issues an ARM access token for a GitHub OIDC token whose subject has a federated credential", async () => {
    const token = await federatedCredential(c.azure).getToken("https://management.azure.com/.default");
    expect(token.token.split(".")).toHaveLength(3);
    const exchange = c.azure.requestLog.filter((e) => e.operation === "entra.token");
    expect(exchange.at(-1)?.status).toBe(200);
  });

  it("refuses a subject without a federated credential with AADSTS700213", async () => {
    c.azure.setIdTokenClaims({ sub: "repo:openclawps/example-fleet:ref:refs/heads/main" });
    const compute = clientsFor(c.azure).compute;
    const err = await compute.virtualMachines.get("rg-auth", "vm").then(
      () => new Error("expected the token exchange to fail"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toContain(
      "AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:openclawps/example-fleet:ref:refs/heads/main'.",
    );
  });

  it("accepts the subject once a federated credential exists for it", async () => {
    c.azure.setIdTokenClaims({ sub: "repo:openclawps/example-fleet:ref:refs/heads/main" });
    c.azure.setFederatedSubjects([DEFAULT_SUBJECT, "repo:openclawps/example-fleet:ref:refs/heads/main"]);
    await expect(clientsFor(c.azure).resources.resourceGroups.get("rg-auth")).resolves.toMatchObject({
      name: "rg-auth",
    });
  });

  it("keeps `//` in an unencoded audience of the GitHub token request (api://AzureADTokenExchange)", async () => {
    const url = `${c.azure.idTokenRequestUrl}&audience=api://AzureADTokenExchange`;
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        url,
        { ca: c.azure.caCertPem, headers: { authorization: `Bearer ${c.azure.idTokenRequestToken}` } },
        (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () => resolve(text));
        },
      );
      req.on("error", reject);
      req.end();
    });
    const token = (JSON.parse(body) as { value: string }).value;
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { aud: string };
    expect(claims.aud).toBe("api://AzureADTokenExchange");
  });

  it("gives an in-process client everything it needs through connection(rg), its token source included", async () => {
    const conn = c.azure.connection("rg-auth");
    expect(conn).toMatchObject({
      subscriptionId: c.azure.subscriptionId,
      tenantId: c.azure.tenantId,
      clientId: c.azure.clientId,
      resourceGroup: "rg-auth",
      armEndpoint: c.azure.armEndpoint,
      authorityHost: c.azure.authorityHost,
      caCertPem: c.azure.caCertPem,
    });
    const credential = federatedCredential(c.azure, () => conn.getIdToken("api://AzureADTokenExchange"));
    const resources = new ResourceManagementClient(credential, conn.subscriptionId, {
      endpoint: conn.armEndpoint,
    });
    expect((await resources.resourceGroups.get(conn.resourceGroup)).name).toBe("rg-auth");
  });

  it("refuses an assertion minted for another audience", async () => {
    const credential = new ClientAssertionCredential(
      c.azure.tenantId,
      c.azure.clientId,
      () => core.getIDToken("https://github.com/openclawps"),
      {
        authorityHost: c.azure.authorityHost,
        disableInstanceDiscovery: true,
      },
    );
    await expect(credential.getToken("https://management.azure.com/.default")).rejects.toThrow(
      /AADSTS700212: No matching federated identity record found for presented assertion audience 'https:\/\/github.com\/openclawps'/,
    );
  });

  it("refuses an unknown application with AADSTS700016", async () => {
    const credential = new ClientAssertionCredential(
      c.azure.tenantId,
      "11111111-2222-3333-4444-555555555555",
      () => core.getIDToken("api://AzureADTokenExchange"),
      {
        authorityHost: c.azure.authorityHost,
        disableInstanceDiscovery: true,
      },
    );
    await expect(credential.getToken("https://management.azure.com/.default")).rejects.toThrow(
      /AADSTS700016/,
    );
  });

  it("refuses an assertion that was not signed by the GitHub issuer", async () => {
    const genuine = await core.getIDToken("api://AzureADTokenExchange");
    const [header, payload] = genuine.split(".");
    const forged = `${header}.${payload}.${Buffer.from("not a signature").toString("base64url")}`;
    const credential = new ClientAssertionCredential(c.azure.tenantId, c.azure.clientId, async () => forged, {
      authorityHost: c.azure.authorityHost,
      disableInstanceDiscovery: true,
    });
    await expect(credential.getToken("https://management.azure.com/.default")).rejects.toThrow(
      /AADSTS5002738/,
    );
  });

  it("refuses an expired assertion with AADSTS700024", async () => {
    const now = Math.floor(Date.now() / 1000);
    c.azure.setIdTokenClaims({ iat: now - 900, exp: now - 600 });
    await expect(
      federatedCredential(c.azure).getToken("https://management.azure.com/.default"),
    ).rejects.toThrow(/AADSTS700024: Client assertion is not within its valid time range/);
  });

  it("refuses the GitHub token request without the runner's request token", async () => {
    const saved = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = "wrong";
    try {
      await expect(core.getIDToken("api://AzureADTokenExchange")).rejects.toThrow(/401/);
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved;
    }
  });
});

describe("the token endpoint, asked as the client-credentials page documents", () => {
  // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential
  const post = async (form: Record<string, string>, contentType = "application/x-www-form-urlencoded") => {
    const res = await fetch(`${c.azure.authorityHost}/${c.azure.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "Content-Type": contentType },
      body: contentType.includes("json") ? JSON.stringify(form) : new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const request = async (claims: Record<string, unknown> = {}) => {
    c.azure.setIdTokenClaims(claims);
    return {
      client_id: c.azure.clientId,
      scope: "https://management.azure.com/.default",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: await c.azure.mintIdToken("api://AzureADTokenExchange"),
      grant_type: "client_credentials",
    };
  };
  /** Entra's error body: the OAuth error, AADSTS code first in the description and in error_codes, and trace ids. */
  const refusal = (status: number, error: string, code: number, text: string | RegExp) =>
    expect.objectContaining({
      status,
      body: expect.objectContaining({
        error,
        error_codes: [code],
        error_description: expect.stringMatching(
          new RegExp(
            `^AADSTS${code}: ${typeof text === "string" ? text.replace(/[.*+?^${}()|[\]\\']/g, "\\$&") : text.source}[\\s\\S]* Trace ID: [0-9a-f-]+ Correlation ID: [0-9a-f-]+ Timestamp: `,
          ),
        ),
        trace_id: expect.any(String),
        correlation_id: expect.any(String),
        timestamp: expect.any(String),
      }),
    });

  it("answers a token for the scope's resource", async () => {
    const { status, body } = await post(await request());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    const claims = JSON.parse(Buffer.from(String(body.access_token).split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ aud: "https://management.azure.com/", appid: c.azure.clientId });
  });

  it("refuses a request without grant_type, client_id or scope with AADSTS900144 naming it", async () => {
    for (const missing of ["grant_type", "client_id", "scope"]) {
      const form: Record<string, string> = await request();
      delete form[missing];
      expect(await post(form), missing).toEqual(
        refusal(
          400,
          "invalid_request",
          900144,
          `The request body must contain the following parameter: '${missing}'.`,
        ),
      );
    }
  });

  it("reads only a form: a JSON body has no grant_type", async () => {
    expect(await post(await request(), "application/json")).toEqual(
      refusal(
        400,
        "invalid_request",
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      ),
    );
  });

  it("refuses a request without an assertion (AADSTS7000218) and a malformed one (AADSTS50027)", async () => {
    const form: Record<string, string> = await request();
    delete form.client_assertion;
    expect(await post(form)).toEqual(
      refusal(401, "invalid_client", 7000218, /The request body must contain/),
    );
    expect(await post({ ...(await request()), client_assertion: "not-a-jwt" })).toEqual(
      refusal(400, "invalid_request", 50027, "JWT token is invalid or malformed."),
    );
  });

  it("refuses a scope without /.default (AADSTS1002012)", async () => {
    expect(
      await post({ ...(await request()), scope: "https://management.azure.com/user_impersonation" }),
    ).toEqual(refusal(400, "invalid_scope", 1002012, /The provided value for scope/));
  });

  it("names the claim no federated credential matches: issuer (700211), subject (700213, 7002138 by case), audience (700212)", async () => {
    // Another issuer's token (its signature is never reached: the issuer matches no credential).
    const genuine = await request();
    const [header, payload, signature] = genuine.client_assertion.split(".");
    const claims = {
      ...JSON.parse(Buffer.from(payload!, "base64url").toString()),
      iss: "https://token.actions.example.com",
    };
    const foreign = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
    expect(await post({ ...genuine, client_assertion: foreign })).toEqual(
      refusal(
        401,
        "invalid_client",
        700211,
        "No matching federated identity record found for presented assertion issuer 'https://token.actions.example.com'.",
      ),
    );
    expect(await post(await request({ sub: "repo:octo/fleet:pull_request" }))).toEqual(
      refusal(
        401,
        "invalid_client",
        700213,
        "No matching federated identity record found for presented assertion subject 'repo:octo/fleet:pull_request'.",
      ),
    );
    expect(await post(await request({ sub: DEFAULT_SUBJECT.toUpperCase() }))).toEqual(
      refusal(
        401,
        "invalid_client",
        7002138,
        `No matching federated identity record found for presented assertion subject '${DEFAULT_SUBJECT.toUpperCase()}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.`,
      ),
    );
    c.azure.setIdTokenClaims({});
    const otherAudience = {
      ...(await request()),
      client_assertion: await c.azure.mintIdToken("api://Other"),
    };
    expect(await post(otherAudience)).toEqual(
      refusal(
        401,
        "invalid_client",
        700212,
        "No matching federated identity record found for presented assertion audience 'api://Other'.",
      ),
    );
  });
});

describe("ARM bearer token checks", () => {
  const staticToken = (token: string) => ({
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
  });

  it("answers 401 InvalidAuthenticationToken for a token it did not issue", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(
      JSON.stringify({
        aud: "https://management.azure.com/",
        iss: `https://sts.windows.net/${c.azure.tenantId}/`,
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString("base64url");
    const resources = new ResourceManagementClient(
      staticToken(`${header}.${payload}.c2ln`),
      c.azure.subscriptionId,
      { endpoint: c.azure.armEndpoint },
    );
    await expect(resources.resourceGroups.get("rg-auth")).rejects.toMatchObject({
      statusCode: 401,
      code: "InvalidAuthenticationToken",
    });
  });

  it("answers 401 ExpiredAuthenticationToken for an expired access token", async () => {
    const expired = await startLocalAzure({ accessTokenLifetimeSeconds: -60 });
    try {
      const { token } = await expired.staticCredential().getToken();
      // tlsOptions.ca is the per-client alternative to trusting the CA process-wide.
      const resources = new ResourceManagementClient(staticToken(token), expired.subscriptionId, {
        endpoint: expired.armEndpoint,
        tlsOptions: { ca: expired.caCertPem },
      });
      await expect(resources.resourceGroups.get("rg")).rejects.toMatchObject({
        statusCode: 401,
        code: "ExpiredAuthenticationToken",
      });
    } finally {
      await expired.stop();
    }
  });

  it("answers 401 AuthenticationFailed when the Authorization header is missing", async () => {
    const res = await fetch(
      `${c.azure.armEndpoint}/subscriptions/${c.azure.subscriptionId}/resourcegroups/rg-auth?api-version=2025-04-01`,
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(await res.json()).toEqual({
      error: {
        code: "AuthenticationFailed",
        message: "Authentication failed. The 'Authorization' header is missing.",
      },
    });
  });
});

describe("role assignments", () => {
  it("refuses an action the role does not grant with ARM's AuthorizationFailed message", async () => {
    c.azure.setAllowedActions([
      "Microsoft.Compute/*/read",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
    ]);
    const compute = new ComputeManagementClient(c.credential, c.azure.subscriptionId, {
      endpoint: c.azure.armEndpoint,
    });
    const scope = `/subscriptions/${c.azure.subscriptionId}/resourceGroups/rg-auth/providers/Microsoft.Compute/disks/d1`;
    await expect(
      compute.disks.createOrUpdate(
        "rg-auth",
        "d1",
        { location: "westus", creationData: { createOption: "Empty" }, diskSizeGB: 4 },
        { updateIntervalInMs: 0 },
      ),
    ).rejects.toMatchObject({
      statusCode: 403,
      code: "AuthorizationFailed",
      message: `The client '${c.azure.clientId}' with object id '${c.azure.objectId}' does not have authorization to perform action 'Microsoft.Compute/disks/write' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    });
    // Reads the role grants still work.
    await expect(compute.disks.get("rg-auth", "d1")).rejects.toMatchObject({ statusCode: 404 });
  });
});
