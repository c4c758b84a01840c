import { symlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { collectPayload } from "@openclawps/cloud-init";
import { describe, expect, it } from "vitest";
import { checkPayload } from "../src/index.ts";
import { CLEAN_SCRIPT, writeTree } from "./tree-fixture.ts";

// The real shipped vm-runtime: collectPayload refuses a directory that is not one.
const SHIPPED = fileURLToPath(new URL("../../../vm-runtime", import.meta.url));

describe("payload check", () => {
  it("warns about overlay files that never reach a claw, and only notes stray notes", () => {
    const workspace = writeTree({
      "claws.yaml": "",
      "vm-runtime/updates/900-ok.sh": CLEAN_SCRIPT,
      "vm-runtime/lifecycle/extra/helper.sh": CLEAN_SCRIPT,
      "vm-runtime/README.md": "notes",
    });
    const overlayDir = `${workspace}/vm-runtime`;
    const findings = checkPayload({
      payload: collectPayload(SHIPPED, overlayDir),
      workspace,
      overlayDir,
      alreadyReported: new Set(),
    });
    expect(findings.map((f) => [f.file, f.severity])).toEqual([
      ["vm-runtime/README.md", "notice"],
      ["vm-runtime/lifecycle/extra/helper.sh", "warning"],
    ]);
    expect(findings[1]?.message).toBe(
      "lifecycle/extra/helper.sh is not copied onto claws: nothing ships from that place in vm-runtime.",
    );
  });

  it("reports a broken symbolic link in the overlay, and leaves misnamed updates to the numbering check", () => {
    const workspace = writeTree({ "claws.yaml": "", "vm-runtime/updates/fix.sh": CLEAN_SCRIPT });
    const overlayDir = `${workspace}/vm-runtime`;
    symlinkSync(`${workspace}/nowhere`, `${overlayDir}/updates/901-link.sh`);
    const findings = checkPayload({
      payload: collectPayload(SHIPPED, overlayDir),
      workspace,
      overlayDir,
      alreadyReported: new Set(["vm-runtime/updates/fix.sh"]),
    });
    expect(findings).toEqual([
      {
        file: "vm-runtime/updates/901-link.sh",
        severity: "error",
        title: "vm-runtime payload",
        message: `901-link.sh is a symbolic link (to ${workspace}/nowhere).`,
        fix: "Replace it with a regular file (copy the content in): links and special files are never shipped, wherever they point",
      },
    ]);
  });
});
