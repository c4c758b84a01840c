// The Entra token request and the start-of-action prefetch against a scripted stand-in of the
// token endpoint and the runner's OIDC endpoint (plain HTTP here, to script what Entra does on a
// bad day; over HTTPS with a private CA, against the local Azure's Entra, in packages/azure's
// credential tests).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { prefetchAzureToken, startExchangeParams } from "../src/azure-prefetch.ts";
import {
  armScopeFor,
  CLIENT_ASSERTION_TYPE,
  EntraTokenError,
  type EntraTokenParams,
  EntraUnreachableError,
  requestEntraToken,
  takeEntraToken,
} from "../src/entra-token.ts";
import { takeIdToken } from "../src/github-oidc.ts";
import { captureStdoutAsync } from "./capture-stdout.ts";
import { type Handler, hang, reset, ScriptedServer, status } from "./scripted-server.ts";

// The runner's OIDC endpoint answers /idtoken; the script is Entra's token endpoint.
const server = new ScriptedServer((req, res) => {
  if (!req.url?.startsWith("/idtoken")) return false;
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ value: `oidc-${server.seen.length}` }));
  return true;
});
let issued = 0;

const json = (code: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  status(code, typeof body === "string" ? body : JSON.stringify(body), {
    "Content-Type": "application/json",
    ...headers,
  });
const token: Handler = (req, res) => {
  issued++;
  json(200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: `at-${issued}` })(
    req,
    res,
  );
};
/** Entra's error body (v2-oauth2-client-creds-grant-flow, "Error response"). */
const oauthError = (code: number, error: string, aadsts: number, text: string): Handler =>
  json(code, {
    error,
    error_description: `AADSTS${aadsts}: ${text} Trace ID: t-1 Correlation ID: c-1 Timestamp: 2026-12-03 07:00:00Z`,
    error_codes: [aadsts],
    timestamp: "2026-12-03 07:00:00Z",
    trace_id: "t-1",
    correlation_id: "c-1",
    error_uri: `https://login.microsoftonline.com/error?code=${aadsts}`,
  });

const noSleep = { sleep: async () => {}, setSecret: () => {} };
const ASSERTION = "header.github-oidc-token.signature";

function params(extra: Partial<EntraTokenParams> = {}): EntraTokenParams {
  return {
    tenantId: "tenant-1",
    clientId: "client-1",
    authorityHost: server.base,
    scope: "https://management.azure.com/.default",
    ...extra,
  };
}

beforeAll(() => server.start());
afterAll(() => server.close());
beforeEach(() => server.answer(token));

