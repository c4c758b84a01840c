// What a plan covers besides per-claw actions: shared-infrastructure changes, unproven claws,
// the lease force-unlock clears; all in the hash, the summary and the apply-needed gate.
import { describe, expect, it } from "vitest";
import { planFleet, planNeedsApply, planProblems } from "../src/plan.ts";
import { renderPlanMarkdown, renderPlanText } from "../src/plan-markdown.ts";
import { ISOLATION_RULE_NAME, planSharedInfra, SSH_RULE_NAME } from "../src/shared-infra-plan.ts";
import { TAGS } from "../src/tags.ts";
import type { ObservedFleet, ObservedSecurityRule, ObservedSharedInfra } from "../src/types.ts";
import { desiredOf, manifestText } from "./helpers.ts";
import { convergedFleet } from "./observed.ts";

const sshRule = (sources: string[], o: Partial<ObservedSecurityRule> = {}): ObservedSecurityRule => ({
  name: SSH_RULE_NAME,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  priority: 1000,
  sourceAddressPrefixes: sources,
  sourcePortRanges: ["*"],
  destinationAddressPrefixes: ["*"],
  destinationPortRanges: ["22"],
  ...o,
});

/** The rule that denies traffic between claws in the base manifest's subnet. */
const isolationRule = (o: Partial<ObservedSecurityRule> = {}): ObservedSecurityRule => ({
  name: ISOLATION_RULE_NAME,
  direction: "Inbound",
  access: "Deny",
  protocol: "*",
  priority: 900,
  sourceAddressPrefixes: ["10.0.0.0/24"],
  sourcePortRanges: ["*"],
  destinationAddressPrefixes: ["10.0.0.0/24"],
  destinationPortRanges: ["*"],
  ...o,
});

/** The shared resources exactly as the base manifest asks. */
const sharedAsDeclared = (): ObservedSharedInfra => ({
  resourceGroup: { location: "westus", tags: { project: "openclawps" } },
  virtualNetwork: {
    addressPrefixes: ["10.0.0.0/16"],
    subnets: [{ name: "default", addressPrefixes: ["10.0.0.0/24"] }],
  },
  networkSecurityGroup: { rules: [sshRule(["203.0.113.0/24"]), isolationRule()] },
  gallery: {},
  imageDefinition: { publisher: "claw", offer: "claw-vm", sku: "desktop", hyperVGeneration: "V2" },
});

const desired = desiredOf(manifestText());
/** Every claw converged and proven healthy on its image. */
function converged(shared: ObservedSharedInfra = sharedAsDeclared()): ObservedFleet {
  const fleet = convergedFleet(desired, ["1.0.0"], () => "1.0.0");
  for (const d of fleet.disks) d.tags[TAGS.lastHealthyImage] = "1.0.0";
  return { ...fleet, shared };
}

describe("a converged fleet", () => {
  it("needs no apply and has nothing to show beyond the claws", () => {
    const plan = planFleet(desired, converged());
    expect(plan.shared).toEqual([]);
    expect(plan.unproven).toEqual([]);
    expect(planNeedsApply(plan)).toBe(false);
    expect(renderPlanMarkdown(plan)).toContain("**Nothing to apply:**");
  });
});

