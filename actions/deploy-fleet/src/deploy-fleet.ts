// deploy-fleet: manifest → secrets → observe Azure → desired state → plan → (apply: approval
// gate → shared infrastructure → health-gated rollout). main.ts only reads inputs and calls this
// with the core-backed Reporter; tests call it with the in-memory one.
import {
  annotate,
  type Finding,
  findingsMarkdown,
  fitSummary,
  maskSecret,
  type Reporter,
  UserError,
} from "@openclawps/action-kit";
import {
  AzureClawOperations,
  type AzureConnectionOptions,
  type AzureContext,
  AzureFleetLease,
  adoptSeedResources,
  azureErrorCode,
  connectAzure,
  describeAzureError,
  ensureSharedInfra,
  ensureVault,
  LeaseHeldError,
  observeFleet,
  readKeyVaultSecrets,
  refreshClawSecret,
  seedResourcesToAdopt,
} from "@openclawps/azure";
import {
  CustomDataTooLargeError,
  collectPayload,
  configHash,
  generateHostKey,
  legacyConfigHash,
  type Payload,
  renderCustomData,
  StagingValueError,
} from "@openclawps/cloud-init";
import {
  checkCustomData,
  checkManifest,
  checkSecrets,
  checkVmRuntime,
  displayPath,
  overlayDirOrThrow,
  resolveInRepo,
} from "@openclawps/fleet-check";
import {
  type ClawSecrets,
  chooseAdminKey,
  clawsWithOtherConfigHash,
  type DesiredFleet,
  keyVaultSecretName,
  type ParseResult,
  type Plan,
  planFleet,
  planNeedsApply,
  planProblems,
  planWaves,
  renderPlanMarkdown,
  renderSecretVersionsMarkdown,
  resolveFleet,
  type SecretVersionChange,
  TAGS,
} from "@openclawps/fleet-model";
import {
  RolloutConfigurationError,
  type RolloutReport,
  renderReportMarkdown,
  runRollout,
} from "@openclawps/rollout";
import { checkPrivateKey, InvalidPrivateKeyError } from "@openclawps/verify";
import { selectClaws } from "./claw-selection.ts";
import { applyOverrides } from "./fleet-overrides.ts";
import type { DeployInputs } from "./inputs.ts";
import { changingClaws, planJson, wavesMarkdown } from "./plan-output.ts";
import { rolloutLog } from "./rollout-log.ts";
import { proveUnchangedClaws } from "./unproven-claws.ts";
import { buildWaveVerifier } from "./wave-verifier.ts";

/** What to deploy: the action's inputs and where the run happens. */
export interface DeployRequest {
  inputs: DeployInputs;
  /** Repository root: the manifest and overlay paths are relative to it. */
  workspace: string;
  /** The vm-runtime shipped with the action. */
  shippedVmRuntime: string;
  /** Identifies this rollout in the lease and tags. */
  runId: string;
  /** Cancels the rollout between claw steps (the runner's SIGINT/SIGTERM on cancel). */
  signal?: AbortSignal;
}

/** How the core reaches Azure: connectAzure in the action; tests connect to the local Azure. */
export interface DeployClients {
  connectAzure(options: AzureConnectionOptions): AzureContext;
}

export const azureClients: DeployClients = { connectAzure };

/** What the core does its I/O with besides the files of the workspace. */
export interface DeployDependencies {
  clients: DeployClients;
  /** Log lines, annotations, the job summary, outputs and masks. */
  reporter: Reporter;
  /** Wall-clock time, for the plan's dates. */
  clock: { now(): Date };
}

export interface DeployOutcome {
  plan: Plan;
  /** Apply mode only. */
  report?: RolloutReport;
}

