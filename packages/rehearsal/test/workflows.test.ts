// The inputs the reusable workflows expose and pass through, read with GitHub's parser: the
// overlay directory reaches every action that reads it, the runner label every job, and
// force-unlock and verify-timeout the deploy jobs (the journey runs them with their defaults).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIONS_ROOT } from "../src/rehearsal.ts";
import { loadWorkflow } from "../src/workflow.ts";

const load = (name: string) => loadWorkflow(join(ACTIONS_ROOT, ".github/workflows", name), name);
const text = (v: unknown) => JSON.stringify(v);

describe("reusable workflow inputs", () => {
  it.each(["validate.yml", "bake.yml", "deploy.yml", "drift.yml", "power.yml"])(
    "%s runs every job on the runner input",
    async (name) => {
      const wf = await load(name);
      // bake relies on the Packer GitHub's ubuntu-24.04 image ships, so it names that image.
      expect(wf.template.events.workflow_call?.inputs?.runner?.default).toBe(
        name === "bake.yml" ? "ubuntu-24.04" : "ubuntu-latest",
      );
      for (const job of wf.template.jobs)
        expect(text((job as { "runs-on"?: unknown })["runs-on"])).toContain("inputs.runner");
    },
  );

  it("power.yml: mode, claws and manifest reach the status action as the power identity, outside the deploy's concurrency group", async () => {
    const wf = await load("power.yml");
    const call = wf.template.events.workflow_call;
    expect(call?.inputs?.mode).toMatchObject({ type: "string", default: "schedule" });
    expect(call?.secrets?.AZURE_POWER_CLIENT_ID).toMatchObject({ required: true });
    const raw = text(wf.rawJobs.get("power"));
    expect(raw).toContain("openclawps/actions/status@v1");
    for (const input of ["mode", "claws", "manifest", "environment"])
      expect(raw).toContain(`inputs.${input}`);
    expect(raw).toContain("secrets.AZURE_POWER_CLIENT_ID");
    expect(raw).not.toContain("secrets.AZURE_CLIENT_ID");
    // A pending run cancels the pending run of its group: a park must never cancel a waiting deploy.
    expect(raw).toContain("openclawps-power-");
    const deploy = text((await load("deploy.yml")).rawJobs.get("apply"));
    expect(deploy).not.toContain("openclawps-power-");
  });

  it("pipeline.yml passes the overlay, runner, verify, verify-timeout, force-unlock and approval through", async () => {
    const wf = await load("pipeline.yml");
    const byId = Object.fromEntries(
      wf.template.jobs.map((j) => [j.id.value, text((j as { "input-values"?: unknown })["input-values"])]),
    );
    for (const input of ["vm-runtime", "runner"]) expect(byId.bake).toContain(`inputs.${input}`);
    for (const input of [
      "vm-runtime",
      "runner",
      "verify",
      "verify-timeout",
      "force-unlock",
      "approval",
      "approved-plan-hash",
    ])
      expect(byId.deploy).toContain(`inputs.${input}`);
  });

  it("deploy.yml: verify is a string the manifest decides when empty; force-unlock and the overlay reach plan and apply", async () => {
    const wf = await load("deploy.yml");
    const inputs = wf.template.events.workflow_call?.inputs ?? {};
    expect(inputs.verify).toMatchObject({ type: "string", default: "" });
    for (const id of ["plan", "apply"]) {
      const raw = text(wf.rawJobs.get(id));
      for (const input of ["vm-runtime", "force-unlock", "admin-public-key"])
        expect(raw).toContain(`inputs.${input}`);
    }
    expect(text(wf.rawJobs.get("apply"))).toContain("inputs.verify-timeout");
    expect(text(wf.rawJobs.get("verify"))).toContain("inputs.verify-timeout");
  });

  it("deploy.yml and pipeline.yml: transport defaults to run-command and reaches the wave gate and the final check; the SSH key is optional", async () => {
    const wf = await load("deploy.yml");
    const call = wf.template.events.workflow_call;
    expect(call?.inputs?.transport).toMatchObject({ type: "string", default: "run-command" });
    const apply = text(wf.rawJobs.get("apply"));
    expect(apply).toContain('{"Key":"transport","Value":{"type":3,"expr":"inputs.transport"}}');
    // Through Run Command the final check is apply's last step, as the operator behind the
    // approval (runCommands/write is root on every claw); over SSH it is the verify job, as the
    // reader of the un-gated jobs.
    // The raw token tree as JSON: a job is a map of {Key, Value}; its steps a sequence.
    type Raw = { map?: { Key: unknown; Value: Raw }[]; seq?: Raw[] };
    const job = JSON.parse(text(wf.rawJobs.get("apply"))) as Raw;
    const steps = job.map?.find((e) => e.Key === "steps")?.Value.seq ?? [];
    const finalCheck = text(steps.find((st) => text(st).includes("openclawps/actions/verify@v1")) ?? "");
    expect(finalCheck).toContain("inputs.transport != 'ssh'");
    expect(finalCheck).toContain('"Value":"run-command"');
    expect(finalCheck).toContain("secrets.AZURE_CLIENT_ID");
    expect(finalCheck).not.toContain("AZURE_READER_CLIENT_ID");
    const verifyJob = text(wf.rawJobs.get("verify"));
    expect(verifyJob).toContain("inputs.transport == 'ssh'");
    expect(verifyJob).toContain('"Value":"ssh"');
    expect(verifyJob).toContain("secrets.AZURE_READER_CLIENT_ID || secrets.AZURE_CLIENT_ID");
    expect(call?.secrets?.CLAW_SSH_PRIVATE_KEY).toMatchObject({ required: false });
    const pipeline = await load("pipeline.yml");
    expect(pipeline.template.events.workflow_call?.inputs?.transport).toMatchObject({
      default: "run-command",
    });
    expect(pipeline.template.events.workflow_call?.secrets?.CLAW_SSH_PRIVATE_KEY).toMatchObject({
      required: false,
    });
    expect(text(pipeline.rawJobs.get("deploy"))).toContain(
      '{"Key":"transport","Value":{"type":3,"expr":"inputs.transport"}}',
    );
  });
});
