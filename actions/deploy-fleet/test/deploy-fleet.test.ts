// The bundled action (`node dist/index.js`), run as the runner runs it, against the local Azure:
// a real HTTPS server that the real Azure SDK clients and @azure/identity talk to. Verification
// is off through the rollout policy (local guests do not answer SSH), so changed claws must be
// reported unverified.
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BundledActionRun } from "@openclawps/action-kit/testing";
import { READER_ACTIONS } from "@openclawps/azure";
import { configHash, legacyConfigHash, type RenderInput } from "@openclawps/cloud-init";
import { parseManifest, resolveFleet, TAGS } from "@openclawps/fleet-model";
import type { RolloutReport } from "@openclawps/rollout";
import { keygen } from "@openclawps/verify/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  canarySecrets,
  clawNames,
  errorOf,
  type Fleet,
  type ManifestOptions,
  manifestYaml,
  RG,
  startFleet,
} from "./fleet-fixture.ts";

const report = (run: BundledActionRun): RolloutReport => JSON.parse(run.outputs.result ?? "null");
const planOf = (run: BundledActionRun) =>
  JSON.parse(run.outputs.plan ?? "null") as { hash: string; claws: { claw: string; action: string }[] };
const actions = (run: BundledActionRun) =>
  Object.fromEntries(planOf(run).claws.map((c) => [c.claw, c.action]));
const since = (fleet: Fleet) => {
  const t = Date.now();
  return () => fleet.azure.counts({ since: t, excludePolling: true });
};
const vmsOf = (fleet: Fleet) => Object.values(fleet.azure.state().virtualMachines);
const disksOf = (fleet: Fleet) => Object.values(fleet.azure.state().disks);
const diskOf = (fleet: Fleet, claw: string) => disksOf(fleet).find((d) => d.name === `${claw}-data`);
const vmOf = (fleet: Fleet, claw: string) => vmsOf(fleet).find((v) => v.name === claw);
const imageOf = (fleet: Fleet, claw: string) => vmOf(fleet, claw)?.imageReferenceId?.split("/").pop();

/** What the log shows: `::add-mask::<value>` lines are how the runner learns what to mask; they never reach the log. */
const logged = (run: BundledActionRun) =>
  run.stdout
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::"))
    .join("\n");

function expectSucceeded(run: BundledActionRun): void {
  if (run.exitCode !== 0)
    throw new Error(`the action failed (${run.exitCode}):\n${errorOf(run)}\n${run.stderr}`);
}

