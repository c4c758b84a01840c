// The operator's journey, from an empty subscription, as examples/fleet/README.md walks it:
// each step is what the operator does (a push, a manual run, the daily drift check) and the
// jobs GitHub would run for it, with the outcome each job must have.
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import { trustCaInProcess } from "@openclawps/local-azure";
import { type Document, parseDocument } from "yaml";
import { POWER_WORKFLOW, type Rehearsal, VERIFY_WORKFLOW } from "./rehearsal.ts";
import type { JobResult, RunRecord } from "./runner.ts";

export const FLEET_WORKFLOW = ".github/workflows/fleet.yml";
export const CRASH_CLAW = "bob";
/** Friday 21:00 and Monday 08:30 in Berlin: outside and inside the power schedule's hours. */
export const FRIDAY_NIGHT = new Date("2026-12-04T20:00:00Z");
export const MONDAY_MORNING = new Date("2026-12-07T07:30:00Z");
const POWER: Expected = { "power/power": "success" };

export interface JourneyOptions {
  /**
   * Verify claws over SSH (rollout.verify: true); needs a rehearsal on booting guests. Off, the
   * manifest says `verify: false`, as an operator whose runners cannot reach the VMs would set it.
   */
  verify: boolean;
}

export interface JourneyStep {
  name: string;
  /** The runs this step made, in order. */
  runs: RunRecord[];
  /** `name: run line | run line` */
  line: string;
  /** Jobs whose result differs from the expected one. */
  problems: string[];
}

type Expected = Record<string, JobResult>;

const DEPLOY = (plan: JobResult, apply: JobResult, verify: JobResult): Expected => ({
  "deploy/bake/bake": "success",
  "deploy/deploy/plan": plan,
  "deploy/deploy/apply": apply,
  "deploy/deploy/verify": verify,
});
const DRIFT: Expected = { "drift/drift": "success" };

function check(run: RunRecord, expected: Expected): string[] {
  const problems: string[] = [];
  for (const [path, result] of Object.entries(expected)) {
    const job = run.jobs.find((j) => j.path === path);
    const got = job?.result ?? "not run";
    if (got !== result) {
      const failed = job?.steps.find((s) => s.outcome === "failure");
      const why = job?.note ?? (failed ? lastLines(failed.log) : "");
      problems.push(`${path}: ${got}, expected ${result}${why ? ` (${why})` : ""}`);
    }
  }
  return problems;
}

function lastLines(log: string): string {
  const errors = log.split("\n").filter((l) => l.startsWith("::error"));
  return (errors.length ? errors : log.trim().split("\n").slice(-3)).join(" / ").slice(0, 600);
}

/** Per-claw secrets, as the CLAW_SECRETS_JSON repository secret holds them. */
function secretsFor(names: string[]): string {
  return JSON.stringify(
    Object.fromEntries(
      names.map((n) => [
        n,
        {
          telegram_bot_token: `7000000001:AAH${n}rehearsalxxxxxxxxxxxxxxxxxxxxx`,
          xai_api_key: `xai-rehearsal-${n}`,
          anthropic_api_key: `sk-ant-rehearsal-${n}`,
        },
      ]),
    ),
  );
}

export class Journey {
  readonly manifest: Document;
  readonly steps: JourneyStep[] = [];

  constructor(
    readonly rehearsal: Rehearsal,
    readonly options: JourneyOptions,
    exampleManifest: string,
    private readonly exampleWorkflow: string,
    private readonly powerWorkflow = "",
    private readonly verifyWorkflow = "",
  ) {
    // The example fleet as a new operator adapts it: their SSH key, `latest` (every bake rolls
    // out), no per-claw pins, no pause between waves (a rehearsal has nothing to wait for).
    this.manifest = parseDocument(exampleManifest);
    this.manifest.setIn(["ssh", "admin_public_key"], rehearsal.adminPublicKey());
    this.manifest.setIn(["defaults", "image_version"], "latest");
    for (const name of this.clawNames(true)) this.manifest.deleteIn(["claws", name, "image_version"]);
    this.manifest.setIn(["rollout", "pause_seconds"], 0);
    this.manifest.setIn(["rollout", "verify"], options.verify);
    if (options.verify) {
      // The local guests have no GPU: a general-purpose size, for which verify.sh expects none.
      this.manifest.setIn(["defaults", "vm_size"], "Standard_D2s_v5");
      for (const name of this.clawNames(true)) this.manifest.deleteIn(["claws", name, "vm_size"]);
    }
    rehearsal.secrets.CLAW_SECRETS_JSON = secretsFor(this.clawNames(true));
  }

