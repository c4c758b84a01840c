// deploy-fleet with Key Vault secrets (`secrets: { key_vault }`), the bundled action against the
// local Azure: no CLAW_SECRETS_JSON, no value in customData, the vault created with RBAC, every
// VM with an identity allowed to read its own secret only, and a rotation planned by version id
// that replaces no VM.
import { decodeCustomData } from "@openclawps/cloud-init";
import { TAGS } from "@openclawps/fleet-model";
import { afterEach, describe, expect, it } from "vitest";
import { errorOf, type Fleet, RG, startFleet } from "./fleet-fixture.ts";

const VAULT = "kv-fleet-test";

describe("deploy-fleet with Key Vault secrets", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("creates the vault and claws whose customData names their secret, then plans a rotation without replacing a VM", async () => {
    const claws = { alpha: {}, beta: {} };
    fleet = await startFleet({ claws, secrets: { key_vault: VAULT } }, "");
    const plan = await fleet.deploy({ mode: "plan" });
    expect(plan.exitCode, errorOf(plan)).toBe(0);
    expect(plan.summary).toContain(`### Secrets — Key Vault \`${VAULT}\` (created on apply)`);
    expect(plan.stdout).toContain("Claw alpha has no secret claw-alpha in Key Vault");

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expect(apply.exitCode, errorOf(apply)).toBe(0);
    const state = fleet.azure.state();
    const vault = Object.values(state.resources).find((r) => r.type === "Microsoft.KeyVault/vaults");
    expect(vault?.properties.enableRbacAuthorization).toBe(true);
    const assignments = Object.values(state.resources).filter(
      (r) => r.type === "Microsoft.Authorization/roleAssignments",
    );
    for (const name of Object.keys(claws)) {
      const vm = Object.values(state.resources).find(
        (r) => r.type === "Microsoft.Compute/virtualMachines" && r.name === name,
      )!;
      const principal = (vm.identity as { principalId: string }).principalId;
      const mine = assignments.filter((a) => a.properties.principalId === principal);
      expect(mine.map((a) => String(a.properties.scope).split("/").slice(-2).join("/"))).toEqual([
        `secrets/claw-${name}`,
      ]);
      const cloudConfig = decodeCustomData(
        String(Object.values(state.virtualMachines).find((v) => v.name === name)?.customData),
      );
      expect(cloudConfig).toContain(`CLAW_KEY_VAULT_URL=${fleet.azure.vaultUrl(VAULT)}`);
      expect(cloudConfig).toContain(`CLAW_KEY_VAULT_SECRET=claw-${name}`);
      expect(cloudConfig).not.toMatch(/path: \/etc\/claw\/secrets\.env/);
      expect(cloudConfig).toMatch(/path: \/etc\/claw\/keyvault\.env/);
    }

    // The operator sets the secrets; alpha's VM recorded an older version: a rotation.
    await fleet.azure.seedKeyVaultSecrets(RG, VAULT, {
      "claw-alpha": JSON.stringify({ xai_api_key: "xai-CANARYrotated" }),
      "claw-beta": JSON.stringify({ xai_api_key: "xai-CANARYbeta" }),
    });
    const alphaId = `/subscriptions/${fleet.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/alpha`;
    const alpha = await fleet.resources.resources.getById(alphaId, "2024-07-01");
    await fleet.resources.resources.beginUpdateByIdAndWait(
      alphaId,
      "2024-07-01",
      { tags: { ...alpha.tags, [TAGS.secretVersion]: "0".repeat(32) } },
      { updateIntervalInMs: 0 },
    );
    const again = await fleet.deploy({ mode: "plan" });
    expect(again.exitCode, errorOf(again)).toBe(0);
    expect(JSON.parse(again.outputs["changed-claws"]!)).toEqual([]);
    expect(again.outputs["apply-needed"]).toBe("true");
    expect(again.summary).toMatch(/\| alpha \| `claw-alpha` \| `00000000` \| `[0-9a-f]{8}` \|/);
    expect(again.stdout + again.summary).not.toContain("CANARY");
  });
});