describe("deploy-fleet on an empty resource group", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("creates the shared infrastructure and every claw, and a re-run makes no ARM writes", async () => {
    const names = clawNames(5);
    const secrets = canarySecrets(names);
    fleet = await startFleet({ claws: Object.fromEntries(names.map((n) => [n, {}])) }, secrets.json);

    const planWrites = since(fleet);
    const plan = await fleet.deploy({ mode: "plan" });
    expectSucceeded(plan);
    expect(planWrites().writes).toBe(0);
    expect(JSON.parse(plan.outputs["changed-claws"]!)).toEqual(names);
    expect(plan.outputs["plan-hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(actions(plan))).toEqual(names.map(() => "create"));
    expect(plan.summary).toContain("| claw-001 | create |");

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expectSucceeded(apply);
    const state = fleet.azure.state();
    const resources = Object.values(state.resources).map((r) => `${r.type}/${r.name}`);
    expect(resources).toContain(`Microsoft.Network/virtualNetworks/${RG}-vnet`);
    expect(resources).toContain(`Microsoft.Network/networkSecurityGroups/${RG}-nsg`);
    for (const name of names) {
      const vm = vmOf(fleet, name)!;
      const disk = diskOf(fleet, name)!;
      expect(vm.dataDisks).toEqual([{ lun: 0, diskId: disk.id, deleteOption: "Detach" }]);
      expect(imageOf(fleet, name)).toBe("1.0.0");
      expect(vm.tags[TAGS.hostKey]).toMatch(/^SHA256:/);
      expect(disk.tags[TAGS.claw]).toBe(name);
    }
    const result = report(apply);
    expect(result.status).toBe("succeeded");
    expect(result.claws.map((c) => [c.outcome, c.health])).toEqual(
      names.map(() => ["created", "unverified"]),
    );
    expect(apply.summary).toContain("5 changed claws are **unverified**");

    const rerun = since(fleet);
    const again = await fleet.deploy({ mode: "apply" });
    expectSucceeded(again);
    expect(rerun().writes).toBe(0);
    expect(again.outputs["changed-claws"]).toBe("[]");
    expect(report(again).status).toBe("nothing-to-do");
  });
});

describe("deploy-fleet on claws deployed before the v2 config hash", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("plans a VM tagged with the legacy hash of its config as unchanged, and one tagged with another hash as changed", async () => {
    const names = clawNames(3);
    const secrets = canarySecrets(names);
    const manifest: ManifestOptions = { claws: Object.fromEntries(names.map((n) => [n, {}])) };
    fleet = await startFleet(manifest, secrets.json);
    const plan = await fleet.deploy({ mode: "plan" });
    expectSucceeded(await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! }));

    // Each claw's render input as the action builds it, from the repo's shipped vm-runtime.
    const resolved = resolveFleet(
      parseManifest(manifestYaml(manifest), "claws.yaml").manifest!,
      "claws.yaml",
    );
    const inputOf = (name: string): RenderInput => ({
      fleet: resolved,
      claw: resolved.claws.find((c) => c.name === name)!,
      secrets: JSON.parse(secrets.json)[name],
      vmRuntimeDir: join(import.meta.dirname, "../../../vm-runtime"),
    });
    for (const name of names)
      expect(vmOf(fleet, name)!.tags[TAGS.configHash]).toBe(configHash(inputOf(name)));

    // As an earlier version of the actions tagged them: the v1 hash of the same config, but for
    // the last claw, whose tag is a hash of some other config.
    const [last] = names.slice(-1);
    for (const name of names) {
      const hash = name === last ? "0".repeat(64) : legacyConfigHash(inputOf(name));
      const tags = { ...vmOf(fleet, name)!.tags, [TAGS.configHash]: hash };
      await fleet.compute.virtualMachines.update(RG, name, { tags }, { updateIntervalInMs: 0 });
    }
    const writes = since(fleet);
    const again = await fleet.deploy({ mode: "plan" });
    expectSucceeded(again);
    expect(writes().writes).toBe(0);
    expect(actions(again)).toEqual({
      ...Object.fromEntries(names.map((n) => [n, "noop"])),
      [last!]: "replace",
    });
    expect(again.summary).toContain("cloud-init config changed");
  });
});

describe("deploy-fleet with a rollout policy other than the approved one", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("refuses, before any ARM write, an approved plan applied with snapshots or the canary turned off", async () => {
    const names = clawNames(2);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const plan = await fleet.deploy({ mode: "plan", "image-version": "1.1.0" });
    expectSucceeded(plan);
    const approved = plan.outputs["plan-hash"]!;
    for (const weaker of [{ snapshot: "false" }, { canary: "0" }] as Record<string, string>[]) {
      const writes = since(fleet);
      const apply = await fleet.deploy({
        mode: "apply",
        "image-version": "1.1.0",
        "approved-plan-hash": approved,
        ...weaker,
      });
      expect(apply.exitCode).toBe(1);
      expect(errorOf(apply)).toContain(`The plan changed since it was approved (approved ${approved}`);
      expect(writes().writes).toBe(0);
    }
    expectSucceeded(
      await fleet.deploy({ mode: "apply", "image-version": "1.1.0", "approved-plan-hash": approved }),
    );
  });
});

describe("deploy-fleet as the reader identity (the un-gated jobs' role)", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("plans with the reader role's reads, and is refused on apply with 403 AuthorizationFailed, creating nothing", async () => {
    const secrets = canarySecrets(["alpha"]);
    fleet = await startFleet({ claws: { alpha: {} } }, secrets.json);
    // The local Azure enforces the role's actions as ARM does (403 AuthorizationFailed).
    fleet.azure.setAllowedActions([...READER_ACTIONS]);
    const t = Date.now();
    const plan = await fleet.deploy({ mode: "plan" });
    expectSucceeded(plan);
    const used = new Set(
      fleet.azure.requestLog.filter((e) => e.at >= t && e.service === "arm" && e.action).map((e) => e.action),
    );
    expect([...used].filter((a) => !(READER_ACTIONS as readonly string[]).includes(a as string))).toEqual([]);
    // Every read the reader role grants is one plan makes, but for those an empty fleet gives
    // no occasion to (a subnet of a VNet that does not exist yet, snapshots, the status of a
    // write), and the Key Vault reads a fleet on CLAW_SECRETS_JSON never makes (the azure
    // package's key-vault test plans them with this role); bake's gallery writes are the rest.
    const occasional =
      /\/(subnets|snapshots|locations\/operations)\/read$|^Microsoft\.(KeyVault|Authorization)\//;
    const planReads = READER_ACTIONS.filter((a) => a.endsWith("/read") && !occasional.test(a));
    expect(planReads.filter((a) => !used.has(a))).toEqual([]);

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expect(apply.exitCode).toBe(1);
    expect(errorOf(apply)).toMatch(/\(403 AuthorizationFailed\)/);
    expect(errorOf(apply)).toContain("do not widen it");
    const refused = fleet.azure.requestLog.filter((e) => e.at >= t && e.status === 403);
    expect(refused.length).toBeGreaterThan(0);
    expect(vmsOf(fleet)).toEqual([]);
    expect(disksOf(fleet)).toEqual([]);
  });
});

