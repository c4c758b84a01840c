// validate, the action itself (main.ts prints the first line, then imports this).
import {
  annotate,
  findShippedVmRuntime,
  getBoolean,
  getSecret,
  getString,
  log,
  maskSecret,
  runAction,
  workflow,
} from "@openclawps/action-kit";
import { validateFleet, validationSummary } from "@openclawps/fleet-check";

// Thin edge: inputs → validateFleet → annotations, job summary, outputs. The checks live in
// @openclawps/fleet-check.
await runAction(async () => {
  const secretsJson = getSecret("secrets-json");
  const strict = getBoolean("strict", false);
  const manifest = getString("manifest", "claws.yaml");
  // Said before the slow checks (shellcheck, packer validate) so the log shows the step started.
  log.info(`Validating ${manifest}, the vm-runtime scripts and the Packer template...`);
  const report = await validateFleet({
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    manifest,
    vmRuntime: getString("vm-runtime"),
    packerDir: getString("packer-dir"),
    secretsJson,
    adminPublicKey: getString("admin-public-key"),
    maskSecret,
    shippedVmRuntime: findShippedVmRuntime(import.meta.url),
    // pull_request and pull_request_target: the template comes from the pull request.
    pullRequest: (process.env.GITHUB_EVENT_NAME ?? "").startsWith("pull_request"),
  });

  for (const check of report.checks) log.info(`${check.name}: ${check.status} — ${check.detail}`);
  const { omitted } = annotate(report.findings);
  for (const notice of report.notices) workflow.notice(notice);

  const failed = report.errors > 0 || (strict && report.warnings > 0);
  const summary = validationSummary(report, { strict, omittedAnnotations: omitted });
  if (process.env.GITHUB_STEP_SUMMARY) await workflow.appendSummary(summary.markdown);
  workflow.setOutput("valid", String(!failed));
  workflow.setOutput("errors", String(report.errors));
  workflow.setOutput("warnings", String(report.warnings));
  workflow.setOutput("problems", JSON.stringify(report.findings));
  if (failed) {
    const counts = `${report.errors} error(s), ${report.warnings} warning(s)${strict ? " (strict)" : ""}`;
    const where =
      summary.unlisted > 0
        ? `The job summary lists the first ${report.findings.length - summary.unlisted} problems; ${summary.unlisted} more did not fit in GitHub's 1 MiB job summary (fix those listed and run again).`
        : "Every problem is listed in the job summary.";
    workflow.setFailed(`Fleet validation failed: ${counts}. ${where}`);
  } else {
    log.info(
      `Fleet validation passed (${report.warnings === 1 ? "1 warning" : `${report.warnings} warnings`}).`,
    );
  }
});
