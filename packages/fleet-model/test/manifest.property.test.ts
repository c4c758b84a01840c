// Properties of parseManifest over generated manifests: valid ones, valid ones mutated, and
// hostile ones (junk keys, merges of anything, anchors, odd values, CR and tab characters).
// Whatever the input: no throw, no stack trace in any message, every problem on a line inside
// the file, and the work (counted, not timed) grows linearly with the file.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseManifest, type WorkMeter } from "../src/manifest.ts";
import { BASE_LINES } from "./helpers.ts";

/** The manifest up to `claws:` (BASE_LINES 1-18), then generated claws, then the rest. */
const HEAD = `${BASE_LINES.slice(0, 18).join("\n")}\n`;
const TAIL = `${BASE_LINES.slice(21).join("\n")}\n`;

const scalar = fc.oneof(
  fc.constantFrom(
    "Standard_D4s_v5",
    "xai/grok-4",
    "1.0.0",
    '"1.10"',
    "32",
    "true",
    "null",
    "~",
    '""',
    "[]",
    "{}",
  ),
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.stringMatching(/^[a-z][a-z0-9_.-]{0,12}$/),
);
const knownKey = fc.constantFrom(
  "vm_size",
  "model",
  "data_disk_size_gb",
  "data_disk_sku",
  "image_version",
  "retired",
  "telegram_user_id",
  "admin_username",
  "enable_trusted_launch",
);
const junkKey = fc.stringMatching(/^x?[a-z][a-z0-9_]{0,10}$/);
const entry = fc.tuple(fc.oneof(knownKey, junkKey), scalar).map(([k, v]) => `${k}: ${v}`);

/** One claw: a flow map of entries, sometimes merging an anchor (which may not be a map). */
const claw = fc.record({
  entries: fc.array(entry, { maxLength: 8 }),
  merge: fc.constantFrom(undefined, "*map", "*scalar", "*list", "[*map, *scalar]", "*undefined"),
});
const clawName = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);

/** Anchors the claws may merge: a map of junk and known keys, a scalar, a list. */
const anchors = fc
  .array(entry, { maxLength: 30 })
  .map(
    (entries) =>
      `x-map: &map { ${[...new Set(entries.map((e) => e.split(":")[0]))].map((k) => `${k}: 1`).join(", ")} }\nx-scalar: &scalar hello\nx-list: &list [1, 2]\n`,
  );

function clawsText(claws: { name: string; entries: string[]; merge: string | undefined }[]): string {
  return claws
    .map(({ name, entries, merge }) => {
      const items = [...(merge ? [`<<: ${merge}`] : []), ...entries];
      return `  ${name}: { ${items.join(", ")} }\n`;
    })
    .join("");
}

const fleet = fc.record({
  anchors,
  claws: fc.uniqueArray(fc.tuple(clawName, claw), { selector: ([n]) => n, maxLength: 12 }),
});
type Fleet = { anchors: string; claws: [string, { entries: string[]; merge: string | undefined }][] };

function fleetText(f: Fleet, copies = 1): string {
  const claws = [];
  for (let c = 0; c < copies; c++)
    for (const [name, body] of f.claws) claws.push({ name: `${name}-${c}`, ...body });
  return `${f.anchors}${HEAD}claws:\n${clawsText(claws)}${TAIL}`;
}

/** Edits that turn text hostile: YAML indicators, anchors and aliases, CR, tabs, deep flow nesting. */
const damage = fc.constantFrom(
  "<<: *map",
  "<<: *scalar",
  "&a ",
  "*a",
  "*nope",
  "\r",
  "\t",
  "\r\n",
  ": ",
  "- ",
  "{",
  "}",
  "[",
  "]",
  "#",
  "'",
  '"',
  "? ",
  "!!binary ",
  "!!str ",
  "%YAML 1.1\n",
  "---\n",
  "\u00e9\u{1F600}",
  "[".repeat(200),
);

function check(text: string, meter?: WorkMeter) {
  const lines = text.split("\n").length;
  const r = parseManifest(text, "claws.yaml", meter);
  for (const p of r.problems) {
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.line).toBeLessThanOrEqual(lines);
    expect(p.column).toBeGreaterThanOrEqual(1);
    expect(p.file).toBe("claws.yaml");
    expect(p.message.length).toBeGreaterThan(0);
    // A stack frame or a raw exception in a message means something threw and was stringified.
    expect(`${p.message} ${p.fix ?? ""}`).not.toMatch(/\n\s+at \S|\bat .*\.(js|ts):\d+|TypeError|RangeError/);
  }
  return r;
}

describe("parseManifest over generated manifests", () => {
  it("valid and hostile manifests: no throw, no stack trace, every problem on a line of the file", () => {
    fc.assert(
      fc.property(fleet, (f) => {
        check(fleetText(f));
      }),
      { numRuns: 120 },
    );
  });

  it("mutated manifests: the same, whatever is inserted or cut", () => {
    fc.assert(
      fc.property(
        fleet,
        fc.array(fc.tuple(fc.nat(), fc.nat(20), damage), { minLength: 1, maxLength: 4 }),
        (f, edits) => {
          let text = fleetText(f);
          for (const [at, cut, insert] of edits) {
            const i = at % (text.length + 1);
            text = text.slice(0, i) + insert + text.slice(i + cut);
          }
          check(text);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("work grows linearly: four copies of the claws cost at most about four times one copy", () => {
    fc.assert(
      fc.property(fleet, (f) => {
        const one: WorkMeter = { steps: 0 };
        const four: WorkMeter = { steps: 0 };
        check(fleetText(f, 1), one);
        check(fleetText(f, 4), four);
        // The fixed part (azure, defaults, anchors) is counted once in both: 4× plus slack.
        expect(four.steps).toBeLessThanOrEqual(4 * one.steps + 200);
      }),
      { numRuns: 50 },
    );
  });
});