describe("deploy-fleet plan outputs that gate the workflow", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("an NSG-only change: no claw changes, apply needed, shown in the summary, applied, then nothing to apply", async () => {
    const names = clawNames(1);
    fleet = await startFleet({ claws: { [names[0]!]: {} } }, canarySecrets(names).json);
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const converged = await fleet.deploy({ mode: "plan" });
    expectSucceeded(converged);
    expect(converged.outputs["apply-needed"]).toBe("false");
    expect(converged.summary).toContain("**Nothing to apply:**");

    fleet.writeManifest({ claws: { [names[0]!]: {} }, allowedCidrs: ["203.0.113.0/24", "198.51.100.7/32"] });
    const plan = await fleet.deploy({ mode: "plan" });
    expectSucceeded(plan);
    expect(plan.outputs["changed-claws"]).toBe("[]");
    expect(plan.outputs["apply-needed"]).toBe("true");
    expect(plan.outputs["plan-hash"]).not.toBe(converged.outputs["plan-hash"]);
    expect(JSON.parse(plan.outputs.plan!)).toMatchObject({
      applyNeeded: true,
      shared: [{ kind: "ssh-rule", action: "update", name: `${RG}-nsg/openclawps-ssh-inbound` }],
      unproven: [],
    });
    expect(plan.summary).toContain(
      `- update \`${RG}-nsg/openclawps-ssh-inbound\`: change the inbound SSH rule of ${RG}-nsg: from 198.51.100.7/32, 203.0.113.0/24 (was 203.0.113.0/24)`,
    );

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expectSucceeded(apply);
    expect(apply.stdout).toContain(
      `Updated network security group ${RG}-nsg: SSH from 198.51.100.7/32, 203.0.113.0/24`,
    );
    // The next plan reads the rule back from Azure and finds nothing left to do.
    const after = await fleet.deploy({ mode: "plan" });
    expect(after.outputs["apply-needed"]).toBe("false");
  });

  it("verify output: the input when set, else the manifest", async () => {
    fleet = await startFleet({ claws: {} }, "{}");
    const byManifest = await fleet.deploy({ mode: "plan" });
    expectSucceeded(byManifest);
    expect(byManifest.outputs.verify).toBe("false");
    expect(byManifest.outputs["apply-needed"]).toBe("true"); // the network and NSG do not exist yet
    expect((await fleet.deploy({ mode: "plan", verify: "true" })).outputs.verify).toBe("true");
    fleet.writeManifest({ claws: {}, rollout: { verify: true } });
    expect((await fleet.deploy({ mode: "plan", verify: "" })).outputs.verify).toBe("true");
    expect((await fleet.deploy({ mode: "plan", verify: "false" })).outputs.verify).toBe("false");
  });

  it("force-unlock with nothing else to do clears a stale lease, and the plan shows it", async () => {
    const names = clawNames(1);
    fleet = await startFleet({ claws: { [names[0]!]: {} } }, canarySecrets(names).json);
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const rg = await fleet.resources.resourceGroups.get(RG);
    const stale = "12345-1;2020-01-01T00:00:00.000Z";
    await fleet.resources.resourceGroups.update(RG, { tags: { ...rg.tags, [TAGS.lease]: stale } });

    const plain = await fleet.deploy({ mode: "plan" });
    expect(plain.outputs["apply-needed"]).toBe("false");
    expect(plain.summary).toContain("recorded by run 12345-1, **expired** 2020-01-01T00:00:00.000Z");
    const blocked = await fleet.deploy({ mode: "apply", "image-version": "1.1.0" });
    expect(errorOf(blocked)).toContain("carries a stale rollout lease from run 12345-1");
    expect(errorOf(blocked)).toContain("run the deploy workflow again with its input `force-unlock: true`");

    const plan = await fleet.deploy({ mode: "plan", "force-unlock": "true" });
    expectSucceeded(plan);
    expect(plan.outputs["apply-needed"]).toBe("true");
    expect(plan.outputs["changed-claws"]).toBe("[]");
    expect(plan.summary).toContain("**Rollout lease:** apply clears the lease recorded by run 12345-1");
    const apply = await fleet.deploy({
      mode: "apply",
      "force-unlock": "true",
      "approved-plan-hash": plan.outputs["plan-hash"]!,
    });
    expectSucceeded(apply);
    expect((await fleet.resources.resourceGroups.get(RG)).tags?.[TAGS.lease]).toBeUndefined();
    expect((await fleet.deploy({ mode: "plan" })).outputs["apply-needed"]).toBe("false");
  });

  it("a subscription that does not exist fails the plan with the fix", async () => {
    fleet = await startFleet({ claws: {} }, "{}");
    const wrong = "11111111-2222-3333-4444-555555555555";
    const plan = await fleet.deploy({ mode: "plan", "azure-subscription-id": wrong });
    expect(plan.exitCode).toBe(1);
    expect(errorOf(plan)).toContain(
      `The subscription id ${wrong} does not exist in tenant ${fleet.azure.tenantId} or app registration ${fleet.azure.clientId} has no access to it (SubscriptionNotFound). Fix: set the AZURE_SUBSCRIPTION_ID secret`,
    );
    expect(plan.outputs["plan-hash"]).toBeUndefined();
    expect(plan.summary).toContain(
      `> **No plan:** Reading the fleet in resource group ${RG} failed: The subscription id ${wrong} does not exist`,
    );
  });
});

