// The config hashes of fixed inputs, pinned: every running claw's VM carries its hash in a tag, so
// a different value for the same input would replace the whole fleet on upgrade. The legacy (v1)
// values are the ones the renderer produced before the hash was computed incrementally, and what
// claws deployed before v2 carry; the v2 values were captured when v2 was introduced. The
// vm-runtime here is a fixed synthetic one (the shipped tree changes as the project does; these
// bytes do not).
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
  legacyConfigHash,
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

// The shipped scripts' comment lines stopped shipping (payload.ts withoutCommentLines) in the
// same release as boot.sh's wait for the services, which changes every claw's payload anyway:
// the values below were captured then, for both versions. Before: v2 secrets 0b17af48...,
// v1 secrets e482c7db... (v1 captured at commit 782b7e2, v2 when it was introduced).

// v1: the whole cloud-config text (claws deployed before v2 carry it).
const LEGACY: Record<string, string> = {
  secrets: "4df8587555d5bf3e9f567bc49bd1f065a9116321961d9360b457d0c0a5b5bd86",
  "other claw and settings": "bc8b47613e7976e2e7f0addee8db7ba9ce24e8e181f200035d2420d726c4a780",
  "secrets and overlay": "bd4d6c6319083ee2d457d5226f329774acf085b695d3532848c0b73a30a8212d",
  "key vault": "d9c5c600382137d44b76edf4828ecc3772dda1d343b9ac6d13840fbc76950ba0",
};

// v2: the claw's own part and the payload's digest.
const PINNED: Record<string, string> = {
  secrets: "4d8033605845c4a8f4951fa636bf0d95d7c4bd12187e9a1369b72bbd99b38164",
  "other claw and settings": "72b6c0dba6c59d15cce278152cae74fb39b249bfef1f7aa32e19eba24473da1e",
  "secrets and overlay": "c6e4e932fb4691eca09f9ea5033c284bcc01a02816a1058cffc225ae6704181f",
  "key vault": "d7a9e7b545369574a4f3386a3e56205595da5fb75fd3abbeeff3aa240507a93b",
};

describe("the config hash of fixed inputs", () => {
  it("has the values claws carry in their tags: v2, and v1 for claws deployed before it", () => {
    const got = Object.fromEntries(Object.entries(cases()).map(([name, c]) => [name, configHash(c)]));
    expect(got).toEqual(PINNED);
    const legacy = Object.fromEntries(
      Object.entries(cases()).map(([name, c]) => [name, legacyConfigHash(c)]),
    );
    expect(legacy).toEqual(LEGACY);
  });

  it("is the same whether rendered with the customData, computed alone, or from the run's payload", () => {
    for (const [name, c] of Object.entries(cases())) {
      const payload = collectPayload(c.vmRuntimeDir, c.overlayDir);
      expect(renderCustomData({ ...c, hostKey: generateHostKey() }).configHash, name).toBe(PINNED[name]);
      expect(configHash({ ...c, payload }), name).toBe(PINNED[name]);
      expect(legacyConfigHash({ ...c, payload }), name).toBe(LEGACY[name]);
    }
  });

  it("is defined as the README says, on the shipped vm-runtime too", () => {
    // The definition, spelt out: the cloud-config without host key, the secrets file by its hash,
    // keyvault.env with the vault's name for its URL, as canonical JSON. v2 hashes the claw's own
    // part of it (no payload entries) and the digest of the payload's entries; v1 the whole text.
    const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
    const reference = (c: RenderInput) => {
      const secretsEnv = c.secrets ? renderSecretsEnv(c.claw.name, c.secrets) : undefined;
      const parts = {
        claw: c.claw.name,
        adminUsername: c.claw.settings.admin_username,
        adminPublicKey: ADMIN_KEY,
        ...(secretsEnv !== undefined ? { secretsEnv: `sha256:${sha256(secretsEnv)}` } : {}),
        ...(c.keyVault
          ? {
              keyVaultEnv: renderKeyVaultEnv(c.claw.name, {
                ...c.keyVault,
                vaultUrl: `vault:${c.keyVault.vault}`,
              }),
            }
          : {}),
        settingsEnv: renderSettingsEnv(c.claw),
      };
      const payload = collectPayload(c.vmRuntimeDir, c.overlayDir).files;
      const material = canonicalJson(buildCloudConfig({ ...parts, payload }));
      const own = canonicalJson(buildCloudConfig({ ...parts, payload: [] }));
      const payloadEntries = (buildCloudConfig({ ...parts, payload }).write_files as unknown[]).slice(
        (buildCloudConfig({ ...parts, payload: [] }).write_files as unknown[]).length,
      );
      return {
        material,
        hash: sha256(`openclawps.cloud-init.v2\n${own}\n${sha256(canonicalJson(payloadEntries))}`),
        legacy: sha256(`openclawps.cloud-init.v1\n${material}`),
      };
    };
    const all = { ...cases(), shipped: input({ vmRuntimeDir: VM_RUNTIME, secrets: SECRETS }) };
    for (const [name, c] of Object.entries(all)) {
      const want = reference(c);
      expect(configHashMaterial(c), name).toBe(want.material);
      expect(configHash(c), name).toBe(want.hash);
      expect(legacyConfigHash(c), name).toBe(want.legacy);
    }
  });
});
