import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkPacker, findOnPath, parsePackerVersion } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

const PLUGINS = `packer {
  required_plugins {
    azure = {
      version = ">= 2.0.0"
      source  = "github.com/hashicorp/azure"
    }
  }
}
`;

function template(extra = "", provisionerScript = "../scripts/setup.sh"): string {
  return `variable "location" {
  type    = string
  default = "westus"
}

source "azure-arm" "claw" {
  use_azure_cli_auth                = true
  subscription_id                   = "00000000-0000-0000-0000-000000000000"
  os_type                           = "Linux"
  image_publisher                   = "Canonical"
  image_offer                       = "ubuntu-24_04-lts"
  image_sku                         = "server"
  location                          = var.location
  vm_size                           = "Standard_D2s_v3"
  managed_image_name                = "claw"
  managed_image_resource_group_name = "rg-claw"
${extra}}

build {
  sources = ["source.azure-arm.claw"]
  provisioner "shell" {
    scripts = ["${provisionerScript}"]
  }
}
`;
}

const packerVersion = findOnPath("packer")
  ? parsePackerVersion(
      (await import("node:child_process")).execFileSync("packer", ["version"], { encoding: "utf8" }),
    )
  : undefined;
const legacyPacker = packerVersion !== undefined && packerVersion[0] === 1 && packerVersion[1] < 7;

describe("parsePackerVersion", () => {
  it("reads the version from packer version's first line", () => {
    expect(parsePackerVersion("Packer v1.6.6")).toEqual([1, 6, 6]);
    expect(parsePackerVersion("Packer v1.11.2\n\nYour version of Packer is out of date!")).toEqual([
      1, 11, 2,
    ]);
  });
});

// Debian's packer is 1.6.6 (see .ci/run): it predates required_plugins and bundles azure-arm, so
// these run offline against the real binary.
describe.runIf(legacyPacker)("packer validate with Packer before 1.7", () => {
  it("checks the syntax of a template that needs plugins, leaving plugins.pkr.hcl out, in a copy it removes", async () => {
    const repo = writeTree({ "packer/plugins.pkr.hcl": PLUGINS, "packer/build.pkr.hcl": template() });
    const result = await checkPacker({ dir: `${repo}/packer`, display: "packer" });
    expect(result).toEqual({
      ran: true,
      version: "1.6.6",
      mode: "packer validate -syntax-only (Packer before 1.7 cannot install the template's plugins; plugins.pkr.hcl left out)",
      findings: [],
    });
    expect(readdirSync(repo)).toEqual(["packer"]);
  });

  it("maps syntax errors to the template file and line", async () => {
    const repo = writeTree({
      "infra/packer/plugins.pkr.hcl": PLUGINS,
      "infra/packer/build.pkr.hcl": template("  os_disk_size_gb = \n"),
    });
    const result = await checkPacker({ dir: `${repo}/infra/packer`, display: "infra/packer" });
    expect(result.findings).toEqual([
      {
        file: "infra/packer/build.pkr.hcl",
        line: 17,
        severity: "error",
        title: "packer validate: Invalid expression",
        message: "Expected the start of an expression, but found an invalid expression token.",
      },
    ]);
  });

  it("explains where required_plugins must live when it is outside plugins.pkr.hcl", async () => {
    const repo = writeTree({ "packer/build.pkr.hcl": PLUGINS + template() });
    const result = await checkPacker({ dir: `${repo}/packer`, display: "packer" });
    expect(result.findings).toEqual([
      expect.objectContaining({
        file: "packer/build.pkr.hcl",
        line: 2,
        title: "packer validate: Unsupported block type",
        fix: "Keep the packer { required_plugins { ... } } block alone in plugins.pkr.hcl, so Packer before 1.7 can validate the rest.",
      }),
    ]);
  });

  it("passes the project's own baseline template (infra/packer)", async () => {
    const dir = fileURLToPath(new URL("../../../infra/packer", import.meta.url));
    const result = await checkPacker({ dir, display: "infra/packer" });
    expect(result.findings).toEqual([]);
    expect(result.ran).toBe(true);
  });
});

// A template without required_plugins uses the builders bundled in Packer, which Packer 1.6.6
// validates fully, offline.
describe.runIf(legacyPacker)("packer validate of a template with built-in builders", () => {
  it("reports an unknown argument at its line", async () => {
    const repo = writeTree({
      "packer/build.pkr.hcl": template("  bogus_setting = 1\n"),
      "scripts/setup.sh": "",
    });
    const result = await checkPacker({ dir: `${repo}/packer`, display: "packer" });
    expect(result).toEqual({
      ran: true,
      version: "1.6.6",
      mode: "packer validate",
      findings: [
        {
          file: "packer/build.pkr.hcl",
          line: 17,
          severity: "error",
          title: "packer validate: Unsupported argument",
          message: 'An argument named "bogus_setting" is not expected here.',
        },
      ],
    });
  });

  it("reports a provisioner script that does not exist, resolving it the way packer build would", async () => {
    const repo = writeTree({ "packer/build.pkr.hcl": template("", "../missing.sh") });
    const result = await checkPacker({ dir: `${repo}/packer`, display: "packer" });
    expect(result.findings).toEqual([
      {
        file: "packer/build.pkr.hcl",
        line: 21,
        severity: "error",
        title: 'packer validate: Failed preparing provisioner-block "shell" ""',
        message:
          "1 error(s) occurred: * Bad script '../missing.sh': stat ../missing.sh: no such file or directory",
      },
    ]);
  });

  it("stands in for variables without a default, which the bake sets, and checks the rest", async () => {
    const repo = writeTree({
      "packer/build.pkr.hcl": template("  bogus_setting = 1\n").replace('default = "westus"', ""),
      "scripts/setup.sh": "",
    });
    const result = await checkPacker({ dir: `${repo}/packer`, display: "packer" });
    expect(result.mode).toBe("packer validate with stand-in values for 1 variable without a default");
    expect(result.findings.map((f) => f.title)).toEqual(["packer validate: Unsupported argument"]);
  });
});

describe("packer check without packer", () => {
  it("reports that it did not run when packer is not on PATH", async () => {
    const repo = writeTree({ "packer/build.pkr.hcl": template() });
    expect(await checkPacker({ dir: `${repo}/packer`, display: "packer", path: "/nonexistent" })).toEqual({
      ran: false,
      findings: [],
    });
  });

  it("reports a packer directory that does not exist as an error", async () => {
    const repo = writeTree({});
    const result = await checkPacker({ dir: `${repo}/infra/packr`, display: "infra/packr" });
    expect(result.findings).toEqual([
      expect.objectContaining({
        file: "infra/packr",
        severity: "error",
        message: "Packer directory 'infra/packr' does not exist.",
      }),
    ]);
  });
});
