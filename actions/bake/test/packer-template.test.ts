// The shipped baseline template (infra/packer) checked by the real Packer binary.
//
// Packer 1.6.6 (Debian's, what CI installs) predates `required_plugins` and the 2.x azure
// plugin: its built-in azure-arm builder knows neither the GitHub OIDC arguments nor
// publishing to a gallery without a managed image. So with 1.6.6 the template is validated in
// two parts, leaving plugins.pkr.hcl out:
//   1. variables.pkr.hcl + build.pkr.hcl against a `null` stand-in for the azure-arm source:
//      full validation of every variable, validation rule, local and provisioner;
//   2. all three files: Packer must decode the azure-arm source with nothing unknown except
//      the two OIDC arguments the 2.x plugin added (every other argument name and reference
//      is checked).
// With Packer 1.7+ and the azure plugin installable, the whole template is validated as is.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasInitCommand, parsePackerVersion } from "../src/packer-cli.ts";

const TEMPLATE_DIR = resolve(import.meta.dirname, "../../../infra/packer");
const INSTALL_SCRIPTS = resolve(import.meta.dirname, "../../../vm-runtime/install/desktop");

const versionRun = spawnSync("packer", ["version"], { encoding: "utf8" });
const packerVersion = versionRun.status === 0 ? parsePackerVersion(versionRun.stdout) : undefined;
if (!packerVersion) {
  console.warn("packer is not installed: the baseline template tests are skipped (CI installs packer).");
}
const modernPacker = packerVersion !== undefined && hasInitCommand(packerVersion);

/** What the bake passes, with stand-in values. */
const PLACEHOLDERS: Record<string, string> = {
  subscription_id: "00000000-0000-0000-0000-000000000001",
  tenant_id: "00000000-0000-0000-0000-000000000002",
  client_id: "00000000-0000-0000-0000-000000000003",
  build_resource_group_name: "rg-claw-westus-bake",
  vm_size: "Standard_NV12ads_V710_v5",
  install_scripts_dir: INSTALL_SCRIPTS,
  gallery_resource_group_name: "rg-claw-westus",
  gallery_name: "clawGalleryWest",
  gallery_image_name: "claw-desktop-gpu",
  gallery_image_version: "1.4.0",
  replication_regions: '["westus","eastus"]',
  build_tags: '{"openclawps.content-hash":"abc","openclawps.commit":"def"}',
  plan_name: "planid125",
  plan_product: "nvv5_v710_linux_rocm_image",
  plan_publisher: "amdinc1746636494855",
};

