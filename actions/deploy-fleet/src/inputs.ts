// Every input of the action, read and validated up front (action.yml documents them). Secret
// inputs are masked the moment they are read.

import {
  type AzureInputs,
  getAzureInputs,
  getBoolean,
  getChoice,
  getDuration,
  getList,
  getSecret,
  getString,
  maskSecret,
  UserError,
  workflow,
} from "@openclawps/action-kit";
import { imageVersionProblem, type RolloutPolicy, rolloutPolicyProblems } from "@openclawps/fleet-model";
import { DEFAULT_VERIFY_TRANSPORT, VERIFY_TRANSPORTS, type VerifyTransport } from "@openclawps/verify";

export type DeployMode = "plan" | "apply";

/**
 * Rollout policy fields the workflow may override; absent = as in the manifest. Checked by the
 * manifest's own `rollout:` rules (fleet-model's rolloutPolicyProblems) before they are used.
 */
export type RolloutOverrides = Partial<RolloutPolicy>;

/** The input that sets each rollout field, for error messages. */
const ROLLOUT_INPUTS: Record<keyof RolloutPolicy, string> = {
  canary: "canary",
  wave_size: "wave-size",
  max_unhealthy: "max-unhealthy",
  pause_seconds: "pause",
  rollback: "rollback",
  snapshot_before_replace: "snapshot",
  // No input: set in the manifest only, so never an override to refuse.
  snapshots_kept: "rollout.snapshots_kept",
  verify: "verify",
  parallelism: "parallelism",
};

export interface DeployInputs {
  manifest: string;
  mode: DeployMode;
  /** Apply refuses to write when the fresh plan's hash differs. Empty: no approval gate. */
  approvedPlanHash: string;
  /** Claw names to limit the run to; empty = all. */
  claws: string[];
  /** Image version for every claw (what bake produced); empty = as in the manifest. */
  imageVersion: string;
  rollout: RolloutOverrides;
  azure: AzureInputs;
  /** How the wave gate reaches claws: Run Command through ARM (default) or SSH. */
  transport: VerifyTransport;
  /** OpenSSH private key for wave verification over SSH (secret); unused with run-command. */
  sshPrivateKey: string;
  /** Admin public key for a manifest without `ssh.admin_public_key` (seed era); empty = none. */
  adminPublicKey: string;
  /** CLAW_SECRETS_JSON (secret). */
  secretsJson: string;
  /** Fleet-repo overlay of vm-runtime; empty = `vm-runtime/` beside the manifest when it exists. */
  vmRuntimeOverlay: string;
  dryRun: boolean;
  forceUnlock: boolean;
  /** How long verification waits for a claw to become reachable, seconds. */
  verifyTimeoutSeconds: number;
  /** Wait between polls of a long-running ARM operation when Azure sends no Retry-After, ms. */
  pollIntervalMs: number;
}

const SIZE = /^(\d+|\d+%)$/;

/**
 * A count ("3") or a percent ("25%"), or undefined when the input is empty. Only the form is
 * checked here; the range is the manifest's rule (checkRolloutOverrides).
 */
export function parseCountOrPercent(name: string, raw: string): number | string | undefined {
  const text = raw.trim();
  if (text === "") return undefined;
  if (!SIZE.test(text)) {
    throw new UserError(`Input '${name}' must be a count like 2 or a percent like 25% (got '${text}').`);
  }
  return text.endsWith("%") ? text : Number(text);
}

/** Each override the manifest's `rollout:` rules refuse, as a user error naming the input. */
export function checkRolloutOverrides(rollout: RolloutOverrides): RolloutOverrides {
  const [problem, ...more] = rolloutPolicyProblems(rollout);
  if (problem) {
    const input = ROLLOUT_INPUTS[problem.field];
    throw new UserError(
      `Input '${input}' is outside what the manifest allows for rollout.${problem.field}: ${problem.message}.` +
        (more.length
          ? ` (${more.length} more rollout input(s) refused: ${more.map((p) => ROLLOUT_INPUTS[p.field]).join(", ")})`
          : ""),
      problem.fix,
    );
  }
  return rollout;
}

/**
 * The `image-version` input, checked by the manifest's own rule (fleet-model's
 * imageVersionProblem): what the manifest accepts as `image_version`, and nothing else.
 */
export function parseImageVersionInput(raw: string): string {
  const text = raw.trim();
  const problem = text === "" ? undefined : imageVersionProblem(text);
  if (problem) {
    throw new UserError(
      `Input 'image-version' must be a gallery version Major.Minor.Patch (e.g. 1.2.0) or 'latest' (got '${text}'): ${problem}.`,
    );
  }
  return text;
}

/** "2" → 2 canaries; "alice,bob" → those claws. */
export function parseCanary(raw: string): number | string[] | undefined {
  const text = raw.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const names = text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new UserError(`Input 'canary' must be a count or claw names (got '${text}').`);
  return names;
}

function optionalBoolean(name: string): boolean | undefined {
  return workflow.getInput(name).trim() === "" ? undefined : getBoolean(name, false);
}

function optionalWholeNumber(name: string): number | undefined {
  const raw = workflow.getInput(name).trim();
  if (raw === "") return undefined;
  if (!/^\d+$/.test(raw)) throw new UserError(`Input '${name}' must be a whole number (got '${raw}').`);
  return Number(raw);
}

export function getDeployInputs(): DeployInputs {
  // Secrets first, so nothing below can print them before they are masked.
  const secretsJson = getSecret("secrets-json") || readEnvSecret("CLAW_SECRETS_JSON");
  const sshPrivateKey = getSecret("ssh-private-key");

  const mode = getChoice("mode", ["plan", "apply"] as const, "plan");
  const approvedPlanHash = getString("approved-plan-hash").trim();
  if (approvedPlanHash && !/^[0-9a-f]{64}$/.test(approvedPlanHash)) {
    throw new UserError(
      `Input 'approved-plan-hash' must be the 64-character plan-hash output of a plan run (got '${approvedPlanHash}').`,
    );
  }
  const pause = workflow.getInput("pause").trim() === "" ? undefined : getDuration("pause", 0);
  const rollout = checkRolloutOverrides({
    canary: parseCanary(workflow.getInput("canary")),
    wave_size: parseCountOrPercent("wave-size", workflow.getInput("wave-size")),
    max_unhealthy: parseCountOrPercent("max-unhealthy", workflow.getInput("max-unhealthy")),
    pause_seconds: pause,
    rollback: optionalBoolean("rollback"),
    snapshot_before_replace: optionalBoolean("snapshot"),
    verify: optionalBoolean("verify"),
    parallelism: optionalWholeNumber("parallelism"),
  });
  const imageVersion = parseImageVersionInput(getString("image-version"));
  return {
    manifest: getString("manifest", "claws.yaml").trim(),
    mode,
    approvedPlanHash,
    claws: getList("claws"),
    imageVersion,
    rollout,
    azure: getAzureInputs(),
    transport: getChoice("transport", VERIFY_TRANSPORTS, DEFAULT_VERIFY_TRANSPORT),
    sshPrivateKey,
    adminPublicKey: getString("admin-public-key").trim(),
    secretsJson,
    vmRuntimeOverlay: getString("vm-runtime").trim(),
    dryRun: getBoolean("dry-run", false),
    forceUnlock: getBoolean("force-unlock", false),
    verifyTimeoutSeconds: getDuration("verify-timeout", 600),
    pollIntervalMs: Math.round(getDuration("poll-interval", 10) * 1000),
  };
}

function readEnvSecret(name: string): string {
  const value = process.env[name] ?? "";
  maskSecret(value);
  return value.trim();
}
