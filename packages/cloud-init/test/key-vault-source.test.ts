// Key Vault secrets in cloud-init: customData says where the claw's secret is and carries no value.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  configHash,
  decodeCustomData,
  generateHostKey,
  renderCustomData,
  type WriteFile,
} from "../src/index.ts";
import { input, SECRETS } from "./fixtures.ts";

const KV = { vault: "kv-claws", vaultUrl: "https://kv-claws.vault.azure.net/", secretName: "claw-alice" };

function files(customData: string): WriteFile[] {
  return (parse(decodeCustomData(customData)) as { write_files: WriteFile[] }).write_files;
}

describe("cloud-init with Key Vault secrets", () => {
  it("writes keyvault.env with the vault URL and secret name, and no secrets.env", () => {
    const r = renderCustomData({ ...input(), secrets: undefined, keyVault: KV, hostKey: generateHostKey() });
    const written = files(r.customData);
    expect(written.map((f) => f.path)).not.toContain("/etc/claw/secrets.env");
    const kv = written.find((f) => f.path === "/etc/claw/keyvault.env");
    expect(kv?.content).toMatch(
      /^CLAW_KEY_VAULT_URL=https:\/\/kv-claws\.vault\.azure\.net\/\nCLAW_KEY_VAULT_SECRET=claw-alice\nCLAW_SECRET_KEYS=telegram_bot_token:TELEGRAM_BOT_TOKEN,.*gateway_token:OPENCLAW_GATEWAY_TOKEN\n$/,
    );
  });

  it("puts no secret value in customData even when CLAW_SECRETS_JSON values are at hand", () => {
    const r = renderCustomData({ ...input(), keyVault: KV, hostKey: generateHostKey() });
    const text = decodeCustomData(r.customData);
    for (const value of Object.values(SECRETS)) if (value) expect(text).not.toContain(value);
  });

  it("hashes the secret's place, so moving it to another vault or name changes the config hash", () => {
    const base = configHash({ ...input(), secrets: undefined, keyVault: KV });
    expect(configHash({ ...input(), secrets: undefined, keyVault: KV })).toBe(base);
    expect(
      configHash({ ...input(), secrets: undefined, keyVault: { ...KV, secretName: "claw-bob" } }),
    ).not.toBe(base);
    expect(configHash(input())).not.toBe(base);
    // The URL is known only once the vault exists: plan (before) and apply (after) agree.
    expect(configHash({ ...input(), secrets: undefined, keyVault: { ...KV, vaultUrl: "" } })).toBe(base);
    expect(configHash({ ...input(), secrets: undefined, keyVault: { ...KV, vault: "kv-other" } })).not.toBe(
      base,
    );
  });
});
