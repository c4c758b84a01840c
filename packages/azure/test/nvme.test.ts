// NVMe-only VM sizes (the v6 series) against the local Azure: the VM create asks for the NVMe disk
// controller when the size has no SCSI one and the image definition declares NVMe
// (azure.nvme_enabled), a resize asks for the controller the new size needs in the same update,
// and a definition without NVMe is refused before the running VM is touched.
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { generateHostKey } from "@openclawps/cloud-init";
import type { ClawPlan, DesiredClaw, DesiredFleet } from "@openclawps/fleet-model";
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureClawOperations } from "../src/claw-operations.ts";
import type { AzureContext } from "../src/connect.ts";
import { ensureSharedInfra } from "../src/shared-infra.ts";
import { VmCreateRefusedError } from "../src/vm-capabilities.ts";
import { claw, fleet } from "./fixtures.ts";
import { connectTo, startAzure } from "./local-azure.ts";

let azure: LocalAzure;
/** storageProfile.diskControllerType of each VM create or update as the SDK put it on the wire. */
const asked: { method: string; vm: string; controller: unknown }[] = [];
const recordVmWrites: PipelinePolicy = {
  name: "record-vm-writes",
  sendRequest(request, next) {
    const m = /\/virtualMachines\/([^/?]+)\?/i.exec(request.url);
    if (m && (request.method === "PUT" || request.method === "PATCH")) {
      const body = JSON.parse(String(request.body)) as {
        properties?: { storageProfile?: { diskControllerType?: unknown } };
      };
      asked.push({
        method: request.method,
        vm: m[1]!,
        controller: body.properties?.storageProfile?.diskControllerType,
      });
    }
    return next(request);
  },
};

function nvmeFleet(rg: string, nvme: boolean): DesiredFleet {
  const f = fleet([], { resourceGroup: rg });
  return { ...f, azure: { ...f.azure, nvme_enabled: nvme } };
}

async function prepare(rg: string, nvme: boolean): Promise<{ ctx: AzureContext; fleet: DesiredFleet }> {
  const ctx = connectTo(azure, rg, { additionalPolicies: [recordVmWrites] });
  const f = nvmeFleet(rg, nvme);
  await ensureSharedInfra(ctx, f);
  await azure.seedGalleryVersions(
    rg,
    f.azure.gallery_name,
    f.azure.fleet_image_definition_name,
    ["1.0.0"],
    "westus",
  );
  return { ctx, fleet: f };
}

function ops(ctx: AzureContext, f: DesiredFleet, claws: DesiredClaw[]) {
  return new AzureClawOperations(
    ctx,
    { ...f, claws },
    {
      render: (c) => ({
        customData: Buffer.from(`#cloud-config\n# ${c.name}\n`).toString("base64"),
        configHash: c.configHash,
        hostKeyFingerprint: generateHostKey().fingerprint,
      }),
      rolloutId: "run-nvme",
      snapshotBeforeReplace: false,
    },
  );
}

function plan(c: DesiredClaw, action: ClawPlan["action"]): ClawPlan {
  return {
    claw: c.name,
    action,
    reason: "test",
    changes: [],
    desired: c,
    targetImageVersion: "1.0.0",
    gated: false,
  };
}

const vm = (name: string) => Object.values(azure.state().virtualMachines).find((v) => v.name === name);
const noReport = () => {};

beforeAll(async () => {
  azure = await startAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("NVMe-only sizes", () => {
  it("creates a claw on Standard_D2ads_v6 asking for the NVMe controller, on a definition made with azure.nvme_enabled", async () => {
    const { ctx, fleet: f } = await prepare("rg-nvme", true);
    const image = await ctx.compute.galleryImages.get(
      "rg-nvme",
      f.azure.gallery_name,
      f.azure.fleet_image_definition_name,
    );
    expect(image.features).toEqual([{ name: "DiskControllerTypes", value: "SCSI, NVMe" }]);
    const c = claw("nv1", { vm_size: "Standard_D2ads_v6" });
    const lines: string[] = [];
    await ops(ctx, f, [c]).create(plan(c, "create"), (_claw, step, detail) =>
      lines.push(`${step} ${detail ?? ""}`),
    );
    expect(asked.filter((a) => a.vm === "nv1")).toEqual([{ method: "PUT", vm: "nv1", controller: "NVMe" }]);
    expect(lines.find((l) => l.startsWith("create-vm"))).toMatch(
      /Standard_D2ads_v6 \(NVMe disk controller\)/,
    );
    expect(vm("nv1")).toMatchObject({ provisioningState: "Succeeded", powerState: "running" });
    // A size with SCSI keeps Azure's default: nothing asked for.
    const s = claw("sc1", { vm_size: "Standard_D2s_v5" });
    await ops(ctx, f, [s]).create(plan(s, "create"), noReport);
    expect(asked.filter((a) => a.vm === "sc1")).toEqual([
      { method: "PUT", vm: "sc1", controller: undefined },
    ]);
  });

  it("resizes a claw onto an NVMe-only size and back, asking for the controller each size needs", async () => {
    const { ctx, fleet: f } = await prepare("rg-nvme", true);
    const c = claw("nv2", { vm_size: "Standard_D2s_v5" });
    await ops(ctx, f, [c]).create(plan(c, "create"), noReport);
    const bigger = { ...c, settings: { ...c.settings, vm_size: "Standard_D2ads_v6" } };
    await ops(ctx, f, [bigger]).resize(plan(bigger, "resize"), noReport);
    const on = await ctx.compute.virtualMachines.get("rg-nvme", "nv2");
    expect(on.hardwareProfile?.vmSize).toBe("Standard_D2ads_v6");
    expect(on.storageProfile?.diskControllerType).toBe("NVMe");
    await ops(ctx, f, [c]).resize(plan(c, "resize"), noReport);
    const back = await ctx.compute.virtualMachines.get("rg-nvme", "nv2");
    expect(back.hardwareProfile?.vmSize).toBe("Standard_D2s_v5");
    expect(back.storageProfile?.diskControllerType).toBe("SCSI");
    expect(vm("nv2")).toMatchObject({ powerState: "running" });
  });

  it("refuses an NVMe-only size on a definition without NVMe before anything is written, naming azure.nvme_enabled", async () => {
    const { ctx, fleet: f } = await prepare("rg-scsi-only", false);
    const c = claw("nv3", { vm_size: "Standard_D2ads_v6" });
    const since = Date.now();
    const err = await ops(ctx, f, [c])
      .create(plan(c, "create"), noReport)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmCreateRefusedError);
    expect((err as Error).message).toMatch(
      /supports only the NVMe disk controller.*azure\.nvme_enabled: true/,
    );
    expect(
      azure.requestLog.filter(
        (e) => e.at >= since && e.method !== "GET" && /virtualMachines/i.test(e.operation),
      ),
    ).toEqual([]);
    // The manifest turned NVMe on after the definition was made: the plan says it cannot change.
    const later = await ensureSharedInfra(ctx, nvmeFleet("rg-scsi-only", true));
    expect(later.warnings).toEqual([
      expect.stringMatching(
        /disk controllers SCSI \(manifest: nvme_enabled: true needs DiskControllerTypes "SCSI, NVMe"/,
      ),
    ]);
  });
});
