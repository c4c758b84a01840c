import { describe, expect, it } from "vitest";
import { checkManifest, problemToFinding } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

describe("manifest problems as findings", () => {
  it("puts the field in the title and drops it from the start of the message", () => {
    expect(
      problemToFinding({
        file: "fleet/claws.yaml",
        line: 9,
        column: 21,
        endLine: 9,
        endColumn: 31,
        path: "azure.subnet_prefixes.0",
        message: 'azure.subnet_prefixes[0]: subnet prefix "10.1.0.0/24" is outside the address space',
        fix: "widen the address space",
        severity: "error",
      }),
    ).toEqual({
      file: "fleet/claws.yaml",
      line: 9,
      column: 21,
      endLine: 9,
      endColumn: 31,
      severity: "error",
      title: "manifest: azure.subnet_prefixes[0]",
      message: 'subnet prefix "10.1.0.0/24" is outside the address space',
      fix: "widen the address space",
    });
  });

  it("keeps a message that does not start with the field, and titles whole-file problems 'manifest'", () => {
    const finding = problemToFinding({
      file: "claws.yaml",
      line: 1,
      column: 1,
      path: "",
      message: "the manifest is empty",
      severity: "error",
    });
    expect(finding).toMatchObject({ title: "manifest", message: "the manifest is empty" });
    expect(finding).not.toHaveProperty("endLine");
  });

  it("suggests fleet/claws.yaml when the manifest is missing and a seed-era one exists", () => {
    const repo = writeTree({ "fleet/claws.yaml": "claws: {}\n" });
    expect(checkManifest(`${repo}/claws.yaml`, "claws.yaml").findings).toEqual([
      {
        file: "claws.yaml",
        severity: "error",
        title: "manifest",
        message: "Manifest 'claws.yaml' not found.",
        fix: "This repository keeps it at fleet/claws.yaml: set the manifest input to that path.",
      },
    ]);
  });
});