  /** Claw names in the manifest (active ones only unless `all`). */
  clawNames(all = false): string[] {
    const claws = this.manifest.get("claws") as {
      items?: { key: string | { value: string }; value: unknown }[];
    };
    return (claws.items ?? [])
      .filter((p) => all || !(p.value as { get?: (k: string) => unknown })?.get?.("retired"))
      .map((p) => (typeof p.key === "string" ? p.key : p.key.value));
  }

  /** Keeps only these claws in the manifest (and their secrets): a smaller fleet for a slow rehearsal. */
  keepOnly(names: string[]): void {
    for (const name of this.clawNames(true))
      if (!names.includes(name)) this.manifest.deleteIn(["claws", name]);
    this.rehearsal.secrets.CLAW_SECRETS_JSON = secretsFor(this.clawNames(true));
  }

  private manifestText(): string {
    return this.manifest.toString();
  }

  private record(name: string, runs: RunRecord[], expected: Expected[]): JourneyStep {
    const problems = runs.flatMap((run, i) => check(run, expected[i] ?? {}));
    const line = `${name}: ${runs.map((r) => `${r.event} → ${r.line()}`).join(" | ")}`;
    const step = { name, runs, line, problems };
    this.steps.push(step);
    return step;
  }

  /**
   * The SSH verify job's result. With the default transport (Run Command) the final check is the
   * last step of the apply job (as the operator identity), and the verify job is skipped.
   */
  private verifyResult(): JobResult {
    return this.options.verify && /^\s*transport: ssh\s*$/m.test(this.exampleWorkflow)
      ? "success"
      : "skipped";
  }

  /** Push, then the drift check: the fleet must match the manifest after every rollout. */
  private async pushAndDrift(
    name: string,
    files: Record<string, string | null>,
    expected: Expected,
  ): Promise<JourneyStep> {
    const push = await this.rehearsal.push(files, name);
    const drift = await this.rehearsal.drift();
    return this.record(name, [push, drift], [expected, DRIFT]);
  }

  /** 1. The first push to an empty subscription: bake creates the gallery and 1.0.0, deploy the claws. */
  firstPush(): Promise<JourneyStep> {
    return this.pushAndDrift(
      "first push",
      { "claws.yaml": this.manifestText(), [FLEET_WORKFLOW]: this.exampleWorkflow },
      { validate: "skipped", drift: "skipped", ...DEPLOY("success", "success", this.verifyResult()) },
    );
  }

  /** 2. A claws.yaml-only push: a new claw; the bake is skipped, the other claws untouched. */
  addClaw(name = "frank"): Promise<JourneyStep> {
    this.manifest.setIn(["claws", name], this.manifest.createNode({}));
    this.rehearsal.secrets.CLAW_SECRETS_JSON = secretsFor(this.clawNames(true));
    return this.pushAndDrift(
      "claws.yaml-only push",
      { "claws.yaml": this.manifestText() },
      DEPLOY("success", "success", this.verifyResult()),
    );
  }

  /** 3. An image bump: a baseline install script in the overlay; bake builds 1.0.1, `latest` rolls it out. */
  imageBump(): Promise<JourneyStep> {
    return this.pushAndDrift(
      "image bump",
      {
        "vm-runtime/install/desktop/90-fleet-tools.sh":
          "#!/usr/bin/env bash\nset -euo pipefail\necho fleet tools\n",
      },
      DEPLOY("success", "success", this.verifyResult()),
    );
  }

  /** 4. A rollback: the manifest pins the previous version; the bake is skipped. */
  rollback(version: string): Promise<JourneyStep> {
    this.manifest.setIn(["defaults", "image_version"], version);
    return this.pushAndDrift(
      "manifest rollback",
      { "claws.yaml": this.manifestText() },
      DEPLOY("success", "success", this.verifyResult()),
    );
  }

  /** 5. `rollout.verify: false` with a config change: applied, not verified. */
  verifyOff(claw = "carol"): Promise<JourneyStep> {
    this.manifest.setIn(["rollout", "verify"], false);
    this.manifest.setIn(["claws", claw, "model"], "xai/grok-4-1-fast-non-reasoning");
    return this.pushAndDrift(
      "rollout.verify false",
      { "claws.yaml": this.manifestText() },
      DEPLOY("success", "success", "skipped"),
    );
  }

