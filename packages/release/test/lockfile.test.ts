import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type Lockfile, missingOptionalDependencies } from "../src/lockfile.ts";

const root = resolve(import.meta.dirname, "../../..");

describe("package-lock.json", () => {
  it("lists every platform's optional binaries, so `npm ci` accepts it on any machine", () => {
    const lock = JSON.parse(readFileSync(resolve(root, "package-lock.json"), "utf8")) as Lockfile;
    expect(missingOptionalDependencies(lock)).toEqual([]);
  });

  it("reports an optional binary the lockfile lacks", () => {
    const lock: Lockfile = {
      packages: {
        "": {},
        "node_modules/@biomejs/biome": {
          optionalDependencies: { "@biomejs/cli-linux-x64": "2.0.0", "@biomejs/cli-darwin-arm64": "2.0.0" },
        },
        "node_modules/@biomejs/cli-linux-x64": {},
        "node_modules/vite/node_modules/esbuild": { optionalDependencies: { "@esbuild/linux-x64": "0.1.0" } },
        "node_modules/@esbuild/linux-x64": {},
      },
    };
    expect(missingOptionalDependencies(lock)).toEqual([
      "node_modules/@biomejs/biome -> @biomejs/cli-darwin-arm64",
    ]);
  });
});
