// The operator's journey through the reusable workflows, from an empty local Azure subscription,
// step by step as examples/fleet/README.md walks it. Each step runs the fleet repository's
// workflow (examples/fleet/.github/workflows/fleet.yml) through the rehearsal: bake, plan, apply,
// verify and drift are the real workflows and the real action bundles.
//
// The VMs are records here, so the manifest says rollout.verify: false; REHEARSAL_VERIFY=1 runs
// it on booting guests with verification on (journey-guests.test.ts does the first push so in CI).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CRASH_CLAW, Journey, type JourneyStep } from "../src/journey.ts";
import { Rehearsal } from "../src/rehearsal.ts";
import type { RunRecord } from "../src/runner.ts";
import { hasPacker } from "./packer.ts";

const verify = process.env.REHEARSAL_VERIFY === "1";
if (!hasPacker) console.warn("packer is not installed: the journey is skipped (CI installs packer).");

let rehearsal: Rehearsal;
let journey: Journey;

beforeAll(async () => {
  rehearsal = await Rehearsal.start({ guests: verify });
  journey = new Journey(
    rehearsal,
    { verify },
    Rehearsal.exampleFile("examples/fleet/claws.yaml"),
    Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml"),
  );
});
afterAll(async () => rehearsal?.stop());

/** Each VM's image version (the last segment of its gallery image reference). */
function images(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const vm of Object.values(rehearsal.azure.state().virtualMachines)) {
    out[vm.name] = vm.imageReferenceId?.split("/").at(-1) ?? "";
  }
  return out;
}

function galleryVersions(): string[] {
  return Object.values(rehearsal.azure.state().galleryImageVersions)
    .map((v) => v.name)
    .sort();
}

function expectAsWalked(step: JourneyStep): void {
  expect(step.problems, step.line).toEqual([]);
}

const push = (step: JourneyStep): RunRecord => step.runs[0]!;