  /** 6. An NSG-only change: one more source allowed to SSH. */
  nsgOnly(cidr = "192.0.2.0/24"): Promise<JourneyStep> {
    const cidrs = this.manifest.getIn(["ssh", "allowed_cidrs"]) as { add(v: unknown): void };
    cidrs.add(cidr);
    return this.pushAndDrift(
      "NSG-only change",
      { "claws.yaml": this.manifestText() },
      // Nothing to verify: no claw changed.
      DEPLOY("success", "success", "skipped"),
    );
  }

  /**
   * 7. A crashed apply: the runner dies (SIGKILL) while a claw's VM create hangs in Azure. The
   * next run is refused (the dead run's lease); a manual run with force-unlock recovers.
   */
  async crashAndRecover(): Promise<JourneyStep> {
    const azure = this.rehearsal.azure;
    this.manifest.setIn(["claws", CRASH_CLAW, "model"], "anthropic/claude-sonnet-4-5");
    azure.injectFault({ operation: "virtualMachines.createOrUpdate", mode: "hang" });
    const crashed = await this.rehearsal.push({ "claws.yaml": this.manifestText() }, "crashed apply", {
      crash: { job: "deploy/deploy/apply", when: new RegExp(`${CRASH_CLAW}: create-vm`) },
    });
    azure.clearFaults();
    const refused = await this.rehearsal.dispatch({});
    const recovered = await this.rehearsal.dispatch({ "force-unlock": true });
    const drift = await this.rehearsal.drift();
    // The dead run may have got the claw's new VM created: the recovery then proves it in apply's
    // wave (an unproven claw) without changing it, and the final check, which re-checks the
    // claws apply changed, has nothing to do.
    const changed = recovered.job("deploy/deploy/apply").outputs["changed-claws"] ?? "[]";
    return this.record(
      "crashed apply + force-unlock",
      [crashed, refused, recovered, drift],
      [
        DEPLOY("success", "failure", "skipped"),
        { "deploy/deploy/apply": "failure" },
        DEPLOY("success", "success", changed === "[]" ? "skipped" : this.verifyResult()),
        DRIFT,
      ],
    );
  }

  /** 8. A wrong subscription id: the plan fails and says how to fix it. */
  async wrongSubscription(): Promise<JourneyStep> {
    const secrets = this.rehearsal.secrets;
    const right = secrets.AZURE_SUBSCRIPTION_ID!;
    secrets.AZURE_SUBSCRIPTION_ID = "00000000-0000-4000-8000-00000000dead";
    try {
      const drift = await this.rehearsal.drift();
      return this.record("wrong subscription", [drift], [{ "drift/drift": "failure" }]);
    } finally {
      secrets.AZURE_SUBSCRIPTION_ID = right;
    }
  }

  /** 9. A pin to a version the gallery does not have: the plan fails naming it; nothing applies. */
  missingImageVersion(version = "9.9.9"): Promise<JourneyStep> {
    const before = this.manifest.clone();
    this.manifest.setIn(["defaults", "image_version"], version);
    const text = this.manifestText();
    (this as { manifest: Document }).manifest = before as Document;
    return this.rehearsal
      .push({ "claws.yaml": text }, "missing image version")
      .then((push) =>
        this.record("missing image version", [push], [{ ...DEPLOY("failure", "skipped", "skipped") }]),
      );
  }

  /** Restores the manifest of the last good step (after the missing-version push). */
  async restore(): Promise<JourneyStep> {
    return this.pushAndDrift(
      "restore",
      { "claws.yaml": this.manifestText() },
      {
        "deploy/deploy/plan": "success",
        "deploy/deploy/apply": "skipped",
      },
    );
  }

