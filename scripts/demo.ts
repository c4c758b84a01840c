// `npm run demo`: the whole flow on this machine, no Azure account needed. A local Azure (ARM,
// Microsoft Entra and GitHub's OIDC issuer over HTTPS, see packages/local-azure) holds a gallery
// with baseline image 1.0.0; the bundled actions run against it exactly as a GitHub runner runs
// them (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, OIDC sign-in):
//
//   1. validate    examples/fleet/claws.yaml, then a copy with mistakes in it
//   2. plan        diff the manifest against the (empty) resource group
//   3. apply       the approved plan: shared network + four claws, each proven healthy
//   4. verify      the verify action: verify.sh on every claw through Azure Run Command (the
//                  default transport: no inbound port, no SSH key)
//   5. upgrade     bake publishes 1.1.0; claws.yaml follows latest: canary, then waves
//   6. bad image   bake publishes a defective 1.2.0: the canary fails a named check, is rolled
//                  back onto the same disk, and the rollout halts
//   7. pin back    claws.yaml pins 1.1.0 (the rollback): nothing left to do
//
// As root on a machine with loop devices (local Azure's guest mode, packages/local-azure
// README), every VM is a booting guest: real cloud-init runs its customData, boot.sh mounts the
// data disk, sshd serves the pinned host key, the VM agent runs Run Command, and the waves are
// gated on verify.sh. Elsewhere the
// VMs are records that never boot: the demo says why and turns wave verification off.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import { desiredImageDefinition } from "@openclawps/azure";
import { parseManifest, type ResolvedFleet, resolveFleet, TAGS } from "@openclawps/fleet-model";
import { type LocalAzure, startLocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import { checkPrivateKey, connect } from "@openclawps/verify";
import { parseDocument, Scalar } from "yaml";
import { bold, dim, red, renderLog, renderMarkdown, yellow } from "./demo/terminal-markdown.ts";

const root = resolve(import.meta.dirname, "..");
const DEPLOY = join(root, "actions/deploy-fleet/dist/index.js");
const VALIDATE = join(root, "actions/validate/dist/index.js");
const VERIFY = join(root, "actions/verify/dist/index.js");
const demoDir = join(root, ".demo");
const started = Date.now();
/** The local guests have no GPU: they run as a general-purpose size (verify.sh expects no GPU there). */
const GUEST_VM_SIZE = "Standard_D2s_v5";

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

/** The example fleet as the demo runs it: its own admin key; with guests, a size without a GPU. */
function prepareManifest(file: string, adminPublicKey: string, guests: boolean): void {
  const doc = parseDocument(readFileSync(file, "utf8"));
  doc.setIn(["ssh", "admin_public_key"], adminPublicKey);
  if (guests) {
    doc.setIn(["defaults", "vm_size"], GUEST_VM_SIZE);
    doc.deleteIn(["claws", "dave", "vm_size"]);
  }
  writeFileSync(file, doc.toString());
}

function adminKeyPair(dir: string): { privateKey: string; publicKey: string } {
  const path = join(dir, "admin_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "demo-admin", "-f", path]);
  return { privateKey: readFileSync(path, "utf8"), publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
}

interface DiskFacts {
  uuid: string;
  ledger: string[];
}

/**
 * What is on a claw's data disk, read over SSH with the host key pinned to the VM's tag (the
 * same connection the verify action makes): the filesystem UUID of LUN 0 and the update ledger.
 */
async function diskFacts(
  azure: LocalAzure,
  fleet: ResolvedFleet,
  claw: string,
  privateKey: string,
): Promise<DiskFacts> {
  const vm = Object.values(azure.state().virtualMachines).find((v) => v.name === claw);
  const pip = Object.entries(azure.state().publicIps).find(([id]) =>
    id.toLowerCase().endsWith(`/${claw}-pip`),
  );
  const host = pip?.[1];
  if (!vm || !host) fail(`${claw} has no VM or public IP`);
  const connection = await connect({
    host,
    port: 22,
    username: fleet.claws.find((c) => c.name === claw)?.settings.admin_username ?? "azureuser",
    privateKey: checkPrivateKey(privateKey),
    pinnedFingerprint: vm.tags[TAGS.hostKey],
    timeoutMs: 30_000,
  });
  try {
    const run = async (command: string) => {
      const out = await connection.exec(command, 30_000);
      if (out.exitCode !== 0) fail(`${claw}: ${command} exited ${out.exitCode}: ${out.stderr}`);
      return out.stdout.trim();
    };
    const uuid = await run("sudo -n blkid -s UUID -o value /dev/disk/azure/scsi1/lun0");
    // The ledger: each applied update script with the boot that applied it.
    const ledger = await run(`sudo -n sh -c 'grep -H "^boot_id=" /mnt/claw-data/.claw-updates/*.ok'`);
    const lines = ledger.split("\n").filter(Boolean);
    return {
      uuid,
      ledger: lines.map((l) => l.replace(/^.*\/(.+)\.ok:boot_id=/, "$1 ")),
    };
  } finally {
    connection.close();
  }
}

async function main(): Promise<void> {
  rmSync(demoDir, { recursive: true, force: true });
  const repo = join(demoDir, "fleet-repo");
  const scratch = join(demoDir, "runner");
  mkdirSync(repo, { recursive: true });
  mkdirSync(scratch, { recursive: true });
  copyFileSync(join(root, "examples/fleet/claws.yaml"), join(repo, "claws.yaml"));

  // Azure's real durations scaled down 500x: a 90 s VM create takes 0.18 s. Guests boot at their
  // own pace (a first boot runs cloud-init and the app-layer install: about a minute here).
  const azure = await startLocalAzure({ timeScale: 0.002, guests: true });
  const guests = azure.guests !== undefined;
  const admin = adminKeyPair(demoDir);
  prepareManifest(join(repo, "claws.yaml"), admin.publicKey, guests);
  const manifestText = readFileSync(join(repo, "claws.yaml"), "utf8");
  try {
    await seedGallery(azure, manifestText, ["1.0.0"]);
    const parsed = parseManifest(manifestText, "claws.yaml");
    const fleet = resolveFleet(parsed.manifest!, "claws.yaml");
    const a = fleet.azure;
    const active = fleet.claws.filter((c) => !c.retired).map((c) => c.name);
    const secretsJson = demoSecrets(
      fleet.claws.filter((c) => !c.retired).map((c) => ({ name: c.name, model: c.settings.model })),
    );
    console.log(
      `${bold("Local Azure")} at ${azure.armEndpoint} — gallery ${a.gallery_name} holds 1.0.0 (claws.yaml asks for latest).\n` +
        `${bold("Fleet repository")} ${repo} (a copy of examples/fleet with a fresh admin key). Secrets: generated for ${active.join(", ")}.`,
    );
    if (guests) {
      console.log(
        `${bold("Guests:")} every running VM boots (cloud-init, boot.sh, sshd with its pinned host key, the VM agent for Run Command); ` +
          `claws run as ${GUEST_VM_SIZE} (no GPU here). Wave verification is on.`,
      );
    } else {
      console.log(
        yellow(`Verification is off: local VMs cannot boot here (${azure.guestsUnavailableReason}).`) +
          " The claws are reported as unverified, as for a fleet whose runners cannot reach the VMs.",
      );
    }

    const env = { ...azure.env(), GITHUB_WORKSPACE: repo };
    const deploy = async (inputs: Record<string, string>) => {
      const t = Date.now();
      const run = await runBundledAction({
        bundle: DEPLOY,
        inputs: {
          manifest: "claws.yaml",
          "secrets-json": secretsJson,
          "ssh-private-key": admin.privateKey,
          verify: guests ? "true" : "false",
          "verify-timeout": "15m",
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
    const rollout = (run: BundledActionRun) => {
      console.log(renderLog(run.stdout));
      const at = run.summary.indexOf("## Rollout");
      console.log(renderMarkdown(at >= 0 ? run.summary.slice(at) : run.summary));
    };
    const publish = (version: string, defective?: "xrdp") =>
      azure.seedGalleryVersions(
        a.resource_group_name,
        a.gallery_name,
        a.fleet_image_definition_name,
        [version],
        a.location,
        undefined,
        defective ? { defective } : undefined,
      );

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
        .replace("    data_disk_size_gb: 128", "    data_disk_sise_gb: 128")
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
    rollout(apply);
    if (apply.exitCode !== 0) fail("apply failed", apply);

    let before: Map<string, DiskFacts> | undefined;
    if (guests) {
      // ---- 4. verify
      banner(
        "4. verify",
        "the verify action: verify.sh on every claw through Azure Run Command (no inbound port)",
      );
      const verified = await runBundledAction({
        bundle: VERIFY,
        inputs: { manifest: "claws.yaml", "ssh-private-key": admin.privateKey, timeout: "15m" },
        env,
        scratch,
        keepFiles: true,
      });
      console.log(renderMarkdown(verified.summary));
      if (verified.exitCode !== 0) fail("a claw is not healthy", verified);
      before = new Map();
      for (const claw of active) before.set(claw, await diskFacts(azure, fleet, claw, admin.privateKey));
    }

    // ---- 5. image bump
    banner("5. upgrade", "bake publishes 1.1.0; claws.yaml says image_version: latest, so the fleet follows");
    await publish("1.1.0");
    const upgradePlan = await deploy({ mode: "plan" });
    if (upgradePlan.exitCode !== 0) fail("plan failed", upgradePlan);
    console.log(renderMarkdown(upgradePlan.summary));
    const upgrade = await deploy({
      mode: "apply",
      "approved-plan-hash": upgradePlan.outputs["plan-hash"] ?? "",
    });
    rollout(upgrade);
    if (upgrade.exitCode !== 0) fail("the upgrade failed", upgrade);

    if (guests && before) {
      // ---- 6. a defective image
      banner(
        "6. bad image",
        "bake publishes 1.2.0 whose xrdp never starts: the canary must fail, roll back and halt the rollout",
      );
      await publish("1.2.0", "xrdp");
      const badPlan = await deploy({ mode: "plan" });
      if (badPlan.exitCode !== 0) fail("plan failed", badPlan);
      const bad = await deploy({ mode: "apply", "approved-plan-hash": badPlan.outputs["plan-hash"] ?? "" });
      rollout(bad);
      if (bad.exitCode === 0) fail("the rollout onto a defective image succeeded", bad);

      console.log(bold("\nData disks across create, upgrade and rollback (over SSH, host key pinned):"));
      for (const claw of active) {
        const was = before.get(claw)!;
        const now = await diskFacts(azure, fleet, claw, admin.privateKey);
        const image = Object.values(azure.state().virtualMachines)
          .find((v) => v.name === claw)
          ?.imageReferenceId?.split("/")
          .pop();
        const same = was.uuid === now.uuid ? "unchanged" : red("CHANGED");
        const once = now.ledger.join(",") === was.ledger.join(",") ? "applied once" : red("re-applied");
        console.log(
          `  ${claw.padEnd(8)} on ${image}  disk ${was.uuid} → ${now.uuid} (${same})  ` +
            `updates ${now.ledger.map((l) => l.split(" ")[0]).join(", ")} (${once})`,
        );
        if (was.uuid !== now.uuid || now.ledger.join(",") !== was.ledger.join(","))
          fail(`${claw}'s data disk changed`);
      }

      // ---- 7. the manifest rollback
      banner(
        "7. pin back",
        'claws.yaml: image_version: "1.1.0" — pinning the last good version is the rollback',
      );
      const doc = parseDocument(readFileSync(join(repo, "claws.yaml"), "utf8"));
      const pin = new Scalar("1.1.0");
      pin.type = Scalar.QUOTE_DOUBLE;
      doc.setIn(["defaults", "image_version"], pin);
      writeFileSync(join(repo, "claws.yaml"), doc.toString());
    } else {
      banner("6. re-plan", "the fleet matches claws.yaml");
    }
    const again = await deploy({ mode: "plan" });
    if (again.exitCode !== 0) fail("plan failed", again);
    console.log(
      `apply-needed: ${again.outputs["apply-needed"]}  changed-claws: ${again.outputs["changed-claws"]}`,
    );
    if (again.outputs["apply-needed"] !== "false") fail("the fleet does not match claws.yaml", again);

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
