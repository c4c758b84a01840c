import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARM_ACTIONS, POWER_ACTIONS, READER_ACTIONS, SIZE_READER_ACTIONS } from "../src/arm-actions.ts";
import {
  FLEET_ROLE_NAME,
  POWER_ROLE_NAME,
  READER_ROLE_NAME,
  SIZE_READER_ROLE_NAME,
} from "../src/azure-error.ts";

describe("ARM_ACTIONS", () => {
  it("lists exactly the actions the README's permissions block documents", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const block = /## Permissions[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const documented = block.split("\n").filter(Boolean);
    expect(documented).toEqual([...ARM_ACTIONS]);
  });

  it("grants no way to delete a disk (snapshots: only the retention's, see claw-operations)", () => {
    expect(ARM_ACTIONS.filter((a) => /\/disks\/delete$/.test(a))).toEqual([]);
  });
});

describe("the custom role in infra/azure", () => {
  const role = JSON.parse(
    readFileSync(
      join(import.meta.dirname, "..", "..", "..", "infra", "azure", "fleet-operator-role.json"),
      "utf8",
    ),
  ) as { Name: string; Actions: string[]; NotActions: string[]; DataActions: string[] };

  it("grants exactly the actions the adapter performs, under the name its errors tell operators to assign", () => {
    expect([...role.Actions].sort()).toEqual([...ARM_ACTIONS].sort());
    expect(role.Name).toBe(FLEET_ROLE_NAME);
    expect(role.DataActions).toEqual([]);
  });
});

describe("the reader role in infra/azure", () => {
  const role = JSON.parse(
    readFileSync(
      join(import.meta.dirname, "..", "..", "..", "infra", "azure", "fleet-reader-role.json"),
      "utf8",
    ),
  ) as { Name: string; Actions: string[]; DataActions: string[] };

  it("is READER_ACTIONS, under the name errors use, a part of the operator's", () => {
    expect([...role.Actions].sort()).toEqual([...READER_ACTIONS].sort());
    expect(role.Name).toBe(READER_ROLE_NAME);
    expect(role.DataActions).toEqual([]);
    expect(READER_ACTIONS.filter((a) => !(ARM_ACTIONS as readonly string[]).includes(a))).toEqual([]);
  });

  it("cannot change, delete or run anything on a claw's VM, NIC, IP, disk, snapshot, network or NSG", () => {
    const claws =
      /\/(virtualMachines|networkInterfaces|publicIPAddresses|disks|snapshots|virtualNetworks|subnets|networkSecurityGroups)\//;
    expect(READER_ACTIONS.filter((a) => claws.test(`${a}`) && !a.endsWith("/read"))).toEqual([]);
    expect(READER_ACTIONS.filter((a) => /runCommand/i.test(a))).toEqual([]);
  });
});

describe("the power role in infra/azure", () => {
  const role = JSON.parse(
    readFileSync(
      join(import.meta.dirname, "..", "..", "..", "infra", "azure", "fleet-power-role.json"),
      "utf8",
    ),
  ) as { Name: string; Actions: string[]; DataActions: string[] };

  it("is POWER_ACTIONS, under the name errors use, a part of the operator's", () => {
    expect([...role.Actions].sort()).toEqual([...POWER_ACTIONS].sort());
    expect(role.Name).toBe(POWER_ROLE_NAME);
    expect(role.DataActions).toEqual([]);
    expect(POWER_ACTIONS.filter((a) => !(ARM_ACTIONS as readonly string[]).includes(a))).toEqual([]);
  });

  it("creates and deletes nothing, writes no disk, network or gallery, and runs no command", () => {
    expect(POWER_ACTIONS.filter((a) => a.endsWith("/delete") || /runCommand/i.test(a))).toEqual([]);
    const writes = POWER_ACTIONS.filter((a) => !a.endsWith("/read"));
    // Tags through the Tags API only: no write of a VM's (or the group's) other properties.
    expect(writes).toEqual([
      "Microsoft.Resources/tags/write",
      "Microsoft.Compute/virtualMachines/deallocate/action",
      "Microsoft.Compute/virtualMachines/start/action",
    ]);
  });
});

describe("the size reader role in infra/azure", () => {
  const role = JSON.parse(
    readFileSync(
      join(import.meta.dirname, "..", "..", "..", "infra", "azure", "fleet-size-reader-role.json"),
      "utf8",
    ),
  ) as { Name: string; Actions: string[]; DataActions: string[]; AssignableScopes: string[] };

  it("is SIZE_READER_ACTIONS (reads only, a part of the operator's), assignable on a subscription", () => {
    expect([...role.Actions].sort()).toEqual([...SIZE_READER_ACTIONS].sort());
    expect(role.Name).toBe(SIZE_READER_ROLE_NAME);
    expect(role.DataActions).toEqual([]);
    expect(SIZE_READER_ACTIONS.filter((a) => !a.endsWith("/read"))).toEqual([]);
    expect(SIZE_READER_ACTIONS.filter((a) => !(ARM_ACTIONS as readonly string[]).includes(a))).toEqual([]);
    // The bootstrap replaces the placeholder with the fleet's subscription.
    expect(role.AssignableScopes).toEqual(["/subscriptions/SUBSCRIPTION_ID"]);
  });
});
