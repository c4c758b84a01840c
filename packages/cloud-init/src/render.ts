// Renders a claw's customData (base64 of gzip'd #cloud-config) and its config hash.
import { createHash } from "node:crypto";
import { constants, crc32, deflateRawSync, gunzipSync, gzipSync } from "node:zlib";
import type { ClawSecrets, ResolvedClaw, ResolvedFleet } from "@openclawps/fleet-model";
import { canonicalJson } from "@openclawps/fleet-model";
import { stringify } from "yaml";
import { BLOCK_YAML_OPTIONS, writeBlockYaml } from "./block-yaml.ts";
import {
  buildCloudConfig,
  type CloudConfigParts,
  RUNCMD,
  type WriteFile,
  writeFile,
} from "./cloud-config.ts";
import {
  CUSTOM_DATA_LIMIT_BYTES,
  CustomDataTooLargeError,
  type SizeContributor,
} from "./custom-data-limit.ts";
import type { HostKey } from "./host-key.ts";
import { collectPayload, type Payload, type PayloadFile } from "./payload.ts";
import { type KeyVaultSecretRef, renderKeyVaultEnv, renderSecretsEnv, renderSettingsEnv } from "./staging.ts";

export interface RenderInput {
  fleet: ResolvedFleet;
  claw: ResolvedClaw;
  /** CLAW_SECRETS_JSON's entry for the claw; required unless `keyVault` is given (then unused). */
  secrets?: ClawSecrets;
  /** Key Vault secrets: the claw fetches its secret itself; customData carries only where it is. */
  keyVault?: KeyVaultSecretRef;
  /** The shipped vm-runtime directory. */
  vmRuntimeDir: string;
  /** Optional fleet-repo overlay whose files add to / replace shipped ones. */
  overlayDir?: string;
  /**
   * collectPayload(vmRuntimeDir, overlayDir), read once for a whole run: the payload is the same
   * for every claw, and reading it per claw was most of plan's CPU at 1000 claws.
   */
  payload?: Payload;
}

export interface RenderResult {
  /** base64(gzip(cloud-config)): what goes into osProfile.customData. */
  customData: string;
  /** Independent of the host key: unchanged claw → same hash on every run. */
  configHash: string;
  /** Decoded size of customData in bytes (gzip output): Azure allows CUSTOM_DATA_LIMIT_BYTES. */
  bytes: number;
}

/**
 * Changing this deliberately changes every claw's hash (and so rolls the fleet, but for VMs whose
 * tag holds their legacy hash: see legacyConfigHash).
 */
const HASH_DOMAIN = "openclawps.cloud-init.v2";
/** The hash every claw's VM was tagged with before v2: still accepted for an unchanged config. */
const LEGACY_HASH_DOMAIN = "openclawps.cloud-init.v1";

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** Everything the document is made of, read once. */
interface Prepared {
  parts: Omit<CloudConfigParts, "hostKey" | "payload">;
  payload: Payload;
  /** Undefined with Key Vault secrets (no secrets file). */
  secretsEnvHash: string | undefined;
  /** keyvault.env as the hash sees it: the vault's name in place of its URL. */
  keyVaultHashView: string | undefined;
}

function prepare(input: RenderInput): Prepared {
  const adminPublicKey = input.fleet.ssh.admin_public_key?.trim();
  if (!adminPublicKey) {
    throw new Error(
      `cannot render cloud-init for claw "${input.claw.name}": ssh.admin_public_key is not set in ${input.fleet.manifestFile}`,
    );
  }
  const payload = input.payload ?? collectPayload(input.vmRuntimeDir, input.overlayDir);
  if (payload.issues.length > 0) {
    const list = payload.issues.map((i) => `${i.file}: ${i.message} (fix: ${i.fix})`).join("; ");
    throw new Error(`cannot render cloud-init for claw "${input.claw.name}": ${list}`);
  }
  if (!input.keyVault && !input.secrets)
    throw new Error(`cannot render cloud-init for claw "${input.claw.name}": no secrets and no Key Vault`);
  const secretsEnv = input.keyVault ? undefined : renderSecretsEnv(input.claw.name, input.secrets!);
  return {
    parts: {
      claw: input.claw.name,
      adminUsername: input.claw.settings.admin_username,
      adminPublicKey,
      ...(secretsEnv !== undefined ? { secretsEnv } : {}),
      ...(input.keyVault ? { keyVaultEnv: renderKeyVaultEnv(input.claw.name, input.keyVault) } : {}),
      settingsEnv: renderSettingsEnv(input.claw),
    },
    payload,
    secretsEnvHash: secretsEnv === undefined ? undefined : sha256(secretsEnv),
    keyVaultHashView: input.keyVault
      ? renderKeyVaultEnv(input.claw.name, { ...input.keyVault, vaultUrl: `vault:${input.keyVault.vault}` })
      : undefined,
  };
}

