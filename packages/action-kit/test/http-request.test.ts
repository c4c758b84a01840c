import { describe, expect, it } from "vitest";
import { retryAfterValueMs } from "../src/http-request.ts";

describe("retryAfterValueMs", () => {
  const now = Date.parse("2026-12-03T08:00:00Z");

  it("reads delay-seconds, whole or not", () => {
    expect(retryAfterValueMs("10", now)).toBe(10_000);
    expect(retryAfterValueMs(" 0 ", now)).toBe(0);
    expect(retryAfterValueMs("1.5", now)).toBe(1_500);
  });

  it("reads an HTTP date as the time left until it, never negative", () => {
    expect(retryAfterValueMs("Thu, 03 Dec 2026 08:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterValueMs("Thu, 03 Dec 2026 07:59:00 GMT", now)).toBe(0);
  });

  it("names no delay for an absent, empty, negative or unreadable value", () => {
    for (const raw of [undefined, "", "  ", "-5", "soon"])
      expect(retryAfterValueMs(raw, now), raw).toBeUndefined();
  });
});