/** Runs plan or apply. User mistakes throw UserError (message + fix); ARM errors are described, never dropped. */
export async function deployFleet(
  request: DeployRequest,
  { clients, reporter, clock }: DeployDependencies,
): Promise<DeployOutcome> {
  const { inputs } = request;
  const progress = rolloutLog(reporter);
  // ---- manifest
  const manifestAbs = resolveInRepo(request.workspace, inputs.manifest, "Input 'manifest'");
  const display = displayPath(request.workspace, manifestAbs);
  const manifestCheck = checkManifest(manifestAbs, display);
  await failOnFindings(manifestCheck.findings, `${display} has problems`, reporter);
  const parse = manifestCheck.parse as ParseResult & { manifest: NonNullable<ParseResult["manifest"]> };
  const manifest = applyOverrides(parse.manifest, inputs.imageVersion, inputs.rollout);
  const fleet = resolveFleet(manifest, display);
  const policy = fleet.rollout;

  // ---- secrets (masked inside checkSecrets the moment they are parsed). With Key Vault secrets
  // each claw reads its own; this run never sees a value.
  const live = fleet.claws.filter((c) => !c.retired).map((c) => c.name);
  const keyVault = fleet.secrets.key_vault;
  if (keyVault && inputs.secretsJson) {
    reporter.warning(
      `CLAW_SECRETS_JSON is ignored: ${display} takes the claws' secrets from Key Vault ${keyVault} (secrets.key_vault).`,
      { file: display },
    );
  }
  if (!keyVault && !inputs.secretsJson && live.length > 0) {
    throw new UserError(
      "No claw secrets: the secrets-json input and the CLAW_SECRETS_JSON environment variable are both empty.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression for the user to copy
      "Pass `secrets-json: ${{ secrets.CLAW_SECRETS_JSON }}` (a JSON object keyed by claw name).",
    );
  }
  const secretsCheck = checkSecrets({
    json: (!keyVault && inputs.secretsJson) || "{}",
    clawNames: keyVault ? [] : live,
    manifest: parse,
    manifestDisplay: display,
    mask: (value) => maskSecret(value, reporter.setSecret),
  });
  await failOnFindings(secretsCheck.findings, "CLAW_SECRETS_JSON has problems", reporter);
  const secrets = secretsCheck.secrets;

  // ---- desired state: each claw's config hash from the cloud-init it would boot with
  const overlayDir = overlayDirOrThrow(request.workspace, manifestAbs, inputs.vmRuntimeOverlay);
  // The vm-runtime payload is the same for every claw: read on first use, once per run.
  let payload: Payload | undefined;
  const runPayload = (): Payload => {
    payload ??= collectPayload(request.shippedVmRuntime, overlayDir);
    return payload;
  };
  // The vault's URL is known once it exists (apply ensures it first); the config hash covers its name.
  let vaultUrl = "";
  const renderInput = (name: string) => ({
    fleet,
    ...(keyVault
      ? { keyVault: { vault: keyVault, vaultUrl, secretName: keyVaultSecretName(name) } }
      : { secrets: secretsOf(secrets, name) }),
    vmRuntimeDir: request.shippedVmRuntime,
    ...(overlayDir ? { overlayDir } : {}),
    payload: runPayload(),
  });
  const adminKey = chooseAdminKey(fleet.ssh.admin_public_key, inputs.adminPublicKey);
  if (adminKey.problem && adminKey.source === "manifest")
    reporter.warning(adminKey.problem, { file: display });
  if (live.length > 0 && !adminKey.key) {
    const at = parse.locate("ssh");
    throw new UserError(
      adminKey.problem
        ? `Input 'admin-public-key': ${adminKey.problem}.`
        : `No admin public key: ${display} has no ssh.admin_public_key and the admin-public-key input is empty, so no claw could be reached over SSH.`,
      `Add \`ssh: { admin_public_key: "ssh-ed25519 AAAA... you@host" }\` to ${display} (line ${at.line}), or pass ` +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression for the user to copy
        "`admin-public-key: ${{ vars.CLAW_SSH_PUBLIC_KEY }}` (a seed-era manifest keeps working unchanged); the private half goes into the CLAW_SSH_PRIVATE_KEY secret.",
    );
  }
  if (adminKey.key) fleet.ssh = { ...fleet.ssh, admin_public_key: adminKey.key };

  // ---- every claw's cloud-init, checked as validate checks it, before any Azure call: what apply
  // would hit (an overlay update reusing a shipped number, customData over Azure's limit, a value
  // the .env cannot carry) fails the plan, and apply writes nothing.
  const runtime = checkVmRuntime({
    workspace: request.workspace,
    shipped: request.shippedVmRuntime,
    ...(overlayDir ? { overlay: overlayDir } : {}),
  });
  await failOnFindings(
    [...runtime.updateFindings, ...runtime.payloadFindings],
    "The vm-runtime has problems",
    reporter,
  );
  // The payload checkVmRuntime read is the run's: every claw's cloud-init is made from it.
  payload ??= runtime.payload;
  const customData = checkCustomData({
    fleet,
    manifest: parse,
    manifestDisplay: display,
    vmRuntimeDir: request.shippedVmRuntime,
    ...(overlayDir ? { overlayDir } : {}),
    payload: runPayload(),
    secrets,
    // Sizes appear only in a warning or an error: a claw far below the limit is not compressed.
    exactSizes: false,
  });
  await failOnFindings(customData.findings, "The claws' cloud-init cannot be rendered", reporter);
  // Each claw is rendered once: with its real secrets (what apply sends), the size check's hash is
  // the claw's config hash. Key Vault claws were sized with placeholder secrets: hashed here.
  const checkedHash = new Map(
    keyVault
      ? []
      : customData.claws.flatMap((c) => (c.realSecrets && c.configHash ? [[c.claw, c.configHash]] : [])),
  );
  const desiredNow: DesiredFleet = {
    ...fleet,
    claws: fleet.claws.map((claw) => ({
      ...claw,
      // A retired claw boots nothing: no secrets, no config.
      configHash: claw.retired
        ? ""
        : (checkedHash.get(claw.name) ??
          rendered(claw.name, () => configHash({ ...renderInput(claw.name), claw }))),
    })),
  };

  // ---- observe Azure and plan
  const ctx = clients.connectAzure({
    ...inputs.azure,
    resourceGroup: fleet.azure.resource_group_name,
    pollIntervalMs: inputs.pollIntervalMs,
  });
  const hints = {
    clientId: inputs.azure.clientId,
    subscriptionId: inputs.azure.subscriptionId,
    tenantId: inputs.azure.tenantId,
  };
  let observed: Awaited<ReturnType<typeof observeFleet>>;
  try {
    observed = await azure(`Reading the fleet in resource group ${ctx.resourceGroup}`, hints, () =>
      observeFleet(ctx, fleet),
    );
  } catch (err) {
    // No plan without a reading of Azure: the summary says why (a wrong subscription, a missing
    // role), so a reviewer does not see an empty page.
    if (err instanceof UserError) {
      await reporter.summary(
        `## Fleet plan — \`${display}\`\n\n> [!CAUTION]\n> **No plan:** ${err.message}\n`,
      );
    }
    throw err;
  }
  // A VM deployed before the v2 config hash carries the v1 hash (cloud-init README, "Config
  // hash"): computed for those claws only, so an unchanged claw is planned as unchanged.
  const legacy = clawsWithOtherConfigHash(desiredNow, observed);
  const desired: DesiredFleet = {
    ...desiredNow,
    claws: desiredNow.claws.map((claw) =>
      legacy.has(claw.name)
        ? {
            ...claw,
            legacyConfigHash: rendered(claw.name, () =>
              legacyConfigHash({ ...renderInput(claw.name), claw }),
            ),
          }
        : claw,
    ),
  };
  const kv = keyVault
    ? await azure(`Reading Key Vault ${keyVault}`, hints, () => readKeyVaultSecrets(ctx, fleet, observed.vms))
    : undefined;
  if (kv?.vault) vaultUrl = kv.vault.vaultUri;
  for (const c of (kv?.changes ?? []).filter((x) => x.status === "missing").slice(0, 10)) {
    reporter.warning(
      `Claw ${c.claw} has no secret ${c.secret} in Key Vault ${keyVault}: it boots without its keys. Set it: az keyvault secret set --vault-name ${keyVault} --name ${c.secret} --file <the claw's secrets JSON>`,
      { file: display },
    );
  }
  // Claws the rollout did not rebuild load their rotated secret through Run Command (10 at a time);
  // a new VM fetched the current version at its first boot.
  const refreshRotatedSecrets = async (changes: SecretVersionChange[], rebuilt: string[]) => {
    const due = changes.filter((c) => c.status === "rotated" && !rebuilt.includes(c.claw));
    for (let i = 0; i < due.length; i += 10) {
      await Promise.all(
        due.slice(i, i + 10).map(async (c) => {
          const vm = fleet.claws.find((x) => x.name === c.claw)?.names.vm ?? c.claw;
          const r = await refreshClawSecret(ctx, c, vm, { clientId: inputs.azure.clientId }).catch(
            (err: unknown) => ({ ok: false, detail: describeAzureError(err, hints) }),
          );
          if (r.ok) reporter.info(`${c.claw}: ${r.detail} of ${c.secret} (no VM replaced)`);
          else reporter.warning(`${c.claw}: its rotated secret ${c.secret} was not loaded: ${r.detail}`);
        }),
      );
    }
  };
  const plan = selectClaws(
    planFleet(desired, observed, {
      forceUnlock: inputs.forceUnlock,
      ...(kv ? { secrets: kv.changes } : {}),
    }),
    inputs.claws,
    fleet.claws.map((c) => c.name),
  );
  const waves = planWaves(plan, policy);
  const changed = changingClaws(plan);
  const applyNeeded = planNeedsApply(plan);
  reporter.setOutput("plan", JSON.stringify(planJson(plan, waves)));
  reporter.setOutput("plan-hash", plan.hash);
  reporter.setOutput("changed-claws", JSON.stringify(changed));
  // A rotated Key Vault secret is loaded by a refresh on apply, with no VM replaced.
  const rotated = (kv?.changes ?? []).filter((c) => c.status === "rotated");
  reporter.setOutput("apply-needed", String(applyNeeded || rotated.length > 0));
  reporter.setOutput("verify", String(policy.verify));
  reportPlanWarnings(plan, parse, display, reporter);

  let md = `## Fleet plan — \`${display}\`\n\n`;
  md += `Resource group \`${ctx.resourceGroup}\` · plan hash \`${plan.hash}\``;
  md += inputs.claws.length > 0 ? ` · limited to: ${inputs.claws.join(", ")}\n\n` : "\n\n";
  // A plan of thousands of claws could outgrow the step summary, which apply shares with the
  // rollout report: each gets a part of GitHub's 1 MiB and is cut with a note past it (the plan
  // and result outputs have everything).
  md += fitSummary(
    renderPlanMarkdown(plan, { now: clock.now() }) + wavesMarkdown(waves, policy.verify),
    512 * 1024,
  );
  if (keyVault && kv) md += renderSecretVersionsMarkdown(keyVault, kv.vault !== undefined, kv.changes);
  const unproven = plan.unproven;
  const toAdopt = seedResourcesToAdopt(fleet, observed);
  if (toAdopt.length > 0) {
    md +=
      `\n**Adopting ${toAdopt.length} resource(s) a seed-era deployment created** (tagged \`${TAGS.claw}\` on apply, ` +
      `nothing else changes): ${toAdopt.map((r) => `\`${r.name}\``).join(", ")}\n`;
  }
  reporter.info(
    `Plan ${plan.hash}: ${changed.length} claw(s) to change${changed.length ? `: ${changed.join(", ")}` : ""}` +
      `${plan.shared.length ? `, ${plan.shared.length} shared-infrastructure change(s)` : ""}` +
      `${unproven.length ? `, ${unproven.length} unproven claw(s) to verify` : ""}` +
      `${plan.lease?.clear ? `, the lease of run ${plan.lease.runId} to clear` : ""}; apply needed: ${applyNeeded}.`,
  );
  const problems = planProblems(plan);

  if (inputs.mode === "plan") {
    await reporter.summary(md);
    failOnProblems(problems, "plan");
    return { plan };
  }

  // ---- apply: what runs is exactly what was approved
  if (inputs.approvedPlanHash && inputs.approvedPlanHash !== plan.hash) {
    md +=
      `\n> [!CAUTION]\n> **Apply refused:** the fresh plan's hash \`${plan.hash}\` differs from the approved ` +
      `\`${inputs.approvedPlanHash}\`. Nothing was changed.\n`;
    await reporter.summary(md);
    throw new UserError(
      `The plan changed since it was approved (approved ${inputs.approvedPlanHash}, now ${plan.hash}); nothing was changed.`,
      "Azure or the manifest changed after the plan was reviewed. Re-run ALL jobs of the workflow run " +
        '("Re-run all jobs", not "Re-run failed jobs", which reuses the old plan\'s hash), review the new plan and approve that one.',
    );
  }
  if (!inputs.approvedPlanHash) {
    reporter.warning(
      "Applying without approved-plan-hash: the plan computed now runs without anyone having approved it. " +
        "Pass the plan-hash output of a reviewed plan run to gate apply on it.",
    );
  }
  if (inputs.dryRun) {
    md += "\n**Dry run:** the plan hash matches; nothing was changed.\n";
    await reporter.summary(md);
    return { plan };
  }
  await reporter.summary(md);
  // Every changed claw but a retired one gets verified.
  const needsVerifier =
    policy.verify && (unproven.length > 0 || waves.some((w) => w.claws.some((c) => changedVm(plan, c))));
  const overSsh = inputs.transport === "ssh";
  if (needsVerifier && overSsh && !inputs.sshPrivateKey) {
    throw new UserError(
      "Wave verification over SSH (transport: ssh) is on but no ssh-private-key was given, so no claw could be proven healthy; nothing was changed.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression for the user to copy
      "Pass `ssh-private-key: ${{ secrets.CLAW_SSH_PRIVATE_KEY }}`, or verify through Azure Run Command instead (`transport: run-command`, the default: no key, no inbound port).",
    );
  }
  if (needsVerifier && overSsh) {
    try {
      checkPrivateKey(inputs.sshPrivateKey);
    } catch (err) {
      if (!(err instanceof InvalidPrivateKeyError)) throw err;
      throw new UserError(
        `Input 'ssh-private-key': ${err.message}; nothing was changed.`,
        "Store the whole OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- ... END ...) in the secret, without a passphrase.",
      );
    }
  }

  // Shared infrastructure is ensured under the lease when there is a rollout, and on its own
  // otherwise (it writes nothing when it is already right, so a converged fleet costs reads only).
  const prepareSharedInfra = async () => {
    const shared = await azure(
      "Preparing the shared resources (resource group, network, NSG, gallery)",
      hints,
      () => ensureSharedInfra(ctx, fleet),
    );
    for (const c of shared.created) reporter.info(`Created ${c}`);
    for (const u of shared.updated) reporter.info(`Updated ${u}`);
    for (const w of shared.warnings) reporter.warning(w, { file: display });
    if (keyVault) {
      const v = await azure(`Preparing Key Vault ${keyVault}`, hints, () =>
        ensureVault(ctx, fleet, keyVault),
      );
      if (v.problem)
        throw new UserError(v.problem, `Or name another vault in secrets.key_vault in ${display}.`);
      if (v.created) reporter.info(`Created Key Vault ${keyVault} (RBAC authorisation)`);
      vaultUrl = v.vault.vaultUri;
    }
    // Seed-era resources ({claw}, {claw}-nic, {claw}-pip, {claw}-data) are adopted by name:
    // tagged as the claw's, so they are never duplicated and later runs find them by tag.
    const adopted = await azure("Adopting resources a seed-era deployment created", hints, () =>
      adoptSeedResources(ctx, fleet, observed),
    );
    for (const r of adopted) reporter.info(`Adopted ${r.kind} ${r.name} for claw ${r.claw}`);
  };
  const lease = new AzureFleetLease(ctx, {
    createResourceGroup: { location: fleet.azure.location, tags: fleet.azure.tags },
  });
  if (waves.length === 0) {
    if (plan.shared.length > 0 || plan.lease?.clear || toAdopt.length > 0) {
      // Writes without a rollout still happen under the lease: another run may be rolling out.
      await withLease(lease, request.runId, inputs.forceUnlock, hints, prepareSharedInfra);
      if (plan.lease?.clear)
        reporter.info(`Cleared the rollout lease of run ${plan.lease.runId} (force-unlock).`);
    } else await prepareSharedInfra();
  }

  const operations = new AzureClawOperations(ctx, desired, {
    rolloutId: request.runId,
    snapshotBeforeReplace: policy.snapshot_before_replace,
    ...(policy.snapshots_kept !== undefined ? { snapshotsKept: policy.snapshots_kept } : {}),
    // A cancel aborts the ARM call in flight, so the report and the lease release happen in time.
    ...(request.signal ? { signal: request.signal } : {}),
    render: (claw) => {
      const hostKey = generateHostKey();
      const result = renderCustomData({ ...renderInput(claw.name), claw, hostKey });
      // Key Vault: the version current now is the one the new VM's first boot loads.
      const secretVersion = kv?.changes.find((c) => c.claw === claw.name)?.current;
      return {
        customData: result.customData,
        configHash: result.configHash,
        hostKeyFingerprint: hostKey.fingerprint,
        ...(secretVersion ? { secretVersion } : {}),
      };
    },
  });
  const verifier = needsVerifier
    ? buildWaveVerifier({
        ctx,
        fleet,
        transport: inputs.transport,
        privateKey: inputs.sshPrivateKey,
        clientId: inputs.azure.clientId,
        timeoutSeconds: inputs.verifyTimeoutSeconds,
        log: progress,
      })
    : undefined;

  let report: RolloutReport;
  try {
    report = await runRollout({
      plan,
      waves,
      operations,
      verifier,
      policy,
      // The first apply of a fleet takes the lease on a resource group it creates.
      lease,
      forceUnlock: inputs.forceUnlock,
      prepare: prepareSharedInfra,
      runId: request.runId,
      log: progress,
      signal: request.signal,
    });
  } catch (err) {
    // The lease held by another run, a policy that cannot be honoured, an ARM error taking the
    // lease: all things the user fixes. Anything else is a bug and keeps its stack.
    if (
      err instanceof RolloutConfigurationError ||
      err instanceof UserError ||
      err instanceof LeaseHeldError
    ) {
      throw new UserError(err.message);
    }
    if (azureErrorCode(err) !== undefined) {
      throw new UserError(`Taking the fleet's rollout lease failed: ${describeAzureError(err, hints)}`);
    }
    throw err;
  }

  reporter.setOutput("result", JSON.stringify(report));
  reporter.setOutput(
    "changed-claws",
    JSON.stringify(
      report.claws
        .filter((c) => c.outcome !== "skipped" && c.outcome !== "unchanged" && c.outcome !== "retired")
        .map((c) => c.claw),
    ),
  );
  await reporter.summary(`\n## Rollout\n\n${fitSummary(renderReportMarkdown(report), 384 * 1024)}`);
  if (report.status !== "succeeded" && report.status !== "nothing-to-do") {
    const failed = report.claws.filter((c) => c.outcome === "failed" || c.outcome === "rolled-back");
    const shown = failed.slice(0, 3).map((c) => `\n- ${c.claw} (${c.outcome}): ${c.error ?? c.detail ?? ""}`);
    throw new UserError(
      `Rollout ${report.status}${report.haltReason ? `: ${report.haltReason}` : ""}.` +
        `${shown.join("")}${failed.length > 3 ? `\n- and ${failed.length - 3} more` : ""}` +
        "\nThe job summary says what happened to each claw.",
      "Fix the cause named for each failed claw, then re-run: apply converges from wherever this run stopped, and no data disk was deleted.",
    );
  }
  if (verifier && unproven.length > 0) await proveUnchangedClaws(unproven, verifier, operations, reporter);
  await refreshRotatedSecrets(kv?.changes ?? [], changed);
  failOnProblems(problems, "apply");
  if (!report.verification && report.claws.some((c) => c.health === "unverified")) {
    reporter.warning(
      "Wave verification was off: changed claws are unverified. Run the verify action when the VMs are reachable.",
    );
  }
  return { plan, report };
}