// The hash covers the secrets through their hash only: a rotation changes it, and the value
// never enters anything that is hashed, logged or compared. The host key is left out.
function hashView(prepared: Prepared, payload: PayloadFile[]): Record<string, unknown> {
  return buildCloudConfig({
    ...prepared.parts,
    ...(prepared.secretsEnvHash !== undefined ? { secretsEnv: `sha256:${prepared.secretsEnvHash}` } : {}),
    ...(prepared.keyVaultHashView !== undefined ? { keyVaultEnv: prepared.keyVaultHashView } : {}),
    payload,
  });
}

/**
 * What every claw's cloud-init shares, serialised and compressed once per payload: the vm-runtime
 * files are most of each claw's document (74 KiB of 78), and the same for the whole fleet.
 *
 * The config hash (v2) is sha256 over the domain, the canonical JSON of the claw's own hash view
 * (the hash view with no payload entries) and the sha256 of the payload's entries in canonical
 * JSON, hashed once per run: a claw costs its own few KiB, not the payload's 75 KiB again.
 *
 * The legacy hash (v1) is sha256 over the canonical JSON of the whole hash view. Its keys are
 * sorted, so write_files comes last and the payload's entries close it: the text is the claw's own
 * part, then these entries, then `]}`, and canonicalJson of an array is its members' texts joined
 * by commas. Feeding sha256 those pieces in order hashes the very same bytes (the pinned-hash test).
 *
 * customData is one gzip member whose deflate stream is the claw's own part compressed and ended
 * with a full flush (byte-aligned, compressor state reset), then the shared part compressed once
 * (RFC 1951 lets a stream continue so; zlib's Z_FULL_FLUSH). Its size is exact: plan measures what
 * apply sends. The YAML of the shared entries is spliced after the claw's own (written by
 * block-yaml.ts); the splice is compared once per payload with the whole document rendered as one
 * by the library, and renders whole if not equal.
 */
interface SharedPart {
  /** The payload's write_files entries in canonical JSON, joined by commas (the legacy hash's). */
  hashJson: Buffer;
  /** sha256 (hex) of the payload's write_files entries in canonical JSON: `[`, hashJson, `]`. */
  hashDigest: string;
  /** The YAML after the claw's own write_files entries: the payload's entries, then runcmd. */
  yamlTail: Buffer;
  /** yamlTail, raw deflate, level 9, finished. */
  deflated: Buffer;
  /** undefined until the splice was compared with a whole rendering; false: render whole. */
  spliceable: boolean | undefined;
}

const shared = new WeakMap<Payload, SharedPart>();

function sharedPart(payload: Payload): SharedPart {
  let part = shared.get(payload);
  if (part) return part;
  const entries = payload.files.map((f) => writeFile(f.destination, f.mode, f.content));
  const hashJson = Buffer.from(entries.map((e) => canonicalJson(e)).join(","), "utf8");
  const tailDoc = stringify({ write_files: entries, runcmd: RUNCMD }, BLOCK_YAML_OPTIONS);
  if (!tailDoc.startsWith(WRITE_FILES_KEY)) throw new Error(`cloud-init: unexpected YAML for write_files`);
  const yamlTail = Buffer.from(tailDoc.slice(WRITE_FILES_KEY.length), "utf8");
  const hashDigest = createHash("sha256").update("[").update(hashJson).update("]").digest("hex");
  part = {
    hashJson,
    hashDigest,
    yamlTail,
    deflated: deflateRawSync(yamlTail, { level: 9 }),
    spliceable: undefined,
  };
  shared.set(payload, part);
  return part;
}

const WRITE_FILES_KEY = "write_files:\n";

