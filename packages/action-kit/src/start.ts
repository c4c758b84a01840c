// An action's first log line, printed before anything heavy loads: each action's main.ts prints
// it, then imports the action's body (its own bundle chunk) — so the log shows the step started
// while Node compiles the Azure SDK, ssh2 or the manifest checks.
import { untrusted } from "./untrusted.ts";
import { info } from "./workflow-commands.ts";

/**
 * The first line: the action and the ref it runs at. The runner sets GITHUB_ACTION_REPOSITORY
 * and GITHUB_ACTION_REF for a step that runs an action
 * (https://docs.github.com/actions/reference/workflows-and-actions/variables#default-environment-variables);
 * elsewhere (tests, the local demo) the bundle is a local build.
 */
export function startLine(action: string, env: NodeJS.ProcessEnv = process.env): string {
  const ref = env.GITHUB_ACTION_REF ? `@${env.GITHUB_ACTION_REF}` : " (local build)";
  return untrusted(`openclawps ${action}${ref}, Node ${process.versions.node}`);
}

export function announceStart(action: string, env: NodeJS.ProcessEnv = process.env): void {
  info(startLine(action, env));
}
