// deployFleet's gates in-process: the core called with the in-memory Reporter against the local
// Azure running in this process (a real HTTPS server; the real Azure SDK, @azure/identity and
// action-kit's GitHub OIDC request talk to it, connected by the action's own connectAzure). What the bundle adds
// (reading inputs, the runner's files) is covered by deploy-fleet.test.ts, end to end.
import { resolve } from "node:path";
import { UserError } from "@openclawps/action-kit";
import { MemoryReporter } from "@openclawps/action-kit/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { azureClients, type DeployOutcome, deployFleet } from "../src/deploy-fleet.ts";
import type { DeployInputs } from "../src/inputs.ts";
import { ADMIN_KEY, canarySecrets, clawNames, type Fleet, startFleet } from "./fleet-fixture.ts";

const SHIPPED_VM_RUNTIME = resolve(import.meta.dirname, "../../../vm-runtime");
const NOW = new Date("2026-03-01T12:00:00Z");

/** What getDeployInputs returns for a step with only `manifest`, `secrets-json` and `poll-interval`. */
function inputsFor(fleet: Fleet, secretsJson: string, extra: Partial<DeployInputs>): DeployInputs {
  return {
    manifest: "claws.yaml",
    mode: "plan",
    approvedPlanHash: "",
    claws: [],
    imageVersion: "",
    rollout: {},
    azure: {
      clientId: fleet.azure.clientId,
      tenantId: fleet.azure.tenantId,
      subscriptionId: fleet.azure.subscriptionId,
      armEndpoint: fleet.azure.armEndpoint,
      authorityHost: fleet.azure.authorityHost,
    },
    transport: "run-command",
    sshPrivateKey: "",
    adminPublicKey: "",
    secretsJson,
    vmRuntimeOverlay: "",
    dryRun: false,
    forceUnlock: false,
    verifyTimeoutSeconds: 600,
    pollIntervalMs: 20,
    ...extra,
  };
}

interface CoreRun {
  reporter: MemoryReporter;
  outcome?: DeployOutcome;
  /** The UserError the core failed with (any other error fails the test). */
  error?: UserError;
  /** ARM writes the run made. */
  writes: number;
  /** ARM requests of any kind the run made. */
  requests: number;
}

