// Invariant 1 of the design: no code path deletes a data disk. The strongest guarantee is that
// the package never calls the disk delete operation at all (nor builds its request by hand).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = join(import.meta.dirname, "..", "src");

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [{ file: join(dir, e.name), text: readFileSync(join(dir, e.name), "utf8") }]
        : [],
  );
}

describe("the Azure adapter's source", () => {
  const files = sources(srcDir);

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it("never calls the disk delete operation", () => {
    const offenders = files.filter((f) => /\bdisks\s*\.\s*(begin)?delete/i.test(f.text)).map((f) => f.file);
    expect(offenders).toEqual([]);
  });

  it("never sets a data disk to be deleted with its VM", () => {
    const offenders = files
      .filter((f) => /dataDisks[\s\S]{0,400}deleteOption:\s*"Delete"/.test(f.text))
      .map((f) => f.file);
    expect(offenders).toEqual([]);
  });
});
