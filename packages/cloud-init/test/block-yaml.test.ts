import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { BLOCK_YAML_OPTIONS, writeBlockYaml } from "../src/block-yaml.ts";
import { buildCloudConfig, type CloudConfigParts, RUNCMD } from "../src/cloud-config.ts";
import {
  collectPayload,
  decodeCustomData,
  generateHostKey,
  measureCustomData,
  type PayloadFile,
  renderCustomData,
  renderSecretsEnv,
  renderSettingsEnv,
} from "../src/index.ts";
import { ADMIN_KEY, claw, fleet, input, SECRETS, VM_RUNTIME } from "./fixtures.ts";

const library = (value: unknown) => stringify(value, BLOCK_YAML_OPTIONS);

/**
 * Text of only blanks and line breaks, with a blank on some line: the library writes it as a
 * block scalar whose blank lines read back as indentation (`{ a: " \n" }` parses back as
 * `{ a: "\n" }`). The writer writes the same bytes; it is left out of the read-back check only.
 */
function holdsBlankBlock(value: unknown): boolean {
  if (typeof value === "string")
    return /^[ \t\n]*$/.test(value) && value.includes("\n") && /[ \t]/.test(value);
  if (value && typeof value === "object") return Object.values(value).some(holdsBlankBlock);
  return false;
}

/**
 * The writer either declines (undefined: the caller uses the library) or writes the library's
 * bytes, which parse back to the value.
 */
function expectLibraryBytes(value: unknown): string | undefined {
  const written = writeBlockYaml(value);
  if (written !== undefined) {
    expect(written).toBe(library(value));
    if (!holdsBlankBlock(value)) expect(parse(written)).toEqual(value);
  }
  return written;
}

// Pieces that decide a scalar's style: indicators, line breaks and blanks at either end, words
// and numbers YAML reads as something else, document markers, escapes, non-ASCII.
const PIECES = [
  "a",
  "Z",
  "0",
  "1.5",
  "-1",
  "+2",
  "0x1F",
  "0o17",
  "1e3",
  ".5",
  ".inf",
  "-.Inf",
  ".NaN",
  "12:30",
  "yes",
  "no",
  "on",
  "off",
  "y",
  "n",
  "true",
  "True",
  "FALSE",
  "null",
  "Null",
  "NULL",
  "~",
  " ",
  "  ",
  "\t",
  "\n",
  "\n\n",
  "\r",
  "\r\n",
  ":",
  ": ",
  " #",
  "#",
  "-",
  "- ",
  "--",
  "---",
  "...",
  "?",
  "? ",
  "%",
  "@",
  "`",
  "!",
  "&",
  "*",
  "|",
  ">",
  "'",
  '"',
  "\\",
  "\\n",
  ",",
  "[",
  "]",
  "{",
  "}",
  "=",
  "/",
  "é",
  "ü",
  "中",
  "💥",
  "\u00a0",
  "\u0085",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\x00",
  "\x07",
  "\x0b",
  "\x1b",
  "\x7f",
  "\x9f",
  "\ud83d",
  "\udca5",
  "\ud800",
  "\udfff",
];

const text: fc.Arbitrary<string> = fc.oneof(
  // Dense in the characters whose neighbours decide a style (": ", ":\t", " #", "\n\t", ...).
  {
    weight: 4,
    arbitrary: fc.string({
      unit: fc.constantFrom("a", " ", "\t", "\n", ":", "#", "-", "?", "'", '"'),
      maxLength: 8,
    }),
  },
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(...PIECES), maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 40 }) },
  // Multi-line texts such as env files and scripts, with their ends and starts varied.
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom("", " ", "\n", "\n\n", "  x\n", "\t"),
        fc.array(
          fc.string({ unit: fc.constantFrom("A", "=", "b", " ", "#", ":", "-", "'", '"'), maxLength: 10 }),
          {
            maxLength: 5,
          },
        ),
        fc.constantFrom("", "\n", "\n\n", "\n\n\n", " ", "\n ", "\t\n", " \n\n"),
      )
      .map(([start, lines, end]) => start + lines.join("\n") + end),
  },
);

/** Keys as the cloud-config has them, and keys the library writes some other way. */
const key = fc.oneof(
  fc.constantFrom("name", "path", "content", "ed25519_private", "_x", "A1"),
  fc.constantFrom("true", "null", "Yes", "on", "1", "0x1", "a b", "a:b", "-", "", "#", "é"),
  fc.string({ unit: "grapheme-ascii", maxLength: 6 }),
);

/** Mappings, sequences, strings and booleans nested as deep as the cloud-config and deeper. */
const tree = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    text,
    fc.boolean(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  ),
  document: fc.oneof(
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  ),
})).document;

const payloadFile = fc.record({
  destination: text,
  mode: fc.oneof(fc.constantFrom("0644", "0755", "0600"), text),
  // writeFile takes text as it is and bytes as UTF-8 text or base64.
  content: fc.oneof(
    text,
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  ),
});

