// The bundled action end to end: `node dist/index.js` with INPUT_* variables, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY, as the runner starts it, with the real Packer binary and the local
// Azure stand-in for the gallery.
//
// What is simulated, and why: Packer cannot build an Azure VM here, so packer-dir points at a
// test template (fixtures/null-template) on Packer's `null` builder that declares the same
// variables as infra/packer. Its last step stands in for the azure-arm builder's publish step:
// with the GitHub OIDC variables the bake handed to Packer it signs in to the local Azure and
// creates the image version (fixtures/null-template/publish-version.mjs). Everything else —
// the action, the manifest, the vm-runtime merge, Packer, its machine-readable output, the
// OIDC exchange and every gallery call — is the real thing.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import { connectAzure, READER_ACTIONS } from "@openclawps/azure";
import { TAGS } from "@openclawps/fleet-model";
import { seedManifestYaml } from "@openclawps/fleet-model/testing";
import { type LocalAzure, startLocalAzure } from "@openclawps/local-azure";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

const ACTION_DIR = resolve(import.meta.dirname, "..");
const BUNDLE = join(ACTION_DIR, "dist", "index.js");
/**
 * The null test template: the fixture's build (Packer's `null` builder) with the REAL template's
 * variables.pkr.hcl, so the variables the bake passes are checked against the real contract.
 */
const NULL_TEMPLATE = (() => {
  // Inside the repository, so publish-version.mjs resolves the workspace's node_modules.
  const fixture = join(import.meta.dirname, "fixtures", "null-template");
  const dir = mkdtempSync(join(import.meta.dirname, "fixtures", ".null-template-"));
  for (const f of ["build.pkr.hcl", "publish-version.mjs"]) cpSync(join(fixture, f), join(dir, f));
  cpSync(resolve(ACTION_DIR, "../../infra/packer/variables.pkr.hcl"), join(dir, "variables.pkr.hcl"));
  return dir;
})();

const RG = "rg-claw-westus";
const GALLERY = "clawGalleryWest";
const IMAGE = "claw-desktop-gpu";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** The seed's claws.yaml (RG, GALLERY and IMAGE are its names), replicating to two regions. */
const MANIFEST = seedManifestYaml({ azure: { replication_regions: "[westus, eastus]" } });

let azure: LocalAzure;
let root: string;
let workspace: string;

beforeAll(async () => {
  if (!existsSync(BUNDLE)) {
    throw new Error(
      `${BUNDLE} is missing: run \`npm run bundle\` in actions/bake first (turbo's test task does).`,
    );
  }
  azure = await startLocalAzure();
  // Inside the repository, as NULL_TEMPLATE: each fleet repository holds a copy of the template
  // (bake refuses a packer-dir outside the repository) whose publish step needs node_modules.
  root = mkdtempSync(join(import.meta.dirname, "fixtures", ".null-template-fleets-"));
});
afterAll(async () => {
  await azure?.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(NULL_TEMPLATE, { recursive: true, force: true });
});

let fleetCount = 0;
beforeEach(async () => {
  // A fresh fleet repository and gallery image per test: claws.yaml and a vm-runtime overlay
  // that adds one baseline install script.
  workspace = join(root, `fleet-${++fleetCount}`);
  mkdirSync(join(workspace, "vm-runtime", "install", "desktop"), { recursive: true });
  writeFileSync(join(workspace, "claws.yaml"), MANIFEST.replaceAll(IMAGE, imageName()));
  writeFileSync(join(workspace, "vm-runtime", "install", "desktop", "90-fleet-extras.sh"), "echo extras\n");
  cpSync(NULL_TEMPLATE, join(workspace, "packer"), { recursive: true });
  await azure.seedGalleryVersions(RG, GALLERY, imageName(), ["1.0.0", "1.2.0"], "westus");
});

/** One image definition per test, so tests do not see each other's versions. */
function imageName(): string {
  return `${IMAGE}-${fleetCount}`;
}

