// The instance metadata's compute part, as a VM's code reads it from IMDS: verify.sh asks
// /metadata/instance/compute/vmSize?api-version=2021-02-01&format=text with curl (the same
// request below), and what IMDS refuses is refused
// (https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Clients, imageVersionId, LOCATION, startWithClients } from "./harness.ts";

const RG = "rg-imds";
let c: Clients;
let imds: string;

beforeAll(async () => {
  c = await startWithClients();
  await c.azure.seedGalleryVersions(RG, "clawGallery", "claw-desktop", ["1.0.0"], LOCATION);
  await c.azure.seedVirtualMachines(RG, ["claw-a"], {
    imageId: imageVersionId(c.azure, RG, "1.0.0"),
    vmSize: "Standard_NV36ads_A10_v5",
    tags: { "openclawps.claw": "claw-a" },
  });
  imds = await c.azure.imdsEndpoint(RG, "claw-a");
});
afterAll(async () => {
  await c?.azure.stop();
});

const get = (path: string, headers: Record<string, string> = { Metadata: "true" }) =>
  fetch(`${imds}${path}`, { headers });

describe("IMDS instance metadata", () => {
  it("answers the VM's size as text to verify.sh's own curl request", async () => {
    // Not execFileSync: this process serves the request.
    const { stdout } = await promisify(execFile)(
      "curl",
      ["-sf", "--max-time", "10", "--noproxy", "*", "-H", "Metadata: true"].concat(
        `${imds}/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text`,
      ),
      { encoding: "utf8" },
    );
    expect(stdout).toBe("Standard_NV36ads_A10_v5");
  });

  it("serves the compute part as JSON strings, filtered by route parameters", async () => {
    const res = await get("/metadata/instance?api-version=2025-04-07");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const { compute } = (await res.json()) as { compute: Record<string, unknown> };
    const vm = Object.values(c.azure.state().virtualMachines).find((v) => v.name === "claw-a")!;
    expect(compute).toMatchObject({
      name: "claw-a",
      location: LOCATION,
      osType: "Linux",
      resourceGroupName: RG,
      subscriptionId: c.azure.subscriptionId,
      vmSize: "Standard_NV36ads_A10_v5",
      tags: "openclawps.claw:claw-a",
      tagsList: [{ name: "openclawps.claw", value: "claw-a" }],
    });
    expect(String(compute.resourceId).toLowerCase()).toBe(vm.id.toLowerCase());
    expect(compute.vmId).toMatch(/^[0-9a-f-]{36}$/);

    const os = await get("/metadata/instance/compute/osProfile?api-version=2021-02-01");
    expect(await os.json()).toEqual({
      adminUsername: "azureuser",
      computerName: "claw-a",
      disablePasswordAuthentication: expect.any(String),
    });
    const listing = await get("/metadata/instance/compute/tagsList/0?api-version=2021-02-01&format=text");
    expect(await listing.text()).toBe("name\nvalue");
  });

  it("refuses what IMDS refuses: no Metadata header, a proxy, a missing or unknown api-version, JSON for a leaf", async () => {
    const path = "/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text";
    expect((await get(path, {})).status).toBe(400);
    expect((await get(path, { Metadata: "true", "X-Forwarded-For": "10.0.0.9" })).status).toBe(400);
    for (const version of ["", "api-version=2099-01-01&"]) {
      const res = await get(`/metadata/instance/compute?${version}format=json`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: expect.stringMatching(/^Bad request\. api-version is invalid or was not specified/),
        "newest-versions": expect.arrayContaining(["2025-04-07"]),
      });
    }
    const leafAsJson = await get("/metadata/instance/compute/vmSize?api-version=2021-02-01");
    expect(leafAsJson.status).toBe(400);
    expect((await get("/metadata/instance/compute/noSuchKey?api-version=2021-02-01")).status).toBe(404);
    expect((await get("/metadata/instance/network?api-version=2021-02-01")).status).toBe(404);
    const twice = await get("/metadata/instance?api-version=2021-02-01&api-version=2021-02-01");
    expect(twice.status).toBe(400);
  });
});
