import { type ObservedFleet, planSharedInfra, TAGS } from "@openclawps/fleet-model";
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azureErrorCode, describeAzureError, isNotFound } from "../src/azure-error.ts";
import { AzureFleetLease } from "../src/lease.ts";
import { observeFleet } from "../src/observe.ts";
import { adoptSeedResources, seedResourcesToAdopt } from "../src/seed-adoption.ts";
import { ensureSharedInfra, ISOLATION_RULE_NAME, SSH_RULE_NAME } from "../src/shared-infra.ts";
import { fleet } from "./fixtures.ts";
import { connectTo, operationsSince, startAzure } from "./local-azure.ts";

let azure: LocalAzure;

const names = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);

async function seedFleet(rg: string, claws: string[]) {
  const f = fleet(claws, { resourceGroup: rg });
  const { gallery_name, fleet_image_definition_name } = f.azure;
  await azure.seedGalleryVersions(
    rg,
    gallery_name,
    fleet_image_definition_name,
    ["1.10.0", "1.2.0", "1.9.3"],
    "westus",
  );
  const imageId = `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${gallery_name}/images/${fleet_image_definition_name}/versions/1.2.0`;
  // Seed-deployed claws: named the seed's way, no openclawps tags.
  await azure.seedVirtualMachines(rg, claws, { imageId, dataDiskSizeGB: 32 });
  return f;
}

