// The adapter's own Microsoft.Network client against the local Azure over HTTPS: the requests it
// sends are the ones @azure/arm-network 39 sends, it pages to the end, it follows long-running
// operations as ARM asks, and its failures carry ARM's status and code as callers read them.
import type { LocalAzure, RequestLogEntry } from "@openclawps/local-azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIfExists, listAll } from "../src/arm-read.ts";
import { azureErrorCode, describeAzureError, isNotFound } from "../src/azure-error.ts";
import { nicBody, publicIpBody } from "../src/claw-resources.ts";
import type { AzureContext } from "../src/connect.ts";
import { NETWORK_API_VERSION, type PublicIpAddress, primaryIpConfiguration } from "../src/network-client.ts";
import { claw, fleet } from "./fixtures.ts";
import { connectTo, failure, sdkNetwork, startAzure } from "./local-azure.ts";

const RG = "rg-netclient";
const LOCATION = "westus";

let azure: LocalAzure;
let ctx: AzureContext;

beforeAll(async () => {
  // Two items a page, so a list of five takes three pages.
  azure = await startAzure({ pageSize: 2 });
  ctx = connectTo(azure, RG);
  await ctx.resources.resourceGroups.createOrUpdate(RG, { location: LOCATION });
});
afterAll(async () => {
  await azure?.stop();
});

const desired = fleet([], { resourceGroup: RG });

/** A claw's public IP as apply creates it (claw-resources.ts), named `name`. */
const publicIp = (name: string): Promise<PublicIpAddress> =>
  ctx.network.publicIPAddresses.createOrUpdate(
    RG,
    name,
    publicIpBody(desired, claw(name)),
    ctx.pollFor("network"),
  );

/** Where the request log stands now (its entries arrive in order; timestamps may tie). */
const mark = (): number => azure.requestLog.length;

/** The ARM requests logged after `mark`. */
function logSince(at: number): RequestLogEntry[] {
  return azure.requestLog.slice(at).filter((e) => e.service === "arm");
}

