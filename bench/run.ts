// `npm run bench`: prints figures (requests, wall times, ratios to their bounds). Nothing here
// passes or fails on a timing. Sizes (comma-separated claw counts): BENCH_FULL (default 50,200:
// created from empty, planned, re-applied), BENCH_UPGRADE (default 50: also upgraded to a new
// image), BENCH_OBSERVE (default 500: seeded, planned only) and BENCH_VALIDATE (default
// 1000,10000: the validate action on a generated manifest). Needs `npm run bundle` first.
import { benchRollout } from "./rollout.ts";
import { benchValidate, printValidateRows } from "./validate.ts";

const sizes = (name: string, fallback: number[]) =>
  (process.env[name] ?? "").trim() === ""
    ? fallback
    : (process.env[name] ?? "")
        .split(",")
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0);

// Validate first: it needs no local Azure. BENCH_VALIDATE (default 1000,10000) sizes it.
printValidateRows(await benchValidate(sizes("BENCH_VALIDATE", [1000, 10000])));
console.log();

await benchRollout({
  full: sizes("BENCH_FULL", [50, 200]),
  upgrade: sizes("BENCH_UPGRADE", [50]),
  observe: sizes("BENCH_OBSERVE", [500]),
});
