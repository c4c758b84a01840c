// IPv4 / IPv6 CIDR prefixes for the VNet address space, subnet prefixes and NSG sources.

export interface Cidr {
  family: 4 | 6;
  /** Network address as a bigint (host bits as written). */
  address: bigint;
  prefix: number;
  text: string;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    v = (v << 8n) | BigInt(p);
  }
  return v;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] | undefined => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const words: number[] = [];
  const all = [...head, ...(halves.length === 2 ? ["::"] : []), ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g === "::") continue;
    if (i === all.length - 1 && g.includes(".")) {
      const v4 = parseIpv4(g);
      if (v4 === undefined) return undefined;
      words.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) {
      words.push(Number.parseInt(g, 16));
    } else return undefined;
  }
  const headWords = head.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  if (halves.length === 2) {
    if (words.length > 7) return undefined;
    words.splice(headWords, 0, ...new Array<number>(8 - words.length).fill(0));
  }
  if (words.length !== 8) return undefined;
  return words.reduce((v, w) => (v << 16n) | BigInt(w), 0n);
}

/** Parses "a.b.c.d/n" or an IPv6 prefix; a bare address is not a CIDR here. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const prefix = Number(m[2]);
  const v4 = parseIpv4(m[1]!);
  if (v4 !== undefined) return prefix <= 32 ? { family: 4, address: v4, prefix, text } : undefined;
  const v6 = parseIpv6(m[1]!);
  if (v6 !== undefined) return prefix <= 128 ? { family: 6, address: v6, prefix, text } : undefined;
  return undefined;
}

/** Parses an address (v4 or v6) without a prefix length. */
export function parseIpAddress(text: string): { family: 4 | 6; address: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, address: v4 };
  const v6 = parseIpv6(text);
  return v6 !== undefined ? { family: 6, address: v6 } : undefined;
}

const bits = (c: Pick<Cidr, "family">) => (c.family === 4 ? 32 : 128);

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(family === 4 ? 32 : 128);
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** True when the address has bits set beyond the prefix (e.g. 10.0.0.1/24). */
export function hasHostBits(c: Cidr): boolean {
  return (c.address & ~mask(c.family, c.prefix) & ((1n << BigInt(bits(c))) - 1n)) !== 0n;
}

/** The same prefix with host bits cleared, as text ("10.0.0.0/24"). */
export function networkOf(c: Cidr): string {
  const net = c.address & mask(c.family, c.prefix);
  if (c.family === 4) {
    const octets = [24n, 16n, 8n, 0n].map((s) => String((net >> s) & 0xffn));
    return `${octets.join(".")}/${c.prefix}`;
  }
  const words = Array.from({ length: 8 }, (_, i) => ((net >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `${words.join(":")}/${c.prefix}`;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const m = mask(outer.family, outer.prefix);
  return (outer.address & m) === (inner.address & m);
}

/** A prefix, or a bare address as a /32 (IPv4) or /128 (IPv6): what an NSG source may name. */
export function asCidr(text: string): Cidr | undefined {
  const c = parseCidr(text);
  if (c) return c;
  const ip = parseIpAddress(text);
  return ip ? parseCidr(`${text}/${ip.family === 4 ? 32 : 128}`) : undefined;
}
