import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { LocalAzure, RequestLogEntry } from "@openclawps/local-azure";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AzureContext } from "../src/connect.ts";
import { LroPacing, retryAfterMsOf } from "../src/lro-polling.ts";
import { connectTo, startAzure } from "./local-azure.ts";

const RG = "rg-lro-pacing";
const LOCATION = "westus";
const ASYNC =
  "https://arm.example/subscriptions/s/providers/Microsoft.Network/locations/westus/operations/op-1?api-version=2024-05-01";
const LOCATION_URL =
  "https://arm.example/subscriptions/s/providers/Microsoft.Network/locations/westus/operationResults/op-1?api-version=2024-05-01";

/** Runs one request through the policy with a canned answer. */
async function through(
  pacing: LroPacing,
  method: string,
  url: string,
  status: number,
  headers: Record<string, string>,
): Promise<PipelineResponse> {
  const request = createPipelineRequest({ url, method: method as "GET" });
  return pacing.policy().sendRequest(request, async (req) => ({
    request: req,
    status,
    headers: createHttpHeaders(headers),
  }));
}

describe("LroPacing, one answer at a time", () => {
  it("remembers a write's Retry-After for both status URLs and hides it from the poller", async () => {
    const pacing = new LroPacing();
    const before = Date.now();
    const res = await through(pacing, "PUT", "https://arm.example/pip?api-version=1", 201, {
      "retry-after": "1",
      "retry-after-ms": "300",
      "azure-asyncoperation": ASYNC,
      location: LOCATION_URL,
    });
    const after = Date.now();
    expect(res.headers.has("retry-after")).toBe(false);
    expect(res.headers.has("retry-after-ms")).toBe(false);
    // retry-after-ms wins over the rounded Retry-After.
    for (const url of [ASYNC, LOCATION_URL]) {
      expect(pacing.notBefore(url)).toBeGreaterThanOrEqual(before + 300);
      expect(pacing.notBefore(url)).toBeLessThanOrEqual(after + 300);
    }
  });

  it("leaves a throttled answer's Retry-After to the retry policy", async () => {
    const pacing = new LroPacing();
    const res = await through(pacing, "PUT", "https://arm.example/pip?api-version=1", 429, {
      "retry-after": "7",
      "azure-asyncoperation": ASYNC,
    });
    expect(res.headers.get("retry-after")).toBe("7");
    expect(pacing.notBefore(ASYNC)).toBeUndefined();
  });

  it("leaves a GET of anything but a status URL it was given alone", async () => {
    const pacing = new LroPacing();
    const res = await through(pacing, "GET", ASYNC, 200, { "retry-after": "5" });
    expect(res.headers.get("retry-after")).toBe("5");
    expect(pacing.notBefore(ASYNC)).toBeUndefined();
  });

  it("reads Retry-After in seconds, as an HTTP date, and in milliseconds", () => {
    const now = Date.parse("2026-12-02T10:00:00Z");
    expect(retryAfterMsOf(createHttpHeaders({ "retry-after": "10" }), now)).toBe(10_000);
    expect(retryAfterMsOf(createHttpHeaders({ "retry-after": "Wed, 02 Dec 2026 10:00:04 GMT" }), now)).toBe(
      4_000,
    );
    expect(retryAfterMsOf(createHttpHeaders({ "x-ms-retry-after-ms": "250", "retry-after": "1" }), now)).toBe(
      250,
    );
    expect(retryAfterMsOf(createHttpHeaders({}), now)).toBeUndefined();
  });
});

