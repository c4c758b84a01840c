// The small pieces the manifest rules are made of.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { azureNameProblem } from "../src/azure-names.ts";
import { canonicalJson } from "../src/canonical-json.ts";
import { cidrContains, hasHostBits, networkOf, parseCidr, parseIpAddress } from "../src/cidr.ts";
import { didYouMean, editDistance } from "../src/did-you-mean.ts";
import { scanJson } from "../src/json-source.ts";
import { chooseAdminKey, openSshPublicKeyProblem } from "../src/openssh-key.ts";
import { decodeSource, firstInvalidUtf8 } from "../src/source-text.ts";
import { ED25519_KEY, rsaKeyLine } from "./helpers.ts";

describe("CIDR prefixes", () => {
  it("parses IPv4 and IPv6 prefixes", () => {
    expect(parseCidr("10.0.0.0/16")).toMatchObject({ family: 4, prefix: 16 });
    expect(parseCidr("fd00:db8::/64")).toMatchObject({ family: 6, prefix: 64 });
    expect(parseCidr("::ffff:10.0.0.0/120")).toMatchObject({ family: 6, prefix: 120 });
    for (const bad of [
      "10.0.0.0",
      "10.0.0/16",
      "256.0.0.0/8",
      "10.0.0.0/33",
      "1::2::3/64",
      "fd00::/129",
      "010.0.0.0/8",
      "10.0.0.0/ 8",
    ]) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it("tells whether one prefix lies inside another", () => {
    const space = parseCidr("10.0.0.0/16")!;
    expect(cidrContains(space, parseCidr("10.0.255.0/24")!)).toBe(true);
    expect(cidrContains(space, parseCidr("10.1.0.0/24")!)).toBe(false);
    expect(cidrContains(space, parseCidr("10.0.0.0/8")!)).toBe(false);
    expect(cidrContains(space, parseCidr("fd00::/64")!)).toBe(false);
    expect(cidrContains(parseCidr("fd00::/48")!, parseCidr("fd00:0:0:1::/64")!)).toBe(true);
  });

  it("finds host bits and the network address", () => {
    const c = parseCidr("10.0.3.7/22")!;
    expect(hasHostBits(c)).toBe(true);
    expect(networkOf(c)).toBe("10.0.0.0/22");
    expect(hasHostBits(parseCidr("10.0.4.0/22")!)).toBe(false);
  });

  it("parses bare addresses", () => {
    expect(parseIpAddress("203.0.113.7")).toMatchObject({ family: 4 });
    expect(parseIpAddress("2001:db8::1")).toMatchObject({ family: 6 });
    expect(parseIpAddress("example.com")).toBeUndefined();
  });
});

describe("Azure names", () => {
  it.each([
    ["networkInterface", "alice-nic", undefined],
    ["networkInterface", "-alice-nic", /must start with a letter or digit/],
    ["networkInterface", "alice-nic.", /must end with a letter, digit or underscore/],
    ["disk", `${"a".repeat(76)}-data`, /81 characters; the limit is 80/],
    ["publicIp", "alice pip", /contains whitespace/],
    ["virtualMachine", "_alice", /must start with anything but an underscore/],
    ["virtualMachine", "alice-", /must end with anything but a period or hyphen/],
    ["virtualMachine", "al@ice", /contains "@"/],
    ["linuxComputerName", "alice.example", /contains "\."/],
    ["gallery", "claw.gallery_1", undefined],
    ["resourceGroup", "rg-(claws)", undefined],
    ["galleryImage", "claw-desktop-gpu", undefined],
    // Characters outside the BMP and lone surrogates, judged one by one (whole-name check or not).
    ["disk", "alice\u{1F600}-data", /contains "\uD83D\uDE00"; allowed are letters/],
    ["disk", "alice\uD800-data", /contains "\uD800"/],
    ["virtualMachine", "al\u{1F600}ice", undefined],
    // ...and at either end: not taken for a period, hyphen or underscore.
    ["virtualMachine", "\u{1F600}alice\u{1F600}", undefined],
    ["virtualMachine", "\u{1F600}alice-", /must end with anything but a period or hyphen/],
    ["resourceGroup", "rg-\u{1D400}", undefined],
    ["virtualMachine", "al ice\u{1F600}\t#", /contains whitespace, whitespace, "#"/],
    ["resourceGroup", "rg-\u00e9t\u00e9-\u{1D400}x", undefined],
    ["resourceGroup", "rg-\uDC00", /contains "\uDC00"/],
    ["keyVault", "kv-cl\u00e4ws", /contains "\u00e4"/],
  ] as const)("%s %j", (kind, name, expected) => {
    const problem = azureNameProblem(kind, name);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });
});

describe("did-you-mean", () => {
  it("measures edits with transpositions", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("vm_szie", "vm_size")).toBe(1);
  });

  it("suggests close keys, whole-word matches, and nothing far off", () => {
    expect(didYouMean("vmsize", ["vm_size", "model"])).toBe("vm_size");
    expect(didYouMean("Data-Disk-SKU", ["data_disk_sku", "data_disk_size_gb"])).toBe("data_disk_sku");
    expect(didYouMean("telegram_token", ["telegram_bot_token", "xai_api_key"])).toBe("telegram_bot_token");
    expect(didYouMean("colour", ["vm_size", "model"])).toBeUndefined();
  });
});