  /**
   * 11. Power schedules, on a clock the rehearsal advances: office hours in Berlin for every claw
   * but `dave` (always on). `carol` was deallocated by her owner; a rollout stopped `bob` to change
   * him. While a rollout holds the lease the scheduled run changes nothing; on Friday night it
   * parks the running claws outside their hours, on Monday morning it starts what it parked —
   * never carol or bob. A last manual run reports the status.
   */
  async powerSchedule(): Promise<JourneyStep> {
    const rg = this.resourceGroup();
    this.officeHours();
    this.manifest.setIn(["claws", "dave", "schedule"], "always-on");
    const push = await this.rehearsal.push(
      { "claws.yaml": this.manifestText(), [POWER_WORKFLOW]: this.powerWorkflow },
      "power schedules",
    );
    const { compute, resources } = this.azureClients();
    const poll = { updateIntervalInMs: 0 };
    await compute.virtualMachines.beginDeallocateAndWait(rg, "carol", poll);
    const bob = await compute.virtualMachines.get(rg, "bob");
    await compute.virtualMachines.beginUpdateAndWait(
      rg,
      "bob",
      { tags: { ...bob.tags, "openclawps.stopped-by-rollout": "gh-900-1" } },
      poll,
    );
    await compute.virtualMachines.beginDeallocateAndWait(rg, "bob", poll);

    this.rehearsal.setClock(FRIDAY_NIGHT);
    const group = await resources.resourceGroups.get(rg);
    const lease = `gh-901-1;${new Date(Date.now() + 3_600_000).toISOString()}`;
    await resources.resourceGroups.update(rg, { tags: { ...group.tags, "openclawps.lease": lease } });
    const held = await this.rehearsal.power();
    await resources.resourceGroups.update(rg, { tags: group.tags ?? {} });
    const night = await this.rehearsal.power();
    this.rehearsal.setClock(MONDAY_MORNING);
    const morning = await this.rehearsal.power();
    const status = await this.rehearsal.power({ mode: "status" });
    this.rehearsal.setClock(undefined);
    return this.record(
      "power schedule",
      [push, held, night, morning, status],
      [{ "deploy/deploy/plan": "success", "deploy/deploy/apply": "skipped" }, POWER, POWER, POWER, POWER],
    );
  }

  /**
   * 12. Power schedules with the fleet's power and verify workflows (office hours in Berlin for
   * every claw): a push that changes no claw (plan only).
   */
  schedulePush(): Promise<JourneyStep> {
    this.officeHours();
    const step = this.rehearsal
      .push(
        {
          "claws.yaml": this.manifestText(),
          [POWER_WORKFLOW]: this.powerWorkflow,
          ...(this.verifyWorkflow ? { [VERIFY_WORKFLOW]: this.verifyWorkflow } : {}),
        },
        "power schedules",
      )
      .then((push) =>
        this.record(
          "power schedules",
          [push],
          [{ "deploy/deploy/plan": "success", "deploy/deploy/apply": "skipped" }],
        ),
      );
    return step;
  }

  /** 13. The power workflow's cron, with the rehearsal's clock at `at`. */
  async scheduledRun(name: string, at: Date): Promise<JourneyStep> {
    this.rehearsal.setClock(at);
    try {
      return this.record(name, [await this.rehearsal.power()], [POWER]);
    } finally {
      this.rehearsal.setClock(undefined);
    }
  }

  /** 14. The operator verifies claws on demand (the fleet's verify workflow, a manual run). */
  async verifyRun(name: string, claws: string[] = []): Promise<JourneyStep> {
    return this.record(name, [await this.rehearsal.verify(claws.join(","))], [{ verify: "success" }]);
  }

  /** 15. The power workflow's manual run in mode status: the fleet's status table. */
  async statusRun(name = "status"): Promise<JourneyStep> {
    return this.record(name, [await this.rehearsal.power({ mode: "status" })], [POWER]);
  }

  resourceGroup(): string {
    return String(this.manifest.getIn(["azure", "resource_group_name"]));
  }

  /** Office hours in Berlin for every claw (a claw's own schedule still wins). */
  private officeHours(): void {
    this.manifest.setIn(
      ["defaults", "schedule"],
      this.manifest.createNode({ hours: "08:00-20:00", days: "mon-fri", time_zone: "Europe/Berlin" }),
    );
  }

  /** The real Azure SDK clients on the rehearsal's local Azure (what an operator's `az` would reach). */
  azureClients(): { compute: ComputeManagementClient; resources: ResourceManagementClient } {
    const azure = this.rehearsal.azure;
    trustCaInProcess(azure.caCertPem);
    const credential = azure.staticCredential() as TokenCredential;
    const options = { endpoint: azure.armEndpoint };
    return {
      compute: new ComputeManagementClient(credential, azure.subscriptionId, options),
      resources: new ResourceManagementClient(credential, azure.subscriptionId, options),
    };
  }

  /** Every step in order, as `npm run rehearse` runs them. */
  async all(onStep: (step: JourneyStep) => void = () => {}): Promise<JourneyStep[]> {
    const steps: (() => Promise<JourneyStep>)[] = [
      () => this.firstPush(),
      () => this.addClaw(),
      () => this.imageBump(),
      () => this.rollback("1.0.0"),
      () => this.verifyOff(),
      () => this.nsgOnly(),
      () => this.crashAndRecover(),
      () => this.wrongSubscription(),
      () => this.missingImageVersion(),
      () => this.restore(),
      ...(this.powerWorkflow ? [() => this.powerSchedule()] : []),
    ];
    for (const step of steps) onStep(await step());
    return this.steps;
  }
}
