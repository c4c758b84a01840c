import { createHash } from "node:crypto";

/**
 * OpenSSH-style SHA256 fingerprint ("SHA256:" + unpadded base64) of an SSH public key blob
 * (the wire-format key, i.e. the base64 field of an authorized_keys / .pub line, decoded).
 * Same output as `ssh-keygen -lf`.
 */
export function sshFingerprint(publicKeyBlob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** Fingerprint of an OpenSSH public key line ("ssh-ed25519 AAAA... comment"). */
export function sshFingerprintOfLine(publicKeyLine: string): string {
  const b64 = publicKeyLine.trim().split(/\s+/)[1];
  if (!b64) throw new Error("not an OpenSSH public key line");
  return sshFingerprint(Buffer.from(b64, "base64"));
}
