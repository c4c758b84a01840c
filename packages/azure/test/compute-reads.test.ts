// The plan's reads as plain REST (compute-reads.ts) against the local Azure over HTTPS: the requests
// are the ones @azure/arm-compute 25 / @azure/arm-resources 8 send, lists page to the end, failures
// carry ARM's status and code as callers read them, and the fleet observed through them is, field by
// field, the one observe.ts built from the SDK's models.
import type { Disk, VirtualMachine } from "@azure/arm-compute";
import {
  compareGalleryVersions,
  isGalleryVersion,
  type ObservedDisk,
  type ObservedFleet,
  type ObservedVm,
  TAGS,
} from "@openclawps/fleet-model";
import type { LocalAzure, RequestLogEntry } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READER_ACTIONS } from "../src/arm-actions.ts";
import { getIfExists, listAll } from "../src/arm-read.ts";
import { describeAzureError, isNotFound } from "../src/azure-error.ts";
import { COMPUTE_API_VERSIONS, RESOURCES_API_VERSION } from "../src/compute-reads.ts";
import type { AzureContext } from "../src/connect.ts";
import { AzureFleetLease, parseLease } from "../src/lease.ts";
import { observeFleet, powerStateOf, vmImageVersion } from "../src/observe.ts";
import { ensureSharedInfra } from "../src/shared-infra.ts";
import { imageDefinitionFacts } from "../src/vm-capabilities.ts";
import { fleet } from "./fixtures.ts";
import { connectTo, failure, startAzure } from "./local-azure.ts";

const RG = "rg-reads";
const LOCATION = "westus";

let azure: LocalAzure;
let ctx: AzureContext;

// An image definition that declares Trusted Launch, NVMe and a purchase plan: every fact observe reads.
const base = fleet([], { resourceGroup: RG });
const F = {
  ...base,
  azure: {
    ...base.azure,
    trusted_launch_enabled: true,
    nvme_enabled: true,
    image_definitions: {
      [base.azure.fleet_image_definition_name]: {
        publisher: "claw",
        offer: "claw-vm",
        sku: "desktop",
        purchase_plan: { name: "planid125", publisher: "amdinc", product: "rocm" },
      },
    },
  },
};
const { gallery_name: GALLERY, fleet_image_definition_name: IMAGE } = F.azure;
/** The VMs run versions of a plain image definition beside the fleet's (which needs a purchase plan to boot). */
const PLAIN = "claw-plain";
const plainImageId = () =>
  `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${PLAIN}`;

beforeAll(async () => {
  // Two items a page: every list of the fleet below takes several pages.
  azure = await startAzure({ pageSize: 2 });
  ctx = connectTo(azure, RG);
  await seedVariedFleet();
}, 120_000);
afterAll(async () => {
  await azure?.stop();
});

/**
 * Running and deallocated VMs, one whose last operation failed, VMs with and without a data disk,
 * one created from the image definition (exactVersion), an unattached disk, and image versions
 * that succeeded, failed and are still being created.
 */
