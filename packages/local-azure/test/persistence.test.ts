// The world survives a restart when a state file is given, so separate processes share it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientsFor, LOCATION, NOW, startWithClients } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "local-azure-state-"));
const stateFile = join(dir, "world.json");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("state persistence", () => {
  it("writes every change to the state file and loads it on the next start", async () => {
    const first = await startWithClients({ stateFile });
    await first.resources.resourceGroups.createOrUpdate("rg-keep", { location: LOCATION });
    const disk = await first.compute.disks.createOrUpdate(
      "rg-keep",
      "keep-data",
      { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 32 },
      NOW,
    );
    const pip = await first.network.publicIPAddresses.createOrUpdate(
      "rg-keep",
      "keep-pip",
      { location: LOCATION, sku: { name: "Standard" } },
      NOW,
    );
    expect(JSON.parse(readFileSync(stateFile, "utf8")).resources).toBeDefined();
    await first.azure.stop();

    const second = await startWithClients({ stateFile });
    try {
      const again = await second.compute.disks.get("rg-keep", "keep-data");
      expect(again.timeCreated).toEqual(disk.timeCreated);
      expect(again.uniqueId).toBe(disk.uniqueId);
      expect((await second.network.publicIPAddresses.get("rg-keep", "keep-pip")).ipAddress).toBe(
        pip.ipAddress,
      );
      // New public IPs do not reuse addresses handed out before the restart.
      const next = await second.network.publicIPAddresses.createOrUpdate(
        "rg-keep",
        "next-pip",
        { location: LOCATION, sku: { name: "Standard" } },
        NOW,
      );
      expect(next.ipAddress).not.toBe(pip.ipAddress);
      await clientsFor(second.azure).compute.disks.delete("rg-keep", "keep-data", NOW);
    } finally {
      await second.azure.stop();
    }
    const third = await startWithClients({ stateFile });
    try {
      await expect(third.compute.disks.get("rg-keep", "keep-data")).rejects.toMatchObject({
        statusCode: 404,
      });
    } finally {
      await third.azure.stop();
    }
  });
});
