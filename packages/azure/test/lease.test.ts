import type { PipelinePolicy } from "@azure/core-rest-pipeline";
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

/**
 * Lets the two clients' resource group requests through in `order` ("A" or "B" per request),
 * one at a time, then freely: an interleaving of two runs taking the lease, made deterministic.
 */
function interleave(order: ("A" | "B")[]) {
  let turn = 0;
  const waiting: (() => void)[] = [];
  return (label: "A" | "B"): PipelinePolicy => ({
    name: `turn-${label}`,
    async sendRequest(request, next) {
      if (!/\/resourcegroups\//i.test(request.url)) return next(request);
      while (turn < order.length && order[turn] !== label) await new Promise<void>((r) => waiting.push(r));
      try {
        return await next(request);
      } finally {
        turn++;
        for (const w of waiting.splice(0)) w();
      }
    },
  });
}

describe("AzureFleetLease taken by two runs at once", () => {
  // The interleaving in which "read it free, write it, read it back" let both runs in:
  // A.get, B.get, A.update, A.get, B.update, B.get.
  for (const order of [
    ["A", "B", "A", "A", "B", "B"],
    ["B", "A", "B", "B", "A", "A"],
    ["A", "B", "B", "A", "A", "B"],
  ] as ("A" | "B")[][]) {
    it(`lets at most one in when their requests go ${order.join(", ")}`, async () => {
      const rg = `rg-race-${order.join("").toLowerCase()}`;
      await connectTo(azure, rg).resources.resourceGroups.createOrUpdate(rg, {
        location: "westus",
        tags: { project: "openclawps" },
      });
      const policy = interleave(order);
      const run = (label: "A" | "B") =>
        new AzureFleetLease(connectTo(azure, rg, { additionalPolicies: [policy(label)] }), {
          now: () => clock,
        }).acquire(`run-${label.toLowerCase()}`, 600, false);
      const [a, b] = await Promise.allSettled([run("A"), run("B")]);
      const winners = [a, b].filter((r) => r.status === "fulfilled");
      expect(winners.length).toBeLessThanOrEqual(1);
      const tags = await rgTags(rg);
      for (const [r, label] of [
        [a, "a"],
        [b, "b"],
      ] as const) {
        if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LeaseHeldError);
        else expect(tags[TAGS.lease]).toMatch(new RegExp(`^run-${label};`));
      }
      if (winners.length === 0) expect(tags[TAGS.lease]).toBeUndefined();
      // No run leaves its claim behind.
      expect(Object.keys(tags).filter((k) => k.startsWith(TAGS.leaseClaim))).toEqual([]);
      expect(tags.project).toBe("openclawps");
    });
  }

  it("is taken by the next run once the two are done, and its holder's release leaves another run's lease alone", async () => {
    // In the interleaving the run that read second withdrew: A holds the lease.
    const rg = "rg-race-abaabb";
    expect((await rgTags(rg))[TAGS.lease]).toMatch(/^run-a;/);
    await lease(rg).release("run-b");
    expect((await rgTags(rg))[TAGS.lease]).toMatch(/^run-a;/);
    await lease(rg).release("run-a");
    await lease(rg).acquire("run-c", 600, false);
    expect((await rgTags(rg))[TAGS.lease]).toMatch(/^run-c;/);
  });
});