/** The config hash (see SharedPart): the claw's own hash view, then the payload's digest. */
function hashOf(prepared: Prepared): string {
  const own = canonicalJson(hashView(prepared, []));
  // Canonical JSON holds no raw line break: the separators cannot occur inside the parts.
  return createHash("sha256")
    .update(`${HASH_DOMAIN}\n${own}\n${sharedPart(prepared.payload).hashDigest}`)
    .digest("hex");
}

/** The legacy config hash, fed to sha256 piece by piece (see SharedPart): the whole text's bytes. */
function legacyHashOf(prepared: Prepared): string {
  const own = canonicalJson(hashView(prepared, []));
  // write_files is the last key and always holds claw.env: the text ends with the array's `]}`.
  if (!own.endsWith("]}")) throw new Error("cloud-init: the hash view no longer ends with write_files");
  const part = sharedPart(prepared.payload);
  const hash = createHash("sha256").update(`${LEGACY_HASH_DOMAIN}\n`).update(own.slice(0, -2));
  if (part.hashJson.length > 0) hash.update(",").update(part.hashJson);
  return hash.update("]}").digest("hex");
}

/**
 * The text the config hash covers: the cloud-config without the host key, with the secrets file
 * replaced by its sha256, as canonical JSON (sorted keys, so it does not depend on YAML
 * formatting). No timestamps, no random material. Useful to diff when a hash changes
 * unexpectedly. (The hash itself takes the payload's write_files entries through their digest:
 * see SharedPart.)
 */
export function configHashMaterial(input: RenderInput): string {
  const prepared = prepare(input);
  return canonicalJson(hashView(prepared, prepared.payload.files));
}

/** Hash only (no host key needed): what plan mode uses. */
export function configHash(input: RenderInput): string {
  return hashOf(prepare(input));
}

/**
 * The hash a VM deployed before the v2 hash carries in its tag for the same config: sha256 over
 * the v1 domain and the whole configHashMaterial. The plan takes a VM tagged with it as
 * unchanged, so upgrading the actions rolls no claw; the VM gets the v2 hash at its next replace.
 */
export function legacyConfigHash(input: RenderInput): string {
  return legacyHashOf(prepare(input));
}

function headerOf(claw: string, hash: string): string {
  const lines = [
    `openclawps: claw ${claw}, config hash ${hash}.`,
    "Rendered by deploy-fleet from the deploying commit's vm-runtime; do not edit on the VM.",
  ];
  return `#cloud-config\n${lines.map((line) => `# ${line}\n`).join("")}`;
}

function contributors(config: Record<string, unknown>, files: PayloadFile[]): SizeContributor[] {
  const overlay = new Set(files.filter((f) => f.origin === "overlay").map((f) => f.destination));
  const list: SizeContributor[] = (config.write_files as WriteFile[]).map((f) => ({
    name: overlay.has(f.path) ? `${f.path} (overlay)` : f.path,
    bytes: gzipSync(f.content, { level: 9 }).length,
  }));
  const keys = config.ssh_keys as Record<string, string> | undefined;
  if (keys) list.push({ name: "ssh host key", bytes: gzipSync(Object.values(keys).join("\n")).length });
  return list.sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
}

// gzip member framing (RFC 1952): magic, deflate, no flags, no mtime, "max compression", Unix.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
const GZIP_HEADER_BYTES = GZIP_HEADER.length;
const GZIP_TRAILER_BYTES = 8;

const KEYS_START = Buffer.from("\nssh_keys:\n");
const KEYS_END = Buffer.from("\nwrite_files:\n");

/**
 * Raw deflate of a claw's own text, ended by `flush`. The host key's lines go in a stored
 * (uncompressed) block between full flushes: random base64 compresses by a few bytes more or
 * less from one key to the next, stored it is its length (fixed for ed25519), so the size plan
 * measures with one key is the size apply sends with another.
 */
function deflateOwn(own: Buffer, flush: number): Buffer {
  const { start, end } = keyLines(own);
  return Buffer.concat([
    deflateText(own.subarray(0, start + 1), constants.Z_FULL_FLUSH),
    storedBlock(own.subarray(start + 1, end + 1)),
    deflateText(own.subarray(end + 1), flush),
  ]);
}

