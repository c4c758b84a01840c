// validate runs on every pull request and reaches neither Azure nor a claw: its bundle holds the
// manifest checks and what they run (yaml, zod), not the Azure SDK, ssh2 or undici, which it
// carried before (2.05 MB then, ~1.0 MB now) and Node compiled before its first line.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../dist", import.meta.url));

/** The third-party packages licenses.txt names: every package a module of the bundle came from. */
function noticedPackages(): string[] {
  const notice = readFileSync(join(DIST, "licenses.txt"), "utf8");
  return [...notice.matchAll(/^(\S+) \S+\nLicense: /gm)].map((m) => m[1]!).sort();
}

describe("validate's bundle", () => {
  it("ships only the third-party packages validate runs: yaml and zod", () => {
    expect(noticedPackages()).toEqual(["yaml", "zod"]);
  });

  it("holds no code of the Azure SDK, ssh2, undici or @actions/*", () => {
    const bundles = readdirSync(DIST).filter((f) => f.endsWith(".js"));
    expect(bundles).toContain("index.js");
    const text = bundles.map((f) => readFileSync(join(DIST, f), "utf8")).join("\n");
    // Module paths webpack leaves in comments, and strings each of these packages carries.
    for (const trace of [
      /node_modules\/(@azure|@azure-rest|ssh2|undici|@actions)\//,
      /SSH-2\.0-ssh2js/,
      /management\.azure\.com/,
      /class UndiciError\b/,
    ]) {
      expect(text).not.toMatch(trace);
    }
  });
});
