// CLAW_SECRETS_JSON: one JSON object keyed by claw name, each value the seed's per-claw secret
// set. Problems name the place (line/column, claw, key) and never contain a value: not in the
// message, not in the fix, not even a snippet of malformed JSON.

import { canonicalHash } from "./canonical-json.ts";
import { didYouMean } from "./did-you-mean.ts";
import { envValueProblem } from "./env-value.ts";
import { jsonPathKey, scanJson } from "./json-source.ts";
import { positionAt } from "./source-text.ts";
import type { ClawSecrets, Problem } from "./types.ts";

export const SECRET_KEYS = [
  "telegram_bot_token",
  "xai_api_key",
  "openai_api_key",
  "anthropic_api_key",
  "moonshot_api_key",
  "deepseek_api_key",
  "brightdata_api_token",
  "tailscale_authkey",
  "gateway_token",
] as const satisfies readonly (keyof ClawSecrets)[];

/** A claw needs at least one of these to talk to a model. */
export const PROVIDER_KEYS = [
  "xai_api_key",
  "openai_api_key",
  "anthropic_api_key",
  "moonshot_api_key",
  "deepseek_api_key",
] as const satisfies readonly (keyof ClawSecrets)[];

const MAX_SECRETS_BYTES = 1024 * 1024;

// Values people leave in from templates (the seed's README shows "from @BotFather" and "your key").
const PLACEHOLDERS = [
  /^<.*>$/,
  /^\$\{.*\}$/,
  /^\$\{\{.*\}\}$/,
  /^x{3,}$/,
  /^\.{3,}$/,
  /^\*{3,}$/,
  /^(your|my)[ _-]?(api[ _-]?|bot[ _-]?|auth[ _-]?)?(key|token|secret)\b/,
  /^(changeme|change[ _-]me|replace[ _-]?me|placeholder|todo|tbd|dummy|none|null|undefined|example|secret|token|key)$/,
  /^from @?botfather/,
  /^(sk|xai|sk-ant)-(\.\.\.|x+)$/,
];

export function isPlaceholderSecret(value: string): boolean {
  const v = value.trim().toLowerCase();
  return PLACEHOLDERS.some((re) => re.test(v));
}

/** Telegram bot tokens are "<bot id>:<secret>" (https://core.telegram.org/bots/api#authorizing-your-bot). */
const TELEGRAM_TOKEN = /^\d+:[A-Za-z0-9_-]{20,}$/;

export interface SecretsResult {
  /** Per-claw secret sets for the claws that have valid ones. */
  secrets: Map<string, ClawSecrets>;
  /** Problems, file "CLAW_SECRETS_JSON" (or the given label); never containing a value. */
  problems: Problem[];
}

