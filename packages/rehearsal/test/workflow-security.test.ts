// No `${{ }}` inside a `run:` script, in any workflow or any example in the docs: GitHub pastes
// the expression's value into the script before the shell reads it, so an output holding text
// from a pull request (a claw named `x';touch PWNED;#`) runs as code. Values reach scripts
// through `env:` instead.
// https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#understanding-the-risk-of-script-injections
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS_ROOT } from "../src/rehearsal.ts";

/**
 * Every `run:` whose script holds `${{`, as "line: script". A `run:` key in YAML or in a Markdown
 * code block, with its value on the line or as a block scalar (the lines indented below it).
 */
function expressionsInRunBlocks(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const found: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:-\s+)?run:\s*(.*)$/.exec(lines[i] as string);
    if (!m) continue;
    const indent = (m[1] as string).length;
    const script = [m[2] as string];
    if (/^[|>]/.test(m[2] as string)) {
      for (let j = i + 1; j < lines.length; j++) {
        const line = lines[j] as string;
        if (line.trim() !== "" && line.length - line.trimStart().length <= indent) break;
        script.push(line);
      }
    }
    if (script.some((l) => l.includes("\u0024{{"))) found.push(`${i + 1}: ${script.join("\n").trim()}`);
  }
  return found;
}

describe("run: scripts", () => {
  it("are found with an expression on the line, in a block scalar and in a list item", () => {
    expect(expressionsInRunBlocks("- run: echo '\u0024{{ steps.v.outputs.problems }}'")).toHaveLength(1);
    expect(
      expressionsInRunBlocks("    run: |\n      set -e\n      echo \u0024{{ inputs.x }}\n    env:\n"),
    ).toHaveLength(1);
    expect(expressionsInRunBlocks("  run: >\n    a\n  with:\n    x: \u0024{{ inputs.x }}\n")).toEqual([]);
    expect(expressionsInRunBlocks('  env:\n    X: \u0024{{ inputs.x }}\n  run: echo "$X"\n')).toEqual([]);
  });

  it("hold no expression anywhere in the repository's Markdown and workflows", () => {
    const files = execFileSync("git", ["ls-files", "*.md", "*.yml", "*.yaml"], {
      cwd: ACTIONS_ROOT,
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) =>
      expressionsInRunBlocks(readFileSync(join(ACTIONS_ROOT, f), "utf8")).map((hit) => `${f}:${hit}`),
    );
    expect(found).toEqual([]);
  });
});

describe("the identity each reusable workflow job signs in as", () => {
  // Only a job behind the environment's approval may sign in as the operator; every other job
  // takes the reader identity when one is configured (one client id still works alone).
  it.each(["bake.yml", "deploy.yml", "drift.yml"])("%s: the operator only behind the environment", (name) => {
    const wf = parse(readFileSync(join(ACTIONS_ROOT, ".github/workflows", name), "utf8")) as {
      jobs: Record<string, { environment?: unknown; steps?: { with?: Record<string, string> }[] }>;
    };
    const signIns = Object.entries(wf.jobs).flatMap(([id, job]) =>
      (job.steps ?? [])
        .map((step) => step.with?.["azure-client-id"])
        .filter((v): v is string => v !== undefined)
        .map((clientId) => ({ id, gated: job.environment !== undefined, clientId })),
    );
    expect(signIns.length).toBeGreaterThan(0);
    for (const s of signIns) {
      expect(s.clientId, s.id).toBe(
        s.gated
          ? "\u0024{{ secrets.AZURE_CLIENT_ID }}"
          : "\u0024{{ secrets.AZURE_READER_CLIENT_ID || secrets.AZURE_CLIENT_ID }}",
      );
    }
  });
});

describe("the power schedule's identity", () => {
  it("power.yml signs in only as the power identity, in its own environment", () => {
    const wf = parse(readFileSync(join(ACTIONS_ROOT, ".github/workflows/power.yml"), "utf8")) as {
      jobs: Record<string, { environment?: unknown; steps?: { with?: Record<string, string> }[] }>;
    };
    const clientIds = Object.values(wf.jobs).flatMap((job) =>
      (job.steps ?? []).map((s) => s.with?.["azure-client-id"]).filter((v) => v !== undefined),
    );
    expect(clientIds).toEqual(["\u0024{{ secrets.AZURE_POWER_CLIENT_ID }}"]);
    expect(wf.jobs.power?.environment).toBe("\u0024{{ inputs.environment }}");
  });
});

/**
 * Every `uses:` of a third-party action or workflow that is not pinned by a 40-hex commit with
 * its version in a comment (`@<sha> # vX...`), as "line: text". Ours (openclawps/actions/...) and
 * local ones (./...) are exempt: they move with this repository's own tags.
 */
function loosePins(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ i, m: /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line) }))
    .filter((x): x is { i: number; m: RegExpExecArray } => x.m !== null)
    .filter(
      ({ m }) => !(m[1] as string).startsWith("openclawps/actions/") && !(m[1] as string).startsWith("./"),
    )
    .filter(({ m }) => !/@[0-9a-f]{40}$/.test(m[1] as string) || !/^\s+#\s*v\d/.test(m[2] as string))
    .map(({ i, m }) => `${i + 1}: ${m[0].trim()}`);
}

describe("third-party actions", () => {
  // A tag can be moved to other code; a commit cannot. Each pin carries its version in a comment.
  it("are found when pinned by tag, by branch, by a short commit or without a version comment", () => {
    const sha = "ce93c3c08a6c2ff2275bf4b54ff0d9a75f6c9789";
    expect(loosePins("      - uses: hashicorp/setup-packer@v3")).toHaveLength(1);
    expect(loosePins("    uses: some/workflow/.github/workflows/x.yml@main")).toHaveLength(1);
    expect(loosePins("  - uses: a/b@ce93c3c # v1")).toHaveLength(1);
    expect(loosePins(`  - uses: a/b@${sha}`)).toHaveLength(1);
    expect(loosePins(`  - uses: a/b@${sha} # main`)).toHaveLength(1);
    expect(loosePins(`  - uses: a/b@${sha} # v3.4.0 (node24)`)).toEqual([]);
    expect(loosePins("    uses: openclawps/actions/.github/workflows/validate.yml@v1")).toEqual([]);
    expect(loosePins("  - uses: ./actions/bake")).toEqual([]);
  });

  it("are pinned by commit, with the version in a comment, in the workflows, the examples and the docs", () => {
    const files = execFileSync("git", ["ls-files", "*.yml", "*.yaml", "*.md"], {
      cwd: ACTIONS_ROOT,
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
    expect(files).toContain(".github/workflows/bake.yml");
    expect(files).toContain("examples/fleet/.github/workflows/fleet.yml");
    const loose = files.flatMap((f) =>
      loosePins(readFileSync(join(ACTIONS_ROOT, f), "utf8")).map((hit) => `${f}:${hit}`),
    );
    expect(loose).toEqual([]);
  });
});
