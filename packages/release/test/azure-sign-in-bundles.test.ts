// The actions that reach Azure sign in with one POST to Microsoft Entra ID (@openclawps/azure's
// credential on action-kit's entra-token), not @azure/identity: neither it nor MSAL (and what
// MSAL brings: jsonwebtoken, the browser opener `open`) is in their bundles. It lives here
// because this package depends on every action, so their bundles exist first.
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");

describe.each(["deploy-fleet", "verify", "status", "bake"])("%s's bundle", (action) => {
  const dist = resolve(ROOT, "actions", action, "dist");

  it("carries no @azure/identity or MSAL", () => {
    const notice = readFileSync(resolve(dist, "licenses.txt"), "utf8");
    const packages = [...notice.matchAll(/^(\S+) \S+\nLicense: /gm)].map((m) => m[1]!);
    expect(packages).toContain("@azure/core-rest-pipeline");
    expect(packages.filter((p) => /^(@azure\/(identity|msal-.*)|jsonwebtoken|open)$/.test(p))).toEqual([]);
    const text = readdirSync(dist)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(resolve(dist, f), "utf8"))
      .join("\n");
    expect(text).not.toMatch(/node_modules\/@azure\/(identity|msal-node|msal-common)\//);
    expect(text).toContain("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  });
});