describe("shared-infrastructure changes", () => {
  it("an empty subscription: every shared resource is created, resource group first", () => {
    const { changes } = planSharedInfra(desired, {});
    expect(changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      "create resource-group rg-claw",
      "create virtual-network rg-claw-vnet",
      "create subnet rg-claw-vnet/default",
      "create network-security-group rg-claw-nsg",
      "create gallery clawGallery",
      "create image-definition clawGallery/claw-desktop",
    ]);
  });

  it("bake's scope is the resource group, gallery and image definition only", () => {
    const { changes } = planSharedInfra(desired, {}, "image");
    expect(changes.map((c) => c.kind)).toEqual(["resource-group", "gallery", "image-definition"]);
  });

  it("a CIDR added to ssh.allowed_cidrs changes the SSH rule: apply needed, in the hash and the summary", () => {
    const wider = desiredOf(manifestText({ 27: "  allowed_cidrs: [203.0.113.0/24, 198.51.100.7/32]" }));
    const before = planFleet(desired, converged());
    const plan = planFleet(wider, converged());
    expect(plan.claws.every((c) => c.action === "noop")).toBe(true);
    expect(plan.shared).toEqual([
      expect.objectContaining({
        kind: "ssh-rule",
        action: "update",
        value: { ssh: ["198.51.100.7/32", "203.0.113.0/24"], priority: 1000 },
      }),
    ]);
    expect(planNeedsApply(plan)).toBe(true);
    expect(plan.hash).not.toBe(before.hash);
    const md = renderPlanMarkdown(plan);
    expect(md).toContain("**Shared infrastructure**");
    expect(md).toMatch(
      /update `rg-claw-nsg\/openclawps-ssh-inbound`: change the inbound SSH rule of rg-claw-nsg: from 198\.51\.100\.7\/32, 203\.0\.113\.0\/24 \(was 203\.0\.113\.0\/24\)/,
    );
    expect(renderPlanText(plan)).toContain("shared: update rg-claw-nsg/openclawps-ssh-inbound");
  });

  it("emptied ssh.allowed_cidrs removes our rule; a foreign inbound rule is a warning, not a change", () => {
    const closed = desiredOf(manifestText({ 27: "  allowed_cidrs: []" }));
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules.push(
      sshRule(["0.0.0.0/0"], { name: "rdp", priority: 950, destinationPortRanges: ["3389"] }),
    );
    const plan = planFleet(closed, converged(shared));
    expect(plan.shared.map((c) => `${c.action} ${c.kind}`)).toEqual(["remove ssh-rule"]);
    expect(plan.warnings).toEqual([
      expect.stringContaining(
        "inbound rule 'rdp' (priority 950: Tcp 3389 from 0.0.0.0/0 to *) that claws.yaml does not declare",
      ),
    ]);
  });

  it("the rule kept its priority and a rule written with single fields matches", () => {
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules = [
      sshRule(["203.0.113.0/24"], { priority: 1010, sourcePortRanges: [] }),
      isolationRule({ priority: 920, protocol: "*" }),
    ];
    expect(planFleet(desired, converged(shared)).shared).toEqual([]);
  });

  it("a new NSG denies traffic between claws: inbound from the claws' subnet to it, before the SSH rule", () => {
    const { changes } = planSharedInfra(desired, {});
    expect(changes.find((c) => c.kind === "network-security-group")).toMatchObject({
      detail:
        "create network security group rg-claw-nsg admitting SSH from 203.0.113.0/24, denying traffic between claws",
      value: { ssh: ["203.0.113.0/24"], isolation: ["10.0.0.0/24"] },
    });
  });

  it("an NSG without the rule (one deploy-fleet made before) gets it: apply needed, in the hash and the summary", () => {
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules = [
      sshRule(["203.0.113.0/24"]),
      sshRule(["*"], { name: "x", priority: 900 }),
    ];
    const plan = planFleet(desired, converged(shared));
    expect(plan.shared).toEqual([
      expect.objectContaining({
        kind: "isolation-rule",
        action: "create",
        name: `rg-claw-nsg/${ISOLATION_RULE_NAME}`,
        // 900 is taken by another inbound rule: the next free one before the SSH rule.
        value: { isolation: ["10.0.0.0/24"], priority: 890 },
      }),
    ]);
    expect(planNeedsApply(plan)).toBe(true);
    expect(plan.hash).not.toBe(planFleet(desired, converged()).hash);
    expect(renderPlanMarkdown(plan)).toContain(
      "add the rule of rg-claw-nsg that denies traffic between claws (from and to 10.0.0.0/24)",
    );
  });

  it("a rule of ours someone changed (allow instead of deny) is restored", () => {
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules[1] = isolationRule({ access: "Allow" });
    expect(planFleet(desired, converged(shared)).shared).toEqual([
      expect.objectContaining({
        kind: "isolation-rule",
        action: "update",
        value: { isolation: ["10.0.0.0/24"], priority: 900 },
      }),
    ]);
  });

  it("the rule an earlier deploy-fleet put after the SSH rule moves before it, so no SSH source admits claw to claw", () => {
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules = [sshRule(["203.0.113.0/24"]), isolationRule({ priority: 4000 })];
    const plan = planFleet(desired, converged(shared));
    expect(plan.shared).toEqual([
      expect.objectContaining({
        kind: "isolation-rule",
        action: "update",
        value: { isolation: ["10.0.0.0/24"], priority: 900 },
        detail:
          "move the rule of rg-claw-nsg that denies traffic between claws before the SSH rule (priority 900, was 4000), so no SSH source admits one claw to another",
      }),
    ]);
    expect(planNeedsApply(plan)).toBe(true);
  });

  it("warns, naming each, about a foreign allow rule evaluated before the rule between claws that reopens claw-to-claw traffic", () => {
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules.push(
      sshRule(["VirtualNetwork"], { name: "app-8080", priority: 500, destinationPortRanges: ["8080"] }),
      sshRule(["10.0.0.0/16"], { name: "mesh", priority: 600, destinationAddressPrefixes: ["10.0.0.0/24"] }),
      // Evaluated after ours, or from outside the subnet: the usual warning only.
      sshRule(["VirtualNetwork"], { name: "late", priority: 2000 }),
      sshRule(["198.51.100.0/24"], { name: "office", priority: 700 }),
    );
    const plan = planFleet(desired, converged(shared));
    expect(plan.shared).toEqual([]);
    const reopen = plan.warnings.filter((w) => w.includes("admits traffic from claw to claw"));
    expect(reopen).toEqual([
      expect.stringContaining(
        `inbound rule 'app-8080' (priority 500: Tcp 8080 from VirtualNetwork to *), evaluated before ${ISOLATION_RULE_NAME} (priority 900)`,
      ),
      expect.stringContaining("inbound rule 'mesh' (priority 600: Tcp 22 from 10.0.0.0/16 to 10.0.0.0/24)"),
    ]);
    expect(reopen[0]).toContain(
      "delete it, narrow its source or destination to outside 10.0.0.0/24, or give it a priority number above 900",
    );
    expect(plan.warnings).toHaveLength(4);
    expect(renderPlanMarkdown(plan)).toContain("app-8080");
  });

  it("azure.allow_claw_to_claw: true removes the rule, and a new NSG is made without it", () => {
    const open = desiredOf(manifestText({ "+13": "  allow_claw_to_claw: true" }));
    expect(planFleet(open, converged()).shared).toEqual([
      expect.objectContaining({
        kind: "isolation-rule",
        action: "remove",
        detail:
          "remove the rule of rg-claw-nsg that denies traffic between claws (azure.allow_claw_to_claw is true)",
      }),
    ]);
    const { changes } = planSharedInfra(open, {});
    expect(changes.find((c) => c.kind === "network-security-group")).toMatchObject({
      value: { ssh: ["203.0.113.0/24"], isolation: null },
    });
    const shared = sharedAsDeclared();
    shared.networkSecurityGroup!.rules.pop();
    expect(planFleet(open, converged(shared)).shared).toEqual([]);
  });

  it("a missing subnet is added; differences Azure cannot change in place are warnings", () => {
    const shared = sharedAsDeclared();
    shared.virtualNetwork = { addressPrefixes: ["10.9.0.0/16"], subnets: [] };
    shared.imageDefinition = { publisher: "other", offer: "claw-vm", sku: "desktop", hyperVGeneration: "V1" };
    shared.resourceGroup = { location: "eastus", tags: {} };
    const plan = planFleet(desired, converged(shared));
    expect(plan.shared.map((c) => `${c.action} ${c.kind}`)).toEqual([
      "update resource-group",
      "create subnet",
    ]);
    expect(plan.warnings.join("\n")).toMatch(/is in eastus, not westus/);
    expect(plan.warnings.join("\n")).toMatch(/lacks address space 10\.0\.0\.0\/16/);
    expect(plan.warnings.join("\n")).toMatch(/identifier other\/claw-vm\/desktop.*hyper-V generation V1/);
  });

  it("an image definition whose security type or purchase plan differs from the manifest's is reported, not rewritten", () => {
    const shared = sharedAsDeclared();
    const plan = {
      name: "planid125",
      publisher: "amdinc1746636494855",
      product: "nvv5_v710_linux_rocm_image",
    };
    shared.imageDefinition = {
      ...shared.imageDefinition!,
      securityType: "TrustedLaunch",
      purchasePlan: plan,
    };
    const p = planFleet(desired, converged(shared));
    expect(p.shared).toEqual([]);
    expect(p.warnings.join("\n")).toMatch(
      /security type TrustedLaunch, which boots Trusted Launch VMs only \(manifest: trusted_launch_enabled: false\); purchase plan amdinc1746636494855\/nvv5_v710_linux_rocm_image\/planid125 \(manifest: none\); Azure cannot change these in place/,
    );
  });

  it("a fleet observed without shared resources (not read) proposes no shared change", () => {
    const { shared: _, ...withoutShared } = converged();
    expect(planFleet(desired, withoutShared).shared).toEqual([]);
  });
});

