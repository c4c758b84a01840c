// Validate of a large fleet: the bundled validate action, run as a runner runs it, on a
// generated manifest of N claws (CLAW_SECRETS_JSON not given: customData is rendered with
// placeholder secrets for every claw). Prints wall time, locator work and summary size.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runBundledAction } from "@openclawps/action-kit/testing";
import { parseManifest, type WorkMeter } from "@openclawps/fleet-model";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = join(ROOT, "actions/validate/dist/index.js");
const EXAMPLE = join(ROOT, "examples/fleet/claws.yaml");

/** The example fleet with its claws replaced by `n` generated ones. */
function manifestOf(n: number): string {
  const example = readFileSync(EXAMPLE, "utf8");
  const start = example.search(/^claws:/m);
  const after = example.slice(start + "claws:".length);
  const next = after.search(/^[A-Za-z]/m);
  // The whole address space as the subnet, so thousands of claws have an address each.
  const head = example
    .slice(0, start)
    .replace(/subnet_prefixes: \[[^\]]*\]/, "subnet_prefixes: [10.0.0.0/16]")
    .replace(/address_space: \[[^\]]*\]/, "address_space: [10.0.0.0/16]");
  const tail = next < 0 ? "" : after.slice(next);
  const claws = Array.from({ length: n }, (_, i) => `  claw-${String(i).padStart(5, "0")}: {}\n`).join("");
  return `${head}claws:\n${claws}${tail}`;
}

export interface ValidateRow {
  claws: number;
  bytes: number;
  wallSeconds: number;
  parseSeconds: number;
  locatorSteps: number;
  summaryBytes: number;
  exitCode: number;
}

export async function benchValidate(sizes: number[]): Promise<ValidateRow[]> {
  const rows: ValidateRow[] = [];
  for (const n of sizes) {
    const repo = mkdtempSync(join(tmpdir(), "bench-validate-"));
    const text = manifestOf(n);
    writeFileSync(join(repo, "claws.yaml"), text);
    const meter: WorkMeter = { steps: 0 };
    const p0 = performance.now();
    parseManifest(text, "claws.yaml", meter);
    const parseSeconds = (performance.now() - p0) / 1000;
    const t0 = performance.now();
    const run = await runBundledAction({ bundle: BUNDLE, inputs: {}, env: { GITHUB_WORKSPACE: repo } });
    rows.push({
      claws: n,
      bytes: Buffer.byteLength(text),
      wallSeconds: (performance.now() - t0) / 1000,
      parseSeconds,
      locatorSteps: meter.steps,
      summaryBytes: Buffer.byteLength(run.summary),
      exitCode: run.exitCode ?? -1,
    });
  }
  return rows;
}

export function printValidateRows(rows: ValidateRow[]): void {
  const header = [
    "scenario",
    "claws",
    "bytes",
    "wall s",
    "parse s",
    "locator steps",
    "summary bytes",
    "exit",
  ];
  const lines = rows.map((r) => [
    "validate",
    String(r.claws),
    String(r.bytes),
    r.wallSeconds.toFixed(1),
    r.parseSeconds.toFixed(2),
    String(r.locatorSteps),
    String(r.summaryBytes),
    String(r.exitCode),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const l of [header, ...lines]) console.log(l.map((c, i) => c.padStart(widths[i]!)).join("  "));
}