describe("deploy-fleet with a claw it cannot change", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("applies the other claws, then fails naming the blocked claw and the fix; plan and drift fail too", async () => {
    const names = clawNames(2);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    // claw-001 asks for a shrink Azure cannot do; claw-002 moves to a new image.
    fleet.writeManifest({
      claws: { "claw-001": { data_disk_size_gb: 16 }, "claw-002": {} },
      imageVersion: "1.1.0",
    });
    const plan = await fleet.deploy({ mode: "plan" });
    expect(plan.exitCode).toBe(1);
    expect(actions(plan)).toEqual({ "claw-001": "blocked", "claw-002": "replace" });
    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expect(apply.exitCode).toBe(1);
    expect(errorOf(apply)).toMatch(
      /^1 claw\(s\) cannot be brought to what the manifest asks \(the others were applied\):\n- claw-001: data disk claw-001-data is 32 GiB and the manifest asks for 16 GiB; Azure cannot shrink a disk \(set data_disk_size_gb: 32 or more\)\nFix: /,
    );
    expect(imageOf(fleet, "claw-002")).toBe("1.1.0");
    expect(report(apply).claws.map((c) => [c.claw, c.outcome])).toEqual([
      ["claw-001", "unchanged"],
      ["claw-002", "replaced"],
    ]);
    // What drift runs: a plan with nothing to apply still fails while a claw is blocked.
    const drift = await fleet.deploy({ mode: "plan" });
    expect(drift.outputs["apply-needed"]).toBe("false");
    expect(drift.exitCode).toBe(1);
    expect(errorOf(drift)).toContain("- claw-001: data disk claw-001-data is 32 GiB");
  });
});

