import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "@openclawps/action-kit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { contentAddress, type HashedFile, packerDirectoryFiles } from "../src/content-hash.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "bake-hash-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

async function hashOf(dir: string, scripts: HashedFile[] = [], params: object = {}): Promise<string> {
  return (await contentAddress([...(await packerDirectoryFiles(dir)), ...scripts], params)).hash;
}

const TEMPLATE = { "build.pkr.hcl": 'build {\n  name = "x"\n}\n', "variables.pkr.hcl": "# vars\n" };

describe("content address of the baseline inputs", () => {
  it("is the same for the same files wherever the directory lives", async () => {
    expect(await hashOf(tree("a", TEMPLATE))).toBe(await hashOf(tree("b", TEMPLATE)));
  });

  it("changes when a template file changes", async () => {
    const before = await hashOf(tree("a", TEMPLATE));
    const after = await hashOf(tree("b", { ...TEMPLATE, "build.pkr.hcl": 'build {\n  name = "y"\n}\n' }));
    expect(after).not.toBe(before);
  });

  it("changes when an install script changes, is added or is renamed", async () => {
    const dir = tree("t", TEMPLATE);
    const scripts = tree("s", {
      "10-a.sh": "echo a\n",
      "20-b.sh": "echo b\n",
      "10-a-renamed.sh": "echo a\n",
    });
    const script = (name: string): HashedFile => ({
      path: `install/desktop/${name}`,
      absolutePath: join(scripts, name),
    });
    const base = await hashOf(dir, [script("10-a.sh")]);
    expect(await hashOf(dir, [script("10-a.sh"), script("20-b.sh")])).not.toBe(base);
    expect(await hashOf(dir, [script("10-a-renamed.sh")])).not.toBe(base);
    writeFileSync(join(scripts, "10-a.sh"), "echo changed\n");
    expect(await hashOf(dir, [script("10-a.sh")])).not.toBe(base);
  });

  it("changes when the base image or its purchase plan changes", async () => {
    const dir = tree("t", TEMPLATE);
    const ubuntu = await hashOf(dir, [], { baseImage: null, plan: null });
    const gpu = await hashOf(dir, [], {
      baseImage: {
        publisher: "amdinc1746636494855",
        offer: "nvv5_v710_linux_rocm_image",
        sku: "planid125",
        version: "latest",
      },
      plan: { name: "planid125", product: "nvv5_v710_linux_rocm_image", publisher: "amdinc1746636494855" },
    });
    expect(gpu).not.toBe(ubuntu);
  });

  it("ignores the order of parameter keys", async () => {
    const dir = tree("t", TEMPLATE);
    expect(await hashOf(dir, [], { a: 1, b: { c: 2, d: 3 } })).toBe(
      await hashOf(dir, [], { b: { d: 3, c: 2 }, a: 1 }),
    );
  });

  it("does not change for documentation, VCS metadata or Packer's cache", async () => {
    const before = await hashOf(tree("a", TEMPLATE));
    const after = await hashOf(
      tree("b", { ...TEMPLATE, "README.md": "# docs", ".git/HEAD": "ref", "packer_cache/x.iso": "iso" }),
    );
    expect(after).toBe(before);
  });

  it("treats CRLF and LF text alike, as Packer converts scripts before running them", async () => {
    const lf = await hashOf(tree("a", { "build.pkr.hcl": "a\nb\n" }));
    const crlf = await hashOf(tree("b", { "build.pkr.hcl": "a\r\nb\r\n" }));
    expect(crlf).toBe(lf);
  });

  it("keeps binary files byte for byte", async () => {
    const one = await hashOf(tree("a", { "blob.bin": Buffer.from([0, 13, 10, 1]) }));
    const two = await hashOf(tree("b", { "blob.bin": Buffer.from([0, 10, 1]) }));
    expect(two).not.toBe(one);
  });

  it("lists every input in a readable recipe", async () => {
    const address = await contentAddress(
      await packerDirectoryFiles(tree("a", { ...TEMPLATE, "files/x.conf": "x" })),
      {
        plan: null,
      },
    );
    expect(address.files).toEqual([
      "packer/build.pkr.hcl",
      "packer/files/x.conf",
      "packer/variables.pkr.hcl",
    ]);
    expect(address.recipe).toMatch(
      /^openclawps-bake-content\/v1\nparameters \{"plan":null\}\nfile packer\/build\.pkr\.hcl [0-9a-f]{64}\n/,
    );
  });
});

describe("the Packer directory's links", () => {
  it("refuses a symlinked folder (was EISDIR) and a link out of the tree, naming each, before anything is read", async () => {
    const dir = tree("links", { ...TEMPLATE, "scripts/a.sh": "#!/bin/sh\n" });
    symlinkSync("scripts", join(dir, "linked"));
    symlinkSync("/proc/self/environ", join(dir, "env.pkrvars.hcl"));
    const refused = packerDirectoryFiles(dir, "packer", "infra/packer");
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(
      "The Packer directory 'infra/packer' holds what bake never reads: env.pkrvars.hcl is a symbolic link (to /proc/self/environ); linked is a symbolic link (to scripts).",
    );
  });
});
