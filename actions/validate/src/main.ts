import "@openclawps/action-kit/commonjs-globals";
import * as core from "@actions/core";
import {
  annotate,
  findShippedVmRuntime,
  getBoolean,
  getSecret,
  getString,
  maskSecret,
  runAction,
} from "@openclawps/action-kit";
import { validateFleet, validationSummaryMarkdown } from "@openclawps/fleet-check";

// Thin edge: inputs → validateFleet → annotations, job summary, outputs. The checks live in
// @openclawps/fleet-check.
await runAction(async () => {
  const secretsJson = getSecret("secrets-json");
  const strict = getBoolean("strict", false);
  const manifest = getString("manifest", "claws.yaml");
  // Said before the slow checks (shellcheck, packer validate) so the log shows the step started.
  core.info(`Validating ${manifest}, the vm-runtime scripts and the Packer template...`);
  const report = await validateFleet({
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    manifest,
    vmRuntime: getString("vm-runtime"),
    packerDir: getString("packer-dir"),
    secretsJson,
    adminPublicKey: getString("admin-public-key"),
    maskSecret,
    shippedVmRuntime: findShippedVmRuntime(import.meta.url),
  });

  for (const check of report.checks) core.info(`${check.name}: ${check.status} — ${check.detail}`);
  const { omitted } = annotate(report.findings);
  for (const notice of report.notices) core.notice(notice);

  const failed = report.errors > 0 || (strict && report.warnings > 0);
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary
      .addRaw(validationSummaryMarkdown(report, { strict, omittedAnnotations: omitted }))
      .write();
  }
  core.setOutput("valid", String(!failed));
  core.setOutput("errors", String(report.errors));
  core.setOutput("warnings", String(report.warnings));
  core.setOutput("problems", JSON.stringify(report.findings));
  if (failed) {
    const counts = `${report.errors} error(s), ${report.warnings} warning(s)${strict ? " (strict)" : ""}`;
    core.setFailed(`Fleet validation failed: ${counts}. Every problem is listed in the job summary.`);
  } else {
    core.info(
      `Fleet validation passed (${report.warnings === 1 ? "1 warning" : `${report.warnings} warnings`}).`,
    );
  }
});