/** buildCloudConfig's parts with any text in every place the document has one. */
const parts: fc.Arbitrary<CloudConfigParts> = fc.record(
  {
    claw: text,
    adminUsername: text,
    adminPublicKey: text,
    hostKey: fc.record({ privateKey: text, publicKey: text, fingerprint: text }),
    secretsEnv: text,
    keyVaultEnv: text,
    settingsEnv: text,
    payload: fc.array(
      payloadFile.map((f) => ({ path: "x", origin: "shipped", source: "x", ...f }) as unknown as PayloadFile),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ["claw", "adminUsername", "adminPublicKey", "settingsEnv", "payload"] },
);

describe("the block YAML writer", () => {
  it("writes a scalar in any position as the library does, or leaves it to the library", () => {
    fc.assert(
      fc.property(text, (value) => {
        expectLibraryBytes({ a: value });
        expectLibraryBytes({ a: { b: value, c: [value, [value]] } });
        expectLibraryBytes([value, { d: [{ e: value }] }]);
        expectLibraryBytes({ f: [value, value], g: value });
      }),
      { numRuns: 2000 },
    );
  });

  it("writes any tree of mappings, sequences, strings and booleans as the library does, or leaves it", () => {
    fc.assert(
      fc.property(tree, (doc) => void expectLibraryBytes(doc)),
      { numRuns: 1000 },
    );
  });

  it("writes cloud-configs with any text in every field as the library does, or leaves them", () => {
    fc.assert(
      fc.property(parts, fc.boolean(), (p, withRuncmd) => {
        const config = buildCloudConfig(p);
        if (!withRuncmd) delete config.runcmd;
        expectLibraryBytes(config);
      }),
      { numRuns: 500 },
    );
  });

  it("declines only what it cannot write: any text without control characters or a blank last line", () => {
    const writable = text.filter(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters the library escapes.
      (t) => !/[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u.test(t) && !/\n[\t ]+$/.test(t),
    );
    fc.assert(
      fc.property(writable, (value) => {
        expect(expectLibraryBytes({ a: [value, { b: value }] })).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("writes the documents of the test fixtures as the library does, without falling back", () => {
    const payload = collectPayload(VM_RUNTIME).files;
    const hostKey = generateHostKey();
    const settings = renderSettingsEnv(claw("alice"));
    const base = {
      claw: "alice",
      adminUsername: "azureuser",
      adminPublicKey: ADMIN_KEY,
      settingsEnv: settings,
    };
    const documents = [
      buildCloudConfig({ ...base, secretsEnv: renderSecretsEnv("alice", SECRETS), payload, hostKey }),
      buildCloudConfig({
        ...base,
        keyVaultEnv: "KEY_VAULT_URL=https://v.vault.azure.net/\n",
        payload,
        hostKey,
      }),
      buildCloudConfig({ ...base, secretsEnv: "sha256:0123abcd", payload }),
      { write_files: buildCloudConfig({ ...base, payload }).write_files, runcmd: RUNCMD },
    ];
    for (const doc of documents) expect(expectLibraryBytes(doc)).toBeDefined();
  });

  it("leaves values it does not write to the library", () => {
    for (const doc of [
      { a: 1 },
      { a: null },
      { a: undefined },
      { a: new Date(0) },
      { a: "bell\x07" },
      { a: "last line blank\n  " },
      { true: "x" },
      { "a b": "x" },
      "top-level text",
    ]) {
      expect(writeBlockYaml(doc)).toBeUndefined();
    }
  });
});

describe("a claw's customData", () => {
  it("holds the library's document, whether the writer wrote the claw's part or declined it", () => {
    const payload = collectPayload(VM_RUNTIME);
    // The run's first claw checks the splice once; the others are written (or declined) unchecked.
    const claws: [name: string, adminUsername: string, adminKey: string][] = [
      ["alice", "azureuser", ADMIN_KEY],
      ["bob", "0123", `${ADMIN_KEY} # comment`],
      ["carol", "yes", `'${ADMIN_KEY}`],
      ["dave", "azureuser", `${ADMIN_KEY}\x07`], // a control character: the library writes it
    ];
    for (const [name, adminUsername, adminKey] of claws) {
      const c = claw(name, { admin_username: adminUsername });
      const hostKey = generateHostKey();
      const rendered = input({ claw: c, fleet: fleet([c], adminKey), payload });
      const result = renderCustomData({ ...rendered, hostKey });
      const text = decodeCustomData(result.customData);
      const config = buildCloudConfig({
        claw: name,
        adminUsername,
        adminPublicKey: adminKey,
        hostKey,
        secretsEnv: renderSecretsEnv(name, SECRETS),
        settingsEnv: renderSettingsEnv(c),
        payload: payload.files,
      });
      expect(text.slice(text.indexOf("\nusers:\n") + 1), name).toBe(library(config));
      expect(measureCustomData({ ...rendered, hostKey: generateHostKey() }).bytes, name).toBe(result.bytes);
    }
  });
});
