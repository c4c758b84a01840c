// Which observed resources plan and apply take as a seed-era claw's: the pure half of adoption
// (observe.test.ts adopts a seeded fleet in the local Azure).
import { type ObservedFleet, TAGS } from "@openclawps/fleet-model";
import { describe, expect, it } from "vitest";
import { seedResourcesToAdopt } from "../src/seed-adoption.ts";
import { fleet } from "./fixtures.ts";

type Resource = { name: string; id: string; tags: Record<string, string> };
const resource = (name: string, tags: Record<string, string> = {}): Resource => ({
  name,
  id: `/x/${name}/${Object.keys(tags).length}`,
  tags,
});
const observedOf = (lists: Partial<Record<"vms" | "nics" | "publicIps" | "disks", Resource[]>>) =>
  ({ vms: [], nics: [], publicIps: [], disks: [], imageVersions: [], ...lists }) as unknown as ObservedFleet;
const found = (claws: string[], observed: ObservedFleet) =>
  seedResourcesToAdopt(fleet(claws), observed).map((r) => `${r.claw}:${r.kind}:${r.name}:${r.id}`);

describe("seed resources to adopt", () => {
  it("finds nothing in a fleet whose every resource carries the claw tag", () => {
    const tagged = (name: string) => resource(name, { [TAGS.claw]: "alice" });
    expect(
      found(
        ["alice"],
        observedOf({
          vms: [tagged("alice")],
          nics: [tagged("alice-nic")],
          publicIps: [tagged("alice-pip")],
          disks: [tagged("alice-data")],
        }),
      ),
    ).toEqual([]);
  });

  it("matches names without case, the first untagged one of a name only, and never a tagged one", () => {
    const observed = observedOf({
      vms: [resource("ALICE", { [TAGS.claw]: "alice" }), resource("Alice"), resource("alice")],
      nics: [resource("alice-NIC"), resource("bob-nic", { other: "tag" })],
      publicIps: [resource("carol-pip")],
      disks: [resource("Bob-Data", { [TAGS.claw]: "" })],
    });
    expect(found(["alice", "bob"], observed)).toEqual([
      "alice:vm:Alice:/x/Alice/0",
      "alice:nic:alice-NIC:/x/alice-NIC/0",
      "bob:nic:bob-nic:/x/bob-nic/1",
    ]);
  });
});
