// The Packer version check: the template's required_version against the Packer on PATH.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkPackerVersion, requiredPackerVersion } from "../src/packer-cli.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function template(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "packer-cli-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("requiredPackerVersion", () => {
  it("reads the shipped template's lower bound: 1.10.0 in plugins.pkr.hcl", async () => {
    const shipped = resolve(import.meta.dirname, "../../../infra/packer");
    const required = await requiredPackerVersion(shipped, "infra/packer");
    expect(required?.version).toEqual([1, 10, 0]);
    expect(required?.file).toBe("infra/packer/plugins.pkr.hcl");
    expect(required?.line).toBeGreaterThan(0);
  });

  it("takes the highest lower bound of every *.pkr.hcl, ignoring upper bounds and other files", async () => {
    const dir = template({
      "a.pkr.hcl": 'packer {\n  required_version = ">= 1.7, < 2.0.0"\n}\n',
      "b.pkr.hcl": '\n\npacker {\n  required_version = ">= 1.11.2"\n}\n',
      "notes.txt": 'required_version = ">= 9.0.0"\n',
    });
    expect(await requiredPackerVersion(dir, "packer")).toEqual({
      version: [1, 11, 2],
      file: "packer/b.pkr.hcl",
      line: 4,
    });
  });

  it("is undefined for a template that sets none", async () => {
    expect(await requiredPackerVersion(template({ "build.pkr.hcl": "build {}\n" }))).toBeUndefined();
  });
});

describe("checkPackerVersion", () => {
  const required = { version: [1, 10, 0] as const, file: "infra/packer/plugins.pkr.hcl", line: 7 };

  it("accepts the runner image's Packer and anything at or above the bound", () => {
    expect(() => checkPackerVersion([1, 14, 0], required)).not.toThrow();
    expect(() => checkPackerVersion([1, 10, 0], required)).not.toThrow();
    expect(() => checkPackerVersion([1, 6, 6], undefined)).not.toThrow();
  });

  it("refuses an older Packer, naming the file, the line and how to get a new one", () => {
    expect(() => checkPackerVersion([1, 9, 4], required)).toThrow(
      "Packer 1.9.4 on this runner is older than 1.10.0, which infra/packer/plugins.pkr.hcl:7 requires (required_version).",
    );
    expect(() => checkPackerVersion([1, 6, 6], required)).toThrow(
      /Fix: Run the bake on GitHub's ubuntu-24\.04 runner image.*install Packer 1\.10\.0 or newer/,
    );
  });
});
