// Hostile and mistaken manifests: the work stays linear in the file, repeated problems are
// counted instead of listed, and ordinary YAML mistakes are problems, never exceptions.
import { describe, expect, it } from "vitest";
import { MAX_PROBLEMS_PER_MAP, parseManifest, type WorkMeter } from "../src/manifest.ts";
import { BASE_LINES } from "./helpers.ts";

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
