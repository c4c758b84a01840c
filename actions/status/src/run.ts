// status, the action itself (main.ts prints the first line, then imports this): read inputs and
// the manifest, run the status (or a power mode), report.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { annotate, log, rolloutRunId, runAction, UserError, workflow } from "@openclawps/action-kit";
import { connectAzure, powerRunId } from "@openclawps/azure";
import { checkManifest, displayPath, resolveInRepo } from "@openclawps/fleet-check";
import { resolveFleet } from "@openclawps/fleet-model";
import { azureFleet } from "./azure-fleet.ts";
import { getStatusInputs } from "./inputs.ts";
import { summaryMarkdown } from "./report.ts";
import { runStatus } from "./status.ts";

await runAction(async () => {
  const inputs = getStatusInputs();
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const abs = resolveInRepo(workspace, inputs.manifest, "Input 'manifest'");
  const display = displayPath(workspace, abs);
  const check = checkManifest(abs, display);
  const errors = check.findings.filter((f) => f.severity === "error");
  if (errors.length > 0 || !check.parse?.manifest) {
    annotate(check.findings);
    const first = errors[0];
    throw new UserError(
      `${display} has ${errors.length} problem(s), annotated on their lines${first ? `; the first: ${first.file}${first.line ? `:${first.line}` : ""}: ${first.message}` : ""}.`,
      first?.fix ?? "Correct the manifest; the validate action reports the same problems on pull requests.",
    );
  }
  const fleet = resolveFleet(check.parse.manifest, display);
  const ctx = connectAzure({
    ...inputs.azure,
    resourceGroup: fleet.azure.resource_group_name,
    pollIntervalMs: inputs.pollIntervalMs,
  });
  const at = inputs.at;
  const outcome = await runStatus(
    {
      mode: inputs.mode,
      claws: inputs.claws,
      fleet,
      runId: powerRunId(rolloutRunId()),
      parallelism: fleet.rollout.parallelism,
    },
    {
      azure: azureFleet(ctx, fleet, { clientId: inputs.azure.clientId }),
      log: { info: log.info, warning: (t) => log.warning(t) },
      now: () => at ?? new Date(),
    },
  );
  const json = JSON.stringify({ claws: outcome.rows, ...(outcome.power ? { power: outcome.power } : {}) });
  const dir = process.env.RUNNER_TEMP || workspace;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "openclawps-status.json");
  writeFileSync(file, `${json}\n`);
  workflow.setOutput("status", json);
  workflow.setOutput("status-file", file);
  if (outcome.power) {
    const ok = outcome.power.results.filter((r) => r.ok);
    workflow.setOutput("parked", JSON.stringify(ok.filter((r) => r.action === "park").map((r) => r.claw)));
    workflow.setOutput("started", JSON.stringify(ok.filter((r) => r.action === "start").map((r) => r.claw)));
    workflow.setOutput("skipped", String(outcome.power.skipped !== undefined));
  }
  await workflow.appendSummary(
    summaryMarkdown(outcome, { manifest: display, resourceGroup: ctx.resourceGroup, at: new Date() }),
  );
  const failed = outcome.power?.results.filter((r) => !r.ok) ?? [];
  if (failed.length > 0) {
    throw new UserError(
      `The ${inputs.mode} run failed on ${failed.length} claw(s):` +
        failed.map((f) => `\n- ${f.claw} (${f.action}): ${f.error}`).join(""),
      "Fix what each line names; the next run acts on these claws again (no data disk was touched).",
    );
  }
});