async function seedVariedFleet(): Promise<void> {
  await ensureSharedInfra(ctx, F);
  await azure.seedGalleryVersions(RG, GALLERY, IMAGE, ["1.0.0", "1.10.0", "1.2.0"], LOCATION);
  const image = plainImageId();
  await azure.seedGalleryVersions(RG, GALLERY, PLAIN, ["1.0.0", "1.10.0", "1.2.0"], LOCATION);
  const version = (name: string) =>
    ctx.compute.galleryImageVersions.createOrUpdate(
      RG,
      GALLERY,
      IMAGE,
      name,
      {
        location: LOCATION,
        publishingProfile: { targetRegions: [{ name: LOCATION }] },
        storageProfile: { osDiskImage: { sizeInGB: 30 } },
      },
      ctx.pollFor("shared"),
    );
  azure.injectFault({ operation: "galleryImageVersions.createOrUpdate", mode: "lro-fail" });
  await failure(version("2.0.0"));
  azure.clearFaults();
  azure.injectFault({ operation: "galleryImageVersions.createOrUpdate", mode: "lro-hang" });
  await version("2.1.0").submitted();
  azure.clearFaults();

  await azure.seedVirtualMachines(RG, ["run-a", "run-b", "stopped-c", "failed-d"], {
    imageId: `${image}/versions/1.0.0`,
    tags: { [TAGS.claw]: "x", project: "openclawps" },
  });
  await azure.seedVirtualMachines(RG, ["bare-e"], { imageId: `${image}/versions/1.2.0`, dataDiskSizeGB: 0 });
  await azure.seedVirtualMachines(RG, ["latest-f"], { imageId: image, publicIp: false });
  await ctx.compute.virtualMachines.deallocate(RG, "stopped-c", ctx.poll);
  // An operation that ends Failed leaves the VM in provisioning state Failed.
  azure.injectFault({
    operation: "virtualMachines.update",
    mode: "lro-fail",
    code: "OSProvisioningTimedOut",
  });
  await failure(ctx.compute.virtualMachines.update(RG, "failed-d", { tags: { touched: "yes" } }, ctx.poll));
  azure.clearFaults();
  await ctx.compute.disks.createOrUpdate(
    RG,
    "spare-data",
    {
      location: LOCATION,
      sku: { name: "Premium_LRS" },
      tags: { [TAGS.claw]: "spare" },
      creationData: { createOption: "Empty" },
      diskSizeGB: 64,
    },
    ctx.pollFor("disk"),
  );
  await new AzureFleetLease(ctx).acquire("run-42", 600, false);
}

/** Where the request log stands now. */
const mark = (): number => azure.requestLog.length;

/** The ARM requests logged after `at`, as `METHOD path?query`. */
function requestsSince(at: number): string[] {
  return azure.requestLog
    .slice(at)
    .filter((e: RequestLogEntry) => e.service === "arm")
    .map((e) => `${e.method} ${e.path}?${e.query}`);
}

async function requestsOf(read: () => Promise<unknown>): Promise<string[]> {
  const since = mark();
  await read();
  return requestsSince(since);
}

// ---- The reference: the observed fleet as observe.ts built it from the SDK's models ----

function sdkVm(vm: VirtualMachine): ObservedVm {
  const time = vm.instanceView?.statuses?.find((s) => s.code?.startsWith("ProvisioningState/"))?.time;
  return {
    ...(time ? { lastOperationAt: time.toISOString() } : {}),
    id: vm.id ?? "",
    name: vm.name ?? "",
    vmSize: vm.hardwareProfile?.vmSize ?? "",
    provisioningState: vm.provisioningState ?? "",
    powerState: powerStateOf(vm),
    imageVersion: vmImageVersion(vm),
    dataDisks: (vm.storageProfile?.dataDisks ?? []).map((d) => ({
      lun: d.lun,
      diskId: d.managedDisk?.id ?? "",
      name: d.name ?? "",
    })),
    nicIds: (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? "").filter(Boolean),
    tags: vm.tags ?? {},
  };
}

function sdkDisk(disk: Disk): ObservedDisk {
  return {
    id: disk.id ?? "",
    name: disk.name ?? "",
    sizeGb: disk.diskSizeGB ?? 0,
    sku: disk.sku?.name ?? "",
    managedBy: disk.managedBy || undefined,
    timeCreated: disk.timeCreated?.toISOString(),
    tags: disk.tags ?? {},
  };
}

