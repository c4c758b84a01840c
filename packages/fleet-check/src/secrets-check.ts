import type { Finding } from "@openclawps/action-kit";
import { type ClawSecrets, type ParseResult, parseSecrets, secretValues } from "@openclawps/fleet-model";
import { problemToFinding } from "./manifest-check.ts";

/** How the secret is named in findings: the repository secret the reusable workflow passes on. */
export const SECRETS_LABEL = "CLAW_SECRETS_JSON";

export interface SecretsCheck {
  findings: Finding[];
  /** Valid secret sets by claw (used to size each claw's customData with its real secrets). */
  secrets: Map<string, ClawSecrets>;
}

/**
 * Checks CLAW_SECRETS_JSON against the claws that need secrets. Every value is handed to `mask`
 * before anything else happens with it; findings never contain a value (fleet-model's
 * contract), and a finding about one claw's secrets points at that claw in the manifest, where
 * the reviewer can see which claw it is.
 */
export function checkSecrets(options: {
  json: string;
  clawNames: string[];
  manifest: ParseResult;
  manifestDisplay: string;
  mask: (value: string) => void;
}): SecretsCheck {
  const result = parseSecrets(options.json, options.clawNames, SECRETS_LABEL);
  for (const set of result.secrets.values()) for (const value of secretValues(set)) options.mask(value);
  // Retired claws are in the manifest too: a problem about one still has a line to point at.
  const claws = new Set([...options.clawNames, ...Object.keys(options.manifest.manifest?.claws ?? {})]);
  const findings = result.problems.map((problem) => {
    const claw = problem.path.split(".")[0] ?? "";
    if (!claws.has(claw)) return problemToFinding(problem, SECRETS_LABEL);
    const at = options.manifest.locate(`claws.${claw}`);
    return problemToFinding({ ...problem, ...at, file: options.manifestDisplay }, SECRETS_LABEL);
  });
  return { findings, secrets: result.secrets };
}
