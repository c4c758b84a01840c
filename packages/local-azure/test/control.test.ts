// Throttling, faults, latency: what Azure does on a bad day, made to happen on demand.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Clients,
  createClaw,
  createFleetBase,
  LOCATION,
  NOW,
  powerState,
  startWithClients,
} from "./harness.ts";

let c: Clients;
const RG = "rg-control";
let base: Awaited<ReturnType<typeof createFleetBase>>;

beforeAll(async () => {
  c = await startWithClients();
  base = await createFleetBase(c, RG);
  await createClaw(c, RG, "alice", base);
});

afterAll(async () => {
  await c.azure.stop();
});

afterEach(() => {
  c.azure.clearFaults();
  c.azure.setThrottling(false);
  c.azure.setTimeScale(0);
});

describe("throttling", () => {
  it("answers 429 with Retry-After when the subscription read bucket is empty, and the SDK retries after it", async () => {
    c.azure.setThrottling({ subscriptionReads: { burst: 2, perSecond: 1 } });
    const start = Date.now();
    for (let i = 0; i < 3; i++) await c.compute.virtualMachines.get(RG, "alice");
    const entries = c.azure.requestLog.filter((e) => e.at >= start && e.operation === "virtualMachines.get");
    const throttled = entries.find((e) => e.status === 429);
    expect(throttled?.errorCode).toBe("SubscriptionRequestsThrottled");
    const retry = entries[entries.indexOf(throttled!) + 1];
    expect(retry?.status).toBe(200);
    // Retry-After was 1 second: the SDK waited at least that long before retrying.
    expect(retry!.at - throttled!.at).toBeGreaterThanOrEqual(900);
  });

  it("sends x-ms-ratelimit-remaining headers with each answer", async () => {
    c.azure.setThrottling(true);
    const { token } = await c.azure.staticCredential().getToken();
    const res = await fetch(
      `${c.azure.armEndpoint}/subscriptions/${c.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/alice?api-version=2025-04-01`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(res.status).toBe(200);
    expect(Number(res.headers.get("x-ms-ratelimit-remaining-subscription-reads"))).toBe(249);
  });

  it("refills its buckets at the time scale, as every Azure duration", async () => {
    c.azure.setThrottling({ subscriptionReads: { burst: 5, perSecond: 1 } });
    c.azure.setTimeScale(0.01); // one Azure second passes in 10 ms
    const { token } = await c.azure.staticCredential().getToken();
    const read = async () =>
      Number(
        (
          await fetch(
            `${c.azure.armEndpoint}/subscriptions/${c.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.Compute/virtualMachines/alice?api-version=2025-04-01`,
            { headers: { authorization: `Bearer ${token}` } },
          )
        ).headers.get("x-ms-ratelimit-remaining-subscription-reads"),
      );
    await read();
    await read();
    await read();
    // 300 ms are 30 Azure seconds: the bucket is full again (in Azure's own time it would hold 2).
    await new Promise((r) => setTimeout(r, 300));
    expect(await read()).toBe(4);
  });

  it("throttles writes to one VM with Compute's per-VM bucket", async () => {
    c.azure.setThrottling({ vmWrites: { burst: 1, perSecond: 1 } });
    const start = Date.now();
    await c.compute.virtualMachines.update(RG, "alice", { tags: { a: "1" } }, NOW);
    await c.compute.virtualMachines.update(RG, "alice", { tags: { a: "2" } }, NOW);
    const updates = c.azure.requestLog.filter(
      (e) => e.at >= start && e.operation === "virtualMachines.update",
    );
    expect(updates.map((e) => e.status)).toEqual([200, 429, 200]);
    expect((await c.compute.virtualMachines.get(RG, "alice")).tags).toEqual({ a: "2" });
  });
});

describe("faults", () => {
  it("fails the Nth matching request with the given status and code", async () => {
    c.azure.injectFault({
      operation: "disks.get",
      nth: 2,
      status: 409,
      code: "Conflict",
      message: "injected",
    });
    await expect(c.compute.disks.get(RG, "alice-data")).resolves.toMatchObject({ name: "alice-data" });
    await expect(c.compute.disks.get(RG, "alice-data")).rejects.toMatchObject({
      statusCode: 409,
      code: "Conflict",
      message: "injected",
    });
    await expect(c.compute.disks.get(RG, "alice-data")).resolves.toMatchObject({ name: "alice-data" });
  });

  it("lets the SDK retry a transient 500 by itself", async () => {
    c.azure.injectFault({ operation: "virtualMachines.get", status: 500 });
    const start = Date.now();
    await expect(c.compute.virtualMachines.get(RG, "alice")).resolves.toMatchObject({ name: "alice" });
    const statuses = c.azure.requestLog
      .filter((e) => e.at >= start && e.operation === "virtualMachines.get")
      .map((e) => e.status);
    expect(statuses).toEqual([500, 200]);
  });

  it("fails a long-running operation at the end: the SDK throws 'The long-running operation has failed'", async () => {
    c.azure.injectFault({
      operation: "virtualMachines.deallocate",
      mode: "lro-fail",
      code: "OSProvisioningInternalError",
      message: "guest agent did not respond",
    });
    await expect(c.compute.virtualMachines.deallocate(RG, "alice", NOW)).rejects.toThrow(
      /The long-running operation has failed/,
    );
    const view = await c.compute.virtualMachines.instanceView(RG, "alice");
    expect(powerState(view.statuses)).toBe("PowerState/running");
  });

  it("leaves a VM whose creation failed in provisioningState Failed, holding its disk", async () => {
    const pip = await c.network.publicIPAddresses.get(RG, "alice-pip");
    expect(pip).toBeDefined();
    c.azure.injectFault({
      operation: "virtualMachines.createOrUpdate",
      mode: "lro-fail",
      code: "OSProvisioningTimedOut",
      message: "OS Provisioning did not finish in the allotted time.",
    });
    await expect(createClaw(c, RG, "bob", base)).rejects.toThrow(/The long-running operation has failed/);
    const vm = await c.compute.virtualMachines.get(RG, "bob", { expand: "instanceView" });
    expect(vm.provisioningState).toBe("Failed");
    expect(vm.instanceView?.statuses?.[0]?.code).toBe("ProvisioningState/failed/OSProvisioningTimedOut");
    expect((await c.compute.disks.get(RG, "bob-data")).managedBy).toBe(vm.id);
  });

  it("hangs a request until the caller gives up", async () => {
    c.azure.injectFault({ operation: "virtualMachines.get", mode: "hang" });
    await expect(
      c.compute.virtualMachines.get(RG, "alice", { abortSignal: AbortSignal.timeout(300) }),
    ).rejects.toThrow(/abort/i);
  });

  it("keeps a long-running operation in progress forever with lro-hang", async () => {
    c.azure.injectFault({ operation: "virtualMachines.start", mode: "lro-hang" });
    const poller = c.compute.virtualMachines.start(RG, "alice", {
      updateIntervalInMs: 10,
      abortSignal: AbortSignal.timeout(300),
    });
    await expect(poller).rejects.toThrow(/abort/i);
    expect(
      c.azure.state().operations.some((o) => o.completion === "vm.start" && o.status === "InProgress"),
    ).toBe(true);
  });

  it("matches faults by method and path as well as by operation", async () => {
    c.azure.injectFault({
      method: "GET",
      path: /\/networkInterfaces\/alice-nic$/,
      status: 404,
      code: "NotFound",
      message: "gone",
    });
    await expect(c.network.networkInterfaces.get(RG, "alice-nic")).rejects.toMatchObject({
      statusCode: 404,
      message: "gone",
    });
  });
});

describe("latency", () => {
  it("keeps an operation in progress for its Azure duration times the time scale", async () => {
    c.azure.setTimeScale(0.002); // VM deallocation (60 s in Azure) takes 120 ms
    const start = Date.now();
    await c.compute.virtualMachines.deallocate(RG, "alice", { updateIntervalInMs: 20 });
    const polls = c.azure.requestLog.filter((e) => e.at >= start && e.operation === "operations.get");
    // The first poll found it still running; the poller had to come back.
    expect(polls.length).toBeGreaterThan(1);
    const op = c.azure
      .state()
      .operations.find(
        (o) =>
          o.completion === "vm.deallocate" &&
          o.status === "Succeeded" &&
          Date.parse(o.startTime) >= start - 5,
      );
    expect(op).toBeDefined();
    expect(Date.parse(op!.endTime!) - Date.parse(op!.startTime)).toBeGreaterThanOrEqual(120);
  });

  it("paces operations with Retry-After as ARM does, scaled, with retry-after-ms when the scaled hint is not whole seconds", async () => {
    const { token } = await c.azure.staticCredential().getToken();
    const arm = (path: string, method = "GET", body?: unknown) =>
      fetch(
        path.startsWith("http")
          ? path
          : `${c.azure.armEndpoint}/subscriptions/${c.azure.subscriptionId}/resourceGroups/${RG}/providers/${path}`,
        {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body ? { body: JSON.stringify(body) } : {}),
        },
      );
    const pace = (res: Response) => res.headers.get("retry-after");
    const paceMs = (res: Response) => res.headers.get("retry-after-ms");

    // Instant (the tests' default scale): no hint at all.
    const instant = await arm(
      `Microsoft.Network/publicIPAddresses/alice-pip?api-version=2024-05-01`,
      "PATCH",
      { tags: { p: "1" } },
    );
    expect(pace(instant)).toBeNull();
    expect(paceMs(instant)).toBeNull();

    c.azure.setTimeScale(0.1);
    // Microsoft.Network: 3 s on the create (0.3 s: in milliseconds, and 1 s rounded), 10 s while in progress.
    const ip = await arm(`Microsoft.Network/publicIPAddresses/pace-pip?api-version=2024-05-01`, "PUT", {
      location: LOCATION,
      sku: { name: "Standard" },
      properties: { publicIPAllocationMethod: "Static" },
    });
    expect(ip.status).toBe(201);
    expect(paceMs(ip)).toBe("300");
    expect(pace(ip)).toBe("1");
    const ipStatus = await arm(ip.headers.get("azure-asyncoperation")!);
    expect(((await ipStatus.json()) as { status: string }).status).toBe("InProgress");
    expect(pace(ipStatus)).toBe("1");
    expect(paceMs(ipStatus)).toBeNull();
    // The request log records the hint and, on the accepting answer, the status path polled.
    const logged = c.azure.requestLog.filter((e) => e.path.includes("pace-pip") && e.method === "PUT");
    expect(logged.at(-1)).toMatchObject({
      retryAfterMs: 300,
      statusPath: new URL(ip.headers.get("azure-asyncoperation")!).pathname,
    });
    const poll = c.azure.requestLog.filter((e) => e.polling).at(-1);
    expect(poll).toMatchObject({
      retryAfterMs: 1000,
      path: new URL(ip.headers.get("azure-asyncoperation")!).pathname,
    });

    // Microsoft.Compute VMs: 10 s on the accepting answer.
    const stop = await arm(
      `Microsoft.Compute/virtualMachines/alice/deallocate?api-version=2025-04-01`,
      "POST",
    );
    expect(stop.status).toBe(202);
    expect(pace(stop)).toBe("1");
    const vmStatus = await arm(stop.headers.get("azure-asyncoperation")!);
    expect(pace(vmStatus)).toBeNull();

    // Microsoft.Compute disks: never.
    const disk = await arm(`Microsoft.Compute/disks/alice-data?api-version=2025-01-02`, "PATCH", {
      tags: { p: "1" },
    });
    expect(disk.status).toBe(202);
    expect(pace(disk)).toBeNull();
    expect(pace(await arm(disk.headers.get("azure-asyncoperation")!))).toBeNull();
  });
});
