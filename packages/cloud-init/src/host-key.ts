// The per-VM SSH host key. deploy-fleet generates one for each VM it creates, hands it to
// cloud-init (ssh_keys) and records its fingerprint in a VM tag; verify reads the tag
// through ARM and refuses a host that presents any other key.
//
// Node's crypto makes the ed25519 pair; this file writes it in OpenSSH's formats (the private
// key unencrypted, as sshd's host keys are), so rendering customData needs no SSH library:
// validate, which checks customData sizes with a real key, bundles none.
// Format: https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { sshFingerprintOfLine } from "@openclawps/fleet-model";

export interface HostKey {
  /** OpenSSH-format private key (ssh_keys: ed25519_private). */
  privateKey: string;
  /** OpenSSH public key line. */
  publicKey: string;
  /** "SHA256:..." as sshFingerprint in fleet-model. */
  fingerprint: string;
}

/** A fresh ed25519 host key pair in OpenSSH format, with its SHA256 fingerprint. */
export function generateHostKey(comment = "openclawps-host-key"): HostKey {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const publicBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  const publicLine = `ssh-ed25519 ${publicBlob.toString("base64")} ${comment}`;
  return {
    privateKey: openSshPrivateKey(publicBlob, pub, seed, comment),
    publicKey: publicLine,
    fingerprint: sshFingerprintOfLine(publicLine),
  };
}

function openSshPrivateKey(publicBlob: Buffer, pub: Buffer, seed: Buffer, comment: string): string {
  const check = randomBytes(4);
  const secret = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  // Padded with 1, 2, 3, ... to the cipher's block size (8 for "none").
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat([secret, padding])),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g) ?? [];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function sshString(value: string | Buffer): Buffer {
  const data = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  return Buffer.concat([uint32(data.length), data]);
}
