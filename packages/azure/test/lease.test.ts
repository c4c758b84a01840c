import { TAGS } from "@openclawps/fleet-model";
import type { LocalAzure } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureFleetLease, LeaseHeldError, LeaseLostError } from "../src/lease.ts";
import { connectTo, startAzure } from "./local-azure.ts";

let azure: LocalAzure;
let clock = new Date("2026-01-01T00:00:00Z");

beforeAll(async () => {
  azure = await startAzure();
});
afterAll(async () => {
  await azure?.stop();
});

function lease(rg: string) {
  return new AzureFleetLease(connectTo(azure, rg), {
    createResourceGroup: { location: "westus", tags: { project: "openclawps" } },
    now: () => clock,
  });
}

async function rgTags(rg: string) {
  return (await connectTo(azure, rg).resources.resourceGroups.get(rg)).tags ?? {};
}

describe("AzureFleetLease", () => {
  it("creates the resource group with the lease when the fleet has none yet", async () => {
    await lease("rg-lease").acquire("run-a", 600, false);
    expect(await rgTags("rg-lease")).toEqual({
      project: "openclawps",
      [TAGS.lease]: "run-a;2026-01-01T00:10:00.000Z",
    });
  });

  it("refuses a second run while the first holds it, naming the holder, the expiry and force-unlock", async () => {
    const err = await lease("rg-lease")
      .acquire("run-b", 600, false)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseHeldError);
    expect((err as Error).message).toContain("run run-a");
    expect((err as Error).message).toContain("until 2026-01-01T00:10:00.000Z");
    expect((err as Error).message).toContain("force-unlock: true");
    expect((await rgTags("rg-lease"))[TAGS.lease]).toMatch(/^run-a;/);
  });

  it("calls an expired lease stale and still refuses it without force", async () => {
    clock = new Date("2026-01-01T01:00:00Z");
    const err = await lease("rg-lease")
      .acquire("run-b", 600, false)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /stale rollout lease from run run-a \(expired 2026-01-01T00:10:00\.000Z\)/,
    );
  });

  it("lets force-unlock take it over, after which the old holder can neither renew nor release it", async () => {
    await lease("rg-lease").acquire("run-b", 600, true);
    expect((await rgTags("rg-lease"))[TAGS.lease]).toBe("run-b;2026-01-01T01:10:00.000Z");
    await expect(lease("rg-lease").renew("run-a", 600)).rejects.toBeInstanceOf(LeaseLostError);
    await lease("rg-lease").release("run-a");
    expect((await rgTags("rg-lease"))[TAGS.lease]).toMatch(/^run-b;/);
  });

  it("renews for its holder and releases without touching other tags", async () => {
    clock = new Date("2026-01-01T01:05:00Z");
    await lease("rg-lease").renew("run-b", 600);
    expect((await rgTags("rg-lease"))[TAGS.lease]).toBe("run-b;2026-01-01T01:15:00.000Z");
    await lease("rg-lease").release("run-b");
    expect(await rgTags("rg-lease")).toEqual({ project: "openclawps" });
  });
});
