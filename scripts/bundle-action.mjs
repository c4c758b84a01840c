// Bundles one action: `npm run bundle` in actions/<name> runs this from that directory.
// ncc builds src/main.ts into dist/; then dist keeps only what runs (the entry, its chunks, the
// package.json that marks it ESM) and a notice file for every package the bundle includes.
// main.ts prints the first log line and then imports the action's body (`await import("./run.ts")`),
// so the body is a chunk (`NNN.index.js`) loaded after that line; the notice covers every chunk's
// modules (bundle-notices.mjs reads them all from ncc's stats).
// Left out: source maps (10 MB, of no use to a runner), TypeScript declarations, and assets ncc
// copies for code paths an action never takes (ssh2's Windows Pageant helper pagent.exe, the
// `open` package's xdg-open for interactive browser sign-in).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleInputsHash, bundleRecord } from "./bundle-inputs.ts";
import { bundledPackageRoots, licenseNotice } from "./bundle-notices.mjs";

const require = createRequire(import.meta.url);
const ncc = require.resolve("@vercel/ncc/dist/ncc/cli.js");
const out = "dist";
const scratch = mkdtempSync(join(tmpdir(), "ncc-stats-"));
const statsFile = join(scratch, "stats.json");
// Hashed before the build: the record says which sources the bundle was built from, so the tests
// that run it can tell a stale bundle (scripts/fresh-bundle-setup.ts).
const inputsHash = bundleInputsHash(process.cwd());

rmSync(out, { recursive: true, force: true });
try {
  // (Not --transpile-only: ncc then loses the ESM module format. The declarations it emits
  // are removed below.)
  execFileSync(
    process.execPath,
    [ncc, "build", "src/main.ts", "-o", out, "--quiet", "--stats-out", statsFile],
    {
      stdio: "inherit",
    },
  );
  const stats = JSON.parse(readFileSync(statsFile, "utf8"));
  writeFileSync(join(out, "licenses.txt"), licenseNotice(bundledPackageRoots(stats)));
  const entry = join(out, "index.js");
  writeFileSync(entry, bundleRecord(inputsHash) + readFileSync(entry, "utf8"));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
for (const name of readdirSync(out)) {
  if (!isRuntimeFile(name)) rmSync(join(out, name), { recursive: true, force: true });
}

/** What an action's dist may hold (packages/release checks every dist of the release tree). */
function isRuntimeFile(name) {
  return /^(\d+\.)?index\.js$/.test(name) || name === "package.json" || name === "licenses.txt";
}