describe("unproven claws", () => {
  it("a running claw whose disk does not record its image as healthy is verified by apply", () => {
    const fleet = converged();
    delete fleet.disks.find((d) => d.name === "bob-data")!.tags[TAGS.lastHealthyImage];
    const plan = planFleet(desired, fleet);
    expect(plan.unproven).toEqual([{ claw: "bob", imageVersion: "1.0.0" }]);
    expect(planNeedsApply(plan)).toBe(true);
    expect(plan.hash).not.toBe(planFleet(desired, converged()).hash);
    expect(renderPlanMarkdown(plan)).toMatch(
      /1 unchanged claw\(s\) to verify.*\n\n- `bob` on 1\.0\.0 \(last proven healthy: never\)/,
    );
  });

  it("with verification off nothing is unproven", () => {
    const off = desiredOf(manifestText({ "+24": "  verify: false\n  rollback: false" }));
    const fleet = converged();
    for (const d of fleet.disks) delete d.tags[TAGS.lastHealthyImage];
    const plan = planFleet(off, fleet);
    expect(plan.unproven).toEqual([]);
    expect(planNeedsApply(plan)).toBe(false);
  });
});

describe("the rollout lease", () => {
  const lease = { runId: "123-1", expiresAt: "2026-01-01T00:00:00.000Z" };

  it("force-unlock with nothing else to do: apply needed to clear the lease, and the summary says so", () => {
    const plan = planFleet(desired, { ...converged(), lease }, { forceUnlock: true });
    expect(plan.lease).toEqual({ ...lease, clear: true });
    expect(planNeedsApply(plan)).toBe(true);
    expect(plan.hash).not.toBe(planFleet(desired, { ...converged(), lease }).hash);
    expect(renderPlanMarkdown(plan, { now: new Date("2026-02-01T00:00:00Z") })).toContain(
      "**Rollout lease:** apply clears the lease recorded by run 123-1, **expired** 2026-01-01T00:00:00.000Z (force-unlock).",
    );
  });

  it("a recorded lease without force-unlock is shown with the way to clear it, and changes neither the gate nor the hash", () => {
    const plan = planFleet(desired, { ...converged(), lease });
    expect(planNeedsApply(plan)).toBe(false);
    expect(plan.hash).toBe(planFleet(desired, converged()).hash);
    expect(renderPlanMarkdown(plan)).toContain("run again with the `force-unlock` input set to true");
  });
});