describe("requestEntraToken", () => {
  it("makes Entra's client-credentials request with the GitHub token as the assertion, and masks the access token", async () => {
    const masked: string[] = [];
    const before = Date.now();
    const t = await requestEntraToken(params(), ASSERTION, { setSecret: (v) => masked.push(v) });
    expect(t.token).toMatch(/^at-\d+$/);
    expect(masked).toEqual([t.token]);
    expect(t.expiresOnTimestamp).toBeGreaterThanOrEqual(before + 3599_000);
    expect(t.expiresOnTimestamp).toBeLessThanOrEqual(Date.now() + 3599_000);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.url).toBe("/tenant-1/oauth2/v2.0/token");
    expect(server.seen[0]!.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(server.seen[0]!.body))).toEqual({
      client_id: "client-1",
      scope: "https://management.azure.com/.default",
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: ASSERTION,
      grant_type: "client_credentials",
    });
  });

  it("masks with the add-mask workflow command by default", async () => {
    let value = "";
    const out = await captureStdoutAsync(async () => {
      value = (await requestEntraToken(params(), ASSERTION)).token;
    });
    expect(out).toBe(`::add-mask::${value}\n`);
  });

  it("uses the authority host given, without its trailing slash, and passes a claims challenge on", async () => {
    await requestEntraToken(params({ authorityHost: `${server.base}//` }), ASSERTION, {
      ...noSleep,
      claims: "{}",
    });
    expect(server.seen[0]!.url).toBe("/tenant-1/oauth2/v2.0/token");
    expect(new URLSearchParams(server.seen[0]!.body).get("claims")).toBe("{}");
  });

  it("retries 429 after its Retry-After, 5xx and dropped connections, with a bound", async () => {
    server.answer(json(429, {}, { "Retry-After": "2" }), json(503, "busy"), reset, token);
    const waits: number[] = [];
    const t = await requestEntraToken(params(), ASSERTION, {
      setSecret: () => {},
      sleep: async (ms) => void waits.push(ms),
    });
    expect(t.token).toMatch(/^at-/);
    expect(server.seen).toHaveLength(4);
    expect(waits).toEqual([2000, 1000, 2000]);

    server.answer(oauthError(503, "temporarily_unavailable", 50000, "The service is busy."));
    const err = await requestEntraToken(params(), ASSERTION, { ...noSleep, retries: 2 }).catch(
      (e: unknown) => e,
    );
    expect(server.seen).toHaveLength(3);
    expect(err).toBeInstanceOf(EntraTokenError);
    expect(err).toMatchObject({ statusCode: 503, code: "AADSTS50000", error: "temporarily_unavailable" });
    expect(String(err)).toMatch(/after 3 attempts/);
  });

  it("refuses at once with Entra's code and description, never the tokens", async () => {
    server.answer(
      oauthError(
        401,
        "invalid_client",
        700213,
        "No matching federated identity record found for presented assertion subject 'repo:o/r:ref:refs/heads/x'.",
      ),
    );
    const err = (await requestEntraToken(params(), ASSERTION, noSleep).catch(
      (e: unknown) => e,
    )) as EntraTokenError;
    expect(server.seen).toHaveLength(1);
    expect(err).toBeInstanceOf(EntraTokenError);
    expect(err).toMatchObject({
      statusCode: 401,
      error: "invalid_client",
      code: "AADSTS700213",
      traceId: "t-1",
      correlationId: "c-1",
    });
    expect(err.description).toMatch(/^AADSTS700213: No matching federated identity record/);
    expect(err.message).toContain("HTTP 401 invalid_client: AADSTS700213");
    expect(`${err.message}${err.stack}`).not.toContain(ASSERTION);
  });

  it("says what answered when the answer is no OAuth error (a wrong authority host)", async () => {
    server.answer(status(404, "<html>Not Found</html>", { "Content-Type": "text/html" }));
    const err = await requestEntraToken(params(), ASSERTION, noSleep).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EntraTokenError);
    expect((err as EntraTokenError).code).toBeUndefined();
    expect(String(err)).toMatch(
      /answered HTTP 404 without an OAuth error: <html>Not Found<\/html>\. Check azure-authority-host/,
    );
  });

  it("fails a request that gets no answer within the socket timeout, retries it, and then names the endpoint", async () => {
    server.answer(hang, token);
    const t = await requestEntraToken(params(), ASSERTION, { ...noSleep, socketTimeoutMs: 200 });
    expect(t.token).toMatch(/^at-/);
    expect(server.seen).toHaveLength(2);
    server.answer(hang);
    const err = await requestEntraToken(params(), ASSERTION, {
      ...noSleep,
      socketTimeoutMs: 100,
      retries: 1,
    }).catch((e: unknown) => e);
    expect(server.seen).toHaveLength(2);
    expect(err).toBeInstanceOf(EntraUnreachableError);
    expect(String(err)).toContain(
      `token endpoint ${server.base}/tenant-1/oauth2/v2.0/token could not be reached (2 attempts`,
    );
    expect(String(err)).toContain("no answer from Microsoft Entra ID's token endpoint in 100 ms");
  });

  it("refuses a 200 without an access token and its lifetime", async () => {
    server.answer(json(200, { token_type: "Bearer", access_token: "at-x" }));
    await expect(requestEntraToken(params(), ASSERTION, noSleep)).rejects.toThrow(/without an access token/);
  });

  it("keeps Entra's refresh_in as the time to renew", async () => {
    server.answer(
      json(200, { token_type: "Bearer", expires_in: 86399, refresh_in: 43199, access_token: "at-long" }),
    );
    const t = await requestEntraToken(params(), ASSERTION, noSleep);
    expect(t.refreshAfterTimestamp! - (t.expiresOnTimestamp - 86399_000)).toBe(43199_000);
  });
});

describe("armScopeFor", () => {
  it("asks each cloud's ARM audience, and the public one for any other endpoint", () => {
    expect(armScopeFor("https://management.usgovcloudapi.net/")).toBe(
      "https://management.usgovcloudapi.net/.default",
    );
    expect(armScopeFor("https://127.0.0.1:8443")).toBe("https://management.azure.com/.default");
  });
});