/**
 * At most how many bytes deflateOwn makes of `own`, without compressing it: each deflated piece
 * within zlib's conservative deflateBound (deflate.c: `sourceLen + ((sourceLen + 7) >> 3) +
 * ((sourceLen + 63) >> 6) + 5`, which covers any level, window and memory level) plus the 5-byte
 * empty stored block a flush may end it with; the host key's stored block is its length plus 5.
 */
function deflatedOwnAtMost(own: Buffer): number {
  const { start, end } = keyLines(own);
  return deflatedAtMost(start + 1) + (end - start + 5) + deflatedAtMost(own.length - end - 1);
}

/** At most how many bytes deflateText makes of `n` bytes (see deflatedOwnAtMost). Exported for its test. */
export const deflatedAtMost = (n: number) => n + ((n + 7) >> 3) + ((n + 63) >> 6) + 5 + 5;

/** Where the host key's lines sit in a claw's own text. */
function keyLines(own: Buffer): { start: number; end: number } {
  const start = own.indexOf(KEYS_START);
  const end = start < 0 ? -1 : own.indexOf(KEYS_END, start);
  if (end < 0) throw new Error("cloud-init: no ssh_keys before write_files in the document");
  return { start, end };
}

/**
 * Level 9 raw deflate. The window is the smallest that spans the text (zlib's matches reach
 * 262 bytes short of it): the same output as a 32 KiB window, without allocating and clearing
 * one per claw, which was most of the cost.
 */
export function deflateText(text: Buffer, flush: number): Buffer {
  const windowBits = Math.min(15, Math.max(9, Math.ceil(Math.log2(text.length + 262))));
  return deflateRawSync(text, { level: 9, windowBits, finishFlush: flush });
}

/**
 * A non-final stored block (RFC 1951 3.2.4): a byte-aligned header (a full flush left the
 * stream aligned), LEN and its complement, the bytes as they are. Its end is aligned too.
 */
function storedBlock(data: Buffer): Buffer {
  if (data.length > 0xffff) throw new Error("cloud-init: a stored block holds at most 65535 bytes");
  const head = Buffer.alloc(5);
  head.writeUInt16LE(data.length, 1);
  head.writeUInt16LE(~data.length & 0xffff, 3);
  return Buffer.concat([head, data]);
}

/** A claw's document before its own text is compressed. */
interface OwnText {
  hash: string;
  /** The claw's own text; with `tail` after it, the whole document. */
  own: Buffer;
  tail?: { text: Buffer; deflated: Buffer };
  /** The pieces, compressed (deflateOwn: the costly part). */
  deflate(): Pieces;
}

/** A claw's customData as pieces: its size is known without assembling it. */
interface Pieces extends Omit<OwnText, "deflate"> {
  /** The claw's own text, raw deflate ended by a full flush; the whole document when `tail` is absent. */
  ownDeflated: Buffer;
  bytes: number;
}

const FRAMING_BYTES = GZIP_HEADER_BYTES + GZIP_TRAILER_BYTES;

function ownText(input: RenderInput & { hostKey: HostKey }): OwnText {
  const prepared = prepare(input);
  const hash = hashOf(prepared);
  const header = headerOf(input.claw.name, hash);
  const whole = (): OwnText => {
    const config = buildCloudConfig({
      ...prepared.parts,
      payload: prepared.payload.files,
      hostKey: input.hostKey,
    });
    const own = Buffer.from(header + stringify(config, BLOCK_YAML_OPTIONS), "utf8");
    return {
      hash,
      own,
      deflate: () => {
        const ownDeflated = deflateOwn(own, constants.Z_FINISH);
        return { hash, own, ownDeflated, bytes: FRAMING_BYTES + ownDeflated.length };
      },
    };
  };
  const part = sharedPart(prepared.payload);
  if (part.spliceable === false) return whole();
  const config = buildCloudConfig({ ...prepared.parts, payload: [], hostKey: input.hostKey });
  delete config.runcmd; // in the shared tail, after the payload's entries
  // The library's bytes, written directly (block-yaml.ts); the library's own call when the
  // writer declines a value.
  const yaml = writeBlockYaml(config) ?? stringify(config, BLOCK_YAML_OPTIONS);
  const own = Buffer.from(header + yaml, "utf8");
  if (part.spliceable === undefined) {
    // Once per payload: the spliced text must be the document rendered whole, byte for byte.
    const reference = whole().own;
    part.spliceable = Buffer.concat([own, part.yamlTail]).equals(reference);
    if (!part.spliceable) return whole();
  }
  const tail = { text: part.yamlTail, deflated: part.deflated };
  return {
    hash,
    own,
    tail,
    deflate: () => {
      const ownDeflated = deflateOwn(own, constants.Z_FULL_FLUSH);
      return {
        hash,
        own,
        ownDeflated,
        tail,
        bytes: FRAMING_BYTES + ownDeflated.length + tail.deflated.length,
      };
    },
  };
}