/** A key is quoted in messages only when it looks like a key, not like a pasted secret. */
const looksLikeKey = (key: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(key) && !/\d{6,}/.test(key);
const safeName = (key: string) => (looksLikeKey(key) ? JSON.stringify(key) : "an unrecognised key");
/** Path segment for a problem: the key, unless it could be a pasted secret. */
const safeSegment = (key: string) => (looksLikeKey(key) ? key : "?");
/**
 * A key inside a claw's secrets is quoted only when it is a known secret key or close to one
 * (what a did-you-mean suggests): a value pasted where a key belongs (`"tskey-auth-k1Ab...":
 * ""`) looks like a key too, and would be echoed into the log, an annotation and the summary.
 */
const isNearSecretKey = (key: string) =>
  (SECRET_KEYS as readonly string[]).includes(key) || didYouMean(key, SECRET_KEYS) !== undefined;
const secretKeyName = (key: string) => (isNearSecretKey(key) ? JSON.stringify(key) : "an unrecognised key");
const secretKeySegment = (key: string) => (isNearSecretKey(key) ? key : "?");

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Parse CLAW_SECRETS_JSON and check it against the claws that need secrets (non-retired). */
export function parseSecrets(json: string, clawNames: string[], label = "CLAW_SECRETS_JSON"): SecretsResult {
  const problems: Problem[] = [];
  let errors = 0;
  const secrets = new Map<string, ClawSecrets>();
  const text = json.startsWith("\uFEFF") ? json.slice(1) : json;
  const push = (
    offset: number | undefined,
    path: string[],
    message: string,
    fix?: string,
    severity: Problem["severity"] = "error",
  ) => {
    const at = positionAt(text, offset ?? 0);
    const p: Problem = {
      file: label,
      line: at.line,
      column: at.column,
      path: path.map((k, i) => (i === 1 ? secretKeySegment(k) : safeSegment(k))).join("."),
      message,
      severity,
    };
    if (fix) p.fix = fix;
    problems.push(p);
    if (severity === "error") errors++;
  };
  const done = () => ({ secrets, problems });

  if (Buffer.byteLength(text, "utf8") > MAX_SECRETS_BYTES) {
    push(
      0,
      [],
      `${label} is larger than ${MAX_SECRETS_BYTES} bytes`,
      "it should hold a few secrets per claw",
    );
    return done();
  }
  if (text.trim() === "") {
    push(0, [], `${label} is empty`, `set the ${label} secret to a JSON object keyed by claw name`);
    return done();
  }
  const scan = scanJson(text);
  if (scan.error) {
    push(
      scan.error.offset,
      [],
      `${label} is not valid JSON: ${scan.error.reason}`,
      "fix the JSON syntax at this position (the value is not shown because it may contain secrets)",
    );
    return done();
  }
  const keyAt = (path: string[]) => scan.keys.get(jsonPathKey(path))?.start;
  for (const d of scan.duplicates) {
    const where =
      d.path.length === 1
        ? `claw ${safeName(d.path[0]!)}`
        : `${secretKeyName(d.path[d.path.length - 1]!)} of claw ${safeName(d.path[0]!)}`;
    push(
      d.position.start,
      d.path,
      `${where} appears twice; JSON keeps only the last one`,
      "remove one of them",
    );
  }
  const value: unknown = JSON.parse(text);
  if (!isRecord(value)) {
    push(
      0,
      [],
      `${label} must be a JSON object keyed by claw name`,
      '{"alice": {"telegram_bot_token": "...", "xai_api_key": "..."}}',
    );
    return done();
  }

  const wanted = new Set(clawNames);
  const unknownEntries = Object.keys(value).filter((k) => !wanted.has(k));
  for (const claw of clawNames) {
    if (!Object.hasOwn(value, claw)) {
      const guess = didYouMean(claw, unknownEntries);
      push(
        undefined,
        [claw],
        `no secrets for claw ${JSON.stringify(claw)}`,
        guess
          ? `the entry ${safeName(guess)} looks like a misspelling of ${JSON.stringify(claw)}`
          : `add "${claw}": {"telegram_bot_token": ..., "<provider>_api_key": ...}`,
      );
    }
  }
  for (const entry of unknownEntries) {
    const guess = didYouMean(entry, clawNames);
    push(
      keyAt([entry]),
      [entry],
      `claw ${safeName(entry)} has secrets but is not an active claw in the manifest; its secrets are ignored`,
      guess ? `did you mean ${JSON.stringify(guess)}?` : "remove the entry once the claw is gone for good",
      "warning",
    );
  }

  for (const claw of clawNames) {
    if (!Object.hasOwn(value, claw)) continue;
    const set = value[claw];
    // Positions are looked up only for a problem.
    const clawAt = () => keyAt([claw]);
    const before = errors;
    if (!isRecord(set)) {
      push(clawAt(), [claw], `secrets of claw ${JSON.stringify(claw)} must be a JSON object of key → string`);
      continue;
    }
    const clean: Partial<Record<(typeof SECRET_KEYS)[number], string>> = {};
    /** Keys some misspelt key was suggested as: not reported missing on top of the misspelling. */
    const suggested = new Set<string>();
    for (const [key, v] of Object.entries(set)) {
      const at = () => keyAt([claw, key]);
      if (!(SECRET_KEYS as readonly string[]).includes(key)) {
        const guess = didYouMean(key, SECRET_KEYS);
        if (guess) suggested.add(guess);
        push(
          at(),
          [claw, key],
          `${secretKeyName(key)} is not a secret key${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}`,
          guess ? `rename it to ${guess}` : `keys allowed: ${SECRET_KEYS.join(", ")}`,
        );
        continue;
      }
      const name = `${claw}.${key}`;
      if (v === null || v === "") continue;
      if (typeof v !== "string") {
        push(at(), [claw, key], `${name} must be a string`, "quote the value");
        continue;
      }
      if (v.trim() === "") continue;
      if (v !== v.trim()) {
        push(
          at(),
          [claw, key],
          `${name} has leading or trailing whitespace (a pasted newline?)`,
          "remove the whitespace around the value",
        );
        continue;
      }
      if (isPlaceholderSecret(v)) {
        push(
          at(),
          [claw, key],
          `${name} is a placeholder, not a real secret`,
          'paste the real value, or use "" for an unused key',
        );
        continue;
      }
      const unsafe = envValueProblem(v);
      if (unsafe) {
        // The value stays out of the message (it is a secret).
        push(at(), [claw, key], `${name} ${unsafe}`, "paste the value without those characters");
        continue;
      }
      clean[key as (typeof SECRET_KEYS)[number]] = v;
    }
    const reported = (key: string) =>
      suggested.has(key) || problems.some((p) => p.path === `${claw}.${key}` && p.severity === "error");
    if (clean.telegram_bot_token === undefined && !reported("telegram_bot_token")) {
      push(
        clawAt(),
        [claw, "telegram_bot_token"],
        `claw ${JSON.stringify(claw)} has no telegram_bot_token`,
        "create a bot with @BotFather and add its token",
      );
    } else if (clean.telegram_bot_token !== undefined && !TELEGRAM_TOKEN.test(clean.telegram_bot_token)) {
      push(
        keyAt([claw, "telegram_bot_token"]),
        [claw, "telegram_bot_token"],
        `${claw}.telegram_bot_token does not look like a Telegram bot token (<digits>:<secret>)`,
        "copy the whole token @BotFather gave you",
        "warning",
      );
    }
    if (!PROVIDER_KEYS.some((k) => clean[k] !== undefined) && !PROVIDER_KEYS.some(reported)) {
      push(
        clawAt(),
        [claw],
        `claw ${JSON.stringify(claw)} has no model provider key`,
        `set at least one of ${PROVIDER_KEYS.join(", ")} (the one matching the claw's model)`,
      );
    }
    if (errors === before && clean.telegram_bot_token !== undefined) {
      secrets.set(claw, clean as ClawSecrets);
    }
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return done();
}

/** Stable sha256 hex over one claw's secret set (key order independent). */
export function secretsHash(secrets: ClawSecrets): string {
  const present = Object.fromEntries(
    Object.entries(secrets).filter(([, v]) => typeof v === "string" && v !== ""),
  );
  return canonicalHash("openclawps-claw-secrets-v1", present);
}

/** Every individual secret value in a set (non-empty), for masking. */
export function secretValues(secrets: ClawSecrets): string[] {
  return [...new Set(Object.values(secrets).filter((v): v is string => typeof v === "string" && v !== ""))];
}
