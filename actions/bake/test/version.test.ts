import { imageVersionProblem, LATEST } from "@openclawps/fleet-model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareVersions, formatVersion, nextVersion, parseVersion } from "../src/version.ts";

describe("gallery image versions", () => {
  it("accepts Major.Minor.Patch with integer parts", () => {
    expect(parseVersion("1.0.0")).toEqual([1, 0, 0]);
    expect(parseVersion("0.10.123456789")).toEqual([0, 10, 123456789]);
    // Ten digits, still a 32-bit integer: the manifest accepts it, so the bake does too.
    expect(parseVersion("1000000000.0.0")).toEqual([1000000000, 0, 0]);
    expect(parseVersion("2147483647.0.0")).toEqual([2147483647, 0, 0]);
  });

  it("rejects the seed's date-sha versions and other non-integer forms", () => {
    for (const bad of [
      "2026.1121.0815-abc1234",
      "1.0",
      "1.0.0.0",
      "v1.0.0",
      "1.02.3",
      "-1.0.0",
      "1.0.0 ",
      "1.0.12345678901",
      "1.0.2147483648",
      "01.2.3",
      "",
    ]) {
      expect(parseVersion(bad), bad).toBeUndefined();
    }
  });

  it("publishes 1.0.0 when the image definition has no version yet", () => {
    expect(nextVersion([])).toBe("1.0.0");
  });

  it("takes the patch after the highest version, comparing numerically", () => {
    expect(nextVersion(["1.9.0", "1.10.0", "1.2.7"])).toBe("1.10.1");
    expect(nextVersion(["2.0.9", "2.0.10"])).toBe("2.0.11");
  });

  it("ignores names that are not gallery versions when computing the next one", () => {
    expect(nextVersion(["latest", "1.0.3", "2026.1121.0815"])).toBe("1.0.4");
  });

  it("always yields a version greater than every existing one", () => {
    const version = fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(1000)).map((v) => formatVersion(v));
    fc.assert(
      fc.property(fc.array(version, { maxLength: 20 }), (existing) => {
        const next = parseVersion(nextVersion(existing))!;
        expect(next).toBeDefined();
        for (const e of existing) expect(compareVersions(next, parseVersion(e)!)).toBeGreaterThan(0);
      }),
    );
  });

  it("accepts exactly the versions the manifest accepts as image_version", () => {
    const part = fc.oneof(
      fc.nat(),
      fc.stringMatching(/^\d{1,11}$/),
      fc.constantFrom("0", "00", "01", "2147483647", "2147483648", "1000000000", "-1", " 1", "1e3", "+1"),
    );
    const versionLike = fc.oneof(
      fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join(".")),
      fc.string(),
    );
    fc.assert(
      fc.property(versionLike, (text) => {
        const manifestAccepts = text !== LATEST && imageVersionProblem(text) === undefined;
        expect(parseVersion(text) !== undefined, text).toBe(manifestAccepts);
      }),
      { numRuns: 2000 },
    );
  });
});
