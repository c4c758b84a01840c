// The per-VM SSH host key. deploy-fleet generates one for each VM it creates, hands it to
// cloud-init (ssh_keys) and records its fingerprint in a VM tag; verify reads the tag
// through ARM and refuses a host that presents any other key.
import { sshFingerprintOfLine } from "@openclawps/fleet-model";
import ssh2 from "ssh2";

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
  const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
  const publicKey = pair.public.trim();
  return { privateKey: pair.private, publicKey, fingerprint: sshFingerprintOfLine(publicKey) };
}