describe("planProblems", () => {
  it("names each blocked claw with its reason (here: an image version the gallery lacks)", () => {
    const pinned = desiredOf(manifestText({ 17: '  image_version: "9.9.9"' }));
    const plan = planFleet(pinned, converged());
    expect(planProblems(plan)).toEqual([
      {
        claw: "alice",
        reason: expect.stringContaining("image version 9.9.9 is not in the gallery (it has 1.0.0)"),
      },
      { claw: "bob", reason: expect.stringContaining("image version 9.9.9 is not in the gallery") },
    ]);
    expect(planProblems(planFleet(desired, converged()))).toEqual([]);
  });
});

describe("the rollout policy", () => {
  it("is in the plan hash: snapshots, verification, rollback, canary, waves, budget, pause, parallelism", () => {
    const upgrade = (extra: string) =>
      desiredOf(manifestText({ 17: '  image_version: "1.1.0"', ...(extra ? { "+24": extra } : {}) }));
    const fleet = { ...converged(), imageVersions: ["1.0.0", "1.1.0"] };
    const base = planFleet(upgrade(""), fleet);
    expect(base.rollout).toMatchObject({ verify: true, snapshot_before_replace: true });
    const variants = [
      "  snapshot_before_replace: false",
      "  verify: false\n  rollback: false",
      "  rollback: false",
      "  max_unhealthy: 3",
      "  pause_seconds: 60",
      "  parallelism: 1",
    ];
    const hashes = variants.map((v) => planFleet(upgrade(v), fleet).hash);
    hashes.push(
      planFleet(desiredOf(manifestText({ 17: '  image_version: "1.1.0"', 23: "  canary: 0" })), fleet).hash,
    );
    hashes.push(
      planFleet(desiredOf(manifestText({ 17: '  image_version: "1.1.0"', 24: "  wave_size: 100%" })), fleet)
        .hash,
    );
    expect(new Set([base.hash, ...hashes]).size).toBe(variants.length + 3);
    // The same policy written another way is the same plan.
    expect(planFleet(upgrade("  verify: true"), fleet).hash).toBe(base.hash);
  });
});
