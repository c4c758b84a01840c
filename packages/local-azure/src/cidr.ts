// IPv4 CIDR arithmetic for subnet checks and private IP assignment.

export interface Cidr {
  network: number;
  prefix: number;
  size: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const size = 2 ** (32 - prefix);
  const network = prefix === 0 ? 0 : (ip & (~(size - 1) >>> 0)) >>> 0;
  return { network, prefix, size };
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.network >= outer.network && inner.network + inner.size <= outer.network + outer.size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

export function ipToString(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");
}

export function ipToNumber(text: string): number {
  const parts = text.split(".").map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