/**
 * Blocked claws fail the run after the summary is written, one line each with the reason and fix:
 * a green plan must mean the fleet can become what the manifest says.
 */
function failOnProblems(problems: { claw: string; reason: string }[], mode: "plan" | "apply"): void {
  if (problems.length === 0) return;
  throw new UserError(
    `${problems.length} claw(s) cannot be brought to what the manifest asks${mode === "apply" ? " (the others were applied)" : ""}:` +
      problems.map((p) => `\n- ${p.claw}: ${p.reason}`).join(""),
    "Fix what each line names (bake the image or pin a version the gallery has, free the data disk, ...), " +
      "or limit the run to other claws with the `claws` input; then plan again.",
  );
}

/** Takes the fleet's lease (clearing a stale one with force-unlock), runs `fn`, releases it. */
async function withLease(
  lease: AzureFleetLease,
  runId: string,
  force: boolean,
  hints: { clientId?: string },
  fn: () => Promise<void>,
): Promise<void> {
  try {
    await lease.acquire(runId, 15 * 60, force);
  } catch (err) {
    if (err instanceof LeaseHeldError) throw new UserError(err.message);
    throw new UserError(`Taking the fleet's rollout lease failed: ${describeAzureError(err, hints)}`);
  }
  try {
    await fn();
  } finally {
    await lease.release(runId);
  }
}

