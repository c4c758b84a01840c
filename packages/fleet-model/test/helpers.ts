// Shared builders for the fleet-model tests.
import { parseManifest } from "../src/manifest.ts";
import { resolveFleet } from "../src/resolve.ts";
import type { DesiredFleet, Manifest } from "../src/types.ts";

/** An OpenSSH public key line with the given type and payload strings (wire format). */
export function sshKeyLine(type: string, ...payload: Buffer[]): string {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const blob = Buffer.concat([str(Buffer.from(type)), ...payload.map(str)]);
  return `${type} ${blob.toString("base64")} ops@example`;
}

export const ED25519_KEY = sshKeyLine("ssh-ed25519", Buffer.alloc(32, 0x11));

/** An RSA public key line whose modulus has `bits` bits. */
export function rsaKeyLine(bits: number): string {
  const modulus = Buffer.alloc(Math.ceil(bits / 8) + 1, 0x01);
  modulus[0] = 0; // mpint sign byte
  const top = bits % 8 === 0 ? 8 : bits % 8;
  modulus[1] = 1 << (top - 1);
  return sshKeyLine("ssh-rsa", Buffer.from([1, 0, 1]), modulus);
}

/**
 * A valid manifest whose line numbers the table tests refer to. Keep in sync with the line
 * comments: tests edit a line by number.
 */
export const BASE_LINES: readonly string[] = [
  /* 1 */ "azure:",
  /* 2 */ "  location: westus",
  /* 3 */ "  resource_group_name: rg-claw",
  /* 4 */ "  virtual_network_name: rg-claw-vnet",
  /* 5 */ "  subnet_name: default",
  /* 6 */ "  network_security_group_name: rg-claw-nsg",
  /* 7 */ "  address_space: [10.0.0.0/16]",
  /* 8 */ "  subnet_prefixes: [10.0.0.0/24]",
  /* 9 */ "  gallery_name: clawGallery",
  /* 10 */ "  fleet_image_definition_name: claw-desktop",
  /* 11 */ "  image_definitions:",
  /* 12 */ "    claw-desktop: { publisher: claw, offer: claw-vm, sku: desktop }",
  /* 13 */ "  tags: { project: openclawps }",
  /* 14 */ "defaults:",
  /* 15 */ "  vm_size: Standard_D4s_v5",
  /* 16 */ "  model: xai/grok-4-1-fast-non-reasoning",
  /* 17 */ '  image_version: "1.0.0"',
  /* 18 */ "  data_disk_size_gb: 32",
  /* 19 */ "claws:",
  /* 20 */ "  alice: {}",
  /* 21 */ "  bob: { vm_size: Standard_D8s_v5 }",
  /* 22 */ "rollout:",
  /* 23 */ "  canary: 1",
  /* 24 */ '  wave_size: "25%"',
  /* 25 */ "ssh:",
  /* 26 */ `  admin_public_key: "${ED25519_KEY}"`,
  /* 27 */ "  allowed_cidrs: [203.0.113.0/24]",
];

/**
 * BASE_LINES with edits: a number replaces that line (null deletes it, keeping later numbers
 * only if nothing is deleted before them), "+N" inserts after line N.
 */
export function manifestText(edits: Record<string, string | null> = {}): string {
  const out: string[] = [];
  BASE_LINES.forEach((line, i) => {
    const n = String(i + 1);
    if (n in edits) {
      if (edits[n] !== null) out.push(edits[n]!);
    } else out.push(line);
    if (`+${n}` in edits) out.push(...edits[`+${n}`]!.split("\n"));
  });
  return `${out.join("\n")}\n`;
}

/** A parsed manifest that must have no problems. */
export function manifestOf(text: string): Manifest {
  const r = parseManifest(text, "claws.yaml");
  if (!r.manifest || r.problems.length)
    throw new Error(`manifest has problems: ${JSON.stringify(r.problems, null, 1)}`);
  return r.manifest;
}

/** Desired fleet from manifest text, with a config hash per claw. */
export function desiredOf(text: string, configHash: (claw: string) => string = () => "hash-1"): DesiredFleet {
  const fleet = resolveFleet(manifestOf(text), "claws.yaml");
  return { ...fleet, claws: fleet.claws.map((c) => ({ ...c, configHash: configHash(c.name) })) };
}