describe("deploy-fleet rolling a new image", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("replaces every VM in waves around the same data disks, tagged with the image they last ran", async () => {
    const names = clawNames(5);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const disksBefore = new Map(
      disksOf(fleet).map((d) => [d.name, { id: d.id, timeCreated: d.timeCreated }]),
    );

    const plan = await fleet.deploy({ mode: "plan", "image-version": "1.1.0" });
    expectSucceeded(plan);
    expect(Object.values(actions(plan))).toEqual(names.map(() => "replace"));
    const started = Date.now();
    const apply = await fleet.deploy({
      mode: "apply",
      "image-version": "1.1.0",
      "approved-plan-hash": plan.outputs["plan-hash"]!,
    });
    expectSucceeded(apply);

    const result = report(apply);
    expect(result.waves.map((w) => [w.kind, w.claws])).toEqual([
      ["canary", ["claw-001"]],
      ["wave", ["claw-002", "claw-003"]],
      ["wave", ["claw-004", "claw-005"]],
    ]);
    expect(result.claws.map((c) => [c.claw, c.outcome, c.health, c.fromImage, c.imageAfter])).toEqual(
      names.map((n) => [n, "replaced", "unverified", "1.0.0", "1.1.0"]),
    );
    for (const name of names) {
      const disk = diskOf(fleet, name)!;
      expect({ id: disk.id, timeCreated: disk.timeCreated }).toEqual(disksBefore.get(`${name}-data`));
      expect(disk.tags[TAGS.lastImage]).toBe("1.0.0");
      // Unverified: nothing may record the new image as healthy on the disk.
      expect(disk.tags[TAGS.lastHealthyImage]).toBeUndefined();
      expect(imageOf(fleet, name)).toBe("1.1.0");
      expect(vmOf(fleet, name)!.dataDisks).toEqual([{ lun: 0, diskId: disk.id, deleteOption: "Detach" }]);
    }
    // Wave order in Azure: no VM of a later wave was deleted before the earlier wave's VMs were recreated.
    const log = fleet.azure.requestLog.filter((e) => e.at >= started && !e.polling);
    const at = (op: string, claw: string) =>
      log.findIndex((e) => e.operation === op && e.path.endsWith(`/virtualMachines/${claw}`));
    expect(at("virtualMachines.createOrUpdate", "claw-001")).toBeLessThan(
      at("virtualMachines.delete", "claw-002"),
    );
    expect(at("virtualMachines.createOrUpdate", "claw-003")).toBeLessThan(
      at("virtualMachines.delete", "claw-004"),
    );
    expect(apply.stdout).toContain("::group::Wave 2/3 (wave): claw-002, claw-003");
  });
});

describe("deploy-fleet with wave verification on", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  // Local guests do not answer SSH, so every claw fails the gate: this runs the real verifier
  // (ARM endpoints, pinned host keys, SSH with a real key) and the real rollback path.
  it("rolls back a canary whose VM agent never becomes ready (Run Command, the default), never calls it healthy, and halts", async () => {
    const names = clawNames(3);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const disk = diskOf(fleet, "claw-001")!;
    const untouched = vmOf(fleet, "claw-002")!;

    // No SSH key: the default transport needs none. The local Azure without guests has no VM agent.
    const run = await fleet.deploy({
      mode: "apply",
      "image-version": "1.1.0",
      verify: "true",
      "verify-timeout": "1s",
    });
    expect(run.exitCode).toBe(1);
    const result = report(run);
    expect(result.verification).toBe(true);
    expect(result.claws.map((c) => [c.claw, c.outcome, c.health])).toEqual([
      ["claw-001", "failed", "unhealthy"],
      ["claw-002", "skipped", "not-applicable"],
      ["claw-003", "skipped", "not-applicable"],
    ]);
    expect(result.claws[0]!.error).toMatch(
      /^unhealthy on 1\.1\.0 \(.+\) and still unhealthy after rollback to 1\.0\.0$/,
    );
    expect(result.claws[0]!.error).toMatch(/the VM agent is not ready \(Not Ready/);
    expect(result.claws[0]!.steps.map((s) => s.name)).toContain("rollback");
    // Rolled back: the previous image runs again, on the same disk; nothing recorded it healthy.
    expect(imageOf(fleet, "claw-001")).toBe("1.0.0");
    expect(diskOf(fleet, "claw-001")).toMatchObject({ id: disk.id, timeCreated: disk.timeCreated });
    expect(diskOf(fleet, "claw-001")!.tags[TAGS.lastHealthyImage]).toBeUndefined();
    expect(vmOf(fleet, "claw-002")).toEqual(untouched);
    expect(errorOf(run)).toContain("Rollout halted: canary claw-001 failed");
    expect(run.summary).not.toContain("✅ healthy");
  });

  it("verifies unchanged claws no verification has proven, and fails naming them without touching them", async () => {
    // Created with verification off (as after a rollout that stopped before its wave was
    // verified): nothing recorded these claws healthy on their image.
    const names = clawNames(2);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const vmsBefore = vmsOf(fleet);
    const key = await keygen(mkdtempSync(join(tmpdir(), "deploy-fleet-key-")), "admin");

    const plan = await fleet.deploy({ mode: "plan", verify: "true" });
    expectSucceeded(plan);
    expect(Object.values(actions(plan))).toEqual(["noop", "noop"]);
    expect(plan.summary).toContain("**2 unchanged claw(s) to verify:**");
    expect(plan.summary).toContain("- `claw-001` on 1.0.0 (last proven healthy: never)");
    // Nothing changes on any claw, yet apply has work: without this gate apply never ran.
    expect(plan.outputs["changed-claws"]).toBe("[]");
    expect(plan.outputs["apply-needed"]).toBe("true");
    expect(plan.outputs.verify).toBe("true");

    const writes = since(fleet);
    const run = await fleet.deploy({
      mode: "apply",
      verify: "true",
      transport: "ssh",
      "ssh-private-key": key.privateKey,
      "verify-timeout": "1s",
    });
    expect(run.exitCode).toBe(1);
    expect(logged(run)).not.toContain("BEGIN OPENSSH PRIVATE KEY");
    expect(errorOf(run)).toMatch(
      /^2 unchanged claw\(s\) failed verification on the image they run: claw-001 \(.+\); claw-002 \(.+\)\.\nFix: These claws were not part of this plan, so nothing was rolled back\./,
    );
    expect(run.summary).toMatch(/^\| claw-001 \| 1\.0\.0 \| — \| ❌ unhealthy \|/m);
    expect(writes().writes).toBe(0);
    expect(vmsOf(fleet)).toEqual(vmsBefore);
    for (const n of names) expect(diskOf(fleet, n)!.tags[TAGS.lastHealthyImage]).toBeUndefined();
  });
});

