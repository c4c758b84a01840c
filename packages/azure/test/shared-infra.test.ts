import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { TAGS } from "@openclawps/fleet-model";
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureFleetLease } from "../src/lease.ts";
import { ensureSharedInfra, ISOLATION_RULE_NAME, SSH_RULE_NAME } from "../src/shared-infra.ts";
import { fleet } from "./fixtures.ts";
import { connectTo, sdkNetwork, startAzure } from "./local-azure.ts";

let azure: LocalAzure;

beforeAll(async () => {
  azure = await startAzure();
});
afterAll(async () => {
  await azure?.stop();
});

describe("ensureSharedInfra", () => {
  it("creates the resource group, network, NSG, gallery and image definition on an empty subscription", async () => {
    const f = fleet([], { resourceGroup: "rg-empty", allowedCidrs: ["203.0.113.0/24", "198.51.100.7/32"] });
    const ctx = connectTo(azure, "rg-empty");
    const report = await ensureSharedInfra(ctx, f);
    expect(report.created).toEqual(
      expect.arrayContaining([
        "resource group rg-empty",
        "virtual network rg-empty-vnet",
        "subnet default",
        "network security group rg-empty-nsg",
        "gallery clawGalleryTest",
        "image definition clawGalleryTest/claw-desktop",
      ]),
    );
    expect(report.warnings).toEqual([]);

    const rg = await ctx.resources.resourceGroups.get("rg-empty");
    expect(rg.tags).toEqual({ project: "openclawps" });
    const vnet = await sdkNetwork(ctx).virtualNetworks.get("rg-empty", "rg-empty-vnet");
    expect(vnet.addressSpace?.addressPrefixes).toEqual(["10.0.0.0/16"]);
    expect(vnet.subnets?.map((s) => [s.name, s.addressPrefix])).toEqual([["default", "10.0.0.0/24"]]);
    const nsg = await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg");
    expect(nsg.securityRules).toHaveLength(2);
    expect(nsg.securityRules?.[0]).toMatchObject({
      name: SSH_RULE_NAME,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      destinationPortRange: "22",
      sourceAddressPrefixes: ["198.51.100.7/32", "203.0.113.0/24"],
    });
    // Azure's AllowVnetInBound (65000) would admit every port between claws; ours comes first,
    // and before the SSH rule, so no SSH source admits one claw to another.
    expect(nsg.securityRules?.[1]).toMatchObject({
      name: ISOLATION_RULE_NAME,
      direction: "Inbound",
      access: "Deny",
      protocol: "*",
      priority: 900,
      sourceAddressPrefix: "10.0.0.0/24",
      sourcePortRange: "*",
      destinationAddressPrefix: "10.0.0.0/24",
      destinationPortRange: "*",
    });
    expect(nsg.defaultSecurityRules?.find((r) => r.name === "AllowVnetInBound")?.priority).toBe(65000);
    const image = await ctx.compute.galleryImages.get("rg-empty", "clawGalleryTest", "claw-desktop");
    expect(image).toMatchObject({
      osType: "Linux",
      osState: "Generalized",
      hyperVGeneration: "V2",
      identifier: { publisher: "claw", offer: "claw-vm", sku: "desktop" },
    });
  });

  it("makes zero writes when run again", async () => {
    const f = fleet([], { resourceGroup: "rg-empty", allowedCidrs: ["198.51.100.7/32", "203.0.113.0/24"] });
    const since = Date.now();
    const report = await ensureSharedInfra(connectTo(azure, "rg-empty"), f);
    expect(azure.counts({ since }).writes).toBe(0);
    expect(report).toEqual({ created: [], updated: [], warnings: [] });
  });

  it("rewrites only its SSH rule when the allowed CIDRs change, and removes it when there are none", async () => {
    const ctx = connectTo(azure, "rg-empty");
    const before = (await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg"))
      .securityRules![0]!;
    const ruleNamed = async (name: string) =>
      (await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg")).securityRules!.find(
        (r) => r.name === name,
      );
    const report = await ensureSharedInfra(
      ctx,
      fleet([], { resourceGroup: "rg-empty", allowedCidrs: ["192.0.2.0/24"] }),
    );
    expect(report.updated).toEqual(["network security group rg-empty-nsg: SSH from 192.0.2.0/24"]);
    const rule = await ruleNamed(SSH_RULE_NAME);
    expect(rule).toMatchObject({
      name: SSH_RULE_NAME,
      sourceAddressPrefix: "192.0.2.0/24",
      priority: before.priority,
    });

    await ensureSharedInfra(ctx, fleet([], { resourceGroup: "rg-empty", allowedCidrs: [] }));
    expect(
      (await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg")).securityRules?.map(
        (r) => r.name,
      ),
    ).toEqual([ISOLATION_RULE_NAME]);
  });

  it("lifts the rule between claws only when azure.allow_claw_to_claw is true, and puts it back when it is not", async () => {
    const ctx = connectTo(azure, "rg-empty");
    const open = fleet([], { resourceGroup: "rg-empty", allowedCidrs: [] });
    open.azure.allow_claw_to_claw = true;
    const report = await ensureSharedInfra(ctx, open);
    expect(report.updated).toEqual([
      "network security group rg-empty-nsg: traffic between claws admitted (azure.allow_claw_to_claw)",
    ]);
    expect(
      (await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg")).securityRules,
    ).toEqual([]);
    const since = Date.now();
    await ensureSharedInfra(ctx, open);
    expect(azure.counts({ since }).writes).toBe(0);

    const closed = await ensureSharedInfra(ctx, fleet([], { resourceGroup: "rg-empty", allowedCidrs: [] }));
    expect(closed.updated).toEqual(["network security group rg-empty-nsg: traffic between claws denied"]);
    expect(
      (await sdkNetwork(ctx).networkSecurityGroups.get("rg-empty", "rg-empty-nsg")).securityRules?.map(
        (r) => [r.name, r.access],
      ),
    ).toEqual([[ISOLATION_RULE_NAME, "Deny"]]);
  });

  it("leaves a seed fleet's network and extra NSG rules as they are, reporting what differs", async () => {
    const ctx = connectTo(azure, "rg-seedinfra");
    await ctx.resources.resourceGroups.createOrUpdate("rg-seedinfra", {
      location: "westus",
      tags: { owner: "ops" },
    });
    await sdkNetwork(ctx).virtualNetworks.createOrUpdate(
      "rg-seedinfra",
      "rg-seedinfra-vnet",
      {
        location: "westus",
        addressSpace: { addressPrefixes: ["10.1.0.0/16"] },
        subnets: [{ name: "default", addressPrefix: "10.1.0.0/24" }],
      },
      ctx.poll,
    );
    await sdkNetwork(ctx).networkSecurityGroups.createOrUpdate(
      "rg-seedinfra",
      "rg-seedinfra-nsg",
      {
        location: "westus",
        securityRules: [
          {
            name: "allow-rdp",
            protocol: "Tcp",
            access: "Allow",
            direction: "Inbound",
            priority: 1000,
            sourceAddressPrefix: "*",
            sourcePortRange: "*",
            destinationAddressPrefix: "*",
            destinationPortRange: "3389",
          },
        ],
      },
      ctx.poll,
    );

    const f = fleet([], { resourceGroup: "rg-seedinfra" });
    const report = await ensureSharedInfra(ctx, f);
    expect(report.warnings.join("\n")).toMatch(/lacks address space 10\.0\.0\.0\/16/);
    expect(report.warnings.join("\n")).toMatch(/Subnet default has 10\.1\.0\.0\/24, not 10\.0\.0\.0\/24/);
    expect(report.warnings.join("\n")).toMatch(
      /inbound rule 'allow-rdp' \(priority 1000: Tcp 3389 from \* to \*\) that claws\.yaml does not declare/,
    );
    expect(report.updated).toContain("resource group rg-seedinfra: tags");

    const rg = await ctx.resources.resourceGroups.get("rg-seedinfra");
    expect(rg.tags).toEqual({ owner: "ops", project: "openclawps" });
    const vnet = await sdkNetwork(ctx).virtualNetworks.get("rg-seedinfra", "rg-seedinfra-vnet");
    expect(vnet.addressSpace?.addressPrefixes).toEqual(["10.1.0.0/16"]);
    const rules = (await sdkNetwork(ctx).networkSecurityGroups.get("rg-seedinfra", "rg-seedinfra-nsg"))
      .securityRules!;
    expect(rules.map((r) => [r.name, r.priority])).toEqual([
      ["allow-rdp", 1000],
      [SSH_RULE_NAME, 1010],
      [ISOLATION_RULE_NAME, 900],
    ]);

    const since = Date.now();
    await ensureSharedInfra(ctx, f);
    expect(azure.counts({ since }).writes).toBe(0);
  });

  it("reports an image definition made elsewhere whose purchase plan and security type differ from the manifest's", async () => {
    const f = fleet([], { resourceGroup: "rg-portal-image" });
    const ctx = connectTo(azure, "rg-portal-image");
    await ensureSharedInfra(ctx, f);
    // Made in the portal, as a Trusted-Launch-only definition with a marketplace plan.
    await ctx.compute.galleryImages.createOrUpdate(
      "rg-portal-image",
      "clawGalleryTest",
      "claw-desktop",
      {
        location: "westus",
        osType: "Linux",
        osState: "Generalized",
        hyperVGeneration: "V2",
        identifier: { publisher: "claw", offer: "claw-vm", sku: "desktop" },
        features: [{ name: "SecurityType", value: "TrustedLaunch" }],
        purchasePlan: {
          name: "planid125",
          publisher: "amdinc1746636494855",
          product: "nvv5_v710_linux_rocm_image",
        },
      },
      ctx.poll,
    );
    const since = Date.now();
    const report = await ensureSharedInfra(ctx, f);
    expect(report.warnings).toEqual([
      "Image definition claw-desktop has security type TrustedLaunch, which boots Trusted Launch VMs only (manifest: trusted_launch_enabled: false); " +
        "purchase plan amdinc1746636494855/nvv5_v710_linux_rocm_image/planid125 (manifest: none); Azure cannot change these in place, so it is left as it is.",
    ]);
    expect(azure.requestLog.filter((e) => e.at >= since && e.method !== "GET")).toEqual([]);
  });

  it("with the image scope (bake) creates only the resource group, gallery and image definition", async () => {
    const ctx = connectTo(azure, "rg-bake-first");
    const report = await ensureSharedInfra(ctx, fleet([], { resourceGroup: "rg-bake-first" }), {
      scope: "image",
    });
    expect(report.created).toEqual([
      "resource group rg-bake-first",
      "gallery clawGalleryTest",
      "image definition clawGalleryTest/claw-desktop",
    ]);
    await expect(
      sdkNetwork(ctx).virtualNetworks.get("rg-bake-first", "rg-bake-first-vnet"),
    ).rejects.toMatchObject({
      code: "ResourceNotFound",
    });
    const since = Date.now();
    await ensureSharedInfra(ctx, fleet([], { resourceGroup: "rg-bake-first" }), { scope: "image" });
    expect(azure.counts({ since }).writes).toBe(0);
  });

  it("keeps a rollout lease another run took after it read the resource group when it sets azure.tags", async () => {
    const rg = "rg-lease-kept";
    await connectTo(azure, rg).resources.resourceGroups.createOrUpdate(rg, {
      location: "westus",
      tags: { owner: "someone" },
    });
    // Another run takes the lease between this run's read of the group and its tag write: the
    // first write to the group waits for it.
    let other: Promise<void> | undefined;
    const lateLease: PipelinePolicy = {
      name: "lease-taken-meanwhile",
      async sendRequest(request, next) {
        if (request.method !== "GET" && /\/resourcegroups\/rg-lease-kept/i.test(request.url)) {
          other ??= new AzureFleetLease(connectTo(azure, rg)).acquire("other-run", 600, false);
          await other;
        }
        return next(request);
      },
    };
    // bake (the image scope, as the un-gated identity) leaves the group's tags to deploy-fleet.
    const bake = await ensureSharedInfra(connectTo(azure, rg), fleet([], { resourceGroup: rg }), {
      scope: "image",
    });
    expect(bake.updated).toEqual([]);
    const ctx = connectTo(azure, rg, { additionalPolicies: [lateLease] });
    const fleetRun = await ensureSharedInfra(ctx, fleet([], { resourceGroup: rg }));
    expect(other).toBeDefined();
    expect(fleetRun.updated).toContain(`resource group ${rg}: tags`);
    const tags = (await connectTo(azure, rg).resources.resourceGroups.get(rg)).tags ?? {};
    expect(tags[TAGS.lease]).toMatch(/^other-run;/);
    expect(tags).toMatchObject({ owner: "someone", project: "openclawps" });
  });

  describe("the NSG between claws, evaluated as Azure evaluates rules", () => {
    const rg = "rg-nsg-order";
    const nsgId = () =>
      `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Network/networkSecurityGroups/${rg}-nsg`;
    const verdict = (source: string, port: number) =>
      azure.nsgVerdict(nsgId(), { source, destination: "10.0.0.5", port });
    // An SSH source wide enough to take in the claws' own subnet.
    const wide = () => fleet([], { resourceGroup: rg, allowedCidrs: ["10.0.0.0/8", "203.0.113.0/24"] });

    it("admits SSH from the operator's CIDRs but not from another claw, even when a CIDR covers the claws' subnet", async () => {
      const ctx = connectTo(azure, rg);
      // An NSG an earlier deploy-fleet made: the rule between claws after the SSH rule.
      await ensureSharedInfra(ctx, wide());
      const nsg = await sdkNetwork(ctx).networkSecurityGroups.get(rg, `${rg}-nsg`);
      await sdkNetwork(ctx).networkSecurityGroups.createOrUpdate(
        rg,
        `${rg}-nsg`,
        {
          location: nsg.location,
          securityRules: (nsg.securityRules ?? []).map((r) =>
            r.name === ISOLATION_RULE_NAME ? { ...r, priority: 4000 } : r,
          ),
        },
        ctx.poll,
      );
      expect(verdict("10.0.0.4", 22)).toMatchObject({ access: "Allow", rule: SSH_RULE_NAME });

      const report = await ensureSharedInfra(ctx, wide());
      expect(report.updated).toEqual([`network security group ${rg}-nsg: traffic between claws denied`]);
      expect(verdict("10.0.0.4", 22)).toMatchObject({
        access: "Deny",
        rule: ISOLATION_RULE_NAME,
        priority: 900,
      });
      expect(verdict("10.0.0.4", 8080)).toMatchObject({ access: "Deny", rule: ISOLATION_RULE_NAME });
      // The operator's runners: inside 10.0.0.0/8 but outside the subnet, and on the internet.
      expect(verdict("10.0.1.9", 22)).toMatchObject({ access: "Allow", rule: SSH_RULE_NAME });
      expect(verdict("203.0.113.7", 22)).toMatchObject({ access: "Allow", rule: SSH_RULE_NAME });
      expect(verdict("198.51.100.1", 22)).toMatchObject({ access: "Deny", rule: "DenyAllInBound" });
    });

    it("warns, naming it, about a rule added by hand that is evaluated first and reopens traffic between claws", async () => {
      const ctx = connectTo(azure, rg);
      await sdkNetwork(ctx).securityRules.createOrUpdate(
        rg,
        `${rg}-nsg`,
        "app-8080",
        {
          protocol: "Tcp",
          access: "Allow",
          direction: "Inbound",
          priority: 500,
          sourceAddressPrefix: "VirtualNetwork",
          sourcePortRange: "*",
          destinationAddressPrefix: "*",
          destinationPortRange: "8080",
        },
        ctx.poll,
      );
      // What the warning says is so: one claw reaches another's port 8080 through it.
      expect(verdict("10.0.0.4", 8080)).toMatchObject({ access: "Allow", rule: "app-8080" });
      const since = Date.now();
      const report = await ensureSharedInfra(ctx, wide());
      expect(report.warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Network security group ${rg}-nsg has inbound rule 'app-8080' \\(priority 500: Tcp 8080 from VirtualNetwork to \\*\\), evaluated before ${ISOLATION_RULE_NAME} \\(priority 900\\): it admits traffic from claw to claw`,
          ),
        ),
      ]);
      // Left as it is: a warning, not a write.
      expect(azure.counts({ since }).writes).toBe(0);
    });
  });
});
