// The credential against the local Azure's Entra over HTTPS with its own CA (real requests, real
// TLS; the stand-in answers as Entra does: packages/local-azure/src/entra.ts), and what
// describeAzureError makes of each refusal.
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { rootCertificates } from "node:tls";
import { EntraTokenError, EntraUnreachableError } from "@openclawps/action-kit/entra-token";
import { type LocalAzure, startLocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeAzureError } from "../src/azure-error.ts";
import { GitHubOidcCredential, type GitHubOidcCredentialOptions } from "../src/github-oidc-credential.ts";
import { connectTo, failure, startAzure } from "./local-azure.ts";

const ARM_SCOPE = "https://management.azure.com/.default";

let azure: LocalAzure;
const masked: string[] = [];

beforeAll(async () => {
  azure = await startAzure();
});
afterAll(async () => {
  await azure?.stop();
});

function credential(extra: Partial<GitHubOidcCredentialOptions> = {}): GitHubOidcCredential {
  return new GitHubOidcCredential({
    tenantId: azure.tenantId,
    clientId: azure.clientId,
    authorityHost: azure.authorityHost,
    ca: [...rootCertificates, azure.caCertPem],
    request: { setSecret: (v) => masked.push(v), sleep: async () => {} },
    ...extra,
  });
}

const count = (op: string, since: number) =>
  azure.requestLog.filter((e) => e.operation === op && e.at >= since).length;

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
}

