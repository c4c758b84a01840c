// The verify action's core: targets → verifyClaws → annotations, job summary, outputs, all
// through the action's Reporter. main.ts reads the inputs and passes the core-backed Reporter;
// tests pass the in-memory one. The SSH work and its judgement live in @openclawps/verify.
import { annotate, type Finding, type Reporter, UserError } from "@openclawps/action-kit";
import { runCommandChannel } from "@openclawps/azure";
import { DEFAULT_ADMIN_USERNAME } from "@openclawps/fleet-model";
import {
  type ClawVerification,
  InvalidPrivateKeyError,
  noChecks,
  summaryMarkdown,
  type VerifyProgress,
  verdict,
  verifyClaws,
  verifyClawsByRunCommand,
} from "@openclawps/verify";
import type { VerifyInputs } from "./inputs.ts";
import { type AzureConnector, resolveTargets, type TargetPlan } from "./targets.ts";

export interface VerifyRequest {
  inputs: VerifyInputs;
  /** Repository root: the manifest path is relative to it. */
  workspace: string;
}

export interface VerifyDependencies {
  /** How the core reaches Azure (only when the claws come from the manifest). */
  clients: { connectAzure: AzureConnector };
  reporter: Reporter;
}

/**
 * Verifies the claws and reports every one. Unhealthy claws fail the run (a UserError after the
 * outputs and summary are written) unless `reportOnly`; returns every claw's result, in order.
 */
export async function verifyAction(
  { inputs, workspace }: VerifyRequest,
  { clients, reporter }: VerifyDependencies,
): Promise<ClawVerification[]> {
  const plan = await resolveTargets(inputs, workspace, clients.connectAzure, reporter);
  const logProgress = (e: VerifyProgress): void => {
    if (e.phase !== "done") reporter.info(`${e.claw}: ${e.message}`);
  };
  reporter.info(
    `Verifying ${plan.order.length} claw(s) from ${plan.source} through ${inputs.transport === "ssh" ? "SSH" : "Azure Run Command"} (timeout ${inputs.timeoutSeconds}s, ${inputs.parallelism} at a time)`,
  );

  let verified: ClawVerification[];
  try {
    verified =
      inputs.transport === "run-command" && plan.ctx
        ? await verifyClawsByRunCommand(
            plan.vms,
            runCommandChannel(plan.ctx, { clientId: plan.ctx.options.clientId }),
            {
              timeoutSeconds: inputs.timeoutSeconds,
              parallelism: inputs.parallelism,
              command: inputs.command,
              ...(inputs.readyCommand === false ? { readiness: { bootCheck: false as const } } : {}),
              onProgress: logProgress,
            },
          )
        : await verifyClaws(plan.targets, {
            username: inputs.username || DEFAULT_ADMIN_USERNAME,
            privateKey: inputs.privateKey,
            timeoutSeconds: inputs.timeoutSeconds,
            parallelism: inputs.parallelism,
            command: inputs.command,
            ...(inputs.readyCommand === undefined ? {} : { readiness: { bootCheck: inputs.readyCommand } }),
            onProgress: logProgress,
          });
  } catch (err) {
    if (err instanceof InvalidPrivateKeyError) {
      throw new UserError(
        `Input 'ssh-private-key': ${err.message}.`,
        "Store the whole OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- ... END ...) in the secret, without a passphrase.",
      );
    }
    throw err;
  }
  const results = inOrder(plan, verified);
  await report(results, plan, inputs.reportOnly, reporter);
  return results;
}

/** Every selected claw, in order; a claw with no VM gets a result of its own, never dropped. */
function inOrder(plan: TargetPlan, verified: ClawVerification[]): ClawVerification[] {
  const byName = new Map(verified.map((r) => [r.name, r]));
  return plan.order.map((name) => {
    const result = byName.get(name);
    if (result) return result;
    const missing = plan.missing.find((m) => m.name === name);
    return {
      name,
      host: "",
      port: 22,
      ...noChecks("not-ready", missing?.error ?? "not verified"),
      durationMs: 0,
    };
  });
}

async function report(
  results: ClawVerification[],
  plan: TargetPlan,
  reportOnly: boolean,
  reporter: Reporter,
): Promise<void> {
  const unhealthy = results.filter((r) => !r.healthy);
  for (const r of results) reporter.info(`${r.healthy ? "✅" : "❌"} ${r.name}: ${verdict(r)}`);

  // One error annotation per unhealthy claw, on its line in the manifest when there is one.
  // GitHub shows 10 per step: the rest are in the summary (annotate says how many it left out).
  const findings: Finding[] = unhealthy.map((r) => {
    const line = plan.manifest?.lineOf(r.name);
    return {
      file: plan.manifest?.display ?? "",
      ...(line ? { line } : {}),
      severity: "error",
      title: `Claw ${r.name} is unhealthy`,
      message: verdict(r),
    };
  });
  const { omitted } = annotate(findings, reporter);

  let md = "## Claw verification\n\n";
  md += `Claws from ${plan.source}.\n\n`;
  md += summaryMarkdown(results);
  if (omitted > 0) {
    md += `\n> ${omitted} unhealthy claw(s) have no annotation (GitHub shows at most 10 error annotations per step); every claw is in the table above.\n`;
  }
  await reporter.summary(md);

  reporter.setOutput("results", JSON.stringify(results));
  reporter.setOutput("healthy", JSON.stringify(results.filter((r) => r.healthy).map((r) => r.name)));
  reporter.setOutput("unhealthy", JSON.stringify(unhealthy.map((r) => r.name)));

  if (unhealthy.length === 0) {
    reporter.info(`All ${results.length} claw(s) healthy.`);
    return;
  }
  const names = unhealthy.map((r) => r.name).join(", ");
  const message = `${unhealthy.length} of ${results.length} claw(s) unhealthy: ${names}.`;
  if (reportOnly) reporter.info(`${message} report-only is set: the step does not fail.`);
  else throw new UserError(`${message} See the annotations and the job summary.`);
}
