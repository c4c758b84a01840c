// Checks that the manifest's admin key is an OpenSSH public key line Azure will accept.
// Azure Linux VMs take RSA keys of at least 2048 bits and ED25519 keys:
// https://learn.microsoft.com/azure/virtual-machines/linux/mac-create-ssh-keys
// https://learn.microsoft.com/azure/virtual-machines/ssh-keys-portal
// Messages never quote the key text: a pasted private key must not end up in a log.

const SUPPORTED = new Set(["ssh-ed25519", "ssh-rsa"]);
const KNOWN_UNSUPPORTED =
  /^(ecdsa-sha2-nistp(256|384|521)|ssh-dss|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/** Reads SSH wire-format strings (uint32 length + bytes) from a key blob. */
function readStrings(blob: Buffer, count: number): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    at += 4;
    if (at + len > blob.length) return undefined;
    out.push(blob.subarray(at, at + len));
    at += len;
  }
  return out;
}

/** Bit length of an SSH mpint (big-endian, possibly with a leading zero byte). */
function mpintBits(n: Buffer): number {
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** Why `line` is not an acceptable OpenSSH public key line, or undefined when it is. */
export function openSshPublicKeyProblem(line: string): string | undefined {
  const text = line.trim();
  if (/PRIVATE KEY/.test(text)) {
    return "this is a private key: remove it from the manifest at once and generate a new key pair (the old one is exposed in Git history)";
  }
  if (text.startsWith("---- BEGIN SSH2 PUBLIC KEY")) {
    return "this is an SSH2/PuTTY-format key; convert it with `ssh-keygen -i -f key.pub` and paste the one-line result";
  }
  if (/[\r\n]/.test(text)) return "the key must be a single line";
  const [type, b64] = text.split(/\s+/);
  if (!type || !b64) return 'expected one line "<type> <base64> [comment]", as in ~/.ssh/id_ed25519.pub';
  if (!SUPPORTED.has(type)) {
    if (KNOWN_UNSUPPORTED.test(type)) return `Azure accepts only ssh-ed25519 and ssh-rsa keys, not ${type}`;
    return 'expected one line "<type> <base64> [comment]" starting with ssh-ed25519 or ssh-rsa';
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return "the key data is not valid base64";
  const blob = Buffer.from(b64, "base64");
  if (type === "ssh-ed25519") {
    const parts = readStrings(blob, 2);
    if (!parts || parts[0]!.toString("latin1") !== type || parts[1]!.length !== 32) {
      return "the key data is not an ssh-ed25519 public key (truncated or mislabelled)";
    }
    return undefined;
  }
  const parts = readStrings(blob, 3);
  if (!parts || parts[0]!.toString("latin1") !== type)
    return "the key data is not an ssh-rsa public key (truncated or mislabelled)";
  const bits = mpintBits(parts[2]!);
  if (bits < 2048) return `the RSA key has ${bits} bits; Azure requires at least 2048 (or use ssh-ed25519)`;
  return undefined;
}

export interface AdminKeyChoice {
  /** The key deploy-fleet gives the claws, when there is one. */
  key?: string;
  source: "manifest" | "input" | "none";
  /** Why the input is unusable (never echoes it), or that it differs from the manifest's key. */
  problem?: string;
}

/**
 * The admin public key: the manifest's `ssh.admin_public_key`, else the `admin-public-key` input of
 * validate / deploy-fleet (a seed-era manifest has no key: the seed took it from terraform.tfvars).
 * One rule for both actions, so what validate renders is what deploy-fleet deploys.
 */
export function chooseAdminKey(manifestKey: string | undefined, inputKey: string): AdminKeyChoice {
  const input = inputKey.trim();
  if (manifestKey) {
    if (input && input !== manifestKey.trim()) {
      return {
        key: manifestKey,
        source: "manifest",
        problem:
          "the admin-public-key input differs from ssh.admin_public_key in the manifest; the manifest's key is used (remove one of them)",
      };
    }
    return { key: manifestKey, source: "manifest" };
  }
  if (!input) return { source: "none" };
  const problem = openSshPublicKeyProblem(input);
  return problem ? { source: "none", problem } : { key: input, source: "input" };
}