describe("prefetchAzureToken", () => {
  const saved = { ...process.env };
  const INPUTS = {
    "INPUT_AZURE-CLIENT-ID": "client-1",
    "INPUT_AZURE-TENANT-ID": "tenant-1",
    "INPUT_AZURE-SUBSCRIPTION-ID": "sub-1",
  };
  beforeEach(() => {
    process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `${server.base}/idtoken?api-version=2.0`;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = "runtime-bearer";
    process.env["INPUT_AZURE-AUTHORITY-HOST"] = server.base;
    Object.assign(process.env, INPUTS);
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it("exchanges the job's OIDC token at the start, for the credential that asks with the same parameters", async () => {
    // Entra holds the first answer: the prefetch resolves once the exchange is sent, not answered
    // (its wait bound is far away).
    server.answer(hang, token);
    const out = await captureStdoutAsync(async () => {
      await prefetchAzureToken(60_000);
      await vi.waitFor(() =>
        expect(server.seen.map((s) => s.url?.split("?")[0])).toEqual([
          "/idtoken",
          "/tenant-1/oauth2/v2.0/token",
        ]),
      );
      expect(new URLSearchParams(server.seen[1]!.body).get("client_assertion")).toBe("oidc-1");
      // Let the held request fail as a dropped connection: the exchange retries it.
      server.seen[1]!.socket.destroy();
      const expected = startExchangeParams()!;
      expect(expected).toEqual(params());
      // Another scope, tenant or CA is not what was prefetched.
      expect(takeEntraToken({ ...expected, scope: "https://vault.azure.net/.default" })).toBeUndefined();
      expect(takeEntraToken({ ...expected, tenantId: "tenant-2" })).toBeUndefined();
      expect(takeEntraToken({ ...expected, ca: ["-----BEGIN CERTIFICATE-----"] })).toBeUndefined();
      const taken = await takeEntraToken(expected);
      expect(taken?.token).toMatch(/^at-/);
      // Once.
      expect(takeEntraToken(expected)).toBeUndefined();
    });
    // Both tokens masked the moment they were read; one OIDC request.
    expect(out.split("\n").filter((l) => l.startsWith("::add-mask::"))).toHaveLength(2);
    expect(server.seen.filter((s) => s.url?.startsWith("/idtoken"))).toHaveLength(1);
  });

  it("keeps a refused exchange for the taker, as no unhandled rejection", async () => {
    server.answer(
      oauthError(400, "unauthorized_client", 700016, "Application with identifier 'client-1' was not found."),
    );
    await captureStdoutAsync(() => prefetchAzureToken());
    await expect(takeEntraToken(params())!).rejects.toMatchObject({ code: "AADSTS700016" });
  });

  it("prefetches the OIDC token alone when the Azure inputs are not all given", async () => {
    delete process.env["INPUT_AZURE-SUBSCRIPTION-ID"];
    await captureStdoutAsync(async () => {
      await prefetchAzureToken();
      expect(await takeIdToken()).toBe("oidc-1");
    });
    expect(takeEntraToken(params())).toBeUndefined();
    expect(server.seen.map((s) => s.url?.split("?")[0])).toEqual(["/idtoken"]);
  });

  it("asks nothing when the job has no OIDC token endpoint", async () => {
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    await prefetchAzureToken();
    expect(server.seen).toHaveLength(0);
    expect(takeEntraToken(params())).toBeUndefined();
  });

  it("takes the ARM scope from the ARM endpoint input and falls back to the AZURE_* variables", () => {
    for (const k of Object.keys(INPUTS)) delete process.env[k];
    delete process.env["INPUT_AZURE-AUTHORITY-HOST"];
    Object.assign(process.env, {
      AZURE_CLIENT_ID: "c",
      AZURE_TENANT_ID: "t",
      AZURE_SUBSCRIPTION_ID: "s",
      "INPUT_AZURE-ARM-ENDPOINT": "https://management.chinacloudapi.cn/",
      "INPUT_AZURE-AUTHORITY-HOST": "https://login.chinacloudapi.cn/",
    });
    expect(startExchangeParams()).toEqual({
      tenantId: "t",
      clientId: "c",
      authorityHost: "https://login.chinacloudapi.cn",
      scope: "https://management.chinacloudapi.cn/.default",
    });
  });
});
