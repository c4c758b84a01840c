// `npm run demo`: the whole flow on this machine, no Azure account needed. A local Azure (ARM,
// Microsoft Entra and GitHub's OIDC issuer over HTTPS, see packages/local-azure) holds a gallery
// with baseline image 1.0.0 (1.1.0 is published at step 4); the bundled actions run against it exactly as a GitHub
// runner runs them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, OIDC sign-in):
//
//   1. validate    examples/fleet/claws.yaml, then a copy with mistakes in it
//   2. plan        diff the manifest against the (empty) resource group
//   3. apply       the approved plan: shared network + four claws
//   4. upgrade     bake publishes 1.1.0; claws.yaml follows latest: plan, then apply in waves
//   5. re-plan     nothing left to do, and no Azure writes to find that out
//
// Wave verification is off through the rollout policy (the local VMs do not boot, so nothing
// answers SSH): the summaries report the claws as unverified, as they would for a real fleet
// whose runners cannot reach the VMs.
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import { desiredImageDefinition } from "@openclawps/azure";
import { parseManifest, resolveFleet } from "@openclawps/fleet-model";
import { type LocalAzure, startLocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import { bold, dim, red, renderLog, renderMarkdown } from "./demo/terminal-markdown.ts";

const root = resolve(import.meta.dirname, "..");
const DEPLOY = join(root, "actions/deploy-fleet/dist/index.js");
const VALIDATE = join(root, "actions/validate/dist/index.js");
const demoDir = join(root, ".demo");
const started = Date.now();

function banner(step: string, what: string): void {
  console.log(`\n${bold(`━━━━━━━━ ${step} ━━━━━━━━`)} ${what}\n`);
}

function fail(message: string, run?: BundledActionRun): never {
  console.error(red(`\nDemo stopped: ${message}`));
  if (run) console.error(renderLog(run.stdout), run.stderr);
  process.exit(1);
}

/** Secrets shaped like real ones (a Telegram bot token, provider keys), random every run. */
function demoSecrets(claws: { name: string; model: string }[]): string {
  const token = (n: number) => randomBytes(n).toString("base64url").slice(0, n);
  const sets: Record<string, Record<string, string>> = {};
  for (const c of claws) {
    sets[c.name] = {
      telegram_bot_token: `${7_000_000_000 + randomBytes(3).readUIntBE(0, 3)}:AA${token(33)}`,
      xai_api_key: `xai-${token(40)}`,
      ...(c.model.startsWith("anthropic/") ? { anthropic_api_key: `sk-ant-api03-${token(40)}` } : {}),
    };
  }
  return JSON.stringify(sets);
}

/** What bake leaves behind: the gallery and image definition of the manifest, holding `versions`. */
async function seedGallery(azure: LocalAzure, manifestText: string, versions: string[]): Promise<void> {
  const parsed = parseManifest(manifestText, "claws.yaml");
  if (!parsed.manifest) fail(`examples/fleet/claws.yaml does not parse: ${parsed.problems[0]?.message}`);
  const fleet = resolveFleet(parsed.manifest, "claws.yaml");
  const a = fleet.azure;
  trustCaInProcess(azure.caCertPem);
  const credential = azure.staticCredential() as TokenCredential;
  const options = { endpoint: azure.armEndpoint };
  await new ResourceManagementClient(credential, azure.subscriptionId, options).resourceGroups.createOrUpdate(
    a.resource_group_name,
    { location: a.location, tags: a.tags },
  );
  const compute = new ComputeManagementClient(credential, azure.subscriptionId, options);
  const poll = { updateIntervalInMs: 0 };
  await compute.galleries.beginCreateOrUpdateAndWait(
    a.resource_group_name,
    a.gallery_name,
    { location: a.location, tags: a.tags },
    poll,
  );
  await compute.galleryImages.beginCreateOrUpdateAndWait(
    a.resource_group_name,
    a.gallery_name,
    a.fleet_image_definition_name,
    desiredImageDefinition(fleet),
    poll,
  );
  await azure.seedGalleryVersions(
    a.resource_group_name,
    a.gallery_name,
    a.fleet_image_definition_name,
    versions,
    a.location,
  );
}

async function main(): Promise<void> {
  rmSync(demoDir, { recursive: true, force: true });
  const repo = join(demoDir, "fleet-repo");
  const scratch = join(demoDir, "runner");
  mkdirSync(repo, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  copyFileSync(join(root, "examples/fleet/claws.yaml"), join(repo, "claws.yaml"));
  const manifestText = readFileSync(join(repo, "claws.yaml"), "utf8");

  // Azure's real durations scaled down 500x: a 90 s VM create takes 0.18 s.
  const azure = await startLocalAzure({ timeScale: 0.002 });
  try {
    await seedGallery(azure, manifestText, ["1.0.0"]);
    const parsed = parseManifest(manifestText, "claws.yaml");
    const fleet = resolveFleet(parsed.manifest!, "claws.yaml");
    const secretsJson = demoSecrets(
      fleet.claws.filter((c) => !c.retired).map((c) => ({ name: c.name, model: c.settings.model })),
    );
    console.log(
      `${bold("Local Azure")} at ${azure.armEndpoint} — gallery ${fleet.azure.gallery_name} holds 1.0.0 (claws.yaml asks for latest).\n` +
        `${bold("Fleet repository")} ${repo} (a copy of examples/fleet). Secrets: generated for ${fleet.claws
          .filter((c) => !c.retired)
          .map((c) => c.name)
          .join(", ")}.`,
    );

    const env = { ...azure.env(), GITHUB_WORKSPACE: repo };
    const deploy = async (inputs: Record<string, string>) => {
      const t = Date.now();
      const run = await runBundledAction({
        bundle: DEPLOY,
        inputs: {
          manifest: "claws.yaml",
          "secrets-json": secretsJson,
          // Wave verification off: the local VMs do not boot, so no claw can answer SSH.
          verify: "false",
          pause: "1s",
          "poll-interval": "100ms",
          ...inputs,
        },
        env,
        scratch,
        keepFiles: true,
      });
      const c = azure.counts({ since: t, excludePolling: true });
      console.log(
        dim(
          `[${((Date.now() - t) / 1000).toFixed(1)} s · Azure requests: ${c.reads} reads, ${c.writes} writes]`,
        ),
      );
      return run;
    };

    // ---- 1. validate
    banner("1. validate", "examples/fleet/claws.yaml, as the pull-request check runs it");
    const valid = await runBundledAction({
      bundle: VALIDATE,
      inputs: { manifest: "claws.yaml", "secrets-json": secretsJson },
      env: { GITHUB_WORKSPACE: repo },
      scratch,
      keepFiles: true,
    });
    console.log(renderLog(valid.stdout));
    console.log(renderMarkdown(valid.summary));
    if (valid.exitCode !== 0) fail("the example fleet does not validate", valid);

    const broken = join(demoDir, "broken-repo");
    mkdirSync(broken, { recursive: true });
    writeFileSync(
      join(broken, "claws.yaml"),
      manifestText
        .replace("vm_size: Standard_NV24ads_V710_v5", "vm_sise: Standard_NV24ads_V710_v5")
        .replace("image_version: latest", 'image_version: "1.1"')
        .replace('wave_size: "25%"', 'wave_size: "125%"'),
    );
    console.log(
      bold("\nThe same file with three mistakes in it — each one reported at its line, with the fix:\n"),
    );
    const invalid = await runBundledAction({
      bundle: VALIDATE,
      inputs: { manifest: "claws.yaml", "secrets-json": secretsJson },
      env: { GITHUB_WORKSPACE: broken },
      scratch,
      keepFiles: true,
    });
    console.log(
      renderLog(
        invalid.stdout
          .split("\n")
          .filter((l) => l.startsWith("::error"))
          .join("\n"),
      ),
    );
    if (invalid.exitCode === 0) fail("the broken manifest was accepted", invalid);

    // ---- 2. plan
    banner("2. plan", "deploy-fleet mode: plan — what would change (no Azure writes)");
    const plan = await deploy({ mode: "plan" });
    if (plan.exitCode !== 0) fail("plan failed", plan);
    console.log(renderMarkdown(plan.summary));
    const hash = plan.outputs["plan-hash"] ?? "";

    // ---- 3. apply
    banner("3. apply", `deploy-fleet mode: apply, approved-plan-hash: ${hash.slice(0, 12)}…`);
    const apply = await deploy({ mode: "apply", "approved-plan-hash": hash });
    console.log(renderLog(apply.stdout));
    console.log(renderMarkdown(apply.summary.slice(apply.summary.indexOf("## Rollout"))));
    if (apply.exitCode !== 0) fail("apply failed", apply);

    // ---- 4. image bump
    banner("4. upgrade", "bake publishes 1.1.0; claws.yaml says image_version: latest, so the fleet follows");
    const a = fleet.azure;
    await azure.seedGalleryVersions(
      a.resource_group_name,
      a.gallery_name,
      a.fleet_image_definition_name,
      ["1.1.0"],
      a.location,
    );
    const upgradePlan = await deploy({ mode: "plan" });
    if (upgradePlan.exitCode !== 0) fail("plan failed", upgradePlan);
    console.log(renderMarkdown(upgradePlan.summary));
    const upgrade = await deploy({
      mode: "apply",
      "approved-plan-hash": upgradePlan.outputs["plan-hash"] ?? "",
    });
    console.log(renderLog(upgrade.stdout));
    console.log(renderMarkdown(upgrade.summary.slice(upgrade.summary.indexOf("## Rollout"))));
    if (upgrade.exitCode !== 0) fail("the upgrade failed", upgrade);

    const disks = Object.values(azure.state().disks).filter((d) => d.name.endsWith("-data"));
    console.log(
      bold("\nData disks after the upgrade (same disks, each tagged with the image it ran before):"),
    );
    for (const d of disks) {
      console.log(
        `  ${d.name.padEnd(12)} created ${d.timeCreated}  last image ${d.tags["openclawps.last-image-version"] ?? "—"}`,
      );
    }

    // ---- 5. converged
    banner("5. re-plan", "the fleet matches claws.yaml");
    const again = await deploy({ mode: "plan" });
    if (again.exitCode !== 0) fail("plan failed", again);
    console.log(`changed-claws: ${again.outputs["changed-claws"]}`);

    console.log(
      bold(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(0)} s.`) +
        ` Everything it wrote is in ${demoDir}.\n` +
        "Next: npm test runs the suites; actions/deploy-fleet/README.md explains plan, approval and apply.",
    );
  } finally {
    await azure.stop();
  }
}

await main();