describe("OpenSSH public keys", () => {
  it("accepts ed25519 and RSA of 2048 bits or more", () => {
    expect(openSshPublicKeyProblem(ED25519_KEY)).toBeUndefined();
    expect(openSshPublicKeyProblem(rsaKeyLine(4096))).toBeUndefined();
    expect(openSshPublicKeyProblem(rsaKeyLine(2047))).toMatch(/2047 bits/);
  });

  it("refuses a key whose data says another type than its label", () => {
    const [, b64] = ED25519_KEY.split(" ");
    expect(openSshPublicKeyProblem(`ssh-rsa ${b64}`)).toMatch(/not an ssh-rsa public key/);
  });

  it("refuses PuTTY-format and multi-line keys", () => {
    expect(
      openSshPublicKeyProblem("---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----"),
    ).toMatch(/ssh-keygen -i/);
    expect(openSshPublicKeyProblem("ssh-ed25519")).toMatch(/expected one line/);
  });
});

describe("canonical JSON", () => {
  it("sorts keys at every level and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("refuses values JSON cannot hold", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson([1, () => 1])).toThrow("canonicalJson: cannot serialise a function");
    expect(() => canonicalJson({ b: 1n, a: Infinity })).toThrow("canonicalJson: non-finite number Infinity");
    // The first value in key order is the one named, whether or not an index key is beside it.
    expect(() => canonicalJson({ b: Number.NaN, a: 1n, 7: 1 })).toThrow("cannot serialise a bigint");
  });

  it("writes index keys and __proto__ in sorted order too, which an object's own key order is not", () => {
    expect(canonicalJson({ b: { 10: "x", 9: "y", a: [{ 2: 1, 1: 2 }] }, a: 1 })).toBe(
      '{"a":1,"b":{"10":"x","9":"y","a":[{"1":2,"2":1}]}}',
    );
    expect(canonicalJson(JSON.parse('{"z": 1, "__proto__": {"b": 1, "a": 2}}'))).toBe(
      '{"__proto__":{"a":2,"b":1},"z":1}',
    );
    // toJSON is a key like any other: not called.
    expect(canonicalJson({ d: new Date(0), x: { toJSON: "t" } })).toBe('{"d":{},"x":{"toJSON":"t"}}');
  });

  it("is the text of its definition for any JSON value (config and plan hashes depend on every byte)", () => {
    // The definition, as first written: sorted entries, undefined members dropped.
    const reference = (value: unknown): string => {
      if (value === null || typeof value !== "object") return JSON.stringify(value);
      if (Array.isArray(value))
        return `[${value.map((v) => (v === undefined ? "null" : reference(v))).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`;
    };
    const keys = fc.oneof(fc.string(), fc.constantFrom("0", "10", "9", "é", "😀", 'a"b', "__proto__x"));
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.constant(null),
        fc.constant(undefined),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.string(),
        fc.string({ unit: "grapheme" }),
      ),
      node: fc.oneof(
        { maxDepth: 4 },
        tie("leaf"),
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(keys, tie("node"), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.oneof(fc.array(value), fc.dictionary(keys, value)), (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 500 },
    );
  });
});