describe("deployFleet's gates, in-process", () => {
  let fleet: Fleet;
  let secretsJson: string;
  const names = clawNames(2);

  beforeEach(async () => {
    secretsJson = canarySecrets(names).json;
    fleet = await startFleet({ claws: Object.fromEntries(names.map((n) => [n, {}])) }, secretsJson);
    // What the runner sets for a job with `permissions: id-token: write`.
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_URL", fleet.azure.idTokenRequestUrl);
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", fleet.azure.idTokenRequestToken);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fleet?.stop();
  });

  async function run(extra: Partial<DeployInputs> = {}): Promise<CoreRun> {
    const reporter = new MemoryReporter();
    const since = Date.now();
    const result: CoreRun = { reporter, writes: 0, requests: 0 };
    try {
      result.outcome = await deployFleet(
        {
          inputs: inputsFor(fleet, secretsJson, extra),
          workspace: fleet.workspace,
          shippedVmRuntime: SHIPPED_VM_RUNTIME,
          runId: "4242-1",
        },
        { clients: azureClients, reporter, clock: { now: () => NOW } },
      );
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      result.error = err;
    }
    const counts = fleet.azure.counts({ since, excludePolling: true });
    result.writes = counts.writes;
    result.requests = fleet.azure.requestLog.filter((e) => e.at >= since).length;
    return result;
  }

  it("plan: sets the plan outputs and writes the summary, writing nothing to Azure", async () => {
    const plan = await run({ mode: "plan" });
    expect(plan.error).toBeUndefined();
    expect(plan.writes).toBe(0);
    const { outputs } = plan.reporter;
    expect(outputs["plan-hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(outputs["plan-hash"]).toBe(plan.outcome?.plan.hash);
    expect(JSON.parse(outputs["changed-claws"]!)).toEqual(names);
    expect(outputs["apply-needed"]).toBe("true");
    expect(outputs.verify).toBe("false");
    expect(plan.reporter.summaryText).toContain(`## Fleet plan — \`claws.yaml\``);
    expect(plan.reporter.summaryText).toContain("| claw-001 | create |");
    expect(plan.reporter.log).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^Plan ${outputs["plan-hash"]}: 2 claw\\(s\\) to change: claw-001, claw-002.*; apply needed: true\\.$`,
        ),
      ),
    );
  });

  it("refuses a vm-runtime overlay that does not exist with validate's message, before any Azure request", async () => {
    const plan = await run({ vmRuntimeOverlay: "fleet/runtime" });
    expect(plan.error?.message).toBe(
      "The vm-runtime overlay directory 'fleet/runtime' does not exist.\nFix: Set the vm-runtime input to the overlay directory relative to the repository root, or leave it empty to use vm-runtime/ beside the manifest when there is one.",
    );
    expect(plan.requests).toBe(0);
  });

  it("apply refuses a plan other than the approved one, before any ARM write, and says so in the summary", async () => {
    const approved = "0".repeat(64);
    const apply = await run({ mode: "apply", approvedPlanHash: approved });
    expect(apply.error?.message).toMatch(
      new RegExp(
        `^The plan changed since it was approved \\(approved ${approved}, now [0-9a-f]{64}\\); nothing was changed\\.`,
      ),
    );
    expect(apply.error?.message).toContain('Re-run ALL jobs of the workflow run ("Re-run all jobs"');
    expect(apply.reporter.summaryText).toContain("**Apply refused:** the fresh plan's hash");
    expect(apply.writes).toBe(0);
    expect(apply.reporter.outputs.result).toBeUndefined();
  });

  it("a dry run checks the approved hash, shows the waves and changes nothing", async () => {
    const plan = await run({ mode: "plan" });
    const dry = await run({
      mode: "apply",
      dryRun: true,
      approvedPlanHash: plan.reporter.outputs["plan-hash"]!,
    });
    expect(dry.error).toBeUndefined();
    expect(dry.writes).toBe(0);
    expect(dry.reporter.summaryText).toContain("**Dry run:** the plan hash matches; nothing was changed.");
    expect(dry.reporter.summaryText).toContain(
      "1. creates, recoveries, retirements (not health-gated): claw-001, claw-002",
    );
    expect(dry.reporter.outputs.result).toBeUndefined();
    // Approved: no warning that nobody approved it.
    expect(dry.reporter.texts("warning").join("\n")).not.toContain("approved-plan-hash");
  });

  it("apply without an approved hash warns that nobody approved the plan, then applies it; the next apply has nothing to do", async () => {
    const apply = await run({ mode: "apply" });
    expect(apply.error).toBeUndefined();
    expect(apply.reporter.texts("warning")).toContainEqual(
      expect.stringMatching(
        /^Applying without approved-plan-hash: the plan computed now runs without anyone having approved it\./,
      ),
    );
    expect(apply.outcome?.report?.status).toBe("succeeded");
    expect(JSON.parse(apply.reporter.outputs.result!).status).toBe("succeeded");
    expect(JSON.parse(apply.reporter.outputs["changed-claws"]!)).toEqual(names);
    expect(apply.reporter.log).toContain(
      "[group] Wave 1/1 (creates, recoveries and retirements): claw-001, claw-002",
    );
    expect(apply.reporter.summaryText).toContain("## Rollout");

    const again = await run({ mode: "apply" });
    expect(again.error).toBeUndefined();
    expect(again.writes).toBe(0);
    expect(again.outcome?.report?.status).toBe("nothing-to-do");
    expect(again.reporter.outputs["apply-needed"]).toBe("false");
    expect(again.reporter.outputs["changed-claws"]).toBe("[]");
  });

  it("no claw secrets for live claws: refused naming the input, before any Azure request", async () => {
    secretsJson = "";
    const plan = await run({ mode: "plan" });
    expect(plan.error?.message).toMatch(
      /^No claw secrets: the secrets-json input and the CLAW_SECRETS_JSON environment variable are both empty\.\nFix: Pass `secrets-json: \$\{\{ secrets\.CLAW_SECRETS_JSON \}\}`/,
    );
    expect(plan.requests).toBe(0);
  });

  it("claw secrets are masked through the reporter the moment they are parsed", async () => {
    const { canaries, json } = canarySecrets(names);
    secretsJson = json;
    const plan = await run({ mode: "plan" });
    expect(plan.error).toBeUndefined();
    for (const canary of canaries) expect(plan.reporter.secrets.some((s) => s.includes(canary))).toBe(true);
    for (const canary of canaries) expect(plan.reporter.log.join("\n")).not.toContain(canary);
    // Each value once: a one-line secret is not handed on again as its only line.
    expect(plan.reporter.secrets).toHaveLength(new Set(plan.reporter.secrets).size);
    expect(plan.reporter.secrets).toHaveLength(canaries.length);
  });

  it("a manifest problem fails with annotations on its line and the list in the summary, before any Azure request", async () => {
    fleet.writeManifest({ claws: { Bad_Name: {} } });
    const plan = await run({ mode: "plan" });
    expect(plan.error?.message).toMatch(/^claws\.yaml has problems: 1 error\. First: claws\.yaml:\d+: /);
    const [annotation] = plan.reporter.annotations.filter((a) => a.level === "error");
    expect(annotation?.props).toMatchObject({ file: "claws.yaml", startLine: expect.any(Number) });
    expect(plan.reporter.summaryText).toContain("## claws.yaml has problems");
    expect(plan.requests).toBe(0);
  });

  it("verification over SSH without a key is refused before any ARM write", async () => {
    const apply = await run({ mode: "apply", transport: "ssh", rollout: { verify: true } });
    expect(apply.error?.message).toContain(
      "Wave verification over SSH (transport: ssh) is on but no ssh-private-key was given, so no claw could be proven healthy; nothing was changed.",
    );
    expect(apply.writes).toBe(0);
  });

  it("a seed-era manifest without ssh.admin_public_key takes the input, and says so when neither gives a key", async () => {
    fleet.writeManifest({ claws: Object.fromEntries(names.map((n) => [n, {}])), noAdminKey: true });
    const none = await run({ mode: "plan" });
    expect(none.error?.message).toMatch(
      /^No admin public key: claws\.yaml has no ssh\.admin_public_key and the admin-public-key input is empty/,
    );
    expect(none.requests).toBe(0);
    const withInput = await run({ mode: "plan", adminPublicKey: ADMIN_KEY });
    expect(withInput.error).toBeUndefined();
    const privateKey = await run({ mode: "plan", adminPublicKey: "-----BEGIN OPENSSH PRIVATE KEY----- x" });
    expect(privateKey.error?.message).toMatch(/^Input 'admin-public-key': this is a private key/);
  });

  it("blocked claws turn the plan red after the outputs and summary, one warning each on the claw's line", async () => {
    const plan = await run({ mode: "plan", imageVersion: "9.9.9" });
    expect(plan.error?.message).toMatch(
      /^2 claw\(s\) cannot be brought to what the manifest asks:\n- claw-001: cannot create: image version 9\.9\.9 is not in the gallery \(it has 1\.0\.0, 1\.1\.0\)\n- claw-002: .*\nFix: Fix what each line names/,
    );
    expect(plan.reporter.outputs["plan-hash"]).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.reporter.summaryText).toContain("| claw-001 | **blocked** |");
    const warnings = plan.reporter.annotations.filter((a) => a.props?.title?.startsWith("Blocked"));
    expect(warnings.map((w) => [w.text.split(":")[0], w.props?.title, w.props?.file])).toEqual([
      ["claw-001", "Blocked claw (not changed)", "claws.yaml"],
      ["claw-002", "Blocked claw (not changed)", "claws.yaml"],
    ]);
    expect(plan.writes).toBe(0);
  });

  it("a rollout that halts turns apply red naming the failed claw, after the result output and summary", async () => {
    expect((await run({ mode: "apply" })).error).toBeUndefined();
    fleet.azure.injectFault({
      operation: "virtualMachines.createOrUpdate",
      path: /\/virtualMachines\/claw-001$/i,
      mode: "lro-fail",
      code: "InternalExecutionError",
      message: "An internal execution error occurred (injected).",
    });
    const apply = await run({ mode: "apply", imageVersion: "1.1.0" });
    expect(apply.error?.message).toMatch(/^Rollout halted: canary claw-001 failed/);
    expect(apply.error?.message).toContain(
      "\n- claw-001 (failed): claw-001: create-vm failed (InternalExecutionError): ",
    );
    expect(apply.error?.message).toContain("no data disk was deleted");
    expect(JSON.parse(apply.reporter.outputs.result!).status).toBe("halted");
    expect(apply.reporter.summaryText).toContain("injected");
  });
});

describe("deployFleet with an NVMe-only VM size", () => {
  let fleet: Fleet;
  const names = clawNames(1, "nvme");
  const secretsJson = canarySecrets(names).json;

  beforeEach(async () => {
    fleet = await startFleet(
      { claws: { [names[0]!]: { vm_size: "Standard_D2ads_v6" } }, azure: { nvme_enabled: true } },
      secretsJson,
    );
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_URL", fleet.azure.idTokenRequestUrl);
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", fleet.azure.idTokenRequestToken);
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fleet?.stop();
  });

  it("creates the claw on Standard_D2ads_v6 with the NVMe disk controller, and the next apply has nothing to do", async () => {
    const apply = async () => {
      const reporter = new MemoryReporter();
      const outcome = await deployFleet(
        {
          inputs: inputsFor(fleet, secretsJson, { mode: "apply" }),
          workspace: fleet.workspace,
          shippedVmRuntime: SHIPPED_VM_RUNTIME,
          runId: "4242-nvme",
        },
        { clients: azureClients, reporter, clock: { now: () => NOW } },
      );
      return { reporter, outcome };
    };
    const first = await apply();
    expect(first.outcome.report?.status).toBe("succeeded");
    expect(first.reporter.log.join("\n")).toMatch(/Standard_D2ads_v6 \(NVMe disk controller\)/);
    const state = fleet.azure.state();
    const vm = Object.values(state.virtualMachines).find((v) => v.name === names[0]);
    expect(vm).toMatchObject({
      vmSize: "Standard_D2ads_v6",
      provisioningState: "Succeeded",
      powerState: "running",
    });
    const stored = Object.values(state.resources).find((r) => r.id === vm?.id);
    expect(stored?.properties.storageProfile).toMatchObject({ diskControllerType: "NVMe" });
    const again = await apply();
    expect(again.outcome.report?.status).toBe("nothing-to-do");
  });
});
