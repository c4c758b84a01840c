import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so equal values always serialise to the same
 * text whatever order their keys were built in. `undefined` members are dropped, as JSON.stringify
 * does. Throws on values JSON cannot represent faithfully (programmer error).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case "object": {
      // Written with plain loops: plan hashes a thousand claws' fields, and building an entries
      // array, a sorted copy and a closure per object made that most of plan's CPU.
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? "" : ",") + (v === undefined ? "null" : canonicalJson(v));
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      // Array.prototype.sort's default order compares UTF-16 code units, as `<` on strings does.
      const keys = Object.keys(record).sort();
      let out = "{";
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
  }
  throw new Error(`canonicalJson: cannot serialise a ${typeof value}`);
}

/** sha256 hex of the canonical JSON of `value`, prefixed by a domain label so hashes of different kinds never collide. */
export function canonicalHash(domain: string, value: unknown): string {
  return createHash("sha256").update(`${domain}\n`).update(canonicalJson(value)).digest("hex");
}