async function observedThroughSdk(): Promise<ObservedFleet> {
  const [vms, disks, versions, group, gallery, image] = await Promise.all([
    listAll(ctx.compute.virtualMachines.list(RG, { expand: "instanceView" })),
    listAll(ctx.compute.disks.listByResourceGroup(RG)),
    listAll(ctx.compute.galleryImageVersions.listByGalleryImage(RG, GALLERY, IMAGE)),
    ctx.resources.resourceGroups.get(RG),
    ctx.compute.galleries.get(RG, GALLERY),
    ctx.compute.galleryImages.get(RG, GALLERY, IMAGE),
  ]);
  const facts = imageDefinitionFacts(IMAGE, image);
  const lease = parseLease(group.tags?.[TAGS.lease]);
  return {
    vms: vms.map(sdkVm),
    disks: disks.map(sdkDisk),
    nics: [],
    publicIps: [],
    imageVersions: versions
      .filter(
        (v) => v.name && isGalleryVersion(v.name) && (v.provisioningState ?? "Succeeded") === "Succeeded",
      )
      .map((v) => v.name!)
      .sort(compareGalleryVersions),
    shared: {
      resourceGroup: { location: group.location ?? "", tags: group.tags ?? {} },
      ...(gallery ? { gallery: {} } : {}),
      imageDefinition: {
        publisher: image.identifier?.publisher ?? "",
        offer: image.identifier?.offer ?? "",
        sku: image.identifier?.sku ?? "",
        ...(image.hyperVGeneration ? { hyperVGeneration: image.hyperVGeneration } : {}),
        ...(facts.securityType ? { securityType: facts.securityType } : {}),
        ...(facts.diskControllerTypes ? { diskControllerTypes: facts.diskControllerTypes } : {}),
        ...(facts.purchasePlan ? { purchasePlan: facts.purchasePlan } : {}),
      },
    },
    ...(lease ? { lease: { runId: lease.runId, expiresAt: lease.expiresAt.toISOString() } } : {}),
  };
}