describe("deploy-fleet after a crash between VM delete and create", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("recovers the claw around its disk on the next run, once the dead run's lease is forced", async () => {
    const names = clawNames(2);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const disk = diskOf(fleet, "claw-001")!;

    // The VM create hangs; the runner dies (SIGKILL) while it waits.
    fleet.azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode: "hang" });
    const crashed = await fleet.deploy(
      { mode: "apply", "image-version": "1.1.0" },
      { killWhenStdout: /claw-001: create-vm/, killAfterMs: 60_000 },
    );
    expect(crashed.signal).toBe("SIGKILL");
    fleet.azure.clearFaults();
    expect(vmOf(fleet, "claw-001")).toBeUndefined();
    expect(diskOf(fleet, "claw-001")).toMatchObject({ id: disk.id, timeCreated: disk.timeCreated });
    expect(diskOf(fleet, "claw-001")!.managedBy).toBeUndefined();
    expect(diskOf(fleet, "claw-001")!.tags[TAGS.lastImage]).toBe("1.0.0");
    expect(imageOf(fleet, "claw-002")).toBe("1.0.0");

    const plan = await fleet.deploy({ mode: "plan", "image-version": "1.1.0" });
    expect(actions(plan)).toEqual({ "claw-001": "recover", "claw-002": "replace" });

    // The killed run still holds the lease: the next run says so and changes nothing.
    const writes = since(fleet);
    const blocked = await fleet.deploy({ mode: "apply", "image-version": "1.1.0" });
    expect(blocked.exitCode).toBe(1);
    expect(errorOf(blocked)).toMatch(/holds the lease on resource group rg-claw-test .*force-unlock: true/s);
    expect(writes().writes).toBe(0);

    const recovered = await fleet.deploy({ mode: "apply", "image-version": "1.1.0", "force-unlock": "true" });
    expectSucceeded(recovered);
    expect(report(recovered).claws.map((c) => [c.claw, c.outcome])).toEqual([
      ["claw-001", "recovered"],
      ["claw-002", "replaced"],
    ]);
    expect(imageOf(fleet, "claw-001")).toBe("1.1.0");
    expect(vmOf(fleet, "claw-001")!.dataDisks).toEqual([{ lun: 0, diskId: disk.id, deleteOption: "Detach" }]);
    expect(diskOf(fleet, "claw-001")!.timeCreated).toBe(disk.timeCreated);
  });
});

