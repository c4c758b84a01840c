// deploy-fleet with Key Vault secrets (`secrets: { key_vault }`), the bundled action against the
// local Azure: no CLAW_SECRETS_JSON, no value in customData, the vault created with RBAC, every
// VM with an identity allowed to read its own secret only, and a rotation planned by version id
// that replaces no VM, whose approved hash a later rotation voids.
import { decodeCustomData } from "@openclawps/cloud-init";
import { TAGS } from "@openclawps/fleet-model";
import { afterEach, describe, expect, it } from "vitest";
import { clawNames, createVault, errorOf, type Fleet, RG, startFleet } from "./fleet-fixture.ts";

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

    // A rotation after the review is not applied under the approved hash: the plan's hash covers
    // every secret version, so apply refuses and changes nothing.
    await fleet.azure.seedKeyVaultSecrets(RG, VAULT, {
      "claw-beta": JSON.stringify({ xai_api_key: "xai-CANARYunreviewed" }),
    });
    const before = fleet.azure.state().virtualMachines;
    const stale = await fleet.deploy({ mode: "apply", "approved-plan-hash": again.outputs["plan-hash"]! });
    expect(stale.exitCode).toBe(1);
    expect(errorOf(stale)).toContain("The plan changed since it was approved");
    expect(fleet.azure.state().virtualMachines).toEqual(before);
    const reviewed = await fleet.deploy({ mode: "plan" });
    expect(reviewed.outputs["plan-hash"]).not.toBe(again.outputs["plan-hash"]);
  });

  it("plans a fleet of 1,000 claws whose secrets are in the vault, reading versions and never a value", async () => {
    const names = clawNames(1000);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])), secrets: { key_vault: VAULT } },
      "",
      ["1.0.0"],
    );
    await createVault(
      fleet,
      VAULT,
      Object.fromEntries(names.map((n) => [`claw-${n}`, JSON.stringify({ xai_api_key: `xai-CANARY-${n}` })])),
    );
    fleet.azure.resetLog();
    const plan = await fleet.deploy({ mode: "plan" });
    expect(plan.exitCode, errorOf(plan)).toBe(0);
    expect(JSON.parse(plan.outputs["changed-claws"]!)).toHaveLength(1000);
    expect(plan.summary).toContain(`### Secrets — Key Vault \`${VAULT}\``);
    expect(plan.summary).toContain("1000 not yet recorded on a VM, 0 missing");
    expect(plan.stdout).not.toContain("has no secret");
    // Secret metadata in pages of ARM (never the data plane), and no value anywhere.
    expect(fleet.azure.requestLog.filter((e) => e.service === "keyvault")).toEqual([]);
    expect(plan.stdout + plan.stderr + plan.summary + JSON.stringify(plan.outputs)).not.toContain("CANARY");
  }, 300_000);
});
