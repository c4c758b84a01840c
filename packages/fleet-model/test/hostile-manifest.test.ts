// Hostile and mistaken manifests: the work stays linear in the file, repeated problems are
// counted instead of listed, and ordinary YAML mistakes are problems, never exceptions.
import { describe, expect, it } from "vitest";
import { MAX_PROBLEMS_PER_MAP, parseManifest, type WorkMeter } from "../src/manifest.ts";
import { parseSecrets } from "../src/secrets.ts";
import { BASE_LINES, manifestText as manifestWith } from "./helpers.ts";

/** BASE_LINES up to `claws:` (line 19), then `tail`. */
const withClaws = (head: string, claws: string) =>
  `${BASE_LINES.slice(0, 18).join("\n")}\n${head}claws:\n${claws}`;

/** `keys` junk keys in one anchored map, merged into `claws` claws. */
function mergedJunk(keys: number, claws: number): string {
  let head = "x-junk: &junk\n";
  for (let i = 0; i < keys; i++) head += `  junk${i}: 1\n`;
  let body = "";
  for (let i = 0; i < claws; i++) body += `  c${i}: { <<: *junk }\n`;
  return withClaws(head, body);
}

/** One claw with `keys` unknown keys of its own. */
function ownJunk(keys: number): string {
  let body = "  alice:\n";
  for (let i = 0; i < keys; i++) body += `    junk${i}: 1\n`;
  return withClaws("", body);
}

function measured(text: string) {
  const meter: WorkMeter = { steps: 0 };
  const r = parseManifest(text, "claws.yaml", meter);
  return { ...r, steps: meter.steps };
}

describe("work linear in the file", () => {
  it("locates junk merged into many claws with work that grows linearly, not with keys × claws", () => {
    const small = measured(mergedJunk(50, 25));
    const large = measured(mergedJunk(200, 100));
    // 4× the keys and 4× the claws: 16× the (key, claw) pairs, ~4× the file.
    expect(large.steps / small.steps).toBeLessThan(5);
  });

  it("reports a merged junk key once, with how many other places it reaches", () => {
    const r = parseManifest(mergedJunk(3, 99), "claws.yaml");
    const junk = r.problems.filter((p) => p.message.includes('"junk'));
    expect(junk).toHaveLength(3);
    expect(junk[0]!.line).toBe(20); // the anchored map's first key, not a claw
    expect(junk[0]!.message).toContain("98 more places");
  });

  it("caps the unknown keys of one map and counts the rest", () => {
    const r = measured(ownJunk(5000));
    const errors = r.problems.filter((p) => p.severity === "error");
    expect(errors).toHaveLength(MAX_PROBLEMS_PER_MAP + 1);
    const rest = errors.find((p) => p.message.startsWith(`${5000 - MAX_PROBLEMS_PER_MAP} more keys`));
    expect(rest).toMatchObject({ line: 20, path: "claws.alice" });
    const bigger = measured(ownJunk(20000));
    expect(bigger.steps / r.steps).toBeLessThan(4.5);
  });

  it("200 junk keys merged into 99 claws give a short list, not 19,800 problems", () => {
    const r = parseManifest(mergedJunk(200, 99), "claws.yaml");
    expect(r.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_MAP + 2);
    expect(r.problems.find((p) => p.message.startsWith("190 more keys"))?.message).toContain(
      "98 more places",
    );
  });
});

describe("YAML mistakes are problems, not exceptions", () => {
  it("a merge of a scalar anchor is an error at the merge", () => {
    const text = withClaws("x-name: &name hello\n", "  alice:\n    <<: *name\n");
    const r = parseManifest(text, "claws.yaml");
    expect(r.problems).toMatchObject([
      { line: 22, column: 9, severity: "error", message: expect.stringContaining("merges a single value") },
    ]);
  });

  it("a merge of a list of scalars or an undefined anchor is an error too", () => {
    const list = parseManifest(withClaws("x: &l [1, 2]\n", "  alice: { <<: *l }\n"), "claws.yaml");
    expect(list.problems[0]?.message).toContain("only a map can be merged");
    const missing = parseManifest(withClaws("", "  alice: { <<: [*nope] }\n"), "claws.yaml");
    expect(missing.problems.some((p) => p.severity === "error")).toBe(true);
  });

  it("a file with CR-only line endings says so instead of calling it empty or one value", () => {
    for (const text of ["\r\r\r", BASE_LINES.join("\r")]) {
      const r = parseManifest(text, "claws.yaml");
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]!.message).toContain("carriage return (CR) alone");
      expect(r.problems[0]!.fix).toContain("LF");
    }
  });
});

describe("what apply would hit, caught by the manifest check", () => {
  const fleet = (prefix: string, claws: string) =>
    `${BASE_LINES.slice(0, 18)
      .join("\n")
      .replace("subnet_prefixes: [10.0.0.0/24]", `subnet_prefixes: [${prefix}]`)}\nclaws:\n${claws}`;
  const claws = (n: number, retired = 0) =>
    Array.from({ length: n }, (_, i) => `  c${i}: {${i < retired ? " retired: true " : ""}}\n`).join("");

  it("refuses more active claws than a subnet has usable addresses (a /29 holds 3)", () => {
    const r = parseManifest(fleet("10.0.0.0/29", claws(6)), "claws.yaml");
    const errors = r.problems.filter((p) => p.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 8, path: "azure.subnet_prefixes" });
    expect(errors[0]!.message).toContain("3 usable addresses");
    expect(errors[0]!.message).toContain("6 active claws");
    expect(errors[0]!.fix).toContain("/28");
    expect(r.manifest).toBeUndefined();
  });

  it("counts only claws that are not retired", () => {
    expect(parseManifest(fleet("10.0.0.0/29", claws(3)), "claws.yaml").manifest).toBeDefined();
    expect(parseManifest(fleet("10.0.0.0/29", claws(6, 3)), "claws.yaml").manifest).toBeDefined();
    expect(parseManifest(fleet("10.0.0.0/29", claws(4)), "claws.yaml").manifest).toBeUndefined();
  });
});

describe("values a claw's .env cannot carry", () => {
  it("a bad character in defaults.model is one error at the defaults.model line, not one per claw", () => {
    const text = manifestWith({ 16: '  model: "xai/grok#4"' });
    const errors = parseManifest(text, "claws.yaml").problems.filter((p) => p.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 16, path: "defaults.model" });
    expect(errors[0]!.message).toContain(".env cannot carry");
  });

  it("a claw's own model with a space is reported at that claw's model", () => {
    const text = manifestWith({ 21: '  bob: { model: "xai/grok 4" }' });
    const errors = parseManifest(text, "claws.yaml").problems.filter((p) => p.severity === "error");
    expect(errors).toMatchObject([{ line: 21, path: "claws.bob.model" }]);
  });

  it("a secret with a space, a # or a newline is a secrets problem that never shows the value", () => {
    for (const bad of ["xai-CANARY 1", "xai-CANARY#1", "xai-CANARY\n1"]) {
      const json = JSON.stringify({
        alice: { telegram_bot_token: "123456789:AAH-tok_0123456789abcdefghijk", xai_api_key: bad },
      });
      const r = parseSecrets(json, ["alice"]);
      const errors = r.problems.filter((p) => p.severity === "error");
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toContain(
        "alice.xai_api_key contains a character the claw's .env cannot carry",
      );
      expect(JSON.stringify(errors)).not.toContain("CANARY");
    }
  });
});