/** Runs the bundled action in the fleet repository; `log` holds stdout and stderr as the job log shows them. */
function runBake(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<BundledActionRun> {
  return runBundledAction({
    bundle: BUNDLE,
    inputs: {
      "packer-dir": "packer",
      "azure-arm-endpoint": azure.armEndpoint,
      "azure-authority-host": azure.authorityHost,
      ...inputs,
    },
    env: {
      ...azure.env(),
      GITHUB_WORKSPACE: workspace,
      GITHUB_SHA: COMMIT,
      // For the test template's publish step (what the azure-arm builder would reach).
      BAKE_TEST_NODE: process.execPath,
      BAKE_TEST_ARM_ENDPOINT: azure.armEndpoint,
      BAKE_TEST_AUTHORITY_HOST: azure.authorityHost,
      ...env,
    },
  });
}

function versionsInAzure(): { name: string; tags: Record<string, string>; id: string; state: unknown }[] {
  return Object.values(azure.state().galleryImageVersions)
    .filter((r) => r.id.includes(`/images/${imageName()}/`))
    .map((r) => ({ name: r.name, tags: r.tags ?? {}, id: r.id, state: r.properties.provisioningState }));
}

const hasPacker = await new Promise<boolean>((done) => {
  const p = spawn("packer", ["version"], { stdio: "ignore" });
  p.on("error", () => done(false));
  p.on("close", (code) => done(code === 0));
});
if (!hasPacker)
  console.warn(
    "packer is not installed: the bake action's end-to-end tests are skipped (CI installs packer).",
  );

describe.skipIf(!hasPacker)("bake action (bundled) against the local Azure", () => {
  it("bakes the next patch after the highest version and tags it with the content hash and commit", async () => {
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);

    expect(run.outputs.skipped).toBe("false");
    expect(run.outputs["image-version"]).toBe("1.2.1");
    expect(run.outputs["content-hash"]).toMatch(/^[0-9a-f]{64}$/);
    const baked = versionsInAzure().find((v) => v.name === "1.2.1");
    expect(baked).toBeDefined();
    expect(run.outputs["image-id"]).toBe(baked!.id);
    expect(baked!.state).toBe("Succeeded");
    expect(baked!.tags).toMatchObject({
      [TAGS.contentHash]: run.outputs["content-hash"],
      [TAGS.commit]: COMMIT,
      project: "openclawps",
    });
    // Untouched: the versions that were there before.
    expect(
      versionsInAzure()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["1.0.0", "1.2.0", "1.2.1"]);
  });

  it("on an empty subscription creates the resource group, gallery and image definition, then bakes 1.0.0", async () => {
    // The first push of a new fleet: nothing exists yet, and Packer's azure-arm builder (here the
    // publish step of the null template) refuses to publish into an image definition that does not.
    const rg = `rg-first-bake-${fleetCount}`;
    writeFileSync(
      join(workspace, "claws.yaml"),
      MANIFEST.replaceAll(IMAGE, imageName()).replace(
        `resource_group_name: ${RG}`,
        `resource_group_name: ${rg}`,
      ),
    );
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.log).toContain(`Created resource group ${rg} (from the manifest's azure: block).`);
    expect(run.log).toContain(`Created gallery ${GALLERY} (from the manifest's azure: block).`);
    expect(run.log).toContain(
      `Created image definition ${GALLERY}/${imageName()} (from the manifest's azure: block).`,
    );
    expect(run.outputs).toMatchObject({ skipped: "false", "image-version": "1.0.0" });
    const definition = Object.values(azure.state().resources).find(
      (r) => r.type === "Microsoft.Compute/galleries/images" && r.id.includes(`/resourceGroups/${rg}/`),
    );
    expect(definition?.properties).toMatchObject({
      identifier: { publisher: "claw", offer: "claw-vm", sku: "desktop-gpu" },
      purchasePlan: { name: "planid125" },
      hyperVGeneration: "V2",
    });
    // Only what Packer needs: the network and NSG are deploy-fleet's.
    expect(
      Object.values(azure.state().resources).filter((r) =>
        r.id.includes(`/resourceGroups/${rg}/providers/Microsoft.Network/`),
      ),
    ).toEqual([]);
    const again = await runBake({ manifest: "claws.yaml" });
    expect(again.log).not.toContain("Created ");
  });

  it("writes the content hash and commit tags itself when the template published the version untagged", async () => {
    const run = await runBake({ manifest: "claws.yaml" }, { BAKE_TEST_PUBLISH_UNTAGGED: "1" });
    expect(run.exitCode, run.log).toBe(0);
    expect(versionsInAzure().find((v) => v.name === "1.2.1")?.tags).toEqual({
      [TAGS.contentHash]: run.outputs["content-hash"],
      [TAGS.commit]: COMMIT,
      project: "openclawps",
    });
    // ...and the next run recognises it.
    const again = await runBake({ manifest: "claws.yaml" });
    expect(again.outputs).toMatchObject({ skipped: "true", "image-version": "1.2.1" });
  });

  it("streams each Packer step into its own log group and passes the manifest's build parameters", async () => {
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);
    const groups = [...run.log.matchAll(/^::group::\[[\d.hms]+\] (.*)$/gm)].map((m) => m[1]);
    expect(groups).toEqual([
      expect.stringMatching(/^baseline\.null\.baseline: Running local shell script/),
      expect.stringMatching(/^baseline\.null\.baseline: Running local shell script/),
      expect.stringMatching(/^baseline\.null\.baseline: Running local shell script/),
    ]);
    expect(run.log.match(/^::group::/gm)).toHaveLength(run.log.match(/^::endgroup::/gm)!.length);
    // Packer's closing lines come after the last group, not inside it.
    const afterLastGroup = run.log.slice(run.log.lastIndexOf("::endgroup::"));
    expect(afterLastGroup).toMatch(/Build 'baseline\.null\.baseline' finished after/);
    // Unescaped commas and quotes; the base image from the definition's purchase plan.
    expect(run.log).toContain('configuring the display, with commas, quotes "and" a tab');
    expect(run.log).toContain(
      "base image: amdinc1746636494855:nvv5_v710_linux_rocm_image:planid125:latest, plan: planid125",
    );
    // The overlay script joins the shipped ones, in name order.
    const scripts = [...run.log.matchAll(/would run (\S+\.sh)/g)].map((m) => m[1]);
    expect(scripts).toContain("90-fleet-extras.sh");
    expect(scripts).toEqual([...scripts].sort());
  });

  it("bakes Ubuntu 24.04 LTS (the template's default) when the image definition has no purchase plan", async () => {
    const manifest = readFileSync(join(workspace, "claws.yaml"), "utf8").replace(
      /^ {6}purchase_plan:.*\n/m,
      "",
    );
    writeFileSync(join(workspace, "claws.yaml"), manifest);
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.log).toContain("base image: Canonical:ubuntu-24_04-lts:server:latest, plan: none");
  });

  it("skips when a version with the same content hash exists, and outputs that version", async () => {
    const first = await runBake({ manifest: "claws.yaml" });
    expect(first.exitCode, first.log).toBe(0);
    const requests = azure.requestLog.length;

    const second = await runBake({ manifest: "claws.yaml" });
    expect(second.exitCode, second.log).toBe(0);
    expect(second.outputs).toMatchObject({
      skipped: "true",
      "image-version": first.outputs["image-version"],
      "image-id": first.outputs["image-id"],
      "content-hash": first.outputs["content-hash"],
    });
    expect(second.log).not.toMatch(/Running local shell script/);
    expect(
      versionsInAzure()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["1.0.0", "1.2.0", "1.2.1"]);
    // Nothing written to Azure by the skipped run.
    const writes = azure.requestLog.slice(requests).filter((r) => !["GET", "POST"].includes(r.method));
    expect(writes).toEqual([]);
    expect(second.summary).toMatch(/skipped/);
    expect(second.summary).toContain(first.outputs["content-hash"]!);
  });

  it("bakes again when an install script changes, with a new content hash", async () => {
    const first = await runBake({ manifest: "claws.yaml" });
    writeFileSync(
      join(workspace, "vm-runtime", "install", "desktop", "90-fleet-extras.sh"),
      "echo changed\n",
    );
    const second = await runBake({ manifest: "claws.yaml" });
    expect(second.exitCode, second.log).toBe(0);
    expect(second.outputs.skipped).toBe("false");
    expect(second.outputs["image-version"]).toBe("1.2.2");
    expect(second.outputs["content-hash"]).not.toBe(first.outputs["content-hash"]);
  });

  it("bakes again when a pin the baseline scripts read changes: versions.env, the npm lockfile", async () => {
    const first = await runBake({ manifest: "claws.yaml" });
    expect(first.exitCode, first.log).toBe(0);
    // What the scripts read is uploaded with them and hashed, shipped or from the overlay.
    for (const rel of [
      "install/versions.env",
      "install/npm/package-lock.json",
      "install/lib/pinned-download.sh",
    ]) {
      expect(first.log).toContain(`  ${rel} (shipped)`);
      expect(first.summary).toContain(rel); // the files that went into the hash
    }
    const shipped = resolve(ACTION_DIR, "../../vm-runtime/install");
    const overlay = join(workspace, "vm-runtime", "install");
    writeFileSync(
      join(overlay, "versions.env"),
      readFileSync(join(shipped, "versions.env"), "utf8").replace(
        /^CHROME_VERSION=.*$/m,
        "CHROME_VERSION=148.0.1-1",
      ),
    );
    const second = await runBake({ manifest: "claws.yaml" });
    expect(second.exitCode, second.log).toBe(0);
    expect(second.log).toContain("  install/versions.env (overlay)");
    expect(second.outputs["content-hash"]).not.toBe(first.outputs["content-hash"]);

    expect(second.outputs["image-version"]).toBe("1.2.2");
  });

  it("refuses a Packer older than the template's required_version, naming the file and line", async () => {
    writeFileSync(
      join(workspace, "packer", "versions.pkr.hcl"),
      'packer {\n  required_version = ">= 99.1.0"\n}\n',
    );
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(
      /Packer \d+\.\d+\.\d+ on this runner is older than 99\.1\.0, which packer\/versions\.pkr\.hcl:2 requires \(required_version\)/,
    );
    expect(run.log).toMatch(/install Packer 99\.1\.0 or newer on the self-hosted runner/);
    expect(
      versionsInAzure()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["1.0.0", "1.2.0"]);
  });

  it("publishes an explicit image-version, and force bakes unchanged inputs again", async () => {
    const explicit = await runBake({ manifest: "claws.yaml", "image-version": "2.0.0" });
    expect(explicit.exitCode, explicit.log).toBe(0);
    expect(explicit.outputs["image-version"]).toBe("2.0.0");

    const forced = await runBake({ manifest: "claws.yaml", force: "true" });
    expect(forced.exitCode, forced.log).toBe(0);
    expect(forced.outputs).toMatchObject({ skipped: "false", "image-version": "2.0.1" });
    expect(versionsInAzure().find((v) => v.name === "2.0.1")?.tags[TAGS.contentHash]).toBe(
      explicit.outputs["content-hash"],
    );
  });

  it("refuses an image-version that exists with other content, before running Packer", async () => {
    const run = await runBake({ manifest: "claws.yaml", "image-version": "1.2.0" });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/::error::Image version 1\.2\.0 already exists in gallery clawGalleryWest/);
    expect(run.log).toMatch(/leave it empty to publish 1\.2\.1/);
    expect(run.log).not.toMatch(/Running local shell script/);
  });

  it("refuses an image-version that is not Major.Minor.Patch integers", async () => {
    const run = await runBake({ manifest: "claws.yaml", "image-version": "2026.1121.0815-abc1234" });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/::error::Input 'image-version' must be Major\.Minor\.Patch/);
    expect(run.log).not.toMatch(/\n\s+at /);
  });

  it("on a failed build shows Packer's own error as an annotation and in the summary", async () => {
    const run = await runBake({ manifest: "claws.yaml" }, { BAKE_TEST_FAIL: "1" });
    expect(run.exitCode).toBe(1);
    const annotations = [...run.log.matchAll(/^::error (.*?)::(.*)$/gm)];
    expect(annotations[0]?.[1]).toMatch(/title=packer build/);
    expect(annotations[0]?.[2]).toMatch(
      /^baseline\.null\.baseline: Script exited with non-zero exit status: 3/,
    );
    // The step before the failure is still in its own group, its stderr included.
    expect(run.log).toContain("modprobe: FATAL: Module amdgpu not found");
    expect(run.summary).toMatch(/❌ failed/);
    expect(run.summary).toMatch(/Script exited with non-zero exit status: 3/);
    expect(run.summary).toContain("1.2.1");
    expect(run.outputs.skipped).toBe("false");
    expect(run.outputs["image-version"]).toBeUndefined();
    expect(
      versionsInAzure()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["1.0.0", "1.2.0"]);
    expect(run.log).not.toMatch(/\n\s+at /);
  });

  it("points a template error at its file and line", async () => {
    const broken = mkdtempSync(join(workspace, "broken-"));
    for (const f of ["variables.pkr.hcl", "build.pkr.hcl", "publish-version.mjs"]) {
      writeFileSync(join(broken, f), readFileSync(join(NULL_TEMPLATE, f)));
    }
    const build = readFileSync(join(broken, "build.pkr.hcl"), "utf8");
    writeFileSync(
      join(broken, "build.pkr.hcl"),
      build.replace('communicator = "none"', 'communicator = "none"\n  bogus = 1'),
    );
    const line = build.split("\n").findIndex((l) => l.includes('communicator = "none"')) + 2;

    const run = await runBake({ manifest: "claws.yaml", "packer-dir": broken });
    expect(run.exitCode).toBe(1);
    const annotation = run.log.match(/^::error title=([^,]+),file=([^,]+),line=(\d+)[^:]*::(.*)$/m);
    expect(annotation?.[1]).toBe("packer build%3A Unsupported argument");
    expect(annotation?.[2]).toBe(`${relative(workspace, broken)}/build.pkr.hcl`);
    expect(annotation?.[3]).toBe(String(line));
    expect(annotation?.[4]).toMatch(/An argument named "bogus" is not expected here/);
    expect(run.log).toMatch(
      new RegExp(
        `^::error::Packer failed to bake image version 1\\.2\\.1: ${relative(workspace, broken)}/build\\.pkr\\.hcl:${line}: .*"bogus"`,
        "m",
      ),
    );
  });

  it("never prints the OIDC request token it hands to Packer", async () => {
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);
    const token = azure.env().ACTIONS_ID_TOKEN_REQUEST_TOKEN!;
    expect(run.log).toContain(`::add-mask::${token}`);
    expect(run.log.replaceAll(`::add-mask::${token}`, "")).not.toContain(token);
    expect(run.summary).not.toContain(token);
  });

  it("asks Entra for the US Government ARM audience when the ARM endpoint is US Government's", async () => {
    // The token request reaches the local Entra; the ARM request after it finds no such host
    // here (no network), so the bake fails after asking. What it asked for is the point.
    const since = Date.now();
    const run = await runBake({
      manifest: "claws.yaml",
      "azure-arm-endpoint": "https://management.usgovcloudapi.net",
    });
    expect(run.exitCode).toBe(1);
    const scopes = azure.requestLog
      .filter((e) => e.operation === "entra.token" && e.at >= since)
      .map((e) => e.scope);
    expect(scopes).toContain("https://management.usgovcloudapi.net/.default");
    expect(scopes).not.toContain("https://management.azure.com/.default");
  });

  it("names the missing id-token permission when the job has no OIDC token", async () => {
    const run = await runBake(
      { manifest: "claws.yaml" },
      { ACTIONS_ID_TOKEN_REQUEST_URL: "", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "" },
    );
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/::error::GitHub did not provide an OIDC token.*id-token: write/s);
  });
});

