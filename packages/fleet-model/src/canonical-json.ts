import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so equal values always serialise to the same
 * text whatever order their keys were built in. `undefined` members are dropped, as JSON.stringify
 * does. Throws on values JSON cannot represent faithfully (programmer error).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`canonicalJson: cannot serialise a ${typeof value}`);
}

/** sha256 hex of the canonical JSON of `value`, prefixed by a domain label so hashes of different kinds never collide. */
export function canonicalHash(domain: string, value: unknown): string {
  return createHash("sha256").update(`${domain}\n`).update(canonicalJson(value)).digest("hex");
}
