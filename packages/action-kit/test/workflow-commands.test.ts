// workflow-commands.ts against @actions/core (a devDependency for this test only): for arbitrary
// messages, annotation properties, outputs and inputs, both write the same bytes.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as core from "@actions/core";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { parseOutputFile } from "../src/testing.ts";
import * as wc from "../src/workflow-commands.ts";
import { captureStdout } from "./capture-stdout.ts";

const dir = mkdtempSync(join(tmpdir(), "workflow-commands-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  process.exitCode = undefined;
});

// Text with what the escapes are about: %, CR, LF, `:` and `,` (properties), `::` and unicode.
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom("%", "\r", "\n", ":", ",", " ", "a", "=", "<", "é", "💥", "::") }),
  fc.string({ unit: "grapheme" }),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const props = fc.record(
  {
    title: optional(text),
    file: optional(text),
    startLine: optional(fc.nat()),
    endLine: optional(fc.nat()),
    startColumn: optional(fc.nat()),
    endColumn: optional(fc.nat()),
  },
  { requiredKeys: [] },
);

/** Both implementations' stdout for the same call. */
function both(call: (impl: typeof wc | typeof core) => void): [string, string] {
  return [captureStdout(() => call(core)), captureStdout(() => call(wc))];
}

describe("workflow commands, byte for byte as @actions/core", () => {
  it("annotations with any message and properties", () => {
    fc.assert(
      fc.property(text, props, fc.constantFrom("error", "warning", "notice"), (message, p, level) => {
        const [theirs, ours] = both((impl) => impl[level](message, p));
        expect(ours).toBe(theirs);
      }),
    );
  });

  it("annotations without properties and from an Error", () => {
    fc.assert(
      fc.property(text, (message) => {
        for (const level of ["error", "warning", "notice"] as const) {
          const [theirs, ours] = both((impl) => impl[level](message));
          expect(ours).toBe(theirs);
          const err = new TypeError(message);
          const [theirError, ourError] = both((impl) => impl[level](err));
          expect(ourError).toBe(theirError);
        }
      }),
    );
  });

  it("info, debug, groups and masks", () => {
    fc.assert(
      fc.property(text, (message) => {
        for (const name of ["info", "debug", "startGroup", "setSecret"] as const) {
          const [theirs, ours] = both((impl) => impl[name](message));
          expect(ours).toBe(theirs);
        }
        const [theirs, ours] = both((impl) => impl.endGroup());
        expect(ours).toBe(theirs);
      }),
    );
  });

  it("group() brackets the work and closes the group when it throws", async () => {
    const run = async (impl: typeof wc | typeof core) => {
      const chunks: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((c: string) => chunks.push(String(c)) > 0) as typeof write;
      try {
        await impl.group("title, with: %", async () => {
          impl.info("inside");
          throw new Error("boom");
        });
      } catch {
        // expected
      } finally {
        process.stdout.write = write;
      }
      return chunks.join("");
    };
    expect(await run(wc)).toBe(await run(core));
    expect(await run(wc)).toBe("::group::title, with: %25\ninside\n::endgroup::\n");
  });

  it("setFailed: the same error line and exit code 1", () => {
    fc.assert(
      fc.property(text, (message) => {
        const theirs = captureStdout(() => core.setFailed(message));
        const theirCode = process.exitCode;
        process.exitCode = undefined;
        const ours = captureStdout(() => wc.setFailed(message));
        expect(ours).toBe(theirs);
        expect(process.exitCode).toBe(theirCode);
        expect(process.exitCode).toBe(1);
        process.exitCode = undefined;
      }),
    );
  });

  it("outputs in the GITHUB_OUTPUT file: the same block but for the random delimiter", () => {
    const file = join(dir, "output");
    process.env.GITHUB_OUTPUT = file;
    const delimiter = /ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,20}$/), text, (name, value) => {
        const written = (impl: typeof wc | typeof core) => {
          writeFileSync(file, "");
          impl.setOutput(name, value);
          return readFileSync(file, "utf8");
        };
        const theirs = written(core);
        const ours = written(wc);
        expect(ours.match(delimiter)).toHaveLength(2);
        expect(ours.replace(delimiter, "D")).toBe(theirs.replace(delimiter, "D"));
        // And the runner reads the value back as it was given (LF-only values: the runner splits lines on LF).
        if (!value.includes("\r")) expect(parseOutputFile(ours)[name]).toBe(value);
      }),
    );
  });

  it("outputs without GITHUB_OUTPUT: the deprecated set-output command", () => {
    delete process.env.GITHUB_OUTPUT;
    fc.assert(
      fc.property(text, text, (name, value) => {
        const [theirs, ours] = both((impl) => impl.setOutput(name, value));
        expect(ours).toBe(theirs);
      }),
    );
  });

  it("refuses an output value holding its delimiter", () => {
    expect(() => wc.keyValueMessage("x", "a ghadelimiter_u b", "u")).toThrow(
      /should not contain the delimiter/,
    );
  });

  it("reads inputs as @actions/core does: name mapping, trimming, required", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z -]{0,12}$/),
        text,
        fc.boolean(),
        fc.boolean(),
        (name, value, required, trimWhitespace) => {
          process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
          const options = { required, trimWhitespace };
          const read = (impl: typeof wc | typeof core) => {
            try {
              return impl.getInput(name, options);
            } catch (err) {
              return `threw ${(err as Error).message}`;
            }
          };
          expect(read(wc)).toBe(read(core));
        },
      ),
    );
    expect(() => wc.getInput("absent", { required: true })).toThrow(
      "Input required and not supplied: absent",
    );
  });

  it("appends to the job summary as core.summary.addRaw().write() does", async () => {
    const file = join(dir, "summary.md");
    process.env.GITHUB_STEP_SUMMARY = file;
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 4 }), async (parts) => {
        writeFileSync(file, "");
        for (const p of parts) await core.summary.addRaw(p).write();
        const theirs = readFileSync(file, "utf8");
        writeFileSync(file, "");
        for (const p of parts) await wc.appendSummary(p);
        expect(readFileSync(file, "utf8")).toBe(theirs);
      }),
      { numRuns: 30 },
    );
    delete process.env.GITHUB_STEP_SUMMARY;
    await expect(wc.appendSummary("x")).rejects.toThrow(/GITHUB_STEP_SUMMARY/);
  });
});

describe("@actions/core", () => {
  it("is imported by no package or action source: each action would load it (and undici) at start", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const sources = ["actions", "packages"].flatMap((top) =>
      readdirSync(join(root, top)).flatMap((name) => {
        const src = join(root, top, name, "src");
        if (!existsSync(src)) return [];
        return readdirSync(src, { recursive: true, encoding: "utf8" })
          .filter((f) => /\.[cm]?[jt]s$/.test(f))
          .map((f) => join(src, f));
      }),
    );
    expect(sources.length).toBeGreaterThan(50);
    const importers = sources.filter((file) =>
      /(from\s+|import\s*\(\s*|require\s*\(\s*)["']@actions\/core["']/.test(readFileSync(file, "utf8")),
    );
    expect(importers.map((f) => f.slice(root.length))).toEqual([]);
  });
});
