// The Run Command channel against the local Azure without guests: no VM has an agent there, so
// these are the paths where the command cannot run (the script's own run is in the guests e2e
// tests of deploy-fleet and in local-azure's guests test).
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommandChannel, VERIFY_RUN_COMMAND_NAME, vmAgentState } from "../src/run-command.ts";
import { connectTo, startAzure } from "./local-azure.ts";

const RG = "rg-runcmd";
let azure: LocalAzure;

beforeAll(async () => {
  azure = await startAzure();
  await azure.seedGalleryVersions(RG, "g", "img", ["1.0.0"], "westus");
  const imageId = `/subscriptions/${azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/galleries/g/images/img/versions/1.0.0`;
  await azure.seedVirtualMachines(RG, ["alice", "bob"], { imageId, dataDiskSizeGB: 0, publicIp: false });
}, 60_000);
afterAll(async () => {
  await azure?.stop();
});

describe("Run Command channel", () => {
  it("reads the power state and the VM agent's status from the instance view", async () => {
    const ctx = connectTo(azure, RG);
    expect(await vmAgentState(ctx, "alice")).toEqual({
      power: "running",
      agentReady: false,
      agentStatus: "Not Ready: VM status blob is found but not yet populated.",
    });
  });

  it("reports an agent that never answers as agent-not-ready, under the one fixed Run Command name", async () => {
    const ctx = connectTo(azure, RG);
    const channel = runCommandChannel(ctx);
    const result = await channel.run({ vm: "alice" }, "echo hi", 60);
    expect(result).toMatchObject({ ok: false, kind: "agent-not-ready" });
    if (!result.ok) expect(result.message).toMatch(/VMAgentStatusCommunicationError|has not reported status/);
    const put = azure.requestLog.find((e) => e.method === "PUT" && e.path.includes("/runCommands/"));
    expect(put?.path).toMatch(new RegExp(`/virtualMachines/alice/runCommands/${VERIFY_RUN_COMMAND_NAME}$`));
  });

  it("reports a deallocated VM as vm-not-running", async () => {
    const ctx = connectTo(azure, RG);
    await ctx.compute.virtualMachines.deallocate(RG, "bob", ctx.poll);
    const channel = runCommandChannel(ctx);
    expect(await channel.agentState({ vm: "bob" })).toMatchObject({
      power: "deallocated",
      agentReady: false,
    });
    const result = await channel.run({ vm: "bob" }, "echo hi", 60);
    expect(result).toMatchObject({ ok: false, kind: "vm-not-running" });
  });

  it("names the missing permission when the role lacks runCommands/write", async () => {
    const ctx = connectTo(azure, RG);
    azure.setAllowedActions(["Microsoft.Compute/virtualMachines/read"]);
    try {
      const result = await runCommandChannel(ctx, { clientId: azure.clientId }).run(
        { vm: "alice" },
        "true",
        60,
      );
      expect(result).toMatchObject({ ok: false, kind: "arm-error" });
      if (!result.ok)
        expect(result.message).toMatch(/Microsoft\.Compute\/virtualMachines\/runCommands\/write/);
    } finally {
      azure.setAllowedActions(undefined);
    }
  });
});