const work = mkdtempSync(join(tmpdir(), "bake-template-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copyTemplate(files: string[], edit?: (name: string, text: string) => string): string {
  const dir = mkdtempSync(join(work, "t-"));
  for (const name of files) {
    const text = readFileSync(join(TEMPLATE_DIR, name), "utf8");
    writeFileSync(join(dir, name), edit ? edit(name, text) : text);
  }
  return dir;
}

function packer(args: string[], cwd: string, input?: string) {
  const r = spawnSync("packer", args, {
    cwd,
    encoding: "utf8",
    input,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", PACKER_NO_COLOR: "1" },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function varArgs(overrides: Record<string, string> = {}): string[] {
  return Object.entries({ ...PLACEHOLDERS, ...overrides }).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
}

/** The build and variables, with a null source standing in for azure-arm (Packer 1.6.6). */
function withNullSource(): string {
  const dir = copyTemplate(["variables.pkr.hcl", "build.pkr.hcl"], (name, text) => {
    if (name !== "build.pkr.hcl") return text;
    expect(text.split("source.azure-arm.baseline")).toHaveLength(2);
    return text.replace("source.azure-arm.baseline", "source.null.baseline");
  });
  writeFileSync(join(dir, "standin.pkr.hcl"), 'source "null" "baseline" {\n  communicator = "none"\n}\n');
  return dir;
}

describe.skipIf(!packerVersion)("infra/packer baseline template", () => {
  it("is in Packer's canonical format", () => {
    const r = packer(["fmt", "-check", "-diff", "."], TEMPLATE_DIR);
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
  });

  it("keeps required_plugins alone in plugins.pkr.hcl, so Packer 1.6.6 can read the rest", () => {
    const others = readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith(".pkr.hcl") && f !== "plugins.pkr.hcl");
    expect(others.sort()).toEqual(["build.pkr.hcl", "source.pkr.hcl", "variables.pkr.hcl"]);
    for (const f of others)
      expect(readFileSync(join(TEMPLATE_DIR, f), "utf8")).not.toMatch(/required_plugins/);
    expect(readFileSync(join(TEMPLATE_DIR, "plugins.pkr.hcl"), "utf8")).toMatch(
      /source\s*=\s*"github.com\/hashicorp\/azure"/,
    );
  });

  it("documents every variable", () => {
    const text = readFileSync(join(TEMPLATE_DIR, "variables.pkr.hcl"), "utf8");
    const blocks = text.split(/^variable /m).slice(1);
    expect(blocks.length).toBeGreaterThan(20);
    for (const block of blocks) expect(block, block.split("\n")[0]).toMatch(/description\s*=\s*"[^"]{20,}"/);
  });

  it.runIf(modernPacker)("validates as a whole with the azure plugin installed", () => {
    const dir = copyTemplate(readdirSync(TEMPLATE_DIR).filter((f) => f.endsWith(".pkr.hcl")));
    const init = packer(["init", "."], dir);
    if (init.status !== 0) throw new Error(`packer init could not install the azure plugin:\n${init.output}`);
    // The plugin's auth check wants one complete set of credentials: GitHub OIDC here.
    const r = packer(
      [
        "validate",
        ...varArgs({
          oidc_request_url: "https://token.actions.example/idtoken?api-version=2.0",
          oidc_request_token: "placeholder",
        }),
        ".",
      ],
      dir,
    );
    expect(r.output).toMatch(/valid/i);
    expect(r.status).toBe(0);
  });

  describe.skipIf(modernPacker)(`with Packer ${packerVersion?.join(".")} (plugins.pkr.hcl left out)`, () => {
    it("validates every variable, validation rule and provisioner of the build", () => {
      const r = packer(["validate", ...varArgs(), "."], withNullSource());
      expect(r.output).toBe("");
      expect(r.status).toBe(0);
    });

    it("validates with the Ubuntu 24.04 defaults and no purchase plan", () => {
      const { plan_name, plan_product, plan_publisher, ...rest } = PLACEHOLDERS;
      const r = packer(
        ["validate", ...Object.entries(rest).flatMap(([k, v]) => ["-var", `${k}=${v}`]), "."],
        withNullSource(),
      );
      expect(r.status, r.output).toBe(0);
    });

    it("refuses a gallery version that is not Major.Minor.Patch integers", () => {
      for (const bad of ["2026.1121.0815-abc1234", "1.0", "1.02.0"]) {
        const r = packer(["validate", ...varArgs({ gallery_image_version: bad }), "."], withNullSource());
        expect(r.status, bad).toBe(1);
        expect(r.output).toMatch(/gallery_image_version value must be Major\.Minor\.Patch/);
      }
    });

    it("runs every *.sh of the install directory, in name order, and nothing else", () => {
      const scripts = join(work, "scripts");
      mkdirSync(scripts, { recursive: true });
      for (const name of ["20-desktop.sh", "10-gpu.sh", "README.md", "30-remote.sh"]) {
        writeFileSync(join(scripts, name), "echo\n");
      }
      const r = packer(
        ["console", ...varArgs({ install_scripts_dir: scripts }), "."],
        withNullSource(),
        "local.install_scripts\n",
      );
      expect(r.status, r.output).toBe(0);
      const listed = [...r.output.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
      expect(listed).toEqual(["10-gpu.sh", "20-desktop.sh", "30-remote.sh"].map((n) => `${scripts}/${n}`));
    });

    it("uploads the scripts' parent (the pins, lib/, npm/) and hands it to them as CLAW_INSTALL_DIR", () => {
      const scripts = join(work, "install-tree", "install", "desktop");
      mkdirSync(scripts, { recursive: true });
      const r = packer(
        ["console", ...varArgs({ install_scripts_dir: scripts }), "."],
        withNullSource(),
        "local.install_dir\n",
      );
      expect(r.status, r.output).toBe(0);
      expect(r.output.trim()).toBe(join(work, "install-tree", "install"));
      const build = readFileSync(join(TEMPLATE_DIR, "build.pkr.hcl"), "utf8");
      expect(build).toMatch(/provisioner "file" \{\s*source\s*=\s*"\$\{local\.install_dir\}\/"/);
      expect(build).toMatch(/"CLAW_INSTALL_DIR=\$\{local\.remote_install_dir\}"/);
    });

    it("defaults the install scripts to vm-runtime/install/desktop beside infra/packer", () => {
      // The repository layout (and the release tree's): infra/packer next to vm-runtime.
      const repo = join(work, "repo");
      const dir = join(repo, "infra", "packer");
      mkdirSync(dir, { recursive: true });
      mkdirSync(join(repo, "vm-runtime", "install", "desktop"), { recursive: true });
      writeFileSync(join(repo, "vm-runtime", "install", "desktop", "10-gpu.sh"), "echo\n");
      const standin = withNullSource();
      for (const f of readdirSync(standin)) copyFileSync(join(standin, f), join(dir, f));
      const { install_scripts_dir, ...rest } = PLACEHOLDERS;
      const r = packer(
        ["console", ...Object.entries(rest).flatMap(([k, v]) => ["-var", `${k}=${v}`]), "."],
        dir,
        "local.install_scripts\n",
      );
      const listed = [...r.output.matchAll(/"([^"]+)"/g)].map((m) => resolve(dir, m[1]!));
      expect(listed).toEqual([join(repo, "vm-runtime", "install", "desktop", "10-gpu.sh")]);
    });

    it("decodes the azure-arm source with nothing unknown but the 2.x plugin's OIDC arguments", () => {
      const dir = copyTemplate(["variables.pkr.hcl", "source.pkr.hcl", "build.pkr.hcl"]);
      const r = packer(["validate", ...varArgs(), "."], dir);
      expect(r.status).toBe(1);
      const problems = [...r.output.matchAll(/^Error: (.*)$/gm)].map((m) => m[1]);
      const unknown = [...r.output.matchAll(/An argument named "([^"]+)" is not expected here/g)].map(
        (m) => m[1],
      );
      expect(problems).toEqual(["Unsupported argument", "Unsupported argument"]);
      expect(unknown.sort()).toEqual(["oidc_request_token", "oidc_request_url"]);
    });
  });
});
