import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  PackerBuildOutput,
  type PackerEvent,
  parseMachineReadableLine,
} from "../src/packer-machine-readable.ts";

describe("parseMachineReadableLine", () => {
  it("splits timestamp, target, type and data, restoring escaped commas and newlines", () => {
    expect(parseMachineReadableLine("1795249013,,ui,message,    null.test: a%!(PACKER_COMMA)b\\nc")).toEqual({
      timestamp: 1795249013,
      target: "",
      type: "ui",
      data: ["message", "    null.test: a,b\nc"],
    });
  });

  it("keeps a build's target and every data field", () => {
    expect(parseMachineReadableLine("1795249013,null.test,artifact,0,id,Null")).toMatchObject({
      target: "null.test",
      type: "artifact",
      data: ["0", "id", "Null"],
    });
  });

  it("refuses lines that are not machine-readable", () => {
    expect(parseMachineReadableLine("Usage: packer [--version] [--help] <command> [<args>]")).toBeUndefined();
    expect(parseMachineReadableLine("abc,def,ghi")).toBeUndefined();
  });
});

describe("PackerBuildOutput events", () => {
  it("keeps a step's indented details in that step and puts Packer's closing lines after the steps", () => {
    // The shape of an azure-arm build: each step says `==> <build>: <what>`, then details
    // indented with ` -> ` (step_publish_to_shared_image_gallery.go in packer-plugin-azure).
    const events: PackerEvent[] = [];
    const out = new PackerBuildOutput((e) => events.push(e));
    for (const line of [
      "1,,ui,say,==> baseline.azure-arm.baseline: Publishing to Shared Image Gallery ...",
      "1,,ui,say,==> baseline.azure-arm.baseline:  -> SIG gallery name                      : 'clawGalleryWest'",
      "1,,ui,say,==> baseline.azure-arm.baseline:  -> SIG replication regions               : '[westus eastus]'",
      "1,,ui,say,Build 'baseline.azure-arm.baseline' finished after 31 minutes 4 seconds.",
      "1,baseline.azure-arm.baseline,artifact,0,id,/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.2.1",
    ]) {
      out.push(line);
    }
    expect(events.map((e) => (e.kind === "step" ? `step ${e.title}` : `${e.stream} ${e.text}`))).toEqual([
      "step baseline.azure-arm.baseline: Publishing to Shared Image Gallery ...",
      "message ==> baseline.azure-arm.baseline:  -> SIG gallery name                      : 'clawGalleryWest'",
      "message ==> baseline.azure-arm.baseline:  -> SIG replication regions               : '[westus eastus]'",
      "summary Build 'baseline.azure-arm.baseline' finished after 31 minutes 4 seconds.",
    ]);
    expect(out.artifactIds()).toEqual([
      "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.2.1",
    ]);
  });
});

// The stream below is what the real Packer prints: each test runs it on a small null-builder
// template, so a change in Packer's output format breaks these tests rather than the action.
const packer = spawnSync("packer", ["version"], { encoding: "utf8" });
const hasPacker = packer.status === 0;
const work = mkdtempSync(join(tmpdir(), "bake-mr-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function packerBuild(template: string, args: string[] = []): { lines: string[]; status: number | null } {
  const dir = mkdtempSync(join(work, "t-"));
  writeFileSync(join(dir, "t.pkr.hcl"), template);
  const r = spawnSync("packer", ["build", "-machine-readable", ...args, "."], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
  });
  return { lines: r.stdout.split("\n"), status: r.status };
}

const TEMPLATE = (steps: string) => `
source "null" "test" {
  communicator = "none"
}
build {
  sources = ["source.null.test"]
${steps}
}
`;

describe.skipIf(!hasPacker)("PackerBuildOutput on real packer output", () => {
  it("turns each build step into a step event and its output into output events", () => {
    const { lines, status } = packerBuild(
      TEMPLATE(`
  provisioner "shell-local" {
    inline = ["echo 'first, with a comma'"]
  }
  provisioner "shell-local" {
    inline = ["echo second"]
  }`),
    );
    expect(status).toBe(0);
    const events: PackerEvent[] = [];
    const out = new PackerBuildOutput((e) => events.push(e));
    for (const line of lines) out.push(line);

    const steps = events.filter((e) => e.kind === "step");
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({
      title: expect.stringMatching(/^null\.test: Running local shell script/),
    });
    const afterFirst = events.slice(events.indexOf(steps[0]!) + 1, events.indexOf(steps[1]!));
    expect(afterFirst).toContainEqual({
      kind: "output",
      text: "    null.test: first, with a comma",
      stream: "message",
    });
    expect(out.artifacts).toEqual([
      { target: "null.test", index: 0, builderId: "fnoeding.null", id: "Null", string: expect.any(String) },
    ]);
    expect(out.failureMessages()).toEqual([]);
  });

  it("reports the failing build's own error, not a script's stderr", () => {
    const { lines, status } = packerBuild(
      TEMPLATE(`
  provisioner "shell-local" {
    inline = ["echo 'warming up' >&2", "echo 'about to fail'", "exit 3"]
  }`),
    );
    expect(status).toBe(1);
    const out = new PackerBuildOutput();
    for (const line of lines) out.push(line);
    expect(out.uiErrors).toContain("==> null.test: warming up");
    expect(out.failureMessages()).toEqual([
      expect.stringMatching(/^null\.test: Script exited with non-zero exit status: 3/),
    ]);
    expect(out.artifactIds()).toEqual([]);
  });

  it("reports template errors, which fail before any build starts", () => {
    const { lines, status } = packerBuild(TEMPLATE(""), ["-var", "undeclared=1"]);
    expect(status).toBe(1);
    const out = new PackerBuildOutput();
    for (const line of lines) out.push(line);
    expect(out.buildErrors).toEqual([]);
    expect(out.failureMessages().join("\n")).toMatch(/Undefined -var variable/);
  });
});