describe("NetworkClient", () => {
  it("sends the request @azure/arm-network 39 sends for a get and a list, api-version included", async () => {
    await publicIp("same-pip");
    const sdk = sdkNetwork(ctx);
    const request = async (fn: () => Promise<unknown>) => {
      const since = mark();
      await fn();
      return logSince(since).map((e) => `${e.method} ${e.path}?${e.query}`);
    };
    const drain = async (items: AsyncIterable<unknown>) => {
      for await (const _ of items);
    };
    const ours = await request(() => ctx.network.publicIPAddresses.get(RG, "same-pip"));
    expect(ours).toEqual(await request(() => sdk.publicIPAddresses.get(RG, "same-pip")));
    expect(ours[0]).toContain(`api-version=${NETWORK_API_VERSION}`);
    const ourList = await request(() => drain(ctx.network.networkInterfaces.list(RG)));
    expect(ourList).toEqual(await request(() => drain(sdk.networkInterfaces.list(RG))));
  });

  it("follows nextLink to the last page of a list", async () => {
    await Promise.all(["page-a", "page-b", "page-c", "page-d"].map(publicIp));
    const since = mark();
    const names = (await listAll(ctx.network.publicIPAddresses.list(RG))).map((p) => p.name);
    expect(names.sort()).toEqual(["page-a", "page-b", "page-c", "page-d", "same-pip"]);
    const pages = logSince(since).filter((e) => e.operation === "publicIPAddresses.list");
    expect(pages).toHaveLength(3);
    expect(pages.every((e) => e.query.includes(`api-version=${NETWORK_API_VERSION}`))).toBe(true);
  });

  it("follows no link to a host other than the one that answered: the ARM token would go with it", async () => {
    // This client talks to https://localhost:PORT; the local Azure names itself 127.0.0.1 in
    // every link it gives (nextLink, Azure-AsyncOperation): the same server, another origin.
    const elsewhere = connectTo(azure, RG, {
      armEndpoint: azure.armEndpoint.replace("127.0.0.1", "localhost"),
    });
    const since = mark();
    const listed = listAll(elsewhere.network.publicIPAddresses.list(RG));
    await expect(listed).rejects.toThrow(
      /^Azure answered with a nextLink on https:\/\/127\.0\.0\.1:\d+, not on https:\/\/localhost:\d+, which answered: not followed/,
    );
    expect(logSince(since).filter((e) => e.operation === "publicIPAddresses.list")).toHaveLength(1);

    const created = elsewhere.network.publicIPAddresses.createOrUpdate(
      RG,
      "elsewhere-pip",
      publicIpBody(desired, claw("elsewhere-pip")),
      elsewhere.pollFor("network"),
    );
    await expect(created).rejects.toThrow(
      /^Azure answered with a status URL on https:\/\/127\.0\.0\.1:\d+, not on/,
    );
    // The PUT was sent; no status request followed it.
    const sent = logSince(since).map((e) => `${e.method} ${e.operation}`);
    expect(sent.filter((e) => e.startsWith("PUT "))).toHaveLength(1);
    expect(sent.filter((e) => e.startsWith("GET ") && !e.endsWith(".list"))).toEqual([]);
  });

  it("creates each resource type through its Azure-AsyncOperation and returns it as ARM does, as the SDK reads it", async () => {
    const since = mark();
    const vnet = await ctx.network.virtualNetworks.createOrUpdate(
      RG,
      "lro-vnet",
      {
        location: LOCATION,
        properties: {
          addressSpace: { addressPrefixes: ["10.8.0.0/16"] },
          subnets: [{ name: "default", properties: { addressPrefix: "10.8.0.0/24" } }],
        },
      },
      ctx.pollFor("network"),
    );
    const subnet = await ctx.network.subnets.createOrUpdate(
      RG,
      "lro-vnet",
      "second",
      { properties: { addressPrefix: "10.8.1.0/24" } },
      ctx.pollFor("network"),
    );
    const nsg = await ctx.network.networkSecurityGroups.createOrUpdate(
      RG,
      "lro-nsg",
      { location: LOCATION, properties: { securityRules: [] } },
      ctx.pollFor("network"),
    );
    const pip = await publicIp("lro-pip");
    const nic = await ctx.network.networkInterfaces.createOrUpdate(
      RG,
      "lro-nic",
      nicBody(desired, claw("lro"), { subnetId: subnet.id!, publicIpId: pip.id!, nsgId: nsg.id! }),
      ctx.pollFor("network"),
    );

    // Each PUT was accepted with a status URL (Azure-AsyncOperation), polled to the end, and the
    // resource read once more: what core-lro does with the SDK's resourceLocationConfig.
    const log = logSince(since);
    const puts = log.filter((e) => e.method === "PUT");
    expect(puts.map((e) => e.operation)).toEqual([
      "virtualNetworks.createOrUpdate",
      "subnets.createOrUpdate",
      "networkSecurityGroups.createOrUpdate",
      "publicIPAddresses.createOrUpdate",
      "networkInterfaces.createOrUpdate",
    ]);
    for (const put of puts) {
      expect(put.statusPath).toMatch(/\/providers\/Microsoft\.Network\/locations\/westus\/operations\//i);
      const after = log.slice(log.indexOf(put) + 1);
      const poll = after.findIndex(
        (e) => e.polling && e.path.toLowerCase() === put.statusPath?.toLowerCase(),
      );
      expect(poll).toBeGreaterThanOrEqual(0);
      expect(after.slice(poll + 1).some((e) => e.method === "GET" && !e.polling && e.path === put.path)).toBe(
        true,
      );
    }

    for (const r of [vnet, subnet, nsg, pip, nic]) expect(r.properties?.provisioningState).toBe("Succeeded");
    expect(vnet.properties?.subnets?.map((s) => s.name)).toEqual(["default"]);
    expect(pip.properties?.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(primaryIpConfiguration(nic)?.publicIPAddress?.id).toBe(pip.id);

    // The real SDK reads the same resources the same way.
    const sdk = sdkNetwork(ctx);
    expect((await sdk.publicIPAddresses.get(RG, "lro-pip")).ipAddress).toBe(pip.properties?.ipAddress);
    const sdkNic = await sdk.networkInterfaces.get(RG, "lro-nic");
    expect(sdkNic.ipConfigurations?.[0]?.publicIPAddress?.id).toBe(pip.id);
    expect(sdkNic.ipConfigurations?.[0]?.subnet?.id).toBe(subnet.id);
    expect(sdkNic.networkSecurityGroup?.id).toBe(nsg.id);
    expect((await sdk.virtualNetworks.get(RG, "lro-vnet")).subnets?.map((s) => s.name).sort()).toEqual([
      "default",
      "second",
    ]);
  });

  it("replaces the tag set with one synchronous PATCH", async () => {
    await publicIp("tag-pip");
    const since = mark();
    const tagged = await ctx.network.publicIPAddresses.updateTags(RG, "tag-pip", { tags: { owner: "ops" } });
    expect(tagged.tags).toEqual({ owner: "ops" });
    expect(logSince(since).map((e) => e.operation)).toEqual(["publicIPAddresses.updateTags"]);
    expect((await ctx.network.publicIPAddresses.get(RG, "tag-pip")).tags).toEqual({ owner: "ops" });
  });

  it("deletes through the operation's status URL, and a delete of what is gone succeeds at once", async () => {
    await publicIp("gone-pip");
    const since = mark();
    await ctx.network.publicIPAddresses.delete(RG, "gone-pip", ctx.pollFor("network"));
    const log = logSince(since);
    const del = log.find((e) => e.method === "DELETE");
    expect(del?.status).toBe(202);
    expect(log.some((e) => e.polling && e.path.toLowerCase() === del?.statusPath?.toLowerCase())).toBe(true);
    expect(await getIfExists(ctx.network.publicIPAddresses.get(RG, "gone-pip"))).toBeUndefined();

    const again = mark();
    await ctx.network.publicIPAddresses.delete(RG, "gone-pip", ctx.pollFor("network"));
    expect(logSince(again).map((e) => [e.method, e.status])).toEqual([["DELETE", 204]]);
  });

  it("fails with ARM's status, code and message, so a missing resource reads as absent", async () => {
    const missing = await failure(ctx.network.networkInterfaces.get(RG, "no-such-nic"));
    expect(missing).toMatchObject({ name: "RestError", statusCode: 404, code: "ResourceNotFound" });
    expect((missing as Error).message).toContain("no-such-nic");
    expect(isNotFound(missing)).toBe(true);
    expect(await getIfExists(ctx.network.networkInterfaces.get(RG, "no-such-nic"))).toBeUndefined();

    // A list under a resource group that does not exist: empty for a fleet not yet applied...
    expect(await listAll(ctx.network.publicIPAddresses.list("rg-never-made"), { missingOk: true })).toEqual(
      [],
    );
    // ...and ARM's answer otherwise.
    await expect(listAll(ctx.network.publicIPAddresses.list("rg-never-made"))).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceGroupNotFound",
    });
    await expect(
      ctx.network.networkInterfaces.updateTags(RG, "no-such-nic", { tags: {} }),
    ).rejects.toMatchObject({ statusCode: 404, code: "ResourceNotFound" });

    // A refusal at the first answer of a long-running operation: a public IP a NIC still uses.
    const inUse = await failure(ctx.network.publicIPAddresses.delete(RG, "lro-pip", ctx.pollFor("network")));
    expect(inUse).toMatchObject({ statusCode: 400, code: "PublicIPAddressCannotBeDeleted" });
    expect(describeAzureError(inUse)).toContain("PublicIPAddressCannotBeDeleted");
  });

  it("fails an operation that ends Failed as core-lro does, keeping ARM's code", async () => {
    azure.injectFault({
      operation: "publicIPAddresses.createOrUpdate",
      mode: "lro-fail",
      code: "InternalExecutionError",
    });
    try {
      const err = await failure(publicIp("failing-pip"));
      expect((err as Error).message).toMatch(/^The long-running operation has failed/);
      expect(azureErrorCode(err)).toBe("InternalExecutionError");
    } finally {
      azure.clearFaults();
    }
  });
});
