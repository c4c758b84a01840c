import { parseManifest, resolveFleet } from "@openclawps/fleet-model";
import { describe, expect, it } from "vitest";
import { checkKeyVaultSecretNames } from "../src/key-vault-check.ts";

const YAML = `azure:
  location: westus
  resource_group_name: rg-claw
  virtual_network_name: rg-claw-vnet
  subnet_name: default
  network_security_group_name: rg-claw-nsg
  address_space: [10.0.0.0/16]
  subnet_prefixes: [10.0.0.0/24]
  gallery_name: clawGallery
  fleet_image_definition_name: claw
  fleet_image_version: "1.0.0"
  image_definitions:
    claw: { publisher: claw, offer: claw-vm, sku: base }
defaults:
  vm_size: Standard_D2s_v5
  model: xai/grok-4
claws:
  alice: {}
  bob: {}
  old: { retired: true }
secrets:
  key_vault: kv-claws
`;

function check(names: string[] | undefined, yaml = YAML) {
  const parse = parseManifest(yaml, "claws.yaml");
  if (!parse.manifest) throw new Error(parse.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
  const fleet = resolveFleet(parse.manifest!, "claws.yaml");
  return checkKeyVaultSecretNames({ fleet, manifest: parse, manifestDisplay: "claws.yaml", names });
}

describe("Key Vault secret names", () => {
  it("names each active claw without its secret at its line, by name only", () => {
    const r = check(["CLAW-ALICE", "claw-unrelated"]);
    expect(r.skipped).toBe(false);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({
      file: "claws.yaml",
      line: 19,
      severity: "error",
      message: 'claw "bob" has no secret claw-bob in Key Vault kv-claws; its VM would boot without its keys.',
      fix: "az keyvault secret set --vault-name kv-claws --name claw-bob --file <the claw's secrets JSON>",
    });
    expect(r.detail).toBe("1 of 2 claws have their secret in Key Vault kv-claws");
  });

  it("is skipped with a note when nobody here may list the vault", () => {
    const r = check(undefined);
    expect(r).toMatchObject({ skipped: true, findings: [] });
    expect(r.detail).toMatch(/not checked: no identity here may list them/);
  });

  it("does not apply to a fleet on CLAW_SECRETS_JSON", () => {
    const r = check(["x"], YAML.replace(/secrets:\n {2}key_vault: kv-claws\n/, ""));
    expect(r).toMatchObject({ skipped: true, findings: [], detail: "secrets come from CLAW_SECRETS_JSON" });
  });
});
