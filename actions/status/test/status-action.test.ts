// The bundled status action (`node dist/index.js`) against the local Azure: a real HTTPS server
// the real Azure SDK clients talk to. The fleet is put in place with the SDK (a stopped claw, a
// claw with snapshots, a drifted claw); the table must say what the local Azure holds.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import {
  type BundledActionOptions,
  type BundledActionRun,
  runBundledAction,
} from "@openclawps/action-kit/testing";
import { POWER_ACTIONS, READER_ACTIONS } from "@openclawps/azure";
import { TAGS } from "@openclawps/fleet-model";
import { type LocalAzure, startLocalAzure, trustCaInProcess } from "@openclawps/local-azure";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ClawStatus } from "../src/status-table.ts";

const BUNDLE = resolve(import.meta.dirname, "../dist/index.js");
const RG = "rg-claw-status";
const GALLERY = "clawGalleryStatus";
const IMAGE = "claw-base";
const POLL = { updateIntervalInMs: 0 };

interface World {
  azure: LocalAzure;
  compute: ComputeManagementClient;
  resources: ResourceManagementClient;
  workspace: string;
  run(
    inputs: Record<string, string>,
    options?: Pick<BundledActionOptions, "killWhen">,
  ): Promise<BundledActionRun>;
}

let world: World | undefined;
afterEach(async () => {
  await world?.azure.stop();
  world = undefined;
});

function manifest(
  claws: Record<string, Record<string, unknown>>,
  defaults: Record<string, unknown> = {},
): string {
  return stringify({
    azure: {
      location: "westus",
      resource_group_name: RG,
      virtual_network_name: "seed-vnet",
      subnet_name: "default",
      network_security_group_name: `${RG}-nsg`,
      address_space: ["10.0.0.0/16"],
      subnet_prefixes: ["10.0.0.0/20"],
      gallery_name: GALLERY,
      fleet_image_definition_name: IMAGE,
      image_definitions: { [IMAGE]: { publisher: "openclawps", offer: "claw", sku: IMAGE } },
    },
    defaults: {
      vm_size: "Standard_D2s_v5",
      model: "xai/grok-4-1-fast-non-reasoning",
      image_version: "1.0.0",
      ...defaults,
    },
    claws,
  });
}

/** alpha, bravo and charlie on image 1.0.0, tagged as deploy-fleet tags them. */
async function startWorld(claws: string[], yaml: string): Promise<World> {
  const azure = await startLocalAzure();
  trustCaInProcess(azure.caCertPem);
  const credential = azure.staticCredential() as TokenCredential;
  const compute = new ComputeManagementClient(credential, azure.subscriptionId, {
    endpoint: azure.armEndpoint,
  });
  const resources = new ResourceManagementClient(credential, azure.subscriptionId, {
    endpoint: azure.armEndpoint,
  });
  await azure.seedGalleryVersions(RG, GALLERY, IMAGE, ["1.0.0", "1.1.0"], "westus");
  const imageId = `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${IMAGE}/versions/1.0.0`;
  await azure.seedVirtualMachines(RG, claws, { imageId, vmSize: "Standard_D2s_v5", dataDiskSizeGB: 32 });
  for (const claw of claws) {
    const vm = await compute.virtualMachines.get(RG, claw);
    await compute.virtualMachines.beginUpdateAndWait(
      RG,
      claw,
      {
        tags: {
          ...vm.tags,
          [TAGS.claw]: claw,
          [TAGS.imageVersion]: "1.0.0",
          [TAGS.configHash]: "hash-1",
          [TAGS.rolloutId]: "gh-41-1",
        },
      },
      POLL,
    );
    await compute.disks.beginUpdateAndWait(
      RG,
      `${claw}-data`,
      { tags: { [TAGS.claw]: claw, [TAGS.lastHealthyImage]: "1.0.0", [TAGS.rolloutId]: "gh-41-1" } },
      POLL,
    );
  }
  const workspace = mkdtempSync(join(tmpdir(), "status-repo-"));
  writeFileSync(join(workspace, "claws.yaml"), yaml);
  return {
    azure,
    compute,
    resources,
    workspace,
    run: (inputs, options = {}) =>
      runBundledAction({
        ...options,
        bundle: BUNDLE,
        inputs: { manifest: "claws.yaml", "poll-interval": "20ms", ...inputs },
        env: { ...azure.env(), GITHUB_WORKSPACE: workspace, GITHUB_RUN_ID: "", GITHUB_RUN_ATTEMPT: "" },
      }),
  };
}

