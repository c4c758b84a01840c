// Running a bundled action the way the benchmark measures it: as a runner runs it, with
// process-usage.mjs preloaded to report its CPU time, peak memory, first stdout line and waves.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import type { LocalAzure } from "@openclawps/local-azure";

export const ROOT = resolve(import.meta.dirname, "..");
export const PRELOAD = pathToFileURL(join(import.meta.dirname, "process-usage.mjs")).href;

/** A variable of the environment, undefined when unset or empty. */
export const envText = (name: string): string | undefined => process.env[name] || undefined;

/** BENCH_PROFILE=<dir>: a V8 CPU profile of each action run, where its CPU goes. */
const profileDir = envText("BENCH_PROFILE");

export const bundleOf = (action: string) => join(ROOT, "actions", action, "dist", "index.js");

/** A positive number from the environment, else the fallback (the smoke test runs the bench small and fast). */
export function envNumber(name: string, fallback: number): number {
  const value = Number(envText(name));
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The middle value (the upper one of an even count); undefined for none. */
export const median = (xs: number[]): number | undefined =>
  xs.length ? [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] : undefined;

export interface WaveTiming {
  n: number;
  title: string;
  claws: number;
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface ProcessUsage {
  /** Epoch ms the process started. */
  origin: number;
  /** ms from process start to its first stdout write. */
  firstStdoutMs: number | null;
  cpuMs: number;
  maxRssKb: number;
  waves: WaveTiming[];
  /** CPU per thread at exit (Linux): the main thread is `main`. */
  threads?: { name: string; main: boolean; cpuMs: number }[];
}

export interface MeasuredRun {
  run: BundledActionRun;
  usage: ProcessUsage;
  /** Wall seconds from spawn to exit, as the caller saw it. */
  seconds: number;
  /** Epoch ms just before the spawn. */
  since: number;
}

export async function measuredRun(
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), "bench-usage-"));
  const file = join(dir, "usage.json");
  try {
    const since = Date.now();
    const run = await runBundledAction({
      bundle: bundleOf(action),
      inputs,
      env: { ...env, BENCH_USAGE_FILE: file },
      nodeArgs: [
        `--import=${PRELOAD}`,
        ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      ],
    });
    const seconds = (Date.now() - since) / 1000;
    const raw = JSON.parse(readFileSync(file, "utf8")) as Omit<ProcessUsage, "waves"> & {
      waves: { n: number; title: string; claws: number; startMs: number; endMs?: number }[];
    };
    const usage: ProcessUsage = {
      ...raw,
      waves: raw.waves.map((w) => ({
        n: w.n,
        title: w.title,
        claws: w.claws,
        start: raw.origin + w.startMs,
        end: raw.origin + (w.endMs ?? w.startMs),
      })),
    };
    return { run, usage, seconds, since };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ms from the process start to the first request to `service` the local Azure received from it. */
export function firstRequestMs(
  azure: LocalAzure,
  usage: ProcessUsage,
  service: "arm" | "github" | "entra",
): number | undefined {
  const first = azure.requestLog.find((e) => e.service === service && e.at >= usage.origin);
  return first ? first.at - usage.origin : undefined;
}

/** ms from the process start to the first ARM request the local Azure received from it. */
export function firstArmRequestMs(azure: LocalAzure, usage: ProcessUsage): number | undefined {
  return firstRequestMs(azure, usage, "arm");
}

/** Prints rows as a table, the first column left-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}