describe("GitHubOidcCredential", () => {
  it("exchanges the job's GitHub token in one request to the authority host, trusting the extra CA, and masks the token", async () => {
    const since = Date.now();
    const token = await credential().getToken(ARM_SCOPE);
    expect(claimsOf(token.token)).toMatchObject({
      aud: "https://management.azure.com/",
      appid: azure.clientId,
      tid: azure.tenantId,
    });
    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(masked).toContain(token.token);
    // One GitHub request, one POST to Entra: no discovery, no metadata (MSAL's were).
    const since_ = azure.requestLog.filter((e) => e.at >= since);
    expect(since_.map((e) => e.operation)).toEqual(["github.idToken", "entra.token"]);
    expect(since_[1]).toMatchObject({
      method: "POST",
      path: `/${azure.tenantId}/oauth2/v2.0/token`,
      scope: ARM_SCOPE,
    });
  });

  it("asks GitHub for a new token for every exchange", async () => {
    const since = Date.now();
    const assertions: string[] = [];
    const c = credential({
      getIdToken: async (audience) => {
        const t = await azure.mintIdToken(audience);
        assertions.push(t);
        return t;
      },
    });
    await c.getToken(ARM_SCOPE);
    await c.getToken("https://vault.azure.net/.default");
    expect(count("entra.token", since)).toBe(2);
    expect(new Set(assertions).size).toBe(2);
  });

  it("does not reach the local Azure without its CA (a TLS refusal, not retried)", async () => {
    const since = Date.now();
    const err = await failure(
      credential({ ca: undefined, getIdToken: (a) => azure.mintIdToken(a) }).getToken(ARM_SCOPE),
    );
    expect((err as NodeJS.ErrnoException).code).toMatch(/CERT|SIGNATURE|SELF_SIGNED/);
    expect(count("entra.token", since)).toBe(0);
  });

  it("retries Entra's 503s and a request left unanswered past the socket timeout", async () => {
    azure.injectFault({ operation: "entra.token", status: 503, times: 2 });
    azure.injectFault({ operation: "entra.token", mode: "hang", nth: 3 });
    try {
      const since = Date.now();
      const token = await credential({
        request: { setSecret: () => {}, sleep: async () => {}, socketTimeoutMs: 300 },
      }).getToken(ARM_SCOPE);
      expect(token.token.split(".")).toHaveLength(3);
      // 503, 503, the hung one, then the answer.
      expect(count("entra.token", since) + 1).toBe(4);
    } finally {
      azure.clearFaults();
    }
  });

  it("gives up after its retries with Entra's last answer", async () => {
    azure.injectFault({ operation: "entra.token", status: 503, times: 100 });
    try {
      const since = Date.now();
      const err = await failure(
        credential({ request: { setSecret: () => {}, sleep: async () => {}, retries: 2 } }).getToken(
          ARM_SCOPE,
        ),
      );
      expect(err).toBeInstanceOf(EntraTokenError);
      expect(err).toMatchObject({ statusCode: 503, code: "AADSTS50000", attempts: 3 });
      expect(count("entra.token", since)).toBe(3);
      expect(describeAzureError(err)).toMatch(
        /^Microsoft Entra ID refused the token request \(AADSTS50000\)/,
      );
    } finally {
      azure.clearFaults();
    }
  });

  it("goes through the runner's proxy (https_proxy), as the SDK's pipeline does", async () => {
    // A CONNECT proxy, as a self-hosted runner's is.
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    process.env.https_proxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const since = Date.now();
      await credential().getToken(ARM_SCOPE);
      expect(count("entra.token", since)).toBe(1);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([new URL(azure.authorityHost).host]));
    } finally {
      delete process.env.https_proxy;
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("names an authority host that does not answer", async () => {
    const err = await failure(
      credential({
        authorityHost: "https://127.0.0.1:1",
        getIdToken: (a) => azure.mintIdToken(a),
        request: { setSecret: () => {}, sleep: async () => {}, retries: 1 },
      }).getToken(ARM_SCOPE),
    );
    expect(err).toBeInstanceOf(EntraUnreachableError);
    expect(describeAzureError(err)).toMatch(
      /token endpoint https:\/\/127\.0\.0\.1:1\/.+\/oauth2\/v2\.0\/token could not be reached \(2 attempts; the last: .*ECONNREFUSED.*\)\. Check azure-authority-host/,
    );
  });
});

// (A subject with no federated credential, AADSTS700213: connect.test.ts.)
describe("what describeAzureError makes of Entra's refusals", () => {
  const described = async (extra: Partial<GitHubOidcCredentialOptions>) =>
    describeAzureError(await failure(credential(extra).getToken(ARM_SCOPE)), {
      clientId: extra.clientId ?? azure.clientId,
    });

  it("a subject that matches only in another letter case (AADSTS7002138)", async () => {
    azure.setIdTokenClaims({ sub: "repo:OpenClawPS/example-fleet:environment:production" });
    try {
      const message = await described({});
      expect(message).toContain("(AADSTS7002138)");
      expect(message).toContain("exactly 'repo:OpenClawPS/example-fleet:environment:production'");
    } finally {
      azure.setIdTokenClaims({});
    }
  });

  it("a token minted for another audience (AADSTS700212)", async () => {
    const message = await described({ getIdToken: () => azure.mintIdToken("https://github.com/octo") });
    expect(message).toContain("(AADSTS700212)");
    expect(message).toContain("the audience api://AzureADTokenExchange");
  });

  it("a wrong client id (AADSTS700016) or tenant id (AADSTS90002)", async () => {
    expect(await described({ clientId: "11111111-2222-3333-4444-555555555555" })).toContain(
      "no application 11111111-2222-3333-4444-555555555555 in this tenant (AADSTS700016)",
    );
    expect(await described({ tenantId: "99999999-2222-3333-4444-555555555555" })).toMatch(
      /does not know the tenant \(AADSTS90002\)\. Check the azure-tenant-id input/,
    );
  });

  it("an expired GitHub token (AADSTS700024)", async () => {
    const now = Math.floor(Date.now() / 1000);
    azure.setIdTokenClaims({ iat: now - 900, exp: now - 600 });
    try {
      expect(await described({})).toMatch(/expired or not yet valid \(AADSTS700024\)/);
    } finally {
      azure.setIdTokenClaims({});
    }
  });
});

describe("renewal", () => {
  let shortLived: LocalAzure;
  beforeAll(async () => {
    // Tokens that live less than the renewal margin: every ask is an exchange near expiry.
    shortLived = await startLocalAzure({ accessTokenLifetimeSeconds: 120 });
    await shortLived.seedGalleryVersions("rg-renew", "g", "img", ["1.0.0"], "westus");
  });
  afterAll(async () => {
    await shortLived?.stop();
  });

  it("renews a token before it expires, with a fresh GitHub token", async () => {
    // connectAzure's credential, with the real GitHub OIDC request of an action.
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = shortLived.idTokenRequestUrl;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = shortLived.idTokenRequestToken;
    try {
      const ctx = connectTo(shortLived, "rg-renew");
      const since = Date.now();
      await ctx.credential.getToken(ARM_SCOPE);
      await ctx.credential.getToken(ARM_SCOPE);
      const log = shortLived.requestLog.filter((e) => e.at >= since).map((e) => e.operation);
      expect(log).toEqual(["github.idToken", "entra.token", "github.idToken", "entra.token"]);
    } finally {
      process.env.ACTIONS_ID_TOKEN_REQUEST_URL = azure.idTokenRequestUrl;
      process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = azure.idTokenRequestToken;
    }
  });
});
