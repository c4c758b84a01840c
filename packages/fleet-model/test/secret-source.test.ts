import { describe, expect, it } from "vitest";
import { azureNameProblem } from "../src/azure-names.ts";
import { parseManifest } from "../src/manifest.ts";
import { planFleet } from "../src/plan.ts";
import { resolveFleet } from "../src/resolve.ts";
import {
  keyVaultSecretName,
  planSecretVersions,
  renderSecretVersionsMarkdown,
  secretVersionOf,
} from "../src/secret-source.ts";
import { TAGS } from "../src/tags.ts";
import { desiredOf, manifestText } from "./helpers.ts";
import { observed } from "./observed.ts";

const V1 = "0123456789abcdef0123456789abcdef";
const V2 = "fedcba9876543210fedcba9876543210";

function fleet() {
  const text = manifestText({ "+27": "secrets:\n  key_vault: kv-claws" });
  return resolveFleet(parseManifest(text, "claws.yaml").manifest!, "claws.yaml");
}

describe("Key Vault secret source", () => {
  it("names each claw's secret claw-<name>, in the resolved names", () => {
    const f = fleet();
    expect(f.secrets.key_vault).toBe("kv-claws");
    for (const c of f.claws) expect(c.names.keyVaultSecret).toBe(keyVaultSecretName(c.name));
    expect(keyVaultSecretName("alice")).toBe("claw-alice");
  });

  it("reports each active claw's secret as missing, new, rotated or unchanged by version id", () => {
    const f = fleet();
    const [a, b] = f.claws.filter((c) => !c.retired);
    const versions = new Map([[a!.names.keyVaultSecret.toUpperCase().toLowerCase(), V2]]);
    const tags = new Map<string, Record<string, string>>([[a!.name, { [TAGS.secretVersion]: V1 }]]);
    const changes = planSecretVersions(f, versions, tags);
    expect(changes.find((c) => c.claw === a!.name)).toEqual({
      claw: a!.name,
      secret: `claw-${a!.name}`,
      loaded: V1,
      current: V2,
      status: "rotated",
    });
    expect(changes.find((c) => c.claw === b!.name)?.status).toBe("missing");
    expect(planSecretVersions(f, versions, new Map()).find((c) => c.claw === a!.name)?.status).toBe("new");
    const same = new Map<string, Record<string, string>>([[a!.name, { [TAGS.secretVersion]: V2 }]]);
    expect(planSecretVersions(f, versions, same).find((c) => c.claw === a!.name)?.status).toBe("unchanged");
    // Names and versions only: nothing else goes into a change.
    for (const c of changes)
      expect(Object.keys(c).sort()).toEqual(["claw", "current", "loaded", "secret", "status"]);
  });

  it("gives a valid Key Vault secret name for the longest valid claw name", () => {
    const longest = `a${"b-".repeat(31)}c`;
    expect(azureNameProblem("linuxComputerName", longest)).toBeUndefined();
    expect(azureNameProblem("keyVaultSecret", keyVaultSecretName(longest))).toBeUndefined();
    expect(azureNameProblem("keyVaultSecret", "claw_alice")).toMatch(/letters, digits and hyphens/);
  });

  it("shows rotated and missing claws by name and short version id in the plan summary", () => {
    const md = renderSecretVersionsMarkdown("kv-claws", true, [
      { claw: "a", secret: "claw-a", loaded: V1, current: V2, status: "rotated" },
      { claw: "b", secret: "claw-b", loaded: undefined, current: undefined, status: "missing" },
      { claw: "c", secret: "claw-c", loaded: V2, current: V2, status: "unchanged" },
    ]);
    expect(md).toContain(
      "1 loaded, 1 rotated (refreshed on apply, no VM replaced), 0 not yet recorded on a VM, 1 missing.",
    );
    expect(md).toContain("| a | `claw-a` | `01234567` | `fedcba98` |");
    expect(md).toContain("| b | `claw-b` | — | **missing** |");
    expect(md).not.toContain("| c |");
  });

  it("puts every claw's secret version in the plan hash, so a rotation after the review voids the approval", () => {
    const desired = desiredOf(manifestText({ "+27": "secrets:\n  key_vault: kv-claws" }));
    const [a] = desired.claws.filter((c) => !c.retired);
    const tags = new Map<string, Record<string, string>>([[a!.name, { [TAGS.secretVersion]: V1 }]]);
    const planWith = (current: string) =>
      planFleet(desired, observed(), {
        secrets: planSecretVersions(desired, new Map([[a!.names.keyVaultSecret, current]]), tags),
      });
    expect(planWith(V1).hash).toBe(planWith(V1).hash);
    // The same claws, VMs and settings: only a secret's version differs.
    expect(planWith(V2).hash).not.toBe(planWith(V1).hash);
    expect(planWith(V2).secrets?.find((c) => c.claw === a!.name)?.status).toBe("rotated");
    // A CLAW_SECRETS_JSON fleet's hash is what it was before Key Vault existed.
    expect(planFleet(desired, observed()).hash).not.toBe(planWith(V1).hash);
    expect(planFleet(desired, observed()).secrets).toBeUndefined();
  });

  it("reads the version id from a secret URI with version", () => {
    expect(secretVersionOf(`https://kv.vault.azure.net/secrets/claw-a/${V1}`)).toBe(V1);
    expect(secretVersionOf("https://kv.vault.azure.net/secrets/claw-a")).toBeUndefined();
  });
});