describe("LroPacing with the SDK's pollers against the local Azure", () => {
  let azure: LocalAzure;

  beforeAll(async () => {
    // A network write runs 15 s in Azure (1.5 s here): long enough for status answers in progress.
    azure = await startAzure({ latencyMs: { "network.write": 15_000 } });
    await connectTo(azure, RG).resources.resourceGroups.createOrUpdate(RG, { location: LOCATION });
  });

  afterEach(() => azure.setTimeScale(0));

  afterAll(async () => {
    await azure?.stop();
  });

  const publicIp = (ctx: AzureContext, name: string, abortSignal?: AbortSignal) =>
    ctx.network.publicIPAddresses.createOrUpdate(
      RG,
      name,
      { location: LOCATION, sku: { name: "Standard" }, properties: { publicIPAllocationMethod: "Static" } },
      { ...ctx.pollFor("network"), ...(abortSignal ? { abortSignal } : {}) },
    );

  /** The write to `name`'s resource and the polls of the status URL its answer named. */
  function polling(since: number, name: string): { write: RequestLogEntry; polls: RequestLogEntry[] } {
    const log = azure.requestLog.filter((e) => e.at >= since);
    const write = log.find((e) => e.method === "PUT" && e.path.endsWith(`/${name}`));
    if (!write?.statusPath) throw new Error(`no accepted write to ${name} in the log`);
    const polls = log.filter((e) => e.polling && e.path.toLowerCase() === write.statusPath!.toLowerCase());
    return { write, polls };
  }

  it("sends no poll before the time ARM's Retry-After names, though the poller's own interval is 0", async () => {
    azure.setTimeScale(0.1); // ARM's 3 s on the create is 300 ms, its 10 s in progress 1 s
    const ctx = connectTo(azure, RG); // pollIntervalMs 0: the poller alone would poll at once
    const since = Date.now();
    const pip = await publicIp(ctx, "pace-pip");
    expect(pip.properties?.provisioningState).toBe("Succeeded");
    const { write, polls } = polling(since, "pace-pip");
    expect(write.retryAfterMs).toBe(300);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    // Each poll arrived no earlier than the answer before it asked.
    let previous = write;
    for (const poll of polls) {
      expect(poll.at).toBeGreaterThanOrEqual(previous.at + (previous.retryAfterMs ?? 0));
      previous = poll;
    }
    expect(polls.at(-2)?.retryAfterMs).toBe(1000);
    expect(ctx.pacing.held.polls).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("polls at the kind's fallback interval when ARM sends no Retry-After (disks)", async () => {
    azure.setTimeScale(0.1); // a disk write takes 5 s in Azure, 500 ms here, and ARM sends no pace
    const ctx = connectTo(azure, RG, { pollIntervalMs: 20_000 }); // disks: 2 s
    await ctx.compute.disks.createOrUpdate(
      RG,
      "pace-disk",
      { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 4 },
      // At the VM's 20 s the poller would still be waiting when this deadline comes.
      { ...ctx.pollFor("disk"), abortSignal: AbortSignal.timeout(15_000) },
    );
    const log = azure.requestLog;
    const write = log.findLast((e) => e.method === "PUT" && e.path.endsWith("/pace-disk"))!;
    const polls = log.filter((e) => e.polling && e.at >= write.at && e.path === write.statusPath);
    expect(write.retryAfterMs).toBeUndefined();
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.every((p) => p.retryAfterMs === undefined)).toBe(true);
    // Not at once (the hint-less answer left the poller its own interval), and nothing held.
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(ctx.pacing.held.polls).toBe(0);
  }, 60_000);

  it("rejects with the SDK's AbortError when the operation is aborted while a poll is held", async () => {
    azure.setTimeScale(1); // the create's first poll is held for 3 s
    const ctx = connectTo(azure, RG);
    const abort = new AbortController();
    const since = Date.now();
    const created = publicIp(ctx, "held-pip", abort.signal);
    const outcome = created.then(
      () => "resolved",
      (err: unknown) => err,
    );
    while (ctx.pacing.held.polls === 0) {
      if ((await Promise.race([outcome, new Promise((r) => setTimeout(r, 20, "waiting"))])) !== "waiting")
        break;
    }
    abort.abort();
    const err = await outcome;
    expect((err as Error).name).toBe("AbortError");
    expect(polling(since, "held-pip").polls).toEqual([]);
  }, 60_000);
});
