import { coreReporter } from "./reporter.ts";
import { UserError } from "./user-error.ts";
import * as core from "./workflow-commands.ts";

// Typed readers for action inputs. Each throws a UserError naming the input, what it got
// and what it expects, so a typo in a workflow file is a one-line fix.

export function getString(name: string, fallback = ""): string {
  return core.getInput(name) || fallback;
}

/** Reads a secret input and masks it (and each of its lines) before anything else can print it. */
export function getSecret(name: string): string {
  const value = core.getInput(name, { trimWhitespace: false });
  maskSecret(value);
  return value.trim();
}

/**
 * Masks a secret value; multi-line values are masked line by line as the runner matches per line.
 * Each distinct string is handed to `setSecret` once (a one-line value is its own only line).
 * `setSecret` is the action's Reporter's (default: coreReporter's, which prints a value's add-mask
 * command once per process).
 */
export function maskSecret(value: string, setSecret: (value: string) => void = coreReporter.setSecret): void {
  if (!value) return;
  setSecret(value);
  const handed = new Set([value]);
  for (const line of value.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.length < 4 || handed.has(trimmed)) continue;
    handed.add(trimmed);
    setSecret(trimmed);
  }
}

export function getBoolean(name: string, fallback: boolean): boolean {
  const raw = core.getInput(name).trim().toLowerCase();
  if (raw === "") return fallback;
  if (["true", "yes", "on", "1"].includes(raw)) return true;
  if (["false", "no", "off", "0"].includes(raw)) return false;
  throw new UserError(`Input '${name}' must be true or false (got '${raw}').`);
}

export function getChoice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
  const raw = core.getInput(name).trim();
  if (raw === "") return fallback;
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new UserError(`Input '${name}' must be one of ${choices.join(", ")} (got '${raw}').`);
}

export function getInteger(name: string, opts: { fallback: number; min?: number; max?: number }): number {
  const raw = core.getInput(name).trim();
  if (raw === "") return opts.fallback;
  const value = Number(raw);
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UserError(`Input '${name}' must be an integer between ${min} and ${max} (got '${raw}').`);
  }
  return value;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses "90", "90s", "15m", "1h", "1h30m" into seconds. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_SECONDS[p[2] as string] ?? 0), 0);
}

/**
 * Node's timers take at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms
 * (https://nodejs.org/api/timers.html#settimeoutcallback-delay-args), so no duration input may
 * be longer.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function getDuration(name: string, fallbackSeconds: number, maxSeconds = MAX_TIMER_SECONDS): number {
  const raw = core.getInput(name);
  if (raw.trim() === "") return fallbackSeconds;
  const seconds = parseDuration(raw);
  if (seconds === undefined) {
    throw new UserError(`Input '${name}' must be a duration like 90s, 15m or 1h (got '${raw.trim()}').`);
  }
  if (seconds > Math.min(maxSeconds, MAX_TIMER_SECONDS)) {
    const max = Math.min(maxSeconds, MAX_TIMER_SECONDS);
    throw new UserError(
      `Input '${name}' is ${raw.trim()}; the longest it may be is ${durationInputText(max)}.`,
      `Set ${name} to at most ${durationInputText(max)}.`,
    );
  }
  return seconds;
}

/**
 * Seconds as a duration input is written (21600 → "6h", 90 → "1m30s"), to tell the user what to
 * type; elapsed times in logs use fleet-model's formatDuration.
 */
export function durationInputText(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
}

/** Comma- or newline-separated list, blanks dropped. */
export function getList(name: string): string[] {
  return core
    .getInput(name)
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