describe.skipIf(!hasPacker)("bake as the reader identity (the un-gated role bake.yml signs in as)", () => {
  afterEach(() => azure.setAllowedActions(undefined));

  it("bakes a first image with only the reader role's actions, and that role is refused a VM", async () => {
    // The local Azure refuses any action outside the role as ARM does (403 AuthorizationFailed).
    azure.setAllowedActions([...READER_ACTIONS]);
    const rg = `rg-reader-bake-${fleetCount}`;
    writeFileSync(
      join(workspace, "claws.yaml"),
      MANIFEST.replaceAll(IMAGE, imageName()).replace(
        `resource_group_name: ${RG}`,
        `resource_group_name: ${rg}`,
      ),
    );
    const since = Date.now();
    const run = await runBake({ manifest: "claws.yaml" });
    expect(run.exitCode, run.log).toBe(0);
    expect(run.outputs).toMatchObject({ skipped: "false", "image-version": "1.0.0" });
    const arm = azure.requestLog.filter((e) => e.at >= since && e.service === "arm" && e.action);
    expect(arm.filter((e) => e.status === 403)).toEqual([]);
    // Its writes were the resource group, the gallery, the image definition and the version.
    expect([...new Set(arm.filter((e) => e.method !== "GET").map((e) => e.action))].sort()).toEqual([
      "Microsoft.Compute/galleries/images/versions/write",
      "Microsoft.Compute/galleries/images/write",
      "Microsoft.Compute/galleries/write",
      "Microsoft.Resources/subscriptions/resourceGroups/write",
    ]);

    // The same identity cannot make a claw: a VM create (and the NIC every create needs first) is refused.
    // Signed in as the action does: the job's GitHub OIDC token exchanged at Entra.
    const ctx = connectAzure({ ...azure.connection(rg), pollIntervalMs: 0 });
    const vm = ctx.compute.virtualMachines.beginCreateOrUpdateAndWait(rg, "intruder", {
      location: "westus",
      hardwareProfile: { vmSize: "Standard_D2s_v5" },
    });
    await expect(vm).rejects.toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    const nic = ctx.network.networkInterfaces.createOrUpdate(rg, "intruder-nic", {
      location: "westus",
    });
    await expect(nic).rejects.toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(
      Object.values(azure.state().resources).filter(
        (r) => r.id.includes(`/resourceGroups/${rg}/`) && /virtualMachines|networkInterfaces/.test(r.type),
      ),
    ).toEqual([]);
  });
});