describe("UTF-8 check", () => {
  it("finds overlong encodings, surrogates and stray continuation bytes", () => {
    expect(firstInvalidUtf8(Buffer.from("héllo ✓ 😀"))).toBe(-1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2);
    expect(firstInvalidUtf8(Buffer.from([0x80]))).toBe(0);
  });

  it("decodeSource's native check and the byte walk agree on which bytes are UTF-8", () => {
    // Bytes near the edges of the encoding: lead bytes, continuation bytes, surrogates, overlongs.
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(
        0x80,
        0xbf,
        0xc0,
        0xc1,
        0xc2,
        0xdf,
        0xe0,
        0xed,
        0xef,
        0xf0,
        0xf4,
        0xf5,
        0xa0,
        0x9f,
        0x8f,
        0x90,
      ),
    );
    const check = (input: Uint8Array) => {
      // Without byte-order marks (decodeSource refuses UTF-16 ones and drops the UTF-8 one).
      let bytes = input;
      while (bytes[0] === 0xef || bytes[0] === 0xfe || bytes[0] === 0xff) bytes = bytes.subarray(1);
      const decoded = decodeSource(bytes, 1024, "the manifest");
      const bad = firstInvalidUtf8(bytes);
      expect(decoded.ok).toBe(bad === -1);
      if (!decoded.ok) expect(decoded.message).toContain(`at byte offset ${bad})`);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 12 }), (a) => check(Uint8Array.from(a))),
      {
        numRuns: 5000,
      },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (t) => check(Buffer.from(t.replace(/^\uFEFF/, "")))),
      { numRuns: 1000 },
    );
  });
});

describe("JSON scanner", () => {
  it("records key positions and duplicate keys", () => {
    const scan = scanJson('{"a": {"b": 1}, "a": 2}');
    expect(scan.error).toBeUndefined();
    expect(scan.keys.get("a\u0000b")).toEqual({ start: 7, end: 10 });
    expect(scan.duplicates.map((d) => d.path)).toEqual([["a"]]);
  });

  it("reads escapes in keys as JSON.parse does: the same key written two ways is a duplicate", () => {
    const text = '{"a\\nb\\\\\\"\\t": 1, "a\\u000ab\\u005c\\u0022\\u0009": 2, "\\b\\f\\r\\/": {"x": 3}}';
    const keys = Object.keys(JSON.parse(text));
    expect(keys).toEqual(['a\nb\\"\t', "\b\f\r/"]);
    const scan = scanJson(text);
    expect(scan.duplicates.map((d) => d.path)).toEqual([[keys[0]]]);
    expect(scan.keys.has(`${keys[1]}\u0000x`)).toBe(true);
  });

  it("agrees with JSON.parse on what is valid", () => {
    for (const text of [
      '{"a":[1,2.5e3,-0,true,null,"\\u00e9\\n"]}',
      "[]",
      '"x"',
      "1",
      "{",
      '{"a":}',
      "[1,]",
      "01",
      '{"a":1}x',
      '"\t"',
      "tru",
    ]) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(scanJson(text).error === undefined, text).toBe(valid);
    }
  });
});

describe("chooseAdminKey", () => {
  it("takes the manifest's key, else the input's (a seed-era manifest has none)", () => {
    expect(chooseAdminKey(ED25519_KEY, "")).toEqual({ key: ED25519_KEY, source: "manifest" });
    expect(chooseAdminKey(undefined, ` ${ED25519_KEY}\n`)).toEqual({ key: ED25519_KEY, source: "input" });
    expect(chooseAdminKey(undefined, "")).toEqual({ source: "none" });
  });

  it("refuses an unusable input without echoing it, and says when the input is overridden", () => {
    const refused = chooseAdminKey(undefined, "-----BEGIN OPENSSH PRIVATE KEY----- abc");
    expect(refused.source).toBe("none");
    expect(refused.problem).toMatch(/this is a private key/);
    expect(refused.problem).not.toContain("abc");
    expect(chooseAdminKey(ED25519_KEY, rsaKeyLine(4096)).problem).toMatch(
      /differs from ssh\.admin_public_key/,
    );
  });
});