describe("deploy-fleet when an ARM write of a replace fails", () => {
  // Every write a replace makes (snapshots on): the probe test below pins this list to what the
  // adapter really sends, so a new write step cannot escape these tests.
  const REPLACE_WRITES: Record<string, string> = {
    "virtualMachines.update": "mark-stopping",
    "virtualMachines.deallocate": "deallocate",
    "disks.update": "tag-disk",
    "snapshots.createOrUpdate": "snapshot",
    "virtualMachines.delete": "delete-vm",
    "virtualMachines.createOrUpdate": "create-vm",
  };
  const OPS = Object.keys(REPLACE_WRITES);
  const names = ["probe", ...OPS.map((_, i) => `fault-${i + 1}`)];
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
  });
  afterAll(async () => fleet?.stop());

  it("a replace makes exactly these writes besides the lease", async () => {
    const writes = since(fleet);
    expectSucceeded(await fleet.deploy({ mode: "apply", "image-version": "1.1.0", claws: "probe" }));
    const ops = Object.keys(writes().byOperation).filter(
      (op) => !/\.(get|list|listAll)$/.test(op) && op !== "tags.updateAtScope",
    );
    expect(ops.sort()).toEqual([...OPS].sort());
  });

  it.each(OPS.map((op, i) => [op, `fault-${i + 1}`]))(
    "fails with a clear message when %s fails, deletes no disk, and the re-run converges",
    async (operation, claw) => {
      const dataDisksBefore = disksOf(fleet)
        .filter((d) => d.name.endsWith("-data"))
        .map((d) => d.id)
        .sort();
      const disk = diskOf(fleet, claw)!;
      fleet.azure.injectFault({
        operation,
        path: new RegExp(
          `/(virtualMachines/${claw}(/deallocate)?|disks/${claw}-data|snapshots/${claw}-data[^/]*)$`,
          "i",
        ),
        mode: "lro-fail",
        code: "InternalExecutionError",
        message: "An internal execution error occurred (injected).",
      });
      const failed = await fleet.deploy({ mode: "apply", "image-version": "1.1.0", claws: claw });
      fleet.azure.clearFaults();
      expect(failed.exitCode).toBe(1);
      const error = errorOf(failed);
      expect(error).toContain(`Rollout halted: canary ${claw} failed`);
      const step = REPLACE_WRITES[operation]!;
      expect(error).toContain(`\n- ${claw} (failed): ${claw}: ${step} failed (InternalExecutionError): `);
      expect(report(failed).claws[0]).toMatchObject({ outcome: "failed", health: "unverified" });
      expect(failed.summary).toContain("injected");
      expect(
        disksOf(fleet)
          .filter((d) => d.name.endsWith("-data"))
          .map((d) => d.id)
          .sort(),
      ).toEqual(dataDisksBefore);

      expectSucceeded(await fleet.deploy({ mode: "apply", "image-version": "1.1.0", claws: claw }));
      expect(imageOf(fleet, claw)).toBe("1.1.0");
      expect(diskOf(fleet, claw)).toMatchObject({ id: disk.id, timeCreated: disk.timeCreated });
      const converged = await fleet.deploy({ mode: "plan", "image-version": "1.1.0", claws: claw });
      expect(converged.outputs["changed-claws"]).toBe("[]");
    },
  );
});

describe("deploy-fleet with orphaned and retired claws", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("retires a claw's VM, NIC and public IP but keeps its disk, and leaves an orphan untouched", async () => {
    const names = ["keep", "leaving", "stray"];
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    expectSucceeded(await fleet.deploy({ mode: "apply" }));
    const strayBefore = Object.values(fleet.azure.state().resources)
      .filter((r) => r.name.startsWith("stray"))
      .map((r) => [r.id, JSON.stringify(r.tags)]);
    const leavingDisk = diskOf(fleet, "leaving")!;

    fleet.writeManifest({ claws: { keep: {}, leaving: { retired: true } } });
    const plan = await fleet.deploy({ mode: "plan" });
    expect(actions(plan)).toEqual({ keep: "noop", leaving: "retire", stray: "orphan" });
    expect(plan.stdout).toMatch(/::warning title=Orphan claw \(left untouched\)::stray: orphan/);

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expectSucceeded(apply);
    const state = fleet.azure.state();
    const leaving = Object.values(state.resources).filter((r) => r.name.startsWith("leaving"));
    expect(leaving.map((r) => r.type)).toEqual(["Microsoft.Compute/disks"]);
    expect(diskOf(fleet, "leaving")).toMatchObject({
      id: leavingDisk.id,
      timeCreated: leavingDisk.timeCreated,
    });
    expect(diskOf(fleet, "leaving")!.tags[TAGS.lastImage]).toBe("1.0.0");
    const strayAfter = Object.values(state.resources)
      .filter((r) => r.name.startsWith("stray"))
      .map((r) => [r.id, JSON.stringify(r.tags)]);
    expect(strayAfter).toEqual(strayBefore);
    expect(report(apply).claws.map((c) => [c.claw, c.outcome])).toEqual([
      ["keep", "unchanged"],
      ["leaving", "retired"],
      ["stray", "unchanged"],
    ]);
    expect(JSON.parse(apply.outputs["changed-claws"]!)).toEqual([]);
  });
});