const rowsOf = (run: BundledActionRun) =>
  Object.fromEntries((JSON.parse(run.outputs.status ?? "{}").claws as ClawStatus[]).map((r) => [r.claw, r]));

function expectSucceeded(run: BundledActionRun): void {
  if (run.exitCode !== 0)
    throw new Error(`the action failed (${run.exitCode}):\n${run.stdout}\n${run.stderr}`);
}

const vmState = (w: World, name: string) =>
  Object.values(w.azure.state().virtualMachines).find((v) => v.name === name)!;

describe("status", () => {
  it("reports a stopped claw, a claw with snapshots and a drifted claw as the local Azure holds them, with the reader's reads only", async () => {
    const w = await startWorld(
      ["alpha", "bravo", "charlie"],
      manifest({ alpha: {}, bravo: {}, charlie: { image_version: "1.1.0" }, delta: {} }),
    );
    world = w;
    const beforeStop = new Date().toISOString();
    await w.compute.virtualMachines.beginDeallocateAndWait(RG, "bravo", POLL);
    const disk = await w.compute.disks.get(RG, "alpha-data");
    for (const n of [1, 2])
      await w.compute.snapshots.beginCreateOrUpdateAndWait(
        RG,
        `alpha-data-snap-${n}`,
        {
          location: "westus",
          incremental: true,
          creationData: { createOption: "Copy", sourceResourceId: disk.id! },
        },
        POLL,
      );
    w.azure.setAllowedActions([...READER_ACTIONS]);
    const t = Date.now();

    const run = await w.run({});
    expectSucceeded(run);
    const rows = rowsOf(run);
    expect(rows.alpha).toMatchObject({
      power: "running",
      imageVersion: "1.0.0",
      lastHealthyImage: "1.0.0",
      lastRolloutId: "gh-41-1",
      diskGb: 32,
      snapshots: 2,
      schedule: "always-on",
      drift: "noop",
    });
    expect(rows.bravo).toMatchObject({ power: "deallocated", sinceSource: "last-operation", snapshots: 0 });
    expect(rows.bravo!.since! >= beforeStop).toBe(true);
    expect(rows.charlie).toMatchObject({ power: "running", drift: "replace" });
    expect(rows.charlie!.driftReason).toContain("image 1.0.0 → 1.1.0");
    expect(rows.delta).toMatchObject({ power: "none", drift: "create", snapshots: 0 });
    expect(run.summary).toContain("| alpha | running |");
    expect(run.summary).toMatch(/\| bravo \| deallocated \| \S+ \(last operation\) \| 1\.0\.0 \|/);
    expect(run.summary).toContain("| charlie | running |");

    // After t, not at it: the set-up's own last request (the snapshot's final GET) can be logged in
    // the same millisecond as t; the action starts tens of ms later.
    const arm = w.azure.requestLog.filter((e) => e.at > t && e.service === "arm" && !e.polling);
    expect(arm.filter((e) => e.method !== "GET")).toEqual([]);
    expect(arm.filter((e) => e.status === 403)).toEqual([]);
    // Lists, never a GET per claw: no request names a VM or a disk.
    expect(arm.filter((e) => /\/(virtualMachines|disks|snapshots)\/[^/]+$/i.test(e.path))).toEqual([]);
  });
});

