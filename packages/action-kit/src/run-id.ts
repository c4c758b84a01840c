// Identifies a run in the rollout lease and tags; shared by deploy-fleet and the power modes of status.
import { randomUUID } from "node:crypto";

/**
 * Identifies this rollout in tags (lease, last rollout on each VM) and snapshot names: the
 * workflow run and attempt on GitHub, a random id elsewhere. Letters, digits and dashes only, so
 * it fits every Azure name it is part of.
 */
export function rolloutRunId(env: NodeJS.ProcessEnv = process.env): string {
  const run = env.GITHUB_RUN_ID;
  if (run && /^\d+$/.test(run)) {
    const attempt = /^\d+$/.test(env.GITHUB_RUN_ATTEMPT ?? "") ? env.GITHUB_RUN_ATTEMPT : "1";
    return `gh-${run}-${attempt}`;
  }
  return `local-${randomUUID().slice(0, 8)}`;
}
