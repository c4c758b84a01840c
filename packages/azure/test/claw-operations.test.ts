import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { generateHostKey } from "@openclawps/cloud-init";
import { type ClawPlan, type DesiredClaw, planFleet, planProblems, TAGS } from "@openclawps/fleet-model";
import type { LocalAzure } from "@openclawps/local-azure";
import type { StepReporter } from "@openclawps/rollout";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ARM_ACTIONS } from "../src/arm-actions.ts";
import { ClawStepError } from "../src/azure-error.ts";
import { AzureClawOperations, ClawRestoredError, type RenderClaw } from "../src/claw-operations.ts";
import type { AzureContext } from "../src/connect.ts";
import { getClawEndpoints } from "../src/endpoints.ts";
import { listImageVersions, tagImageVersion } from "../src/gallery.ts";
import { AzureFleetLease } from "../src/lease.ts";
import { observeFleet } from "../src/observe.ts";
import { parkVm } from "../src/power.ts";
import { runCommandChannel } from "../src/run-command.ts";
import { ensureSharedInfra } from "../src/shared-infra.ts";
import { VmCreateRefusedError } from "../src/vm-capabilities.ts";
import { claw, fleet } from "./fixtures.ts";
import { connectTo, operationsSince, startAzure } from "./local-azure.ts";

const RG = "rg-claw-ops";
const FLEET = fleet([], { resourceGroup: RG });
const { gallery_name: GALLERY, fleet_image_definition_name: IMAGE } = FLEET.azure;

let azure: LocalAzure;
let ctx: AzureContext;
/** Bodies of VM create requests as the SDK put them on the wire. */
const vmPuts: { url: string; body: VmPutBody }[] = [];

interface VmPutBody {
  properties: { storageProfile: { dataDisks: unknown[] }; networkProfile: { networkInterfaces: unknown[] } };
}

const recordVmPuts: PipelinePolicy = {
  name: "record-vm-puts",
  sendRequest(request, next) {
    if (request.method === "PUT" && /\/virtualMachines\/[^/?]+\?/i.test(request.url)) {
      vmPuts.push({ url: request.url, body: JSON.parse(String(request.body)) as VmPutBody });
    }
    return next(request);
  },
};

beforeAll(async () => {
  azure = await startAzure();
  ctx = connectTo(azure, RG, { additionalPolicies: [recordVmPuts] });
  // From nothing: resource group, VNet + subnet, NSG, gallery and image definition.
  await ensureSharedInfra(ctx, FLEET);
  // The versions bake would have published.
  await azure.seedGalleryVersions(RG, GALLERY, IMAGE, ["1.0.0", "1.1.0"], "westus");
});

afterAll(async () => {
  await azure?.stop();
});

/** A renderer that counts its calls and makes a real ed25519 host key each time. */
function renderer() {
  const calls: { claw: string; fingerprint: string }[] = [];
  const render: RenderClaw = (c) => {
    const key = generateHostKey();
    calls.push({ claw: c.name, fingerprint: key.fingerprint });
    return {
      customData: Buffer.from(`#cloud-config\n# ${c.name}\n`).toString("base64"),
      configHash: c.configHash,
      hostKeyFingerprint: key.fingerprint,
    };
  };
  return { render, calls };
}

