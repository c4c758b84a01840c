import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import { SharedTokenCredential, TOKEN_RENEW_MARGIN_MS } from "../src/shared-token.ts";

function countingCredential(expiresInMs: number, now: () => number) {
  const calls = { n: 0, fail: false };
  const credential: TokenCredential = {
    async getToken() {
      calls.n++;
      if (calls.fail) throw new Error("exchange failed");
      return { token: `t${calls.n}`, expiresOnTimestamp: now() + expiresInMs } satisfies AccessToken;
    },
  };
  return { credential, calls };
}

describe("SharedTokenCredential", () => {
  it("shares one request among concurrent callers and keeps the token until shortly before it expires", async () => {
    let clock = 0;
    const now = () => clock;
    const { credential, calls } = countingCredential(60 * 60_000, now);
    const shared = new SharedTokenCredential(credential, now);
    const scope = "https://management.azure.com/.default";
    const tokens = await Promise.all([
      shared.getToken(scope),
      shared.getToken([scope]),
      shared.getToken(scope),
    ]);
    expect(tokens.map((t) => t?.token)).toEqual(["t1", "t1", "t1"]);
    clock = 60 * 60_000 - TOKEN_RENEW_MARGIN_MS - 1;
    expect((await shared.getToken(scope))?.token).toBe("t1");
    clock += 2;
    expect((await shared.getToken(scope))?.token).toBe("t2");
    expect(calls.n).toBe(2);
  });

  it("keeps no failure: the next caller asks again", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, Date.now);
    const shared = new SharedTokenCredential(credential);
    calls.fail = true;
    await expect(shared.getToken("s")).rejects.toThrow("exchange failed");
    calls.fail = false;
    expect((await shared.getToken("s"))?.token).toBe("t2");
  });

  it("passes a claims challenge through, uncached", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, Date.now);
    const shared = new SharedTokenCredential(credential);
    await shared.getToken("s");
    await shared.getToken("s", { claims: "{}" });
    expect(calls.n).toBe(2);
  });
});