describe("ComputeReads", () => {
  it("observes the fleet, field by field, as observe.ts did from the SDK's models", async () => {
    const reference = await observedThroughSdk();
    const observed = await observeFleet(ctx, F);

    // The fleet is as varied as intended, so that the comparison below means something.
    expect(reference.vms.map((v) => [v.name, v.powerState, v.provisioningState])).toEqual([
      ["run-a", "running", "Succeeded"],
      ["run-b", "running", "Succeeded"],
      ["stopped-c", "deallocated", "Succeeded"],
      ["failed-d", "running", "Failed"],
      ["bare-e", "running", "Succeeded"],
      ["latest-f", "running", "Succeeded"],
    ]);
    expect(reference.vms.find((v) => v.name === "bare-e")?.dataDisks).toEqual([]);
    expect(reference.vms.find((v) => v.name === "latest-f")?.imageVersion).toBe("1.10.0");
    expect(reference.vms.every((v) => v.lastOperationAt !== undefined)).toBe(true);
    expect(reference.disks.find((d) => d.name === "spare-data")).toMatchObject({ managedBy: undefined });
    expect(reference.disks.filter((d) => d.managedBy !== undefined).length).toBeGreaterThan(5);
    expect(reference.imageVersions).toEqual(["1.0.0", "1.2.0", "1.10.0"]);
    expect(reference.shared?.imageDefinition).toMatchObject({
      securityType: "TrustedLaunchSupported",
      diskControllerTypes: ["SCSI", "NVMe"],
      purchasePlan: { name: "planid125", publisher: "amdinc", product: "rocm" },
    });
    expect(reference.lease?.runId).toBe("run-42");

    // Every field of every VM and disk (a key left undefined included), in the list's order.
    expect(observed.vms.map((v) => v.name)).toEqual(reference.vms.map((v) => v.name));
    for (const [i, vm] of reference.vms.entries()) expect(observed.vms[i], vm.name).toStrictEqual(vm);
    expect(observed.disks.map((d) => d.name)).toEqual(reference.disks.map((d) => d.name));
    for (const [i, disk] of reference.disks.entries())
      expect(observed.disks[i], disk.name).toStrictEqual(disk);
    expect(observed.imageVersions).toStrictEqual(reference.imageVersions);
    expect(observed.shared?.resourceGroup).toStrictEqual(reference.shared?.resourceGroup);
    expect(observed.shared?.gallery).toStrictEqual(reference.shared?.gallery);
    expect(observed.shared?.imageDefinition).toStrictEqual(reference.shared?.imageDefinition);
    expect(observed.lease).toStrictEqual(reference.lease);
  });

  it("normalises ARM's timestamps as the SDK's Date did: milliseconds and Z", async () => {
    // ARM writes seven fractional digits and an offset; the observed fleet keeps Date#toISOString().
    const raw = await listAll(ctx.computeReads.disks.listByResourceGroup(RG));
    const spare = raw.find((d) => d.name === "spare-data")!;
    expect(spare.properties?.timeCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    const observed = await observeFleet(ctx, F);
    const disk = observed.disks.find((d) => d.name === "spare-data")!;
    expect(disk.timeCreated).toBe(new Date(spare.properties!.timeCreated!).toISOString());
    expect(disk.timeCreated).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const vms = await listAll(ctx.computeReads.virtualMachines.list(RG, { expand: "instanceView" }));
    const stopped = vms.find((v) => v.name === "stopped-c")!;
    const status = stopped.properties?.instanceView?.statuses?.find((s) =>
      s.code?.startsWith("ProvisioningState/"),
    );
    expect(status?.time).toMatch(/\+00:00$/);
    expect(observed.vms.find((v) => v.name === "stopped-c")?.lastOperationAt).toBe(
      new Date(status!.time!).toISOString(),
    );
  });

  it("sends the requests the SDKs send, api-versions and every nextLink page included", async () => {
    const drain = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items);
    };
    const pairs: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      [
        "virtualMachines.list",
        () => drain(ctx.computeReads.virtualMachines.list(RG, { expand: "instanceView" })),
        () => drain(ctx.compute.virtualMachines.list(RG, { expand: "instanceView" })),
      ],
      [
        "disks.listByResourceGroup",
        () => drain(ctx.computeReads.disks.listByResourceGroup(RG)),
        () => drain(ctx.compute.disks.listByResourceGroup(RG)),
      ],
      [
        "galleryImageVersions.listByGalleryImage",
        () => drain(ctx.computeReads.galleryImageVersions.listByGalleryImage(RG, GALLERY, IMAGE)),
        () => drain(ctx.compute.galleryImageVersions.listByGalleryImage(RG, GALLERY, IMAGE)),
      ],
      [
        "galleries.get",
        () => ctx.computeReads.galleries.get(RG, GALLERY),
        () => ctx.compute.galleries.get(RG, GALLERY),
      ],
      [
        "galleryImages.get",
        () => ctx.computeReads.galleryImages.get(RG, GALLERY, IMAGE),
        () => ctx.compute.galleryImages.get(RG, GALLERY, IMAGE),
      ],
      [
        "resourceGroups.get",
        () => ctx.computeReads.resourceGroups.get(RG),
        () => ctx.resources.resourceGroups.get(RG),
      ],
    ];
    for (const [name, ours, sdk] of pairs) {
      const sent = await requestsOf(ours);
      expect(sent, name).toEqual(await requestsOf(sdk));
      expect(sent[0], name).toMatch(/^GET \//);
    }
    const vmPages = await requestsOf(() =>
      drain(ctx.computeReads.virtualMachines.list(RG, { expand: "instanceView" })),
    );
    // Six VMs, two a page.
    expect(vmPages).toHaveLength(3);
    expect(vmPages.every((r) => r.includes(`api-version=${COMPUTE_API_VERSIONS.virtualMachines}`))).toBe(
      true,
    );
    const [group] = await requestsOf(() => ctx.computeReads.resourceGroups.get(RG));
    expect(group).toBe(
      `GET /subscriptions/${azure.subscriptionId}/resourcegroups/${RG}?api-version=${RESOURCES_API_VERSION}`,
    );
  });

  it("reads a missing resource group or gallery as absent, and fails as the SDK does otherwise", async () => {
    const missing = "rg-never-made";
    expect(await listAll(ctx.computeReads.virtualMachines.list(missing), { missingOk: true })).toEqual([]);
    expect(await listAll(ctx.computeReads.disks.listByResourceGroup(missing), { missingOk: true })).toEqual(
      [],
    );
    expect(
      await listAll(ctx.computeReads.galleryImageVersions.listByGalleryImage(RG, "noGallery", IMAGE), {
        missingOk: true,
      }),
    ).toEqual([]);
    expect(await getIfExists(ctx.computeReads.galleries.get(RG, "noGallery"))).toBeUndefined();
    expect(await getIfExists(ctx.computeReads.galleryImages.get(RG, GALLERY, "no-image"))).toBeUndefined();
    expect(await getIfExists(ctx.computeReads.resourceGroups.get(missing))).toBeUndefined();

    // A get fails as the SDK's get did: ARM's status, code and message.
    const gets: [() => Promise<unknown>, () => Promise<unknown>][] = [
      [
        () => ctx.computeReads.galleries.get(RG, "noGallery"),
        () => ctx.compute.galleries.get(RG, "noGallery"),
      ],
      [() => ctx.computeReads.resourceGroups.get(missing), () => ctx.resources.resourceGroups.get(missing)],
    ];
    for (const [ours, sdk] of gets) {
      const [err, expected] = [await failure(ours()), await failure(sdk())];
      expect(err).toMatchObject({ name: "RestError", statusCode: 404 });
      expect(isNotFound(err)).toBe(true);
      expect(pick(err)).toEqual(pick(expected));
    }
    // A list too, but for the message: the SDK's pager put its own ("Pagination failed with
    // unexpected statusCode 404") in place of ARM's, which is kept here.
    const err = await failure(listAll(ctx.computeReads.virtualMachines.list(missing)));
    const expected = await failure(listAll(ctx.compute.virtualMachines.list(missing)));
    expect(err).toMatchObject({ name: "RestError", statusCode: 404, code: "ResourceGroupNotFound" });
    expect({ ...pick(err), message: undefined }).toEqual({ ...pick(expected), message: undefined });
    expect((err as Error).message).toBe(`Resource group '${missing}' could not be found.`);
  });

  it("surfaces a 403 with ARM's code, explained as before", async () => {
    azure.setAllowedActions(READER_ACTIONS.filter((a) => a !== "Microsoft.Compute/disks/read"));
    try {
      const err = await failure(observeFleet(ctx, F));
      const expected = await failure(listAll(ctx.compute.disks.listByResourceGroup(RG), { missingOk: true }));
      expect(err).toMatchObject({ name: "RestError", statusCode: 403, code: "AuthorizationFailed" });
      expect({ ...pick(err), message: undefined }).toEqual({ ...pick(expected), message: undefined });
      // ARM's message names the action and the scope (the SDK's pager had replaced it with its
      // own), so the explanation names them too, and the role to assign where.
      const hints = { clientId: azure.clientId };
      const explained = describeAzureError(err, hints);
      expect(describeAzureError(expected, hints)).toMatch(/^Azure denied an operation to app registration/);
      expect(explained).toMatch(/^Azure denied 'Microsoft.Compute\/disks\/read' on '\/subscriptions\//);
      expect(explained).toContain(`--scope /subscriptions/${azure.subscriptionId}/resourceGroups/${RG}`);
      expect(explained).toMatch(/403 AuthorizationFailed/);
    } finally {
      azure.setAllowedActions(undefined);
    }
  });
});

/** What callers read of an ARM error. */
function pick(err: unknown): { statusCode?: unknown; code?: unknown; message?: unknown } {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  return { statusCode: e.statusCode, code: e.code, message: e.message };
}