describe("deploy-fleet on a fleet the seed project deployed", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  it("adopts the seed's untagged resources by name and replaces its VMs around the same disks", async () => {
    const names = ["chad-claw", "dan-claw"];
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])) },
      canarySecrets(names).json,
    );
    // What the seed's Terraform left: {claw}, {claw}-nic, {claw}-pip, {claw}-data, no tags.
    const imageId = Object.values(fleet.azure.state().galleryImageVersions).find(
      (v) => v.name === "1.0.0",
    )!.id;
    fleet.azure.seedVirtualMachines(RG, names, { imageId, dataDiskSizeGB: 32 });
    const seeded = Object.fromEntries(names.map((n) => [n, diskOf(fleet, n)!]));
    for (const n of names) expect(seeded[n]!.tags[TAGS.claw]).toBeUndefined();

    const plan = await fleet.deploy({ mode: "plan" });
    expectSucceeded(plan);
    expect(actions(plan)).toEqual({ "chad-claw": "replace", "dan-claw": "replace" });
    expect(plan.summary).toMatch(/Adopting 8 resource\(s\) a seed-era deployment created/);

    const apply = await fleet.deploy({ mode: "apply", "approved-plan-hash": plan.outputs["plan-hash"]! });
    expectSucceeded(apply);
    const disks = disksOf(fleet).filter((d) => d.name.endsWith("-data"));
    expect(disks.map((d) => d.name).sort()).toEqual(["chad-claw-data", "dan-claw-data"]);
    for (const n of names) {
      expect(diskOf(fleet, n)).toMatchObject({ id: seeded[n]!.id, timeCreated: seeded[n]!.timeCreated });
      expect(diskOf(fleet, n)!.tags[TAGS.claw]).toBe(n);
      expect(vmOf(fleet, n)!.tags[TAGS.hostKey]).toMatch(/^SHA256:/);
      expect(vmOf(fleet, n)!.dataDisks).toEqual([{ lun: 0, diskId: seeded[n]!.id, deleteOption: "Detach" }]);
    }
    expect(report(apply).claws.map((c) => c.outcome)).toEqual(["replaced", "replaced"]);
  });
});

describe("deploy-fleet under ARM throttling", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  // A 40-claw fleet keeps the suite quick while still running through ARM's read burst; the
  // 200-claw run is `npm run bench` (bench/rollout.ts).
  it("creates a 40-claw fleet under Azure's request limits with no request refused", async () => {
    const names = clawNames(40);
    fleet = await startFleet(
      { claws: Object.fromEntries(names.map((n) => [n, {}])), rollout: { parallelism: 20 } },
      canarySecrets(names).json,
      ["1.0.0"],
      { throttling: true },
    );
    const t = Date.now();
    const apply = await fleet.deploy({ mode: "apply" });
    expectSucceeded(apply);
    expect(vmsOf(fleet)).toHaveLength(40);
    // 404s are answers to "does it exist yet?" reads; anything else at 400 or above is a refusal.
    const refused = fleet.azure.requestLog.filter((e) => e.at >= t && e.status >= 400 && e.status !== 404);
    expect(refused.map((e) => `${e.status} ${e.operation}`)).toEqual([]);
  });
});

describe("deploy-fleet and secrets", () => {
  let fleet: Fleet;
  afterEach(async () => fleet?.stop());

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
  }

  it("never writes a secret value to stdout, outputs, the summary or any file of the run", async () => {
    const names = clawNames(3);
    const secrets = canarySecrets(names);
    fleet = await startFleet({ claws: Object.fromEntries(names.map((n) => [n, {}])) }, secrets.json);
    const runs = [
      await fleet.deploy({ mode: "plan" }),
      await fleet.deploy({ mode: "apply" }),
      await fleet.deploy({ mode: "apply", "image-version": "1.1.0" }),
    ];
    fleet.azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode: "lro-fail" });
    runs.push(await fleet.deploy({ mode: "apply", "image-version": "1.0.0" }));
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0, 1]);

    // The canaries did reach the VMs (in customData, by design): the search below is meaningful.
    const customData = vmsOf(fleet).map((vm) => vm.customData ?? "");
    const { decodeCustomData } = await import("@openclawps/cloud-init");
    expect(customData.map(decodeCustomData).join("\n")).toContain(secrets.canaries[0]);

    for (const run of runs) {
      const written = [
        logged(run),
        run.stderr,
        JSON.stringify(run.outputs),
        run.summary,
        ...[...filesUnder(run.dir), ...filesUnder(fleet.workspace)].map((f) => readFileSync(f, "utf8")),
      ].join("\n");
      for (const canary of secrets.canaries) expect(written).not.toContain(canary);
    }
  });
});