beforeAll(async () => {
  azure = await startAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("observeFleet", () => {
  it("uses the same list requests for 3 claws as for 30", async () => {
    const small = await seedFleet("rg-small", names(3, "s"));
    const large = await seedFleet("rg-large", names(30, "l"));

    const t1 = Date.now();
    const observedSmall = await observeFleet(connectTo(azure, "rg-small"), small);
    const smallOps = operationsSince(azure, t1);
    const t2 = Date.now();
    const observedLarge = await observeFleet(connectTo(azure, "rg-large"), large);
    const largeOps = operationsSince(azure, t2);

    expect(largeOps).toEqual(smallOps);
    // One paged list per claw resource type and the gallery's versions, one GET per shared resource.
    expect(Object.values(largeOps).reduce((a, b) => a + b, 0)).toBe(10);
    expect(observedSmall.vms).toHaveLength(3);
    expect(observedLarge.vms).toHaveLength(30);
    // OS disks are in the resource group too.
    expect(observedLarge.disks.filter((d) => d.name.endsWith("-data"))).toHaveLength(30);
    expect(observedLarge.nics).toHaveLength(30);
    expect(observedLarge.publicIps).toHaveLength(30);
  });

  it("fills every field the plan reads, power state included", async () => {
    const f = fleet(["s-000"], { resourceGroup: "rg-small" });
    const observed = await observeFleet(connectTo(azure, "rg-small"), f);
    const vm = observed.vms.find((v) => v.name === "s-000")!;
    expect(vm).toMatchObject({
      powerState: "running",
      provisioningState: "Succeeded",
      imageVersion: "1.2.0",
    });
    expect(vm.dataDisks).toEqual([
      { lun: 0, diskId: expect.stringMatching(/\/disks\/s-000-data$/i), name: "s-000-data" },
    ]);
    expect(vm.nicIds).toEqual([expect.stringMatching(/\/networkInterfaces\/s-000-nic$/i)]);

    const disk = observed.disks.find((d) => d.name === "s-000-data")!;
    expect(disk.sizeGb).toBe(32);
    expect(disk.managedBy?.toLowerCase()).toBe(vm.id.toLowerCase());
    expect(Date.parse(disk.timeCreated ?? "")).not.toBeNaN();

    const nic = observed.nics.find((n) => n.name === "s-000-nic")!;
    expect(nic.vmId?.toLowerCase()).toBe(vm.id.toLowerCase());
    const pip = observed.publicIps.find((p) => p.name === "s-000-pip")!;
    expect(nic.publicIpId?.toLowerCase()).toBe(pip.id.toLowerCase());
    expect(pip.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // Sorted numerically, not as strings.
    expect(observed.imageVersions).toEqual(["1.2.0", "1.9.3", "1.10.0"]);
  });

  it("offers exactly the versions the manifest can name (fleet-model's rule), in numeric order", async () => {
    // Azure takes "01.2.3" as a name (int32 parts); the manifest refuses leading zeros, so a
    // plan must never resolve `latest` to it. Ten-digit parts within int32 are versions to both.
    const f = fleet(["v"], { resourceGroup: "rg-versions" });
    await azure.seedGalleryVersions(
      "rg-versions",
      f.azure.gallery_name,
      f.azure.fleet_image_definition_name,
      ["01.2.3", "1000000000.0.0", "1.0.0"],
      "westus",
    );
    const observed = await observeFleet(connectTo(azure, "rg-versions"), f);
    expect(observed.imageVersions).toEqual(["1.0.0", "1000000000.0.0"]);
  });

  it("reads a fleet whose resource group does not exist yet as empty", async () => {
    const f = fleet(["a"], { resourceGroup: "rg-not-yet" });
    const observed = await observeFleet(connectTo(azure, "rg-not-yet"), f);
    expect(observed).toEqual({ vms: [], disks: [], nics: [], publicIps: [], imageVersions: [], shared: {} });
  });

  it("fails on a subscription that does not exist instead of reading it as an empty fleet", async () => {
    const wrong = "11111111-2222-3333-4444-555555555555";
    const f = fleet(["a"], { resourceGroup: "rg-small" });
    const err = await observeFleet(connectTo(azure, "rg-small", { subscriptionId: wrong }), f).catch(
      (e) => e,
    );
    expect(azureErrorCode(err)).toBe("SubscriptionNotFound");
    expect(isNotFound(err)).toBe(false);
    expect(describeAzureError(err, { subscriptionId: wrong, tenantId: azure.tenantId })).toMatch(
      new RegExp(
        `^The subscription id ${wrong} does not exist in tenant ${azure.tenantId} or the app registration \\(AZURE_CLIENT_ID\\) has no access to it \\(SubscriptionNotFound\\)\\. Fix: set the AZURE_SUBSCRIPTION_ID secret`,
      ),
    );
  });

  it("reads the shared resources and the lease recorded on the resource group", async () => {
    const f = fleet([], { resourceGroup: "rg-shared-seen" });
    const ctx = connectTo(azure, "rg-shared-seen");
    await ensureSharedInfra(ctx, f);
    await new AzureFleetLease(ctx).acquire("run-7", 60, false);
    const observed = await observeFleet(ctx, f);
    expect(observed.lease).toEqual({ runId: "run-7", expiresAt: expect.any(String) });
    expect(planSharedInfra(f, observed.shared!)).toEqual({ changes: [], warnings: [] });
    expect(observed.shared?.networkSecurityGroup?.rules).toEqual([
      expect.objectContaining({ name: SSH_RULE_NAME, sourceAddressPrefixes: ["203.0.113.0/24"] }),
      expect.objectContaining({
        name: ISOLATION_RULE_NAME,
        access: "Deny",
        sourceAddressPrefixes: ["10.0.0.0/24"],
      }),
    ]);
  });
});

describe("adopting a seed-deployed fleet", () => {
  it("finds seed-named resources reading each observed list once, not once per claw", () => {
    // Counts element reads (no timing): a scan per claw reads claws × resources elements.
    const claws = names(200, "q");
    let reads = 0;
    const counted = <T extends object>(items: T[]) =>
      new Proxy(items, {
        get(target, key, receiver) {
          if (typeof key === "string" && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver);
        },
      });
    const resources = (suffix: string) =>
      counted(claws.map((c) => ({ name: `${c}${suffix}`, id: `/x/${c}${suffix}`, tags: {} })));
    const observed = {
      vms: resources(""),
      nics: resources("-nic"),
      publicIps: resources("-pip"),
      disks: resources("-data"),
      imageVersions: [],
      shared: {},
    } as unknown as ObservedFleet;
    const found = seedResourcesToAdopt(fleet(claws), observed);
    expect(found).toHaveLength(4 * claws.length);
    expect(reads).toBeLessThanOrEqual(4 * claws.length);
  });

  it("lists the untagged seed-named resources without writing, then tags them once", async () => {
    const claws = names(2, "seed");
    const f = await seedFleet("rg-seed", claws);
    const ctx = connectTo(azure, "rg-seed");
    const since = Date.now();
    const observed = await observeFleet(ctx, f);
    const pending = seedResourcesToAdopt(f, observed);
    expect(azure.counts({ since }).writes).toBe(0);
    expect(pending.map((r) => `${r.claw}:${r.kind}:${r.name}`).sort()).toEqual([
      "seed-000:disk:seed-000-data",
      "seed-000:nic:seed-000-nic",
      "seed-000:publicIp:seed-000-pip",
      "seed-000:vm:seed-000",
      "seed-001:disk:seed-001-data",
      "seed-001:nic:seed-001-nic",
      "seed-001:publicIp:seed-001-pip",
      "seed-001:vm:seed-001",
    ]);

    const adopted = await adoptSeedResources(ctx, f, observed);
    expect(adopted).toHaveLength(8);
    const again = await observeFleet(ctx, f);
    expect(seedResourcesToAdopt(f, again)).toEqual([]);
    const dataDisks = again.disks.filter((d) => d.name.endsWith("-data"));
    for (const r of [...again.vms, ...dataDisks, ...again.nics, ...again.publicIps]) {
      expect(r.tags[TAGS.claw]).toBe(r.name.replace(/-(data|nic|pip)$/, ""));
      expect(r.tags.project).toBe("openclawps");
    }

    const t = Date.now();
    await adoptSeedResources(ctx, f, again);
    expect(azure.counts({ since: t }).writes).toBe(0);
  });
});
