// The #cloud-config document for one claw, as a plain object (render.ts serialises it).
// Module references: https://cloudinit.readthedocs.io/en/latest/reference/modules.html
import type { HostKey } from "./host-key.ts";
import type { PayloadFile } from "./payload.ts";
import { CLAW_HOME } from "./payload.ts";

export interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
  /** Set for content that is not UTF-8 text (cc_write_files decodes b64 before writing). */
  encoding?: "b64";
}

export interface CloudConfigParts {
  claw: string;
  adminUsername: string;
  adminPublicKey: string;
  /** Absent in the config-hash view: the host key is per-VM random material. */
  hostKey?: HostKey;
  /**
   * /etc/claw/secrets.env content; in the config-hash view, only its hash. Absent with Key Vault
   * secrets: no value travels in customData.
   */
  secretsEnv?: string;
  /** /etc/claw/keyvault.env (Key Vault secrets): vault URL and secret name. */
  keyVaultEnv?: string;
  settingsEnv: string;
  payload: PayloadFile[];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A write_files entry. Text goes in as it is: the whole document is gzip'd (cloud-init
 * decompresses gzip'd user data, https://cloudinit.readthedocs.io/en/latest/explanation/format.html),
 * and gzip over plain text is smaller than per-file gz+b64, whose base64 output the outer
 * gzip cannot shrink. Binary content uses `encoding: b64`.
 */
export function writeFile(path: string, permissions: string, content: Buffer | string): WriteFile {
  const entry = { path, owner: "root:root", permissions };
  if (typeof content === "string") return { ...entry, content };
  try {
    const text = utf8.decode(content);
    if (!text.includes("\0")) return { ...entry, content: text };
  } catch {
    // not UTF-8: fall through to base64
  }
  return { ...entry, content: content.toString("base64"), encoding: "b64" };
}

// runcmd is one shell script without `set -e`: a failed app-layer install is recorded
// (install-app-layer.sh) and boot.sh still runs, so verify can say what failed.
export const RUNCMD: readonly (readonly string[])[] = [
  ["systemctl", "daemon-reload"],
  ["systemctl", "enable", "claw-boot.service"],
  [`${CLAW_HOME}/install-app-layer.sh`],
  ["systemctl", "start", "claw-boot.service"],
];

export function buildCloudConfig(parts: CloudConfigParts): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    users: [
      {
        name: parts.adminUsername,
        groups: ["adm", "sudo"],
        shell: "/bin/bash",
        // The agent operates like a person at the keyboard (design: threat model).
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [parts.adminPublicKey],
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    // Only the host key deploy-fleet generated and pinned in the VM's tag: the image's keys
    // are deleted, and cc_ssh generates keys only when ssh_keys is absent, so no other key
    // can be offered. https://cloudinit.readthedocs.io/en/latest/reference/modules.html#ssh
    ssh_deletekeys: true,
  };
  if (parts.hostKey) {
    doc.ssh_keys = { ed25519_private: parts.hostKey.privateKey, ed25519_public: parts.hostKey.publicKey };
  }
  doc.write_files = [
    ...(parts.secretsEnv !== undefined ? [writeFile("/etc/claw/secrets.env", "0600", parts.secretsEnv)] : []),
    ...(parts.keyVaultEnv !== undefined
      ? [writeFile("/etc/claw/keyvault.env", "0644", parts.keyVaultEnv)]
      : []),
    writeFile("/etc/claw/claw.env", "0644", parts.settingsEnv),
    ...parts.payload.map((f) => writeFile(f.destination, f.mode, f.content)),
  ];
  doc.runcmd = RUNCMD;
  return doc;
}
