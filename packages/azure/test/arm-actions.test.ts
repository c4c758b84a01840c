import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARM_ACTIONS } from "../src/arm-actions.ts";
import { FLEET_ROLE_NAME } from "../src/azure-error.ts";

describe("ARM_ACTIONS", () => {
  it("lists exactly the actions the README's permissions block documents", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const block = /## Permissions[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const documented = block.split("\n").filter(Boolean);
    expect(documented).toEqual([...ARM_ACTIONS]);
  });

  it("grants no way to delete a disk or a snapshot", () => {
    expect(ARM_ACTIONS.filter((a) => /\/(disks|snapshots)\/delete$/.test(a))).toEqual([]);
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