/**
 * Rendering fails on what the fleet repository holds (a value the .env cannot carry, customData
 * over Azure's limit; checked before planning, so this is the last line): the renderer's message
 * names the claw, the field or file, and the fix. Told apart by type; anything else is a bug.
 */
function rendered<T>(claw: string, render: () => T): T {
  try {
    return render();
  } catch (err) {
    if (!(err instanceof StagingValueError || err instanceof CustomDataTooLargeError)) throw err;
    throw new UserError(`Rendering the cloud-init of claw ${claw} failed: ${err.message}`);
  }
}

function changedVm(plan: Plan, claw: string): boolean {
  return plan.claws.find((c) => c.claw === claw)?.action !== "retire";
}

function secretsOf(secrets: Map<string, ClawSecrets>, claw: string): ClawSecrets {
  const s = secrets.get(claw);
  if (!s) throw new Error(`no secrets for claw ${claw} after the secrets check passed`);
  return s;
}

/** Annotates every finding; errors fail the run (with the full list in the job summary). */
async function failOnFindings(findings: Finding[], what: string, reporter: Reporter): Promise<void> {
  if (findings.length === 0) return;
  const { omitted } = annotate(findings, reporter);
  const errors = findings.filter((f) => f.severity === "error");
  if (errors.length === 0) return;
  await reporter.summary(`## ${what}\n\n${findingsMarkdown(findings)}`);
  const first = errors[0]!;
  throw new UserError(
    `${what}: ${errors.length} error${errors.length === 1 ? "" : "s"}${omitted ? ` (${omitted} annotation(s) not shown; see the job summary)` : ""}. ` +
      `First: ${first.file}${first.line ? `:${first.line}` : ""}: ${first.message}${first.fix ? ` Fix: ${first.fix}` : ""}`,
  );
}

/** Orphans and blocked claws are worth a reviewer's attention: one warning each, on the claw's line. */
function reportPlanWarnings(plan: Plan, parse: ParseResult, display: string, reporter: Reporter): void {
  for (const c of plan.claws) {
    if (c.action !== "orphan" && c.action !== "blocked") continue;
    const at = c.action === "blocked" ? parse.locate(`claws.${c.claw}`) : undefined;
    reporter.warning(`${c.claw}: ${c.action} — ${c.reason}`, {
      title: c.action === "orphan" ? "Orphan claw (left untouched)" : "Blocked claw (not changed)",
      ...(at ? { file: display, startLine: at.line } : {}),
    });
  }
}

/** Runs an ARM call sequence; its failure becomes a user-facing message saying what to fix. */
async function azure<T>(what: string, hints: { clientId?: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new UserError(`${what} failed: ${describeAzureError(err, hints)}`);
  }
}
