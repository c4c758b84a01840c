// Managed Run Command without guests, through the real SDK: no VM has an agent, so a Run Command
// fails the way it does on a VM whose agent never reports; a VM that is not running refuses it.
// (With guests, scripts really run: guests.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tailBytes } from "../src/providers/run-commands.ts";
import { type Clients, createClaw, createFleetBase, NOW, startWithClients } from "./harness.ts";

const RG = "runcmd-rg";
const SCRIPT = { location: "westus", source: { script: "echo hi" }, timeoutInSeconds: 60 };

describe("Run Command without guests", () => {
  let c: Clients;

  beforeAll(async () => {
    c = await startWithClients();
    const base = await createFleetBase(c, RG, ["1.0.0"]);
    await createClaw(c, RG, "alice", base);
    await createClaw(c, RG, "bob", base);
    await c.compute.virtualMachines.deallocate(RG, "bob", NOW);
  }, 60_000);

  afterAll(async () => {
    await c?.azure.stop();
  });

  it("reports a running VM's agent Not Ready, and none for a deallocated VM", async () => {
    const alice = await c.compute.virtualMachines.instanceView(RG, "alice");
    expect(alice.vmAgent?.statuses?.[0]).toMatchObject({
      displayStatus: "Not Ready",
      code: "ProvisioningState/Unavailable",
    });
    const bob = await c.compute.virtualMachines.instanceView(RG, "bob");
    expect(bob.vmAgent).toBeUndefined();
  });

  it("accepts a Run Command whose operation then fails with VMAgentStatusCommunicationError", async () => {
    const err = await c.compute.virtualMachineRunCommands
      .createOrUpdate(RG, "alice", "verify", SCRIPT, NOW)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).toMatch(/VMAgentStatusCommunicationError/);
    expect(err?.message).toMatch(/VM 'alice' has not reported status for VM agent or extensions/);
    const rc = await c.compute.virtualMachineRunCommands.getByVirtualMachine(RG, "alice", "verify", {
      expand: "instanceView",
    });
    expect(rc.provisioningState).toBe("Failed");
    expect(rc.instanceView?.executionState).toBe("Unknown");
    expect(c.azure.requestLog.find((e) => e.method === "PUT" && /runCommands/.test(e.path))).toMatchObject({
      operation: "virtualMachineRunCommands.createOrUpdate",
      action: "Microsoft.Compute/virtualMachines/runCommands/write",
      status: 201,
    });
  });

  it("refuses a Run Command on a VM that is not running with 409 OperationNotAllowed", async () => {
    const err = await c.compute.virtualMachineRunCommands
      .createOrUpdate(RG, "bob", "verify", SCRIPT, NOW)
      .then(
        () => undefined,
        (e: Error & { statusCode?: number; code?: string }) => e,
      );
    expect(err?.statusCode).toBe(409);
    expect(err?.code).toBe("OperationNotAllowed");
    expect(err?.message).toBe("Cannot modify extensions in the VM when the VM is not running.");
  });

  it("refuses a source that is not exactly one inline script", async () => {
    const none = await c.compute.virtualMachineRunCommands
      .createOrUpdate(RG, "alice", "x", { location: "westus", source: {} }, NOW)
      .then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
    expect(none?.code).toBe("InvalidParameter");
  });

  it("never returns protected parameters, and deletes a Run Command", async () => {
    await c.compute.virtualMachineRunCommands
      .createOrUpdate(
        RG,
        "alice",
        "secret",
        { ...SCRIPT, protectedParameters: [{ name: "TOKEN", value: "s3cret" }] },
        NOW,
      )
      .catch(() => undefined);
    const rc = await c.compute.virtualMachineRunCommands.getByVirtualMachine(RG, "alice", "secret");
    expect(JSON.stringify(rc)).not.toContain("s3cret");
    await c.compute.virtualMachineRunCommands.delete(RG, "alice", "secret", NOW);
    const names: string[] = [];
    for await (const r of c.compute.virtualMachineRunCommands.listByVirtualMachine(RG, "alice"))
      names.push(r.name!);
    expect(names).not.toContain("secret");
  });

  it("keeps the last 4,096 bytes of output, as Run Command does", () => {
    const text = `${"a".repeat(5000)}END`;
    const kept = tailBytes(text);
    expect(Buffer.byteLength(kept)).toBe(4096);
    expect(kept.endsWith("END")).toBe(true);
    expect(tailBytes("short")).toBe("short");
  });
});
