import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CUSTOM_DATA_LIMIT_BYTES, collectPayload, generateHostKey } from "@openclawps/cloud-init";
import { parseManifest, resolveFleet } from "@openclawps/fleet-model";
import { seedManifestYaml } from "@openclawps/fleet-model/testing";
import { afterAll, describe, expect, it } from "vitest";
import { checkCustomData, NEAR_LIMIT } from "../src/custom-data-check.ts";

const SHIPPED = fileURLToPath(new URL("../../../vm-runtime", import.meta.url));
const overlay = mkdtempSync(join(tmpdir(), "custom-data-check-"));
afterAll(() => rmSync(overlay, { recursive: true, force: true }));

// An admin key of its own: without one, each check stands in a random key, and sizes and hashes differ.
const MANIFEST = `${seedManifestYaml({ claws: "  alice: {}\n  bob: {}\n" })}ssh:\n  admin_public_key: ${generateHostKey().publicKey}\n`;

function check(exactSizes: boolean | undefined, overlayDir?: string) {
  const parse = parseManifest(MANIFEST, "claws.yaml");
  if (!parse.manifest) throw new Error(parse.problems.map((p) => p.message).join("\n"));
  return checkCustomData({
    fleet: resolveFleet(parse.manifest, "claws.yaml"),
    manifest: parse,
    manifestDisplay: "claws.yaml",
    vmRuntimeDir: SHIPPED,
    ...(overlayDir ? { overlayDir } : {}),
    payload: collectPayload(SHIPPED, overlayDir),
    ...(exactSizes === undefined ? {} : { exactSizes }),
  });
}

describe("the customData size check", () => {
  it("measures every claw exactly by default, and bounds the sizes far below the limit with exactSizes: false", () => {
    const exact = check(undefined);
    const bounded = check(false);
    expect(exact.findings).toEqual([]);
    expect(bounded.findings).toEqual([]);
    for (const [i, claw] of exact.claws.entries()) {
      expect(claw.atMost).toBeUndefined();
      expect(bounded.claws[i]).toMatchObject({ claw: claw.claw, configHash: claw.configHash, atMost: true });
      expect(bounded.claws[i]!.bytes).toBeGreaterThanOrEqual(claw.bytes!);
      expect(bounded.claws[i]!.bytes).toBeLessThanOrEqual(NEAR_LIMIT * CUSTOM_DATA_LIMIT_BYTES);
    }
  });

  it("measures exactly, and warns with the exact figure, where a claw comes near the limit", () => {
    // Random bytes do not compress: enough of them in the overlay takes each claw to ~95%.
    const base = check(undefined).claws[0]!.bytes!;
    mkdirSync(join(overlay, "defaults"), { recursive: true });
    writeFileSync(
      join(overlay, "defaults/noise.bin"),
      randomBytes(Math.round(0.95 * CUSTOM_DATA_LIMIT_BYTES - base)),
    );
    const exact = check(undefined, overlay);
    const bounded = check(false, overlay);
    const size = exact.claws[0]!.bytes!;
    expect(size / CUSTOM_DATA_LIMIT_BYTES).toBeGreaterThan(NEAR_LIMIT);
    expect(size).toBeLessThanOrEqual(CUSTOM_DATA_LIMIT_BYTES);
    expect(bounded.claws).toEqual(exact.claws);
    expect(bounded.findings).toEqual(exact.findings);
    expect(bounded.findings.map((f) => [f.severity, f.message])).toEqual(
      exact.claws.map((c) => [
        "warning",
        expect.stringContaining(`claw "${c.claw}" is ${c.bytes!.toLocaleString("en-US")} bytes`),
      ]),
    );
  });
});
