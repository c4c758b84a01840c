import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkVmRuntime } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

// The real shipped vm-runtime: a replacement is checked against what actually ships.
const SHIPPED = fileURLToPath(new URL("../../../vm-runtime", import.meta.url));
const shippedText = (rel: string) => readFileSync(join(SHIPPED, rel), "utf8");

function findings(overlay: Record<string, string>) {
  const workspace = writeTree({ "claws.yaml": "" });
  const dir = writeTree(overlay, `${workspace}/vm-runtime`);
  return checkVmRuntime({ workspace, shipped: SHIPPED, overlay: dir }).payloadFindings.filter(
    (f) => f.title === "vm-runtime replaced file",
  );
}

describe("overlay replacements of versions.env and unit files", () => {
  it("accepts copies of the shipped files unchanged", () => {
    expect(
      findings({
        "install/versions.env": shippedText("install/versions.env"),
        "systemd/claw-boot.service": shippedText("systemd/claw-boot.service"),
      }),
    ).toEqual([]);
  });

  it("refuses a versions.env line that is not a plain assignment, and one that drops a shipped pin", () => {
    const text = shippedText("install/versions.env")
      .replace(/^NODE_MAJOR=.*$/m, "NODE_MAJOR=$(curl evil)")
      .replace(/^CHROME_VERSION=.*\n/m, "");
    const found = findings({ "install/versions.env": text });
    const nodeMajorLine = text.split("\n").findIndex((l) => l.startsWith("NODE_MAJOR=")) + 1;
    expect(found.map((f) => [f.line, f.message.split(";")[0]])).toEqual([
      [nodeMajorLine, "This line is not a plain NAME=value assignment"],
      [
        undefined,
        "Replaces the shipped install/versions.env but does not set NODE_MAJOR, CHROME_VERSION, which the install scripts read.",
      ],
    ]);
    expect(found[0]!.file).toBe("vm-runtime/install/versions.env");
  });

  it("refuses a service with nothing to run, a line systemd cannot read, and a program that does not ship", () => {
    expect(
      findings({ "systemd/claw-boot.service": "[Unit]\nDescription=x\n[Service]\nType=oneshot\n" }),
    ).toMatchObject([{ line: 1, message: expect.stringContaining("no ExecStart=") }]);
    expect(
      findings({
        "systemd/claw-boot.service": "[Unit]\nthis is not systemd\n[Service]\nExecStart=/opt/claw/nope.sh\n",
      }),
    ).toMatchObject([
      { line: 2, message: expect.stringContaining("systemd cannot read this line") },
      {
        line: 4,
        message: "ExecStart runs /opt/claw/nope.sh, which is not part of what ships onto the claw.",
      },
    ]);
  });
});