function tooLarge(input: RenderInput & { hostKey: HostKey }, bytes: number): CustomDataTooLargeError {
  const prepared = prepare(input);
  const config = buildCloudConfig({
    ...prepared.parts,
    payload: prepared.payload.files,
    hostKey: input.hostKey,
  });
  const all = contributors(config, prepared.payload.files);
  const top = all
    .slice(0, 5)
    .map((c) => `${c.name} ${c.bytes.toLocaleString("en-US")} B`)
    .join(", ");
  return new CustomDataTooLargeError(
    `customData for claw "${input.claw.name}" is ${bytes.toLocaleString("en-US")} bytes gzip'd; ` +
      `Azure accepts at most ${CUSTOM_DATA_LIMIT_BYTES.toLocaleString("en-US")} (osProfile.customData). ` +
      `Largest contributors (compressed alone): ${top}. ` +
      "Fix: shrink or remove the largest overlay files; ship large assets from an update script instead.",
    all,
  );
}

export interface MeasureOptions {
  /**
   * Measure exactly only a customData that may be larger than this many bytes: below it, `bytes`
   * is an upper bound (`atMost`), found without compressing the claw's own text. Default: always
   * exact.
   */
  exactAbove?: number;
}

export interface Measure extends Omit<RenderResult, "customData"> {
  /** `bytes` is an upper bound, at most `exactAbove` (the exact size was not needed). */
  atMost?: true;
}

/**
 * The config hash and the exact size of the customData renderCustomData would send (any host
 * key gives the size: see deflateOwn), without assembling it: what plan checks
 * for every claw. Throws CustomDataTooLargeError as renderCustomData does.
 * With `exactAbove`, a claw whose customData cannot reach that size is not compressed: deflating
 * each claw's own text was the largest part of a plan's CPU at 1000 claws.
 */
export function measureCustomData(
  input: RenderInput & { hostKey: HostKey },
  options: MeasureOptions = {},
): Measure {
  const text = ownText(input);
  if (options.exactAbove !== undefined && text.tail) {
    const atMost = FRAMING_BYTES + deflatedOwnAtMost(text.own) + text.tail.deflated.length;
    if (atMost <= options.exactAbove && atMost <= CUSTOM_DATA_LIMIT_BYTES) {
      return { configHash: text.hash, bytes: atMost, atMost: true };
    }
  }
  const pieces = text.deflate();
  if (pieces.bytes > CUSTOM_DATA_LIMIT_BYTES) throw tooLarge(input, pieces.bytes);
  return { configHash: pieces.hash, bytes: pieces.bytes };
}

/** The customData for a new VM of this claw, with its config hash. */
export function renderCustomData(input: RenderInput & { hostKey: HostKey }): RenderResult {
  const pieces = ownText(input).deflate();
  if (pieces.bytes > CUSTOM_DATA_LIMIT_BYTES) throw tooLarge(input, pieces.bytes);
  const text = pieces.tail ? [pieces.own, pieces.tail.text] : [pieces.own];
  const crc = text.reduce((value, t) => crc32(t, value), 0);
  const trailer = Buffer.alloc(GZIP_TRAILER_BYTES);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(text.reduce((n, t) => n + t.length, 0) >>> 0, 4);
  const gz = Buffer.concat([
    GZIP_HEADER,
    pieces.ownDeflated,
    ...(pieces.tail ? [pieces.tail.deflated] : []),
    trailer,
  ]);
  if (gz.length !== pieces.bytes) throw new Error("cloud-init: customData size differs from its measure");
  return { customData: gz.toString("base64"), configHash: pieces.hash, bytes: gz.length };
}

/** The #cloud-config text inside a customData string (for tests, debugging and validate). */
export function decodeCustomData(customData: string): string {
  return gunzipSync(Buffer.from(customData, "base64")).toString("utf8");
}
