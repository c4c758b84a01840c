// validate, bake and deploy-fleet find the vm-runtime overlay by one rule: the input when given
// (a directory inside the repository), else vm-runtime/ beside the manifest when it exists.
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "@openclawps/action-kit";
import { describe, expect, it } from "vitest";
import { findOverlay, overlayDirOrThrow } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

const FIX =
  "Set the vm-runtime input to the overlay directory relative to the repository root, or leave it empty to use vm-runtime/ beside the manifest when there is one.";

describe("findOverlay", () => {
  const workspace = writeTree({
    "fleet/claws.yaml": "",
    "fleet/vm-runtime/install/desktop/50-x.sh": "#!/bin/sh\n",
    "lonely/claws.yaml": "",
    "runtime/README.md": "",
    "a-file": "",
  });
  symlinkSync("/etc", join(workspace, "out"));
  const manifest = join(workspace, "fleet/claws.yaml");

  it.each([
    ["the directory the input names, wherever the manifest is", "runtime", "runtime"],
    [
      "vm-runtime/ beside the manifest when the input is empty and that directory exists",
      "",
      "fleet/vm-runtime",
    ],
  ])("takes %s", (_, given, shown) => {
    const dir = join(workspace, shown);
    expect(findOverlay(workspace, manifest, given)).toEqual({ dir, shown, given: given !== "" });
    expect(overlayDirOrThrow(workspace, manifest, given)).toBe(dir);
  });

  it("has no overlay, and no problem, when the input is empty and nothing is beside the manifest", () => {
    const lonely = join(workspace, "lonely/claws.yaml");
    expect(findOverlay(workspace, lonely, "")).toEqual({ shown: "lonely/vm-runtime", given: false });
    expect(overlayDirOrThrow(workspace, lonely, "")).toBeUndefined();
  });

  it("says a given overlay is missing or a file, with the same fix, and the throwing form throws it", () => {
    expect(findOverlay(workspace, manifest, "nowhere").problem).toEqual({
      message: "The vm-runtime overlay directory 'nowhere' does not exist.",
      fix: FIX,
    });
    expect(findOverlay(workspace, manifest, "a-file").problem).toEqual({
      message: "The vm-runtime overlay 'a-file' is a file, not a directory.",
      fix: FIX,
    });
    expect(() => overlayDirOrThrow(workspace, manifest, "a-file")).toThrow(
      new UserError("The vm-runtime overlay 'a-file' is a file, not a directory.", FIX),
    );
  });

  it("refuses an overlay outside the repository", () => {
    expect(() => findOverlay(workspace, manifest, "out")).toThrow(
      /^Input 'vm-runtime' 'out' resolves to \/etc/,
    );
    expect(() => overlayDirOrThrow(workspace, manifest, "../")).toThrow(UserError);
  });
});
