// The GitHub OIDC request against a local stand-in of the runner's token endpoint (plain HTTP here;
// over HTTPS with a private CA it runs in packages/azure's connect tests, against the local Azure).
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  IdTokenRequestError,
  IdTokenUnavailableError,
  prefetchIdToken,
  requestIdToken,
  takeIdToken,
} from "../src/github-oidc.ts";
import { UserError } from "../src/user-error.ts";
import { captureStdoutAsync } from "./capture-stdout.ts";
import { type Handler, hang, reset, ScriptedServer, status } from "./scripted-server.ts";

const server = new ScriptedServer();
let env: NodeJS.ProcessEnv;
let tokenCount = 0;

const token: Handler = (req, res) => {
  tokenCount++;
  const audience = new URL(req.url ?? "/", "http://x").searchParams.get("audience");
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ value: `jwt-${tokenCount}-for-${audience}`, count: 1 }));
};

const noSleep = { sleep: async () => {}, setSecret: () => {} };

beforeAll(async () => {
  await server.start();
  // As the runner sets it: the URL already has a query, the audience is appended with `&`.
  env = {
    ACTIONS_ID_TOKEN_REQUEST_URL: `${server.base}/idtoken?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime-bearer",
  };
});
afterAll(() => server.close());
beforeEach(() => server.answer(token));

describe("requestIdToken", () => {
  it("asks for the audience with the runtime bearer token and masks the token before returning it", async () => {
    const masked: string[] = [];
    const value = await requestIdToken("api://AzureADTokenExchange", {
      env,
      setSecret: (v) => masked.push(v),
    });
    expect(value).toMatch(/^jwt-\d+-for-api:\/\/AzureADTokenExchange$/);
    expect(masked).toEqual([value]);
    expect(server.seen).toHaveLength(1);
    expect(server.seen[0]!.url).toBe("/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange");
    expect(server.seen[0]!.headers.authorization).toBe("Bearer runtime-bearer");
  });

  it("masks it with the add-mask workflow command by default", async () => {
    let value = "";
    const out = await captureStdoutAsync(async () => {
      value = await requestIdToken("aud", { env });
    });
    expect(out).toBe(`::add-mask::${value}\n`);
  });

  it("retries 502, 503, 504 and dropped connections with a growing back-off", async () => {
    server.answer(status(502), status(503), reset, status(504), token);
    const waits: number[] = [];
    const value = await requestIdToken("aud", {
      env,
      setSecret: () => {},
      sleep: async (ms) => void waits.push(ms),
    });
    expect(value).toMatch(/-for-aud$/);
    expect(server.seen).toHaveLength(5);
    expect(waits).toEqual([250, 500, 1000, 2000]);
  });

  it("gives up after its retries, saying it is GitHub's service", async () => {
    server.answer(status(503, "busy"));
    const err = await requestIdToken("aud", { env, ...noSleep, retries: 2 }).catch((e: unknown) => e);
    expect(server.seen).toHaveLength(3);
    expect(String(err)).toMatch(/failed 3 times \(GitHub's OIDC token endpoint answered HTTP 503: busy\)/);
  });

  it("does not retry a refusal (401): it fails at once with the status", async () => {
    server.answer(status(401, '{"message":"Unauthorized"}'), token);
    const err = await requestIdToken("aud", { env, ...noSleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdTokenRequestError);
    expect((err as IdTokenRequestError).statusCode).toBe(401);
    expect(server.seen).toHaveLength(1);
  });

  it("fails a request that gets no answer within the socket timeout, and retries it", async () => {
    server.answer(hang, token);
    const value = await requestIdToken("aud", { env, ...noSleep, socketTimeoutMs: 200 });
    expect(value).toMatch(/-for-aud$/);
    expect(server.seen).toHaveLength(2);
    server.answer(hang);
    const err = await requestIdToken("aud", { env, ...noSleep, socketTimeoutMs: 100, retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(String(err)).toMatch(/no answer from GitHub's OIDC token endpoint in 100 ms/);
  });

  it("refuses a 200 without a token in it", async () => {
    server.answer(status(200, '{"count":0}'));
    await expect(requestIdToken("aud", { env, ...noSleep })).rejects.toThrow(/without an ID token/);
  });

  it("says to add `id-token: write`, as a user error, when the runner gave no token endpoint", async () => {
    for (const missing of ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]) {
      const err = await requestIdToken("aud", { env: { ...env, [missing]: "" } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdTokenUnavailableError);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/permissions: \{ id-token: write/);
    }
    expect(server.seen).toHaveLength(0);
  });
});

describe("prefetchIdToken and takeIdToken", () => {
  it("hand the token requested at start to the first taker, and ask anew after that", async () => {
    prefetchIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE, { env, setSecret: () => {} });
    expect(server.seen.length).toBeLessThanOrEqual(1);
    const first = await takeIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE, { env, setSecret: () => {} });
    expect(server.seen).toHaveLength(1);
    const second = await takeIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE, { env, setSecret: () => {} });
    expect(server.seen).toHaveLength(2);
    expect(second).not.toBe(first);
  });

  it("resolve the prefetch once the request is sent, before GitHub answers", async () => {
    server.answer(hang, token);
    let answered = false;
    let sent = false;
    await prefetchIdToken("aud-sent", {
      env,
      ...noSleep,
      socketTimeoutMs: 5_000,
      onSent: () => (sent = true),
    });
    expect(sent).toBe(true);
    await vi.waitFor(() => expect(server.seen).toHaveLength(1));
    const taken = takeIdToken("aud-sent", { env, ...noSleep }).then((t) => {
      answered = true;
      return t;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    // The hung request: let it fail fast so the taker gets the retry's answer.
    server.seen[0]!.socket.destroy();
    expect(await taken).toMatch(/-for-aud-sent$/);
    expect(server.seen).toHaveLength(2);
  });

  it("keep a prefetch failure for the taker (no unhandled rejection)", async () => {
    server.answer(status(403, "forbidden"));
    prefetchIdToken("aud-x", { env, ...noSleep });
    await new Promise((r) => setTimeout(r, 50));
    await expect(takeIdToken("aud-x", { env, ...noSleep })).rejects.toThrow(/HTTP 403/);
  });

  it("prefetch nothing when the job has no token endpoint", async () => {
    prefetchIdToken("aud-y", { env: {} });
    await expect(takeIdToken("aud-y", { env: {} })).rejects.toBeInstanceOf(IdTokenUnavailableError);
    expect(server.seen).toHaveLength(0);
  });
});
