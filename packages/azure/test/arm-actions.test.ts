import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ARM_ACTIONS } from "../src/arm-actions.ts";

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
