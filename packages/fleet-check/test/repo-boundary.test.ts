// What the actions read must come from the checked-out repository and must be a regular file:
// inputs that lead out of it are refused, and links in the trees that leave the runner are
// errors at the link's own path, never followed.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "@openclawps/action-kit";
import { describe, expect, it } from "vitest";
import { checkPacker, resolveInRepo, validateFleet } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

const SHIPPED = fileURLToPath(new URL("../../../vm-runtime", import.meta.url));

describe("resolveInRepo", () => {
  const workspace = writeTree({ "claws.yaml": "", "fleet/claws.yaml": "" });
  symlinkSync("/etc", join(workspace, "out"));
  symlinkSync("fleet", join(workspace, "in"));

  it("takes paths inside the repository, existing or not", () => {
    expect(resolveInRepo(workspace, "claws.yaml")).toBe(join(workspace, "claws.yaml"));
    expect(resolveInRepo(workspace, "fleet/../claws.yaml")).toBe(join(workspace, "claws.yaml"));
    expect(resolveInRepo(workspace, "in/claws.yaml")).toBe(join(workspace, "in/claws.yaml"));
    expect(resolveInRepo(workspace, "not/yet/there")).toBe(join(workspace, "not/yet/there"));
  });

  it("refuses a path that resolves outside it, through `..`, an absolute path or a link", () => {
    for (const given of ["../claws.yaml", "/proc/self/environ", "out/passwd", "out/not-there"]) {
      expect(() => resolveInRepo(workspace, given, "Input 'manifest'"), given).toThrow(UserError);
    }
    expect(() => resolveInRepo(workspace, "out/passwd", "Input 'manifest'")).toThrow(
      /^Input 'manifest' 'out\/passwd' resolves to \/etc\/passwd, outside the repository/,
    );
  });
});

describe("validate", () => {
  it("reports every link in the Packer directory as an error at the link, and does not run Packer", async () => {
    const workspace = writeTree({ "packer/build.pkr.hcl": "", "packer/scripts/a.sh": "#!/bin/sh\n" });
    symlinkSync("scripts", join(workspace, "packer/linked")); // was EISDIR in bake
    symlinkSync("/proc/self/environ", join(workspace, "packer/env.pkrvars.hcl"));
    const result = await checkPacker({
      dir: join(workspace, "packer"),
      display: "packer",
      path: "/nonexistent",
    });
    expect(result.ran).toBe(false);
    expect(result.findings.map((f) => [f.file, f.severity, f.message])).toEqual([
      [
        "packer/env.pkrvars.hcl",
        "error",
        "env.pkrvars.hcl is a symbolic link (to /proc/self/environ), and nothing in the Packer directory may be one.",
      ],
      [
        "packer/linked",
        "error",
        "linked is a symbolic link (to scripts), and nothing in the Packer directory may be one.",
      ],
    ]);
  });

  it("reports two self-referencing folder links in the overlay at their paths, without recursing", async () => {
    const workspace = writeTree({ "claws.yaml": "claws: {}\n", "vm-runtime/defaults/x.md": "x" });
    mkdirSync(join(workspace, "vm-runtime/defaults/loop"));
    symlinkSync("b", join(workspace, "vm-runtime/defaults/loop/a"));
    symlinkSync("a", join(workspace, "vm-runtime/defaults/loop/b"));
    symlinkSync("/proc/self/environ", join(workspace, "vm-runtime/defaults/NOTES.md"));
    const report = await validateFleet({
      workspace,
      manifest: "claws.yaml",
      shippedVmRuntime: SHIPPED,
      path: "/nonexistent",
    });
    const links = report.findings.filter((f) => /symbolic link/.test(f.message));
    expect(links.map((f) => [f.file, f.severity])).toEqual([
      ["vm-runtime/defaults/NOTES.md", "error"],
      ["vm-runtime/defaults/loop/a", "error"],
      ["vm-runtime/defaults/loop/b", "error"],
    ]);
  });

  it("refuses a manifest input that leads out of the repository", async () => {
    const workspace = writeTree({ "claws.yaml": "claws: {}\n" });
    await expect(
      validateFleet({
        workspace,
        manifest: "/proc/self/environ",
        shippedVmRuntime: SHIPPED,
        path: "/nonexistent",
      }),
    ).rejects.toThrow(/Input 'manifest' '\/proc\/self\/environ' resolves to .*, outside the repository/);
  });
});
