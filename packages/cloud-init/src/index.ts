// CONTRACT STUB — the vm-runtime helper replaces this with the real renderer (render.ts etc.).
import type { ClawSecrets, ResolvedClaw, ResolvedFleet } from "@openclawps/fleet-model";

export interface HostKey {
  /** OpenSSH-format private key (ssh_keys: ed25519_private). */
  privateKey: string;
  /** OpenSSH public key line. */
  publicKey: string;
  /** "SHA256:..." as sshFingerprint in fleet-model. */
  fingerprint: string;
}

export interface RenderInput {
  fleet: ResolvedFleet;
  claw: ResolvedClaw;
  secrets: ClawSecrets;
  /** The shipped vm-runtime directory. */
  vmRuntimeDir: string;
  /** Optional fleet-repo overlay whose files add to / replace shipped ones. */
  overlayDir?: string;
}

export interface RenderResult {
  /** base64(gzip(cloud-config)): what goes into osProfile.customData. */
  customData: string;
  /** Independent of the host key: unchanged claw → same hash on every run. */
  configHash: string;
  /** Decoded size of customData in bytes (Azure's limit applies to the base64 string). */
  bytes: number;
}

export class CustomDataTooLargeError extends Error {
  constructor(
    message: string,
    readonly contributors: { name: string; bytes: number }[],
  ) {
    super(message);
    this.name = "CustomDataTooLargeError";
  }
}

export function generateHostKey(): HostKey {
  throw new Error("not implemented yet");
}

/** Hash only (no host key needed): what plan mode uses. */
export function configHash(_input: RenderInput): string {
  throw new Error("not implemented yet");
}

export function renderCustomData(_input: RenderInput & { hostKey: HostKey }): RenderResult {
  throw new Error("not implemented yet");
}
