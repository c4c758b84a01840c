// Key Vault secrets on booting guests (local Azure's guest mode): the bundled action deploys two
// claws whose secrets live in Key Vault; each guest fetches its own at boot, from inside, through
// the instance metadata service at 169.254.169.254 and the vault's TLS endpoint (no value in
// customData); a rotation of one claw's secret reaches its .env through Run Command with no VM
// replaced and the other claw untouched; and a guest asking for the other claw's secret is
// refused as Key Vault refuses it (403 ForbiddenByRbac). Needs root and loop devices (skipped
// elsewhere with the reason; CI runs it as root).
import { randomBytes } from "node:crypto";
import { decodeCustomData } from "@openclawps/cloud-init";
import { guestsUnavailableReason } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVault, errorOf, type Fleet, RG, startFleet } from "./fleet-fixture.ts";

const reason = guestsUnavailableReason();
if (reason && process.env.CI && process.getuid?.() === 0) {
  throw new Error(`the Key Vault guest chain must run in CI as root, but: ${reason}`);
}
if (reason) console.warn(`Key Vault guest chain skipped: ${reason}`);

const VAULT = "kv-guests-test";
const CLAWS = ["alpha", "beta"];
// A first boot takes about a minute on a loaded 2-core machine; verification waits for it.
const VERIFY_TIMEOUT = "900s";
const STEP_MS = 1_200_000;
const ENV_FILE = "/mnt/claw-data/openclaw/.env";

const secretOf = (value: string) =>
  JSON.stringify({ telegram_bot_token: "123456789:AAHkeyvaultguesttoken", xai_api_key: value });
const canary = () => `xai-CANARY${randomBytes(9).toString("hex")}`;

describe.skipIf(reason !== undefined)("deploy-fleet with Key Vault secrets on booting guests", () => {
  let fleet: Fleet;
  const values: Record<string, string> = Object.fromEntries(CLAWS.map((c) => [c, canary()]));

  beforeAll(async () => {
    fleet = await startFleet(
      {
        claws: Object.fromEntries(CLAWS.map((n) => [n, {}])),
        secrets: { key_vault: VAULT },
        allowedCidrs: [],
        rollout: { verify: true, canary: 1, wave_size: 1 },
      },
      "",
      ["1.0.0"],
      { guests: true },
    );
    // The operator's side: the vault exists (deploy-fleet adopts it) and holds each claw's secret
    // before the claws first boot.
    await createVault(
      fleet,
      VAULT,
      Object.fromEntries(CLAWS.map((c) => [`claw-${c}`, secretOf(values[c]!)])),
    );
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
  }, 120_000);

  const vm = (claw: string) =>
    Object.values(fleet.azure.state().virtualMachines).find((v) => v.name === claw)!;
  const vmIdOf = (claw: string) =>
    Object.values(fleet.azure.state().resources).find(
      (r) => r.type === "Microsoft.Compute/virtualMachines" && r.name === claw,
    )?.properties.vmId;
  const vmKey = (claw: string) =>
    `/subscriptions/${fleet.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/${claw}`;

  /** A script run as root inside the claw's guest, as its VM agent runs a Run Command. */
  async function inGuest(claw: string, script: string): Promise<string> {
    const r = await fleet.azure.guests!.runScript(vmKey(claw), {
      name: "key-vault-test",
      script,
      env: [],
      timeoutSeconds: 120,
    });
    if (r.exitCode !== 0) throw new Error(`${claw}: exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const envOf = (claw: string) => inGuest(claw, `cat ${ENV_FILE}`);

  const apply = async () => {
    const plan = await fleet.deploy({ mode: "plan" });
    expect(plan.exitCode, `${errorOf(plan)}\n${plan.stderr}`).toBe(0);
    const r = await fleet.deploy({
      mode: "apply",
      verify: "true",
      "verify-timeout": VERIFY_TIMEOUT,
      "approved-plan-hash": plan.outputs["plan-hash"]!,
    });
    if (r.exitCode !== 0) throw new Error(`the action failed (${r.exitCode}):\n${errorOf(r)}\n${r.stderr}`);
    return r;
  };

  it(
    "boots each claw with its own secret fetched through its identity, and no value in its customData",
    async () => {
      const r = await apply();
      expect(
        JSON.parse(r.outputs.result!).claws.map((c: { claw: string; health: string }) => [c.claw, c.health]),
      ).toEqual([
        ["alpha", "healthy"],
        ["beta", "healthy"],
      ]);
      for (const claw of CLAWS) {
        expect(await envOf(claw)).toContain(`XAI_API_KEY=${values[claw]}`);
        const customData = decodeCustomData(String(vm(claw).customData));
        expect(customData).toContain(`CLAW_KEY_VAULT_SECRET=claw-${claw}`);
        for (const v of Object.values(values)) expect(customData).not.toContain(v);
        // Fetched at boot by keyvault-secrets.sh, which logs the secret's name, never its value.
        const log = await inGuest(claw, "cat /var/log/claw/keyvault-secrets.log");
        expect(log).toContain(`staged secret claw-${claw}`);
        expect(log).not.toContain(values[claw]);
      }
      expect(r.stdout + r.stderr).not.toContain("CANARY");
    },
    STEP_MS,
  );

  it(
    "loads one claw's rotated secret into its .env through Run Command, replacing no VM and leaving the other claw alone",
    async () => {
      const before = Object.fromEntries(CLAWS.map((c) => [c, vm(c)]));
      const vmIds = Object.fromEntries(CLAWS.map((c) => [c, vmIdOf(c)]));
      const betaEnv = await envOf("beta");
      values.alpha = canary();
      await fleet.azure.seedKeyVaultSecrets(RG, VAULT, { "claw-alpha": secretOf(values.alpha) });

      const r = await apply();
      expect(r.stdout).toMatch(/alpha: .* of claw-alpha \(no VM replaced\)/);
      expect(await envOf("alpha")).toContain(`XAI_API_KEY=${values.alpha}`);
      expect(vmIdOf("alpha")).toBe(vmIds.alpha);
      expect(vm("alpha").customData).toBe(before.alpha!.customData);
      // beta: the same VM, record and .env.
      expect(vm("beta")).toEqual(before.beta);
      expect(vmIdOf("beta")).toBe(vmIds.beta);
      expect(await envOf("beta")).toBe(betaEnv);
      expect(r.stdout + r.stderr).not.toContain("CANARY");
    },
    STEP_MS,
  );

  it(
    "refuses a guest the other claw's secret, as Key Vault does (403 ForbiddenByRbac), over verified TLS",
    async () => {
      const url = fleet.azure.vaultUrl(VAULT).replace(/\/$/, "");
      // curl with no --insecure and no --cacert: the guest's own trust store verifies the vault.
      const ask = (secret: string) =>
        inGuest(
          "alpha",
          [
            "set -euo pipefail",
            "token=$(curl -sS -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net' |",
            "  python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')",
            `curl -sS -o /tmp/answer -w '%{http_code}\\n' -H "Authorization: Bearer $token" '${url}/secrets/${secret}?api-version=7.4'`,
            'python3 -c \'import json, sys; e = json.load(open("/tmp/answer")).get("error") or {}; print(e.get("code", ""), (e.get("innererror") or {}).get("code", ""))\'',
          ].join("\n"),
        );
      expect((await ask("claw-alpha")).split("\n")[0]).toBe("200");
      const refused = await ask("claw-beta");
      expect(refused.split("\n")[0]).toBe("403");
      expect(refused).toContain("ForbiddenByRbac");
      expect(refused).not.toContain(values.beta!);
    },
    STEP_MS,
  );
});
