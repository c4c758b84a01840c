import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
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
    name: "a merge of a scalar anchor",
    content: () =>
      seed
        .replace("  chad-claw: {}", "  chad-claw:\n    <<: *size")
        .replace("defaults:", "x-size: &size Standard_D4s_v5\ndefaults:"),
    first:
      /^::error title=manifest,file=claws\.yaml,line=34,.*::YAML: << merges a single value; only a map can be merged%0AFix: .+$/,
  },
  {
    name: "a file with CR-only line endings",
    content: () => seed.replace(/\n/g, "\r"),
    first:
      /^::error title=manifest,file=claws\.yaml,line=1,.*::the manifest's lines end in a carriage return \(CR\) alone, so YAML reads the whole file as one line%0AFix: save the file with LF .+$/,
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

describe("manifest paths that are not a manifest file", () => {
  const cases: { name: string; prepare: (repo: string) => string; message: RegExp }[] = [
    {
      name: "a directory",
      prepare: (repo) => {
        mkdirSync(join(repo, "fleet"));
        writeFileSync(join(repo, "fleet", "claws.yaml"), seed);
        return "fleet";
      },
      message:
        /::Manifest 'fleet' is a directory, not a file\.%0AFix: It holds a claws\.yaml: set the manifest input to fleet\/claws\.yaml\.$/,
    },
    {
      // Outside the repository: refused before anything looks at what it is.
      name: "/dev/zero",
      prepare: () => "/dev/zero",
      message:
        /::Input 'manifest' '\/dev\/zero' resolves to \/dev\/zero, outside the repository .*%0AFix: .+$/,
    },
    ...(process.getuid?.() === 0
      ? [
          {
            // A character device (the same as /dev/zero) made inside the repository: mknod needs root.
            name: "a device inside the repository",
            prepare: (repo: string) => {
              execFileSync("mknod", [join(repo, "claws.yaml"), "c", "1", "5"]);
              return "claws.yaml";
            },
            message: /::Manifest 'claws\.yaml' is a device, not a file\.%0AFix: .+$/,
          },
        ]
      : []),
    {
      name: "a sparse file over 2 GiB (never read)",
      prepare: (repo) => {
        const path = join(repo, "claws.yaml");
        writeFileSync(path, seed);
        truncateSync(path, 2 ** 31 + 10);
        return "claws.yaml";
      },
      message: /::the manifest is 2147483658 bytes; the limit is 1048576 bytes%0AFix: .+$/,
    },
  ];
  it.each(cases)("says what $name is, with no stack trace", async ({ prepare, message }) => {
    const repo = mkdtempSync(join(tmpdir(), "validate-path-"));
    const manifest = prepare(repo);
    const run = await runValidate(repo, { manifest }, { path: PATH_WITHOUT_TOOLS });
    expect(run.annotations[0]).toMatch(message);
    expect(run.exitCode).toBe(1);
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});

describe("a manifest with thousands of problems", () => {
  it("keeps the job summary under GitHub's 1 MiB and says how many problems it could not list", async () => {
    const repo = mkdtempSync(join(tmpdir(), "validate-many-"));
    // 8,000 claws, each with its own bad vm_size and data disk size, and no room for them in
    // the seed's /24: 16,001 problems.
    const claws = Array.from(
      { length: 8000 },
      (_, i) => `  claw-${i}: { vm_size: "not a size ${i}", data_disk_size_gb: 1 }`,
    ).join("\n");
    writeFileSync(join(repo, "claws.yaml"), seed.replace("  chad-claw: {}", claws));
    const run = await runValidate(repo, {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.exitCode).toBe(1);
    expect(Number(run.outputs.errors)).toBe(16001);
    expect(Buffer.byteLength(run.summary)).toBeLessThan(1024 * 1024);
    const unlisted = /(\d+) of 16001 problems are not listed here/.exec(run.summary);
    expect(Number(unlisted?.[1])).toBeGreaterThan(0);
    expect(run.stdout).toContain(`${unlisted?.[1]} more did not fit in GitHub's 1 MiB job summary`);
    expect(run.stdout).not.toContain("Every problem is listed");
  }, 120_000);
});
