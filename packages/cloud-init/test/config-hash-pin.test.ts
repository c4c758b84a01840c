// The config hash of fixed inputs, pinned to the values the renderer produced before the hash
// was computed incrementally: every running claw's VM carries its hash in a tag, so a different
// value for the same input would replace the whole fleet on upgrade. The vm-runtime here is a
// fixed synthetic one (the shipped tree changes as the project does; these bytes do not).
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { canonicalJson } from "@openclawps/fleet-model";
import { describe, expect, it } from "vitest";
import {
  buildCloudConfig,
  collectPayload,
  configHash,
  configHashMaterial,
  generateHostKey,
  REQUIRED_PAYLOAD,
  type RenderInput,
  renderCustomData,
  renderKeyVaultEnv,
  renderSecretsEnv,
  renderSettingsEnv,
} from "../src/index.ts";
import { ADMIN_KEY, claw, fleet, input, SECRETS, tempDir, VM_RUNTIME } from "./fixtures.ts";

function write(root: string, path: string, content: string | Buffer) {
  const file = join(root, ...path.split("/"));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** A vm-runtime of fixed content: the required files, an update, a default and a unit. */
function fixedVmRuntime(): string {
  const dir = join(tempDir("pin-"), "vm-runtime");
  for (const path of REQUIRED_PAYLOAD) write(dir, path, `#!/bin/sh\n# ${path}\necho "${path}" \\ 'quoted'\n`);
  write(dir, "updates/001-first.sh", "#!/bin/sh\nset -eu\necho first\n");
  write(dir, "defaults/openclaw.json", '{\n  "model": "xai/grok",\n  "unicode": "é ✓ \\u0000"\n}\n');
  write(dir, "install/lib/common.sh", `${"# a long line ".repeat(400)}\n\ttabs\r\nand CRLF\n`);
  return dir;
}

/** An overlay that adds a binary file and an update, and replaces a shipped default. */
function fixedOverlay(): string {
  const dir = join(tempDir("pin-overlay-"), "overlay");
  write(dir, "defaults/openclaw.json", '{ "model": "overlay" }\n');
  write(dir, "defaults/logo.bin", Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13]));
  write(dir, "updates/002-overlay.sh", "#!/bin/sh\necho overlay\n");
  return dir;
}

function cases(): Record<string, RenderInput> {
  const vm = fixedVmRuntime();
  const overlay = fixedOverlay();
  const bob = claw("bob", { model: "openai/gpt-5", telegram_user_id: "7", data_disk_size_gb: 64 });
  return {
    secrets: input({ vmRuntimeDir: vm }),
    "other claw and settings": input({ claw: bob, vmRuntimeDir: vm }),
    "secrets and overlay": input({ vmRuntimeDir: vm, overlayDir: overlay }),
    "key vault": {
      fleet: fleet([claw()]),
      claw: claw(),
      keyVault: {
        vault: "kv-claws",
        vaultUrl: "https://kv-claws.vault.azure.net/",
        secretName: "claw-alice",
      },
      vmRuntimeDir: vm,
      overlayDir: overlay,
    },
  };
}

// Captured from the renderer before the incremental hash (commit 782b7e2).
const PINNED: Record<string, string> = {
  secrets: "e482c7db0932dac1a80006351e8d778c59e4e4f9f4e7fc02707159463478d1fe",
  "other claw and settings": "3ca0091594bd616efa1a7982f9c130e4c77c75235d034501037dcb67349e6181",
  "secrets and overlay": "f56aba472b04fd47b810f9bd3c244baf9241e7f159afa814fea1704127dd40b5",
  "key vault": "5ed4c015c8a9a9aec2fceeb0f897297471498f53767aacabf83652679bd42d90",
};

describe("the config hash of fixed inputs", () => {
  it("has the values claws already carry in their tags", () => {
    const got = Object.fromEntries(Object.entries(cases()).map(([name, c]) => [name, configHash(c)]));
    expect(got).toEqual(PINNED);
  });

  it("is the same whether rendered with the customData, computed alone, or from the run's payload", () => {
    for (const [name, c] of Object.entries(cases())) {
      const payload = collectPayload(c.vmRuntimeDir, c.overlayDir);
      expect(renderCustomData({ ...c, hostKey: generateHostKey() }).configHash, name).toBe(PINNED[name]);
      expect(configHash({ ...c, payload }), name).toBe(PINNED[name]);
    }
  });

  it("is sha256 over the domain and the whole hash view's canonical JSON, on the shipped vm-runtime too", () => {
    // The definition, spelt out: the cloud-config without host key, the secrets file by its hash,
    // keyvault.env with the vault's name for its URL, as canonical JSON.
    const reference = (c: RenderInput) => {
      const secretsEnv = c.secrets ? renderSecretsEnv(c.claw.name, c.secrets) : undefined;
      const doc = buildCloudConfig({
        claw: c.claw.name,
        adminUsername: c.claw.settings.admin_username,
        adminPublicKey: ADMIN_KEY,
        ...(secretsEnv !== undefined
          ? { secretsEnv: `sha256:${createHash("sha256").update(secretsEnv).digest("hex")}` }
          : {}),
        ...(c.keyVault
          ? {
              keyVaultEnv: renderKeyVaultEnv(c.claw.name, {
                ...c.keyVault,
                vaultUrl: `vault:${c.keyVault.vault}`,
              }),
            }
          : {}),
        settingsEnv: renderSettingsEnv(c.claw),
        payload: collectPayload(c.vmRuntimeDir, c.overlayDir).files,
      });
      const material = canonicalJson(doc);
      return {
        material,
        hash: createHash("sha256").update(`openclawps.cloud-init.v1\n${material}`).digest("hex"),
      };
    };
    const all = { ...cases(), shipped: input({ vmRuntimeDir: VM_RUNTIME, secrets: SECRETS }) };
    for (const [name, c] of Object.entries(all)) {
      const want = reference(c);
      expect(configHashMaterial(c), name).toBe(want.material);
      expect(configHash(c), name).toBe(want.hash);
    }
  });
});