function opsFor(
  claws: DesiredClaw[],
  opts: { snapshot?: boolean; rolloutId?: string; stepTimeoutMs?: number; signal?: AbortSignal } = {},
) {
  const r = renderer();
  const desired = { ...FLEET, claws };
  const ops = new AzureClawOperations(ctx, desired, {
    render: r.render,
    rolloutId: opts.rolloutId ?? "run-1",
    snapshotBeforeReplace: opts.snapshot ?? true,
    ...(opts.stepTimeoutMs === undefined ? {} : { stepTimeoutMs: opts.stepTimeoutMs }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { ops, calls: r.calls };
}

function plan(c: DesiredClaw, action: ClawPlan["action"], targetImageVersion?: string): ClawPlan {
  return { claw: c.name, action, reason: "test", changes: [], desired: c, targetImageVersion, gated: false };
}

function steps() {
  const lines: string[] = [];
  const report: StepReporter = (claw, step) => lines.push(`${claw}:${step}`);
  return { lines, report };
}

function disk(name: string) {
  return Object.values(azure.state().disks).find((d) => d.name === name);
}

function vm(name: string) {
  return Object.values(azure.state().virtualMachines).find((v) => v.name === name);
}

/** Operations the local Azure logged since `since`, in order, without polls. */
function opLog(since: number): string[] {
  return azure.requestLog
    .filter((e) => e.service === "arm" && e.at >= since && !e.polling)
    .map((e) => e.operation);
}

describe("AzureClawOperations.create", () => {
  it("creates the public IP, NIC, data disk and a VM that attaches the disk at LUN 0", async () => {
    const c = claw("alpha");
    const { ops, calls } = opsFor([c]);
    const since = Date.now();
    const result = await ops.create(plan(c, "create", "1.0.0"), steps().report);

    const ops1 = operationsSince(azure, since);
    expect(ops1["publicIPAddresses.createOrUpdate"]).toBe(1);
    expect(ops1["networkInterfaces.createOrUpdate"]).toBe(1);
    expect(ops1["disks.createOrUpdate"]).toBe(1);
    expect(ops1["virtualMachines.createOrUpdate"]).toBe(1);

    const d = disk("alpha-data")!;
    expect(d.diskSizeGB).toBe(32);
    expect(result.dataDiskId?.toLowerCase()).toBe(d.id.toLowerCase());
    const v = vm("alpha")!;
    expect(v.provisioningState).toBe("Succeeded");
    expect(v.imageReferenceId).toMatch(/\/versions\/1\.0\.0$/);
    expect(v.dataDisks).toEqual([
      { lun: 0, diskId: expect.stringMatching(/\/disks\/alpha-data$/i), deleteOption: "Detach" },
    ]);

    const put = vmPuts.filter((p) => p.url.includes("/virtualMachines/alpha?")).at(-1)!;
    expect(put.body.properties.storageProfile.dataDisks).toEqual([
      { lun: 0, createOption: "Attach", managedDisk: { id: d.id }, deleteOption: "Detach" },
    ]);
    expect(put.body.properties.networkProfile.networkInterfaces[0]).toMatchObject({
      properties: { deleteOption: "Detach" },
    });

    expect(calls).toHaveLength(1);
    expect(v.tags).toMatchObject({
      [TAGS.claw]: "alpha",
      [TAGS.imageVersion]: "1.0.0",
      [TAGS.configHash]: "cfg-1",
      [TAGS.hostKey]: calls[0]!.fingerprint,
      [TAGS.rolloutId]: "run-1",
      project: "openclawps",
    });
  });

  it("makes no write and renders nothing when re-run on the created claw", async () => {
    const c = claw("alpha");
    const { ops, calls } = opsFor([c]);
    const since = Date.now();
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    expect(azure.counts({ since }).writes).toBe(0);
    expect(calls).toHaveLength(0);
  });

  it("refuses an image version the gallery does not have before touching anything", async () => {
    const c = claw("gamma");
    const { ops } = opsFor([c]);
    const since = Date.now();
    const err = await ops.create(plan(c, "create", "9.9.9"), steps().report).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClawStepError);
    expect(String((err as Error).message)).toMatch(/gamma: .*9\.9\.9 does not exist/);
    expect(azure.counts({ since }).writes).toBe(0);
  });
});

describe("AzureClawOperations.replace", () => {
  it("moves the claw to the new image on the same disk, tagging and snapshotting the disk before the VM goes", async () => {
    const c = claw("bravo");
    const { ops, calls } = opsFor([c], { rolloutId: "run-2" });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("bravo-data")!;
    const oldKey = vm("bravo")!.tags[TAGS.hostKey];

    const since = Date.now();
    const { lines, report } = steps();
    const result = await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", report);

    const after = disk("bravo-data")!;
    expect(after.id).toBe(before.id);
    expect(after.timeCreated).toBe(before.timeCreated);
    expect(after.tags[TAGS.lastImage]).toBe("1.0.0");

    const log = opLog(since);
    const at = (op: string) => log.indexOf(op);
    expect(at("virtualMachines.deallocate")).toBeGreaterThanOrEqual(0);
    expect(at("disks.update")).toBeGreaterThan(at("virtualMachines.deallocate"));
    expect(at("snapshots.createOrUpdate")).toBeGreaterThan(at("disks.update"));
    expect(at("virtualMachines.delete")).toBeGreaterThan(at("snapshots.createOrUpdate"));
    expect(at("virtualMachines.createOrUpdate")).toBeGreaterThan(at("virtualMachines.delete"));
    expect(lines).toEqual([
      "bravo:mark-stopping",
      "bravo:deallocate",
      "bravo:tag-disk",
      "bravo:snapshot",
      "bravo:delete-vm",
      "bravo:create-vm",
    ]);

    const v = vm("bravo")!;
    expect(v.imageReferenceId).toMatch(/\/versions\/1\.1\.0$/);
    expect(v.dataDisks[0]).toMatchObject({ lun: 0, diskId: expect.stringMatching(/bravo-data$/i) });
    expect(v.tags[TAGS.hostKey]).toBe(calls.at(-1)!.fingerprint);
    expect(v.tags[TAGS.hostKey]).not.toBe(oldKey);
    expect(result).toMatchObject({ claw: "bravo", imageVersion: "1.1.0" });

    const snaps = Object.values(azure.state().snapshots);
    const snap = snaps.find((s) => s.id.toLowerCase() === result.snapshotId?.toLowerCase());
    expect(snap?.properties).toMatchObject({ incremental: true });
  });

  it("rolls back onto the previous image around the same disk, never recording the unproven one", async () => {
    const c = claw("bravo");
    const { ops } = opsFor([c], { snapshot: false });
    const before = disk("bravo-data")!;
    const { lines, report } = steps();
    await ops.replace(plan(c, "replace", "1.0.0"), "1.0.0", report, { rollback: true });
    expect(vm("bravo")!.imageReferenceId).toMatch(/\/versions\/1\.0\.0$/);
    expect(disk("bravo-data")!.id).toBe(before.id);
    // 1.1.0 failed verification: a crash before the create must not leave it as the way back.
    expect(disk("bravo-data")!.tags[TAGS.lastImage]).toBe("1.0.0");
    expect(lines).not.toContain("bravo:tag-disk");
    // A plain replace records the image the VM ran.
    await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report);
    await ops.replace(plan(c, "replace", "1.0.0"), "1.0.0", steps().report);
    expect(disk("bravo-data")!.tags[TAGS.lastImage]).toBe("1.1.0");
  });

  it("fails with the claw, the step and the ARM code when the VM create fails, runs the old VM again, and converges on re-run", async () => {
    const c = claw("charlie");
    const { ops } = opsFor([c], { snapshot: false });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("charlie-data")!;

    // Azure accepts the create, then the operation fails (as an allocation failure does).
    azure.injectFault({
      operation: "virtualMachines.createOrUpdate",
      mode: "lro-fail",
      code: "AllocationFailed",
    });
    const err = await ops
      .replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    // The refusal is reported, and the claw runs again as it was.
    expect(err).toBeInstanceOf(ClawRestoredError);
    expect((err as Error).message).toMatch(
      /^charlie: create-vm failed \(AllocationFailed\): Azure cannot place/,
    );
    expect(vm("charlie")!.imageReferenceId).toMatch(/\/versions\/1\.0\.0$/);
    expect(disk("charlie-data")!.id).toBe(before.id);
    expect(disk("charlie-data")!.tags[TAGS.lastImage]).toBe("1.0.0");

    await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report);
    expect(vm("charlie")).toMatchObject({ provisioningState: "Succeeded" });
    expect(vm("charlie")!.imageReferenceId).toMatch(/\/versions\/1\.1\.0$/);
    expect(disk("charlie-data")).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
    // The failed VM never ran 1.1.0, so the disk still names 1.0.0 as the image it last ran.
    expect(disk("charlie-data")!.tags[TAGS.lastImage]).toBe("1.0.0");
  });

  it("fails fast with the step and code when Azure refuses a write, leaving the disk attached and intact", async () => {
    const c = claw("india");
    const { ops } = opsFor([c], { snapshot: false });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("india-data")!;
    azure.injectFault({
      operation: "virtualMachines.delete",
      status: 409,
      code: "OperationNotAllowed",
      message: "Not now.",
    });
    const err = await ops
      .replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    expect((err as Error).message).toMatch(/^india: delete-vm failed \(OperationNotAllowed\)/);
    expect(vm("india")!.dataDisks[0]!.diskId.toLowerCase()).toBe(before.id.toLowerCase());
    await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report);
    expect(disk("india-data")).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
  });

  it("leaves a VM whose replace failed after the deallocate marked, so the plan starts it after a revert", async () => {
    const c = claw("juliet");
    const { ops } = opsFor([c], { rolloutId: "run-7" });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    // A refused snapshot starts the VM again at once (see the snapshot tests); a refused delete
    // leaves it stopped, marked.
    azure.injectFault({ operation: "virtualMachines.delete", status: 409, code: "OperationNotAllowed" });
    const err = await ops
      .replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    expect((err as Error).message).toMatch(/^juliet: delete-vm failed \(OperationNotAllowed\)/);
    expect(vm("juliet")).toMatchObject({ powerState: "deallocated" });
    expect(vm("juliet")!.tags[TAGS.stoppedBy]).toBe("run-7");
    // The operator reverts the image bump: the claw is not changed, and its VM is started.
    const p = planFleet({ ...FLEET, claws: [c] }, await observeFleet(ctx, FLEET)).claws.find(
      (x) => x.claw === "juliet",
    )!;
    expect(p).toMatchObject({
      action: "resize",
      reason: expect.stringMatching(/^start the VM: rollout run-7/),
    });
    await opsFor([c]).ops.resize(p, steps().report);
    expect(vm("juliet")).toMatchObject({ powerState: "running" });
    expect(vm("juliet")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("keeps a VM its owner deallocated deallocated through a replace, unmarked", async () => {
    const c = claw("kilo");
    const { ops } = opsFor([c], { snapshot: false });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    await ctx.compute.virtualMachines.deallocate(RG, "kilo", ctx.poll);
    const { lines, report } = steps();
    const result = await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", report);
    expect(result).toMatchObject({ imageVersion: "1.1.0", leftDeallocated: true });
    expect(vm("kilo")).toMatchObject({ powerState: "deallocated" });
    expect(vm("kilo")!.imageReferenceId).toMatch(/\/versions\/1\.1\.0$/);
    expect(vm("kilo")!.tags[TAGS.stoppedBy]).toBeUndefined();
    expect(lines).toEqual(["kilo:tag-disk", "kilo:delete-vm", "kilo:create-vm", "kilo:deallocate"]);
  });

  it("runs the new VM of a claw the schedule parked, carrying the mark, and parks it again on request", async () => {
    const c = claw("kilo-parked");
    const { ops } = opsFor([c], { snapshot: false });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = await ctx.compute.virtualMachines.get(RG, c.name);
    await parkVm(
      ctx,
      { name: c.name, tags: before.tags ?? {} },
      { by: "schedule", at: "2026-12-04T20:00:00.000Z" },
    );
    const { lines, report } = steps();
    const result = await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", report);
    expect(result).toMatchObject({ imageVersion: "1.1.0", parkAfterVerify: true });
    expect(result.leftDeallocated).toBeUndefined();
    expect(vm(c.name)).toMatchObject({ powerState: "running" });
    expect(vm(c.name)!.tags[TAGS.parkedBy]).toBe("schedule;2026-12-04T20:00:00.000Z");
    expect(lines).toEqual([`${c.name}:tag-disk`, `${c.name}:delete-vm`, `${c.name}:create-vm`]);
    await ops.park(c.name, report);
    expect(vm(c.name)).toMatchObject({ powerState: "deallocated" });
  });

  it.each([
    ["after accepting it (AllocationFailed at the end of the create)", "lro-fail", "AllocationFailed"],
    ["outright (SkuNotAvailable)", "fail", "SkuNotAvailable"],
  ] as const)(
    "recreates the VM as it was when Azure refuses its replacement %s, then fails naming the refusal",
    async (_, mode, code) => {
      const c = claw(`lima-${mode}`);
      const { ops } = opsFor([c], { snapshot: false });
      await ops.create(plan(c, "create", "1.0.0"), steps().report);
      const before = disk(`${c.name}-data`)!;
      azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode, status: 409, code });
      const bigger = claw(c.name, { vm_size: "Standard_D4s_v5" });
      const { lines, report } = steps();
      const err = await opsFor([bigger])
        .ops.replace(plan(bigger, "replace", "1.1.0"), "1.1.0", report)
        .catch((e: unknown) => e);
      azure.clearFaults();
      expect(err).toBeInstanceOf(ClawRestoredError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^${c.name}: create-vm failed \\(${code}\\): .*\\. The VM was recreated as it was \\(image 1\\.0\\.0, Standard_B2s\\) around the same data disk; fix the cause, then apply again$`,
          "s",
        ),
      );
      expect(lines).toContain(`${c.name}:restore`);
      const v = vm(c.name)!;
      expect(v).toMatchObject({
        provisioningState: "Succeeded",
        powerState: "running",
        vmSize: "Standard_B2s",
      });
      expect(v.imageReferenceId).toMatch(/\/versions\/1\.0\.0$/);
      expect(v.tags[TAGS.stoppedBy]).toBeUndefined();
      expect(v.dataDisks[0]).toMatchObject({
        lun: 0,
        diskId: expect.stringMatching(new RegExp(`${c.name}-data$`, "i")),
      });
      expect(disk(`${c.name}-data`)).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
    },
  );

  it("takes a fresh snapshot in every rollout even when a long claw name leaves no room in the snapshot name", async () => {
    // 60 characters: "{claw}-data-pre-{image}-{rollout}" is over Azure's 80, so a plain cut would drop the
    // rollout id and a later upgrade from the same image would find the earlier one's snapshot.
    const c = claw(`long-${"x".repeat(50)}-claw`);
    expect(c.name).toHaveLength(60);
    const runA = opsFor([c], { rolloutId: "gh-1001-1" }).ops;
    await runA.create(plan(c, "create", "1.0.0"), steps().report);
    const first = await runA.replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report);
    await opsFor([c], { rolloutId: "gh-1002-1" }).ops.replace(
      plan(c, "replace", "1.0.0"),
      "1.0.0",
      steps().report,
    );
    const { lines, report } = steps();
    const third = await opsFor([c], { rolloutId: "gh-1003-1" }).ops.replace(
      plan(c, "replace", "1.1.0"),
      "1.1.0",
      report,
    );
    expect(lines).toContain(`${c.name}:snapshot`);
    expect(third.snapshotId?.toLowerCase()).not.toBe(first.snapshotId?.toLowerCase());
    const names = Object.values(azure.state().snapshots)
      .map((s) => s.name)
      .filter((n) => n.startsWith(c.name));
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$/);
  });

  it("refuses a stale plan before taking the running VM down, when the renderer's config hash differs", async () => {
    const c = claw("juliet");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // The plan was computed from config "cfg-1"; what would be rendered now is something else.
    const stale = new AzureClawOperations(
      ctx,
      { ...FLEET, claws: [c] },
      {
        render: (x) => ({
          customData: "",
          configHash: `${x.configHash}-changed`,
          hostKeyFingerprint: "SHA256:x",
        }),
        rolloutId: "run-1",
        snapshotBeforeReplace: true,
      },
    );
    const since = Date.now();
    const err = await stale
      .replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/juliet: the renderer's config hash .* the plan is stale/);
    expect(azure.counts({ since }).writes).toBe(0);
    expect(vm("juliet")).toMatchObject({ provisioningState: "Succeeded", powerState: "running" });
  });

  it("switches a VM that would delete its data disk to Detach before deleting it", async () => {
    const c = claw("delta");
    const { ops } = opsFor([c], { snapshot: false });
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    // A VM made elsewhere (portal, old Terraform) with its disk set to go with it.
    const existing = await ctx.compute.virtualMachines.get(RG, "delta");
    await ctx.compute.virtualMachines.update(
      RG,
      "delta",
      {
        storageProfile: {
          dataDisks: existing.storageProfile!.dataDisks!.map((d) => ({
            lun: d.lun,
            createOption: "Attach" as const,
            managedDisk: { id: d.managedDisk!.id },
            deleteOption: "Delete" as const,
          })),
        },
      },
      ctx.poll,
    );
    expect(vm("delta")!.dataDisks[0]!.deleteOption).toBe("Delete");
    const before = disk("delta-data")!;

    const { lines, report } = steps();
    await ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", report);
    expect(lines).toContain("delta:set-detach");
    expect(lines.indexOf("delta:set-detach")).toBeLessThan(lines.indexOf("delta:delete-vm"));
    expect(disk("delta-data")).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
  });
});

describe("AzureClawOperations before taking a running VM down", () => {
  /** Write operations since `since`: what Azure was asked to change. */
  const writes = (since: number) => opLog(since).filter((op) => !/\.(get|list\w*)$/.test(op));

  it("refuses a replace on a size the subscription cannot use while the old VM still runs, naming the claw, cause and fix", async () => {
    const c = claw("romeo");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const bigger = claw("romeo", { vm_size: "Standard_D8s_v5" });
    azure.restrictVmSize("Standard_D8s_v5");
    const since = Date.now();
    const err = await opsFor([bigger])
      .ops.replace(plan(bigger, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    azure.restrictVmSize("Standard_D8s_v5", false);
    expect(err).toBeInstanceOf(VmCreateRefusedError);
    expect((err as Error).message).toBe(
      "romeo: Azure would refuse a new VM on image 1.1.0 (Standard_D8s_v5), so its VM was left as it is, nothing was changed: " +
        "VM size Standard_D8s_v5 is restricted for this subscription in westus (NotAvailableForSubscription) (SkuNotAvailable); " +
        "fix: set vm_size to another size, or ask Azure support to lift the restriction (https://aka.ms/azureskunotavailable). Apply again after the fix",
    );
    // Nothing was written: the VM was never marked, stopped or deleted.
    expect(writes(since)).toEqual([]);
    expect(vm("romeo")).toMatchObject({ powerState: "running", vmSize: "Standard_B2s" });
    expect(vm("romeo")!.imageReferenceId).toMatch(/\/versions\/1\.0\.0$/);
    // The SKUs API is asked with the fleet's location, as Azure takes nothing else.
    const skuReads = azure.requestLog.filter((e) => e.at >= since && e.operation === "resourceSkus.list");
    expect(skuReads.length).toBe(1);
    expect(decodeURIComponent(skuReads[0]!.path + skuReads[0]!.query)).toMatch(/location eq 'westus'/);
  });

  it("refuses a replace into Trusted Launch when the image definition lacks the SecurityType feature, leaving the VM running", async () => {
    const c = claw("sierra");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const trusted = claw("sierra", { enable_trusted_launch: true }, "cfg-2");
    const since = Date.now();
    const err = await opsFor([trusted])
      .ops.replace(plan(trusted, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^sierra: Azure would refuse .*: the VM asks for Trusted Launch and image definition claw-desktop does not support it \(feature SecurityType is not set\) \(BadRequest\); fix: set enable_trusted_launch: false/,
    );
    expect(writes(since)).toEqual([]);
    expect(vm("sierra")).toMatchObject({ powerState: "running" });
    expect(vm("sierra")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("refuses a resize to a size without premium storage for a premium data disk before deallocating", async () => {
    const c = claw("tango", { data_disk_sku: "Premium_LRS" });
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const smaller = claw("tango", { data_disk_sku: "Premium_LRS", vm_size: "Standard_D2_v5" });
    const since = Date.now();
    const err = await opsFor([smaller])
      .ops.resize(plan(smaller, "resize"), steps().report)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmCreateRefusedError);
    expect((err as Error).message).toMatch(
      /^tango: Azure would refuse resizing VM tango to Standard_D2_v5, .*VM size Standard_D2_v5 does not support premium storage, and the claw's data disk is Premium_LRS \(InvalidParameter\); fix: set vm_size to a size with premium storage/,
    );
    expect(writes(since)).toEqual([]);
    expect(vm("tango")).toMatchObject({ powerState: "running", vmSize: "Standard_B2s" });
  });
});

describe("AzureClawOperations without the right to read the resource SKUs", () => {
  afterEach(() => azure.setAllowedActions(undefined));

  it("still checks the image definition before taking the VM down, and says the size was not checked", async () => {
    const c = claw("uniform");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // A role assigned on the resource group alone: the subscription-scope SKUs read is refused.
    azure.setAllowedActions(ARM_ACTIONS.filter((a) => a !== "Microsoft.Compute/skus/read"));
    const trusted = claw("uniform", { enable_trusted_launch: true }, "cfg-2");
    const { lines, report } = steps();
    const err = await opsFor([trusted])
      .ops.replace(plan(trusted, "replace", "1.1.0"), "1.1.0", report)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmCreateRefusedError);
    expect(lines).toEqual(["uniform:pre-check"]);
    expect(vm("uniform")).toMatchObject({ powerState: "running" });
  });
});

describe("AzureClawOperations snapshot retention", () => {
  it("keeps this product's newest snapshots of a disk after each replace, and never touches anyone else's", async () => {
    const c = claw("whiskey");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const diskId = disk("whiskey-data")!.id;
    // Someone's own snapshot of the disk, and one named like ours but without the claw's tag.
    for (const name of ["whiskey-data-manual", "whiskey-data-pre-1.0.0-by-hand"]) {
      await ctx.compute.snapshots.createOrUpdate(
        RG,
        name,
        {
          location: "westus",
          incremental: true,
          creationData: { createOption: "Copy", sourceResourceId: diskId },
        },
        ctx.poll,
      );
    }
    const versions = ["1.1.0", "1.0.0", "1.1.0", "1.0.0"];
    const lines: string[] = [];
    for (const [i, v] of versions.entries()) {
      const ops = new AzureClawOperations(
        ctx,
        { ...FLEET, claws: [c] },
        { render: renderer().render, rolloutId: `keep-${i}`, snapshotBeforeReplace: true, snapshotsKept: 2 },
      );
      await ops.replace(plan(c, "replace", v), v, (claw, step, detail) =>
        lines.push(`${claw}:${step} ${detail ?? ""}`),
      );
    }
    const left = Object.values(azure.state().snapshots)
      .filter(
        (s) =>
          String(
            (s.properties.creationData as { sourceResourceId?: string }).sourceResourceId,
          ).toLowerCase() === diskId.toLowerCase(),
      )
      .map((s) => s.name)
      .sort();
    expect(left).toEqual([
      "whiskey-data-manual",
      "whiskey-data-pre-1.0.0-by-hand",
      "whiskey-data-pre-1.0.0-keep-2",
      "whiskey-data-pre-1.1.0-keep-3",
    ]);
    expect(lines.filter((l) => l.includes(":delete-snapshot"))).toEqual([
      "whiskey:delete-snapshot whiskey-data-pre-1.0.0-keep-0 (keeping the newest 2: rollout.snapshots_kept)",
      "whiskey:delete-snapshot whiskey-data-pre-1.1.0-keep-1 (keeping the newest 2: rollout.snapshots_kept)",
    ]);
    expect(vm("whiskey")).toMatchObject({ provisioningState: "Succeeded", powerState: "running" });
  });

  it("snapshots a data disk left detached from the VM being replaced, and says so", async () => {
    const c = claw("xray");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // An earlier run (or someone by hand) detached the disk from the VM.
    await ctx.compute.virtualMachines.update(RG, "xray", { storageProfile: { dataDisks: [] } }, ctx.poll);
    const lines: string[] = [];
    const result = await opsFor([c], { rolloutId: "run-x" }).ops.replace(
      plan(c, "replace", "1.1.0"),
      "1.1.0",
      (claw, step, detail) => lines.push(`${claw}:${step} ${detail ?? ""}`),
    );
    expect(lines).toContain("xray:snapshot xray-data-pre-1.0.0-run-x (data disk not attached to the VM)");
    expect(result.snapshotId).toMatch(/xray-data-pre-1\.0\.0-run-x$/);
    expect(vm("xray")!.dataDisks[0]).toMatchObject({ lun: 0, diskId: expect.stringMatching(/xray-data$/i) });
  });

  it("refuses a replace while the VM still runs when the disk already has Azure's 500 incremental snapshots", async () => {
    const c = claw("yankee");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // Azure's cap, stored directly (500 creates over HTTPS take minutes on a loaded machine); the
    // local Azure's own refusal of the 501st is tested in local-azure's errors test.
    await azure.seedIncrementalSnapshots(
      disk("yankee-data")!.id,
      Array.from({ length: 500 }, (_, i) => `yankee-backup-${i}`),
    );
    const since = Date.now();
    const err = await opsFor([c])
      .ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^yankee: snapshot failed: data disk yankee-data already has 500 incremental snapshots in rg-claw-ops, Azure's limit per disk \(500\); its VM was left as it is/,
    );
    expect(opLog(since).filter((op) => !/\.(get|list\w*)$/.test(op))).toEqual([]);
    expect(vm("yankee")).toMatchObject({ powerState: "running" });
  });

  it("starts the VM again when Azure refuses the snapshot for snapshots of the disk in another resource group", async () => {
    const c = claw("yoke");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // Someone's backups of the disk, kept elsewhere: Azure counts them, this product cannot see them.
    await ctx.resources.resourceGroups.createOrUpdate("rg-backups", { location: "westus" });
    await azure.seedIncrementalSnapshots(
      disk("yoke-data")!.id,
      Array.from({ length: 500 }, (_, i) => `yoke-elsewhere-${i}`),
      "rg-backups",
    );
    const { lines, report } = steps();
    const err = await opsFor([c])
      .ops.replace(plan(c, "replace", "1.1.0"), "1.1.0", report)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClawRestoredError);
    expect((err as Error).message).toMatch(
      /^yoke: snapshot failed \(OperationNotAllowed\): .*Azure counts the incremental snapshots of data disk yoke-data in every resource group, and this product sees only rg-claw-ops.*The VM was started again as it was, not replaced; fix the cause, then apply again$/s,
    );
    expect(lines).toEqual([
      "yoke:mark-stopping",
      "yoke:deallocate",
      "yoke:tag-disk",
      "yoke:snapshot",
      "yoke:start",
      "yoke:untag-stopped",
    ]);
    // Running on its old image, the same disk attached, nothing deleted.
    expect(vm("yoke")).toMatchObject({
      powerState: "running",
      tags: expect.objectContaining({ [TAGS.imageVersion]: "1.0.0" }),
    });
    expect(vm("yoke")!.tags[TAGS.stoppedBy]).toBeUndefined();
    expect(vm("yoke")!.dataDisks[0]).toMatchObject({ lun: 0, diskId: expect.stringMatching(/yoke-data$/i) });
  });
});

describe("AzureClawOperations.recover", () => {
  it("recreates a missing VM around the existing disk", async () => {
    const c = claw("echo");
    const { ops } = opsFor([c]);
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("echo-data")!;
    // The VM disappears (a crash after delete in an earlier run); the disk detaches.
    await ctx.compute.virtualMachines.delete(RG, "echo", ctx.poll);

    const since = Date.now();
    await ops.recover(plan(c, "recover", "1.0.0"), steps().report);
    expect(operationsSince(azure, since)["disks.createOrUpdate"]).toBeUndefined();
    expect(vm("echo")!.dataDisks[0]).toMatchObject({ lun: 0, diskId: expect.stringMatching(/echo-data$/i) });
    expect(disk("echo-data")).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
  });
});

describe("AzureClawOperations.retire", () => {
  it("deletes the VM, NIC and public IP and keeps the disk", async () => {
    const c = claw("foxtrot");
    const { ops } = opsFor([c]);
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("foxtrot-data")!;

    const { lines, report } = steps();
    await ops.retire({ ...plan(c, "retire"), desired: { ...c, retired: true } }, report);
    const s = azure.state();
    expect(vm("foxtrot")).toBeUndefined();
    expect(Object.values(s.networkInterfaces).some((n) => n.name === "foxtrot-nic")).toBe(false);
    expect(Object.keys(s.publicIps).some((id) => /foxtrot-pip$/i.test(id))).toBe(false);
    expect(disk("foxtrot-data")).toMatchObject({ id: before.id, timeCreated: before.timeCreated });
    expect(disk("foxtrot-data")!.managedBy).toBeUndefined();
    expect(disk("foxtrot-data")!.tags[TAGS.lastImage]).toBe("1.0.0");
    expect(lines).toEqual([
      "foxtrot:mark-stopping",
      "foxtrot:deallocate",
      "foxtrot:tag-disk",
      "foxtrot:delete-vm",
      "foxtrot:delete-nic",
      "foxtrot:delete-public-ip",
      "foxtrot:keep-disk",
    ]);
  });
});

describe("AzureClawOperations when Azure never finishes an operation", () => {
  it("fails the step with a timeout naming it, instead of waiting for the job's limit", async () => {
    const c = claw("papa");
    const { ops } = opsFor([c], { snapshot: false, stepTimeoutMs: 1500 });
    azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode: "lro-hang" });
    const started = Date.now();
    const err = await ops.create(plan(c, "create", "1.0.0"), steps().report).catch((e: unknown) => e);
    azure.clearFaults();
    expect(err).toBeInstanceOf(ClawStepError);
    expect((err as Error).message).toMatch(
      /^papa: create-vm failed: Azure did not finish create-vm within 1\.5s; the operation may still be running in Azure\. Apply again once it has finished/,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(disk("papa-data")).toBeDefined();
  });
});

describe("AzureClawOperations.create, side by side", () => {
  it("creates the data disk while the public IP is still being made, and fails only once both have ended", async () => {
    const c = claw("zulu");
    const ops = new AzureClawOperations(
      ctx,
      { ...FLEET, claws: [c] },
      { render: renderer().render, rolloutId: "run-1", snapshotBeforeReplace: false, stepTimeoutMs: 1500 },
    );
    // The public IP never finishes: in sequence, nothing after it would be asked for.
    azure.injectFault({ operation: "publicIPAddresses.createOrUpdate", mode: "lro-hang" });
    const since = Date.now();
    const err = await ops.create(plan(c, "create", "1.0.0"), steps().report).catch((e: unknown) => e);
    azure.clearFaults();
    expect((err as Error).message).toMatch(/^zulu: create-public-ip failed: Azure did not finish/);
    const log = opLog(since);
    expect(log).toContain("disks.createOrUpdate");
    expect(log).not.toContain("networkInterfaces.createOrUpdate");
    expect(log).not.toContain("virtualMachines.createOrUpdate");
    expect(disk("zulu-data")?.diskSizeGB).toBe(32);
  });
});

describe("AzureClawOperations polling per kind of operation", () => {
  afterEach(() => azure.setTimeScale(0));

  it("polls a disk write at a tenth of the VM interval: ARM sends disks no Retry-After", async () => {
    const c = claw("tango");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    // A disk update takes 5 s in Azure, 0.5 s here; VM operations would be polled every 60 s.
    azure.setTimeScale(0.1);
    const slow = connectTo(azure, RG, { pollIntervalMs: 60_000 });
    expect(slow.pollFor("disk").updateIntervalInMs).toBe(6_000);
    expect(slow.pollFor("network").updateIntervalInMs).toBe(12_000);
    expect(slow.pollFor("vm").updateIntervalInMs).toBe(60_000);
    const ops = new AzureClawOperations(
      slow,
      { ...FLEET, claws: [c] },
      // At the VM's interval the poller would still be waiting when the step's deadline comes.
      { render: renderer().render, rolloutId: "run-1", snapshotBeforeReplace: false, stepTimeoutMs: 20_000 },
    );
    await ops.markHealthy("tango", "1.0.0");
    expect(disk("tango-data")?.tags?.[TAGS.lastHealthyImage]).toBe("1.0.0");
  }, 60_000);
});

describe("AzureClawOperations when Azure never finishes deleting the VM", () => {
  it("fails the claw naming the step, and the next plan blocks it as Deleting, naming it", async () => {
    const c = claw("victor");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const ops = new AzureClawOperations(
      ctx,
      { ...FLEET, claws: [c] },
      { render: renderer().render, rolloutId: "run-1", snapshotBeforeReplace: false, stepTimeoutMs: 1500 },
    );
    azure.injectFault({ operation: "virtualMachines.delete", mode: "lro-hang" });
    const err = await ops
      .replace(plan(c, "replace", "1.1.0"), "1.1.0", steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    expect((err as Error).message).toMatch(
      /^victor: delete-vm failed: Azure did not finish delete-vm within 1\.5s/,
    );
    expect(vm("victor")).toMatchObject({ provisioningState: "Deleting" });
    // The disk is still there, still attached to the VM Azure is deleting.
    expect(disk("victor-data")!.managedBy).toMatch(/virtualMachines\/victor$/i);
    const next = planFleet({ ...FLEET, claws: [c] }, await observeFleet(ctx, FLEET));
    expect(planProblems(next)).toContainEqual({
      claw: "victor",
      reason: "VM victor is Deleting; plan again when that operation finishes",
    });
  });
});

describe("AzureClawOperations when the run is cancelled", () => {
  it("stops the step in flight at once, saying the run was cancelled", async () => {
    const c = claw("quebec");
    const cancel = new AbortController();
    const { ops } = opsFor([c], { snapshot: false, signal: cancel.signal });
    azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode: "lro-hang" });
    const { lines, report } = steps();
    const pending = ops.create(plan(c, "create", "1.0.0"), report).catch((e: unknown) => e);
    while (!lines.includes("quebec:create-vm")) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    cancel.abort();
    const err = await pending;
    azure.clearFaults();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(ClawStepError);
    expect((err as Error).message).toMatch(
      /^quebec: create-vm failed: the run was cancelled during create-vm/,
    );
  });
});

describe("AzureClawOperations.retire right after Azure deleted the VM", () => {
  afterEach(() => azure.setTimeScale(0));

  it("waits out the hold Azure puts on the deleted VM's NIC (NicReservedForAnotherVm), then deletes it", async () => {
    const c = claw("oscar");
    const { ops } = opsFor([c]);
    await ops.create(plan(c, "create", "1.0.0"), steps().report);
    // 180 s of Azure time become 0.9 s here; every other step is scaled alike.
    azure.setTimeScale(0.005);
    const since = Date.now();
    const { lines, report } = steps();
    await ops.retire({ ...plan(c, "retire"), desired: { ...c, retired: true } }, report);
    const refused = azure.requestLog.filter(
      (e) =>
        e.at >= since &&
        e.operation === "networkInterfaces.delete" &&
        e.errorCode === "NicReservedForAnotherVm",
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.status).toBe(400);
    expect(lines).toContain("oscar:wait");
    expect(Object.values(azure.state().networkInterfaces).some((n) => n.name === "oscar-nic")).toBe(false);
    expect(Object.keys(azure.state().publicIps).some((id) => /oscar-pip$/i.test(id))).toBe(false);
    expect(disk("oscar-data")).toBeDefined();
  });
});

describe("AzureClawOperations.resize, growDisk and markHealthy", () => {
  it("resizes a VM through deallocate, update and start", async () => {
    const c = claw("golf");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const bigger = claw("golf", { vm_size: "Standard_D4s_v5" });
    const { lines, report } = steps();
    await opsFor([bigger]).ops.resize(plan(bigger, "resize"), report);
    expect(vm("golf")).toMatchObject({ vmSize: "Standard_D4s_v5", powerState: "running" });
    // Marked before it is stopped, unmarked once it runs again (see the next test for why).
    expect(lines).toEqual([
      "golf:mark-stopping",
      "golf:deallocate",
      "golf:resize",
      "golf:start",
      "golf:untag-stopped",
    ]);
    expect(vm("golf")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("leaves a VM whose restart failed marked as stopped by the rollout, and a re-run starts it", async () => {
    const c = claw("india");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const bigger = claw("india", { vm_size: "Standard_D4s_v5" });
    azure.injectFault({
      operation: "virtualMachines.start",
      mode: "lro-fail",
      code: "InternalExecutionError",
    });
    const err = await opsFor([bigger])
      .ops.resize(plan(bigger, "resize"), steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    expect(err).toBeInstanceOf(ClawStepError);
    // What the next plan reads: resized, not running, and marked — so it plans a start, not a noop.
    expect(vm("india")!.vmSize).toBe("Standard_D4s_v5");
    expect(["stopped", "deallocated"]).toContain(vm("india")!.powerState);
    expect(vm("india")!.tags[TAGS.stoppedBy]).toBe("run-1");

    const { lines, report } = steps();
    await opsFor([bigger]).ops.resize(plan(bigger, "resize"), report);
    expect(lines).toEqual(["india:start", "india:untag-stopped"]);
    expect(vm("india")!.powerState).toBe("running");
    expect(vm("india")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("starts a VM whose resize Azure refused again on its old size, unmarked, and fails naming the refusal", async () => {
    const c = claw("mike");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const bigger = claw("mike", { vm_size: "Standard_D4s_v5" });
    // The first update marks the VM; the second is the resize.
    azure.injectFault({ operation: "virtualMachines.update", nth: 2, status: 409, code: "SkuNotAvailable" });
    const err = await opsFor([bigger])
      .ops.resize(plan(bigger, "resize"), steps().report)
      .catch((e: unknown) => e);
    azure.clearFaults();
    expect(err).toBeInstanceOf(ClawRestoredError);
    expect((err as Error).message).toMatch(
      /^mike: resize failed \(SkuNotAvailable\): .*\. The VM was started again at size Standard_B2s; fix the cause, then apply again$/s,
    );
    expect(vm("mike")).toMatchObject({ powerState: "running", vmSize: "Standard_B2s" });
    expect(vm("mike")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("resizes a VM its owner deallocated without starting it", async () => {
    const c = claw("november");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    await ctx.compute.virtualMachines.deallocate(RG, "november", ctx.poll);
    const bigger = claw("november", { vm_size: "Standard_D4s_v5" });
    const result = await opsFor([bigger]).ops.resize(plan(bigger, "resize"), steps().report);
    expect(result).toMatchObject({ leftDeallocated: true });
    expect(vm("november")).toMatchObject({ powerState: "deallocated", vmSize: "Standard_D4s_v5" });
    expect(vm("november")!.tags[TAGS.stoppedBy]).toBeUndefined();
  });

  it("resizes a VM the schedule parked running, for the rollout to verify and park again", async () => {
    const c = claw("november-parked");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = await ctx.compute.virtualMachines.get(RG, c.name);
    await parkVm(
      ctx,
      { name: c.name, tags: before.tags ?? {} },
      { by: "schedule", at: "2026-12-04T20:00:00.000Z" },
    );
    const bigger = claw(c.name, { vm_size: "Standard_D4s_v5" });
    const { ops } = opsFor([bigger]);
    const result = await ops.resize(plan(bigger, "resize"), steps().report);
    expect(result).toMatchObject({ parkAfterVerify: true });
    expect(result.leftDeallocated).toBeUndefined();
    expect(vm(c.name)).toMatchObject({ powerState: "running", vmSize: "Standard_D4s_v5" });
    await ops.park(c.name, steps().report);
    expect(vm(c.name)).toMatchObject({ powerState: "deallocated" });
    expect(vm(c.name)!.tags[TAGS.parkedBy]).toBe("schedule;2026-12-04T20:00:00.000Z");
  });

  it("grows the data disk in place, keeping it the same resource", async () => {
    const c = claw("hotel");
    await opsFor([c]).ops.create(plan(c, "create", "1.0.0"), steps().report);
    const before = disk("hotel-data")!;
    const bigger = claw("hotel", { data_disk_size_gb: 64 });
    await opsFor([bigger]).ops.growDisk(plan(bigger, "grow-disk"), steps().report);
    expect(disk("hotel-data")).toMatchObject({
      id: before.id,
      diskSizeGB: 64,
      timeCreated: before.timeCreated,
    });
    expect(vm("hotel")!.powerState).toBe("running");
  });

  it("records the healthy image on the disk once", async () => {
    const c = claw("alpha");
    const { ops } = opsFor([c]);
    await ops.markHealthy("alpha", "1.0.0");
    expect(disk("alpha-data")!.tags[TAGS.lastHealthyImage]).toBe("1.0.0");
    const since = Date.now();
    await ops.markHealthy("alpha", "1.0.0");
    expect(azure.counts({ since }).writes).toBe(0);
  });
});

describe("getClawEndpoints", () => {
  it("gives each claw's public IP and the host key fingerprint from its VM tag, with three list requests", async () => {
    const since = Date.now();
    const endpoints = await getClawEndpoints(ctx, ["alpha", "bravo"]);
    expect(azure.counts({ since }).reads).toBe(3);
    expect(endpoints.map((e) => e.name)).toEqual(["alpha", "bravo"]);
    for (const e of endpoints) {
      const v = vm(e.name)!;
      expect(e.hostKeyFingerprint).toBe(v.tags[TAGS.hostKey]);
      expect(e.hostKeyFingerprint).toMatch(/^SHA256:/);
      expect(e.port).toBe(22);
      const nicId = v.networkInterfaceIds[0]!;
      const nic = Object.values(azure.state().networkInterfaces).find(
        (n) => n.id.toLowerCase() === nicId.toLowerCase(),
      );
      expect(nic).toBeDefined();
      expect(Object.values(azure.state().publicIps)).toContain(e.host);
    }
  });
});

describe("gallery helpers", () => {
  it("list the image versions and tag one, writing nothing when the tags are already there", async () => {
    const versions = await listImageVersions(ctx, GALLERY, IMAGE);
    expect(versions.map((v) => v.name).sort()).toEqual(["1.0.0", "1.1.0"]);
    await tagImageVersion(ctx, GALLERY, IMAGE, "1.1.0", { [TAGS.contentHash]: "abc" });
    const tagged = (await listImageVersions(ctx, GALLERY, IMAGE)).find((v) => v.name === "1.1.0")!;
    expect(tagged.tags[TAGS.contentHash]).toBe("abc");
    const since = Date.now();
    await tagImageVersion(ctx, GALLERY, IMAGE, "1.1.0", { [TAGS.contentHash]: "abc" });
    expect(azure.counts({ since }).writes).toBe(0);
  });

  it("list nothing for a gallery that does not exist", async () => {
    expect(await listImageVersions(ctx, "noGallery", IMAGE)).toEqual([]);
  });
});

describe("everything above", () => {
  it("never asked Azure to delete a disk", () => {
    const deletes = azure.requestLog.filter(
      (e) => e.operation === "disks.delete" || (/\/disks\/[^/]+$/i.test(e.path) && e.method === "DELETE"),
    );
    expect(deletes).toEqual([]);
  });

  it("used exactly the actions the documented role grants", async () => {
    // One more path of the shared infrastructure: a VNet that exists without the fleet's subnet
    // gets the subnet added on its own.
    await ensureSharedInfra(ctx, {
      ...FLEET,
      azure: { ...FLEET.azure, subnet_name: "second", subnet_prefixes: ["10.0.1.0/24"] },
    });
    // Verification through Run Command (the default transport). Without guests no VM agent runs
    // the script: the channel writes the Run Command and removes it again.
    const [someVm] = Object.values(azure.state().virtualMachines);
    const channel = runCommandChannel(ctx);
    await channel.agentState({ vm: someVm!.name });
    expect(await channel.run({ vm: someVm!.name }, "true", 60)).toMatchObject({ ok: false });
    // The rollout lease apply takes around all of it.
    const lease = new AzureFleetLease(ctx);
    await lease.acquire("run-role", 600, false);
    await lease.release("run-role");
    const used = new Set(
      azure.requestLog.filter((e) => e.service === "arm" && e.action).map((e) => e.action),
    );
    const granted = new Set<string>(ARM_ACTIONS);
    expect([...used].filter((a) => !granted.has(a))).toEqual([]);
    // And the role grants nothing these operations did not need. The */join/action grants are
    // linked-access checks ARM makes when a NIC references a subnet, NSG or public IP (or a VM a
    // NIC): they have no request of their own to observe.
    // https://learn.microsoft.com/azure/role-based-access-control/resource-provider-operations
    const linkedAccess = (a: string) => a.endsWith("/join/action");
    // A Run Command's result is read only after a VM agent ran it, which needs a booting guest:
    // deploy-fleet's guests e2e test does that under the same role.
    const needsAgent = (a: string) => a === "Microsoft.Compute/virtualMachines/runCommands/read";
    // Key Vault secrets (vault, secret metadata, role assignments): key-vault.test.ts holds the
    // same check for them.
    const keyVault = (a: string) => /^Microsoft\.(KeyVault|Authorization)\//.test(a);
    expect(
      [...granted].filter((a) => !used.has(a) && !linkedAccess(a) && !needsAgent(a) && !keyVault(a)),
    ).toEqual([]);
  });
});