describe.skipIf(!hasPacker).sequential("the operator's journey, from an empty subscription", () => {
  it("first push: bake creates the gallery, definition and 1.0.0; deploy creates every claw; drift is clean", async () => {
    expect(rehearsal.azure.state().resourceGroups).toEqual({});
    const step = await journey.firstPush();
    expectAsWalked(step);
    expect(galleryVersions()).toEqual(["1.0.0"]);
    expect(images()).toEqual({ alice: "1.0.0", bob: "1.0.0", carol: "1.0.0", dave: "1.0.0" });
    const run = push(step);
    expect(run.job("deploy/bake/bake").runsOn).toBe("ubuntu-latest");
    expect(run.job("deploy/deploy/apply").approval).toBe("given");
    expect(run.job("deploy/deploy/plan").concurrency?.group).toBe(
      run.job("deploy/deploy/apply").concurrency?.group,
    );
    expect(run.job("deploy/deploy/plan").outputs.verify).toBe(String(verify));
  });

  it("pull request: only validate runs, on the pushed manifest", async () => {
    const run = await rehearsal.runner.run({ event: "pull_request", sha: rehearsal.fleet.head() });
    expect(run.line()).toBe("validate/validate=success deploy=skipped drift=skipped");
    expect(run.job("validate/validate").outputs).toMatchObject({ valid: "true", errors: "0" });
  });

  it("claws.yaml-only push: the bake is skipped, the new claw created, the others untouched", async () => {
    const before = rehearsal.azure.state().virtualMachines;
    const step = await journey.addClaw("frank");
    expectAsWalked(step);
    expect(push(step).job("deploy/bake/bake").outputs.skipped).toBe("true");
    expect(images()).toMatchObject({ frank: "1.0.0", alice: "1.0.0" });
    const after = rehearsal.azure.state().virtualMachines;
    // Same OS disk: not replaced.
    for (const [id, vm] of Object.entries(before)) expect(after[id]?.osDiskId).toBe(vm.osDiskId);
  });

  it("image bump: bake publishes 1.0.1 and `latest` rolls it out to every claw", async () => {
    const step = await journey.imageBump();
    expectAsWalked(step);
    expect(push(step).job("deploy/bake/bake").outputs["image-version"]).toBe("1.0.1");
    expect(galleryVersions()).toEqual(["1.0.0", "1.0.1"]);
    expect(new Set(Object.values(images()))).toEqual(new Set(["1.0.1"]));
  });

  it("manifest rollback: pinning 1.0.0 rolls every claw back (no bake override), drift is clean", async () => {
    const step = await journey.rollback("1.0.0");
    expectAsWalked(step);
    expect(push(step).job("deploy/bake/bake").outputs.skipped).toBe("true");
    expect(new Set(Object.values(images()))).toEqual(new Set(["1.0.0"]));
  });

  it("rollout.verify false: the change applies and the verify job does not run", async () => {
    const step = await journey.verifyOff("carol");
    expectAsWalked(step);
    const run = push(step);
    expect(run.job("deploy/deploy/plan").outputs.verify).toBe("false");
    expect(run.job("deploy/deploy/verify").result).toBe("skipped");
    expect(JSON.parse(run.job("deploy/deploy/apply").outputs["changed-claws"] ?? "[]")).toContain("carol");
  });

  it("NSG-only change: shown in the plan summary, applied, drift clean", async () => {
    const step = await journey.nsgOnly("192.0.2.0/24");
    expectAsWalked(step);
    const plan = push(step).job("deploy/deploy/plan");
    expect(plan.outputs["changed-claws"]).toBe("[]");
    expect(plan.outputs["apply-needed"]).toBe("true");
    expect(plan.summary).toContain("192.0.2.0/24");
    const rules = Object.values(rehearsal.azure.state().resources)
      .filter((r) => /\/networkSecurityGroups\/[^/]+\/securityRules\//i.test(r.id))
      .sort((a, b) => a.name.localeCompare(b.name));
    // Our two rules: SSH from the manifest's CIDRs, and no traffic between claws (untouched).
    expect(
      rules.map((r) => [
        r.name,
        r.properties.access,
        (r.properties as { sourceAddressPrefixes?: string[] }).sourceAddressPrefixes ??
          r.properties.sourceAddressPrefix,
      ]),
    ).toEqual([
      ["openclawps-deny-claw-to-claw", "Deny", "10.0.0.0/24"],
      ["openclawps-ssh-inbound", "Allow", ["192.0.2.0/24", "198.51.100.17/32", "203.0.113.0/24"]],
    ]);
  });

  it("crashed apply: the next run is refused with the fix; a manual run with force-unlock recovers", async () => {
    const step = await journey.crashAndRecover();
    expectAsWalked(step);
    const [crashed, refused, recovered] = step.runs as [RunRecord, RunRecord, RunRecord];
    expect(crashed.job("deploy/deploy/apply").log).toContain("killed with SIGKILL");
    expect(refused.job("deploy/deploy/apply").log).toMatch(/force-unlock/);
    expect(recovered.job("deploy/deploy/plan").summary).toMatch(/lease/i);
    expect(images()[CRASH_CLAW]).toBe("1.0.0");
  });

  it("wrong subscription: the plan fails and names the fix", async () => {
    const step = await journey.wrongSubscription();
    expectAsWalked(step);
    expect(step.runs[0]!.job("drift/drift").log).toMatch(/::error.*00000000-0000-4000-8000-00000000dead/);
  });

  it("missing image version: the plan fails naming it, nothing is applied", async () => {
    const before = images();
    const step = await journey.missingImageVersion("9.9.9");
    expectAsWalked(step);
    expect(push(step).job("deploy/deploy/plan").log).toMatch(/::error.*9\.9\.9/);
    expect(images()).toEqual(before);
    expectAsWalked(await journey.restore());
  });

  it("a refused approval applies nothing", async () => {
    const before = images();
    journey.manifest.setIn(["claws", "dave", "model"], "anthropic/claude-sonnet-4-5");
    const run = await rehearsal.push({ "claws.yaml": journey.manifest.toString() }, "refused", {
      approve: () => false,
    });
    expect(run.job("deploy/deploy/apply")).toMatchObject({ result: "failure", approval: "refused" });
    expect(run.job("deploy/deploy/verify").result).toBe("skipped");
    expect(images()).toEqual(before);
    // The drift check reports the unapplied change.
    expect((await rehearsal.drift()).job("drift/drift").result).toBe("failure");
    journey.manifest.setIn(["claws", "dave", "model"], "xai/grok-4-1-fast-non-reasoning");
  });
});

describe.skipIf(!hasPacker).sequential("approval without environment reviewers (approval: plan-hash)", () => {
  it("a push only plans; a manual run carrying the reviewed plan hash applies exactly that plan", async () => {
    const workflow = Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml").replace(
      "approval: environment",
      "approval: plan-hash",
    );
    expect(workflow).toContain("approval: plan-hash");
    const before = images();
    journey.manifest.setIn(["claws", "carol", "model"], "anthropic/claude-sonnet-4-5");
    const pushed = await rehearsal.push(
      { "claws.yaml": journey.manifest.toString(), ".github/workflows/fleet.yml": workflow },
      "plan-hash approval",
    );
    const plan = pushed.job("deploy/deploy/plan");
    expect(plan.outputs["apply-needed"]).toBe("true");
    expect(pushed.job("deploy/deploy/apply").result).toBe("skipped");
    expect(images()).toEqual(before);

    // A hash that is not the fresh plan's: refused before any write, with the fix.
    const wrong = await rehearsal.dispatch({ "approved-plan-hash": "0".repeat(64) });
    expect(wrong.job("deploy/deploy/apply").result).toBe("failure");
    expect(wrong.job("deploy/deploy/apply").log).toMatch(/::error.*re-run/i);

    const approved = await rehearsal.dispatch({ "approved-plan-hash": plan.outputs["plan-hash"]! });
    expect(approved.job("deploy/deploy/apply").result).toBe("success");
    expect(JSON.parse(approved.job("deploy/deploy/apply").outputs["changed-claws"]!)).toEqual(["carol"]);
    expect((await rehearsal.drift()).job("drift/drift").result).toBe("success");
  });
});

describe.skipIf(!hasPacker || verify).sequential("verification transports through the workflows", () => {
  // The VMs are records here (no guest, no VM agent, no sshd), so verification cannot prove them:
  // what shows is that the pipeline's `transport` input reaches apply's wave gate, and how each
  // transport reports a claw it cannot reach. The guest journey proves claws healthy.
  it.each([
    ["run-command", /the VM agent is not ready \(Not Ready/],
    ["ssh", /SSH at 127\.[0-9.]+:22 did not answer within 5s/],
  ])(
    "verify on, transport %s: apply's gate reaches every claw that way and says why it is not ready",
    async (transport, why) => {
      const workflow = Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml").replace(
        "approval: environment",
        `approval: environment\n      verify: "true"\n      verify-timeout: 5s\n      transport: ${transport}`,
      );
      expect(workflow).toContain(`transport: ${transport}`);
      const before = images();
      const run = await rehearsal.push(
        { ".github/workflows/fleet.yml": workflow },
        `verify through ${transport}`,
      );
      const apply = run.job("deploy/deploy/apply");
      expect(apply.result, run.line()).toBe("failure");
      expect(apply.log).toMatch(why);
      expect(apply.log).toMatch(/unchanged claw\(s\) failed verification/);
      expect(images()).toEqual(before);
    },
  );
});