describe("the power modes", () => {
  const BERLIN = { hours: "08:00-20:00", days: "mon-fri", time_zone: "Europe/Berlin" };
  const FRIDAY_NIGHT = "2026-12-04T20:00:00Z"; // 21:00 in Berlin
  const MONDAY_MORNING = "2026-12-07T07:30:00Z"; // 08:30 in Berlin

  it("parks after hours and starts in the morning only what the schedule parked, as the power role", async () => {
    const w = await startWorld(
      ["alpha", "bravo", "charlie"],
      manifest({ alpha: {}, bravo: {}, charlie: { schedule: "always-on" } }, { schedule: BERLIN }),
    );
    world = w;
    await w.compute.virtualMachines.beginDeallocateAndWait(RG, "bravo", POLL); // stopped by its owner
    w.azure.setAllowedActions([...POWER_ACTIONS]);

    const night = await w.run({ mode: "schedule", at: FRIDAY_NIGHT });
    expectSucceeded(night);
    expect(JSON.parse(night.outputs.parked!)).toEqual(["alpha"]);
    expect(JSON.parse(night.outputs.started!)).toEqual([]);
    expect(vmState(w, "alpha").powerState).toBe("deallocated");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toMatch(/^schedule;/);
    expect(vmState(w, "charlie").powerState).toBe("running");
    expect(night.summary).toContain("parked **1**, started **0**");
    expect(night.summary).toContain("**59 VM-hours** saved");
    expect(rowsOf(night).alpha).toMatchObject({
      power: "deallocated",
      parkedBy: "schedule",
      sinceSource: "parked",
    });
    // The lease was taken and given back.
    const rg = await w.resources.resourceGroups.get(RG);
    expect(rg.tags?.[TAGS.lease]).toBeUndefined();

    const morning = await w.run({ mode: "schedule", at: MONDAY_MORNING });
    expectSucceeded(morning);
    expect(JSON.parse(morning.outputs.started!)).toEqual(["alpha"]);
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toBeUndefined();
    expect(vmState(w, "bravo").powerState).toBe("deallocated");
    expect(morning.summary).toContain("by its owner, not by the schedule: left alone");
  });

  it("changes nothing while a rollout holds the lease, and says so", async () => {
    const w = await startWorld(["alpha"], manifest({ alpha: {} }, { schedule: BERLIN }));
    world = w;
    const rg = await w.resources.resourceGroups.get(RG);
    const lease = `gh-77-1;${new Date(Date.now() + 3_600_000).toISOString()}`;
    await w.resources.resourceGroups.update(RG, { tags: { ...rg.tags, [TAGS.lease]: lease } });

    const run = await w.run({ mode: "schedule", at: FRIDAY_NIGHT });
    expectSucceeded(run);
    expect(run.outputs.skipped).toBe("true");
    expect(run.summary).toContain("Another rollout (run gh-77-1) holds the lease");
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect((await w.resources.resourceGroups.get(RG)).tags?.[TAGS.lease]).toBe(lease);
  });

  it("parks and resumes named claws on request, and refuses a name the manifest lacks", async () => {
    const w = await startWorld(["alpha", "bravo"], manifest({ alpha: {}, bravo: {} }));
    world = w;
    const park = await w.run({ mode: "park", claws: "alpha" });
    expectSucceeded(park);
    expect(vmState(w, "alpha").powerState).toBe("deallocated");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toMatch(/^operator;/);
    expect(vmState(w, "bravo").powerState).toBe("running");
    // The schedule (always-on here) leaves an operator's park alone.
    const scheduled = await w.run({ mode: "schedule" });
    expectSucceeded(scheduled);
    expect(vmState(w, "alpha").powerState).toBe("deallocated");

    const resume = await w.run({ mode: "resume", claws: "alpha" });
    expectSucceeded(resume);
    expect(vmState(w, "alpha").powerState).toBe("running");

    const wrong = await w.run({ mode: "park", claws: "alpha, zulu" });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stdout).toContain(
      "Input 'claws' names zulu, not an active claw of claws.yaml; nothing was changed.",
    );
  });

  /**
   * Runs the schedule at `at` and kills it (a lost runner: SIGKILL, no clean-up) when its request
   * of `operation` reaches the local Azure, which never answers it: the run dies before that
   * operation happens.
   */
  async function dieAt(w: World, operation: string, at: string, path?: RegExp): Promise<void> {
    const from = w.azure.requestLog.length;
    w.azure.injectFault({ operation, mode: "hang", ...(path ? { path } : {}) });
    const dead = await w.run(
      { mode: "schedule", at },
      {
        killWhen: () =>
          w.azure.requestLog
            .slice(from)
            .some((e) => e.operation === operation && (path === undefined || path.test(e.path))),
      },
    );
    w.azure.clearFaults();
    expect(dead.signal, dead.log).toBe("SIGKILL");
  }

  /** The lease a dead run left, once its 20 minutes are over. */
  async function expireLease(w: World): Promise<string> {
    const rg = await w.resources.resourceGroups.get(RG);
    const [runId] = (rg.tags?.[TAGS.lease] ?? "").split(";");
    const expired = `${runId};${new Date(Date.now() - 60_000).toISOString()}`;
    // Through the Tags API, as the power identity may (it holds no resourceGroups/write).
    await w.resources.tagsOperations.updateAtScope(rg.id!, {
      operation: "Merge",
      properties: { tags: { [TAGS.lease]: expired } },
    });
    return runId!;
  }

  /** The next scheduled run in alpha's hours converges: it takes the dead run's lease over and removes the stale mark. */
  async function nextRunConverges(w: World, deadRun: string): Promise<void> {
    const next = await w.run({ mode: "schedule", at: MONDAY_MORNING });
    expectSucceeded(next);
    expect(next.outputs.skipped).toBe("false");
    expect(next.log).toContain(`Took over the lease of power run ${deadRun}, expired at`);
    expect(next.summary).toContain("stale park marks removed **1**");
    expect(next.summary).toContain("park mark removed");
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toBeUndefined();
    expect((await w.resources.resourceGroups.get(RG)).tags?.[TAGS.lease]).toBeUndefined();
    // Its owner stops it by hand later that day: the schedule does not take that for its own park.
    await w.compute.virtualMachines.beginDeallocateAndWait(RG, "alpha", POLL);
    const later = await w.run({ mode: "schedule", at: "2026-12-07T09:30:00Z" });
    expectSucceeded(later);
    expect(JSON.parse(later.outputs.started!)).toEqual([]);
    expect(vmState(w, "alpha").powerState).toBe("deallocated");
  }

  it("converges after a park that died between its mark and the deallocate: the lease is taken over once expired, the stale mark removed, the owner's later stop left alone", async () => {
    const w = await startWorld(["alpha"], manifest({ alpha: {} }, { schedule: BERLIN }));
    world = w;
    w.azure.setAllowedActions([...POWER_ACTIONS]);
    await dieAt(w, "virtualMachines.deallocate", FRIDAY_NIGHT);
    // What the dead run left: a running VM with the schedule's mark, and its lease.
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toMatch(/^schedule;/);
    const deadRun = await expireLease(w);
    expect(deadRun).toMatch(/^power-local-/);
    await nextRunConverges(w, deadRun);
  });

  it("converges after a start that died before the park mark went: the next run removes the mark, and the owner's later stop is left alone", async () => {
    const w = await startWorld(["alpha"], manifest({ alpha: {} }, { schedule: BERLIN }));
    world = w;
    w.azure.setAllowedActions([...POWER_ACTIONS]);
    expectSucceeded(await w.run({ mode: "schedule", at: FRIDAY_NIGHT }));
    // The mark goes through the Tags API on the VM (the lease's tags are on the resource group).
    await dieAt(
      w,
      "tags.updateAtScope",
      MONDAY_MORNING,
      /\/virtualMachines\/alpha\/providers\/Microsoft\.Resources\/tags\/default$/i,
    );
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect(vmState(w, "alpha").tags[TAGS.parkedBy]).toMatch(/^schedule;/);
    await nextRunConverges(w, await expireLease(w));
  });

  it("does not take over a rollout's stale lease: that needs the operator's force-unlock", async () => {
    const w = await startWorld(["alpha"], manifest({ alpha: {} }, { schedule: BERLIN }));
    world = w;
    const rg = await w.resources.resourceGroups.get(RG);
    const lease = `gh-78-1;${new Date(Date.now() - 60_000).toISOString()}`;
    await w.resources.resourceGroups.update(RG, { tags: { ...rg.tags, [TAGS.lease]: lease } });
    const run = await w.run({ mode: "schedule", at: FRIDAY_NIGHT });
    expectSucceeded(run);
    expect(run.outputs.skipped).toBe("true");
    expect(run.summary).toContain("stale rollout lease from run gh-78-1");
    expect(vmState(w, "alpha").powerState).toBe("running");
    expect((await w.resources.resourceGroups.get(RG)).tags?.[TAGS.lease]).toBe(lease);
  });
});
