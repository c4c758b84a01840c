import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so equal values always serialise to the same
 * text whatever order their keys were built in. `undefined` members are dropped, as JSON.stringify
 * does. Throws on values JSON cannot represent faithfully (programmer error).
 */
export function canonicalJson(value: unknown): string {
  // A copy whose objects hold their keys in sorted order is written by JSON.stringify itself:
  // plan hashes a thousand claws' fields (a megabyte of text), and building that text piece by
  // piece in JavaScript, then flattening it for the hash, was most of planFleet's CPU.
  const copy = sortedCopy(value);
  return copy === KEPT_IN_PLACE ? written(value) : JSON.stringify(copy);
}

/** What sortedCopy returns for a value with a key JSON.stringify would not write in sorted order. */
const KEPT_IN_PLACE: unique symbol = Symbol("kept in place");

/**
 * Keys a plain object cannot hold in the order they are added: array indexes ("0", "10"), which
 * every object lists first in numeric order, and `__proto__`, which assignment does not create.
 */
const UNORDERED_KEY = /^(?:0|[1-9]\d*|__proto__)$/;

/**
 * `value` with every object's keys added in sorted order (Array.prototype.sort's default order, by
 * UTF-16 code units, as `<` on strings), `undefined` members dropped and `undefined` array items
 * as null: what JSON.stringify then writes is canonicalJson's text. Throws what `written` throws,
 * at the same value (both walk in the same order); KEPT_IN_PLACE when a key would be out of order.
 */
function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
      return value;
    case "object": {
      if (value === null) return null;
      // Index loops and arrays built by push (packed, not holey): this runs once per value of a
      // thousand claws' plans.
      if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          const c = v === undefined ? null : typeof v === "string" ? v : sortedCopy(v);
          if (c === KEPT_IN_PLACE) return KEPT_IN_PLACE;
          out.push(c);
        }
        return out;
      }
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const keys = Object.keys(record);
      if (keys.length > 1) keys.sort();
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const first = key.charCodeAt(0);
        // A digit or "_" first: checked in full (claw fields start with letters).
        if ((first <= 0x39 || first === 0x5f) && UNORDERED_KEY.test(key)) return KEPT_IN_PLACE;
        const v = record[key];
        if (v === undefined) continue;
        const c = typeof v === "string" ? v : sortedCopy(v);
        if (c === KEPT_IN_PLACE) return KEPT_IN_PLACE;
        out[key] = c;
      }
      return out;
    }
  }
  throw new Error(`canonicalJson: cannot serialise a ${typeof value}`);
}

/** canonicalJson's text written out piece by piece: for values sortedCopy cannot order. */
function written(value: unknown): string {
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
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i];
          out += (i === 0 ? "" : ",") + (v === undefined ? "null" : written(v));
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
        out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${written(v)}`;
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
