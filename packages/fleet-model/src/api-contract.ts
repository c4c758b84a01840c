// CONTRACT STUBS — the fleet-model helper replaces each of these with a real module
// (manifest.ts, secrets.ts, resolve.ts, plan.ts, waves.ts, render-plan.ts) exporting the same
// signatures, then deletes this file. Other packages code against these signatures.
import type {
  ClawSecrets,
  DesiredFleet,
  Manifest,
  ObservedFleet,
  ParseResult,
  Plan,
  Problem,
  ResolvedFleet,
  RolloutPolicy,
  Wave,
} from "./types.ts";

const todo = (): never => {
  throw new Error("not implemented yet");
};

/** Parse and validate claws.yaml. Never throws on bad input: every problem is in `problems`. */
export function parseManifest(_source: string | Uint8Array, _file: string): ParseResult {
  return todo();
}

/** Defaults merged into each claw, names and tags derived. Input must be a problem-free manifest. */
export function resolveFleet(_manifest: Manifest, _manifestFile: string): ResolvedFleet {
  return todo();
}

export interface SecretsResult {
  /** Per-claw secret sets for the claws that have valid ones. */
  secrets: Map<string, ClawSecrets>;
  /** Problems, file "CLAW_SECRETS_JSON" (or the given label); never containing a value. */
  problems: Problem[];
}

/** Parse CLAW_SECRETS_JSON and check it against the claws that need secrets (non-retired). */
export function parseSecrets(_json: string, _clawNames: string[], _label?: string): SecretsResult {
  return todo();
}

/** Stable sha256 hex over one claw's secret set (key order independent). */
export function secretsHash(_secrets: ClawSecrets): string {
  return todo();
}

/** Every individual secret value in a set (non-empty), for masking. */
export function secretValues(_secrets: ClawSecrets): string[] {
  return todo();
}

/** `latest` → highest available version; an explicit version → itself if available, else undefined. */
export function resolveImageVersion(_requested: string, _available: string[]): string | undefined {
  return todo();
}

/** Pure diff of desired against observed. */
export function planFleet(_desired: DesiredFleet, _observed: ObservedFleet): Plan {
  return todo();
}

/** Ordered waves for the plan's actionable claws under the rollout policy. */
export function planWaves(_plan: Plan, _policy: RolloutPolicy): Wave[] {
  return todo();
}

/** Markdown table for job summaries. */
export function renderPlanMarkdown(_plan: Plan): string {
  return todo();
}
