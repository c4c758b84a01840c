import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, hasStackTrace, PATH_WITHOUT_TOOLS, runValidate } from "./run-action.ts";

// Every malformed manifest gets one clear problem at a place in claws.yaml, a failed step and
// no stack trace. Large inputs are generated here rather than committed.
const seed = readFileSync(join(FIXTURES, "seed/fleet/claws.yaml"), "utf8");

interface Case {
  name: string;
  content: () => string | Buffer;
  /** The first annotation, in full. */
  first: RegExp;
}

const CASES: Case[] = [
  {
    name: "YAML that does not parse (an unclosed flow sequence)",
    content: () => "azure:\n  location: [westus\n",
    first:
      /^::error title=manifest,file=claws\.yaml,line=3,endLine=3,col=1,endColumn=1::YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
  },
  {
    name: "tabs used for indentation",
    content: () => "azure:\n\tlocation: westus\n",
    first:
      /^::error title=manifest,file=claws\.yaml,line=2,.*::YAML: Tabs are not allowed as indentation%0AFix: indent with spaces$/,
  },
  {
    name: "blocks of the wrong type",
    content: () => "azure: 5\ndefaults: []\nclaws: hello\n",
    first:
      /^::error title=manifest%3A azure,file=claws\.yaml,line=1,endLine=1,col=8,endColumn=8::azure must be a map of Azure settings, not the number 5%0AFix: e\.g\. azure: \{ location: westus, \.\.\. \}$/,
  },
  {
    name: "a claw listed twice (duplicate keys)",
    content: () => seed.replace("  chad-claw: {}", "  chad-claw: {}\n  chad-claw: {}"),
    first:
      /^::error title=manifest,file=claws\.yaml,line=33,.*::YAML: the key 'chad-claw' appears twice in the same mapping%0AFix: remove or rename one of the duplicate keys$/,
  },
  {
    name: "a misspelt block (unknown key)",
    content: () => seed.replace("defaults:", "defualts:\n  vm_size: Standard_D4s_v5\ndefaults:"),
    first:
      /^::error title=manifest%3A defualts,file=claws\.yaml,line=22,endLine=22,col=1,endColumn=8::"defualts" is not a key of the top level; did you mean "defaults"\?%0AFix: rename it to defaults$/,
  },
  {
    name: "a huge file (30 MB)",
    content: () => `${seed}${"# padding padding padding padding\n".repeat(900_000)}`,
    first:
      /^::error title=manifest,file=claws\.yaml,line=1,.*::the manifest is 30601\d{3} bytes; the limit is 1048576 bytes%0AFix: .+$/,
  },
  {
    name: "bytes that are not UTF-8",
    content: () =>
      Buffer.concat([
        Buffer.from(seed.replace("model: xai/", 'model: "xai/')),
        Buffer.from([0xff, 0xfe, 0x22, 0x0a]),
      ]),
    first:
      /^::error title=manifest,file=claws\.yaml,line=33,.*::the manifest is not valid UTF-8 \(byte 0xff at byte offset \d+\)%0AFix: save the file as UTF-8$/,
  },
  {
    name: "a binary file (a PNG header)",
    content: () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
    first:
      /^::error title=manifest,file=claws\.yaml,line=1,.*::the manifest is not valid UTF-8 \(byte 0x89 at byte offset 0\)%0AFix: save the file as UTF-8$/,
  },
  {
    name: "deeply nested block mappings",
    content: () => `${Array.from({ length: 100 }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n")} 1\n`,
    first:
      /^::error title=manifest,file=claws\.yaml,line=33,.*::the YAML nests more than 32 levels deep%0AFix: .+$/,
  },
  {
    name: "flow sequences nested 50,000 deep",
    content: () => `claws: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`,
    first:
      /^::error title=manifest,file=claws\.yaml,line=1,.*::the YAML is nested too deeply to parse%0AFix: .+$/,
  },
  {
    name: "an alias bomb (billion laughs)",
    content: () =>
      `a: &a ["x","x","x","x","x","x","x","x","x"]\n${["b", "c", "d", "e", "f", "g"]
        .map((n, i) => `${n}: &${n} [${Array(9).fill(`*${"abcdef"[i]}`).join(",")}]`)
        .join("\n")}\n`,
    first:
      /^::error title=manifest,file=claws\.yaml,line=1,.*::the YAML expands too many aliases \(\*name references\)%0AFix: .+$/,
  },
  {
    name: "an empty file",
    content: () => "",
    first: /^::error title=manifest,file=claws\.yaml,line=1,.*::the manifest is empty%0AFix: .+$/,
  },
  {
    name: "two YAML documents",
    content: () => `${seed}---\n${seed}`,
    first:
      /^::error title=manifest,file=claws\.yaml,line=33,.*::YAML: the file holds more than one YAML document \(a second ---\)%0AFix: keep one YAML document \(remove the extra ---\)$/,
  },
];

describe("malformed manifests", () => {
  it.each(CASES)("gives a clear problem for $name, never a stack trace", async ({ content, first }) => {
    const repo = mkdtempSync(join(tmpdir(), "validate-corpus-"));
    writeFileSync(join(repo, "claws.yaml"), content());
    const run = await runValidate(repo, {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.annotations[0]).toMatch(first);
    expect(run.exitCode).toBe(1);
    expect(run.outputs.valid).toBe("false");
    expect(Number(run.outputs.errors)).toBeGreaterThanOrEqual(1);
    expect(run.summary).toContain("#### `claws.yaml`");
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});
