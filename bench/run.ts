// `npm run bench`: prints figures (requests, wall times, ratios to their bounds). Nothing here
// passes or fails on a timing. Sizes (comma-separated claw counts): BENCH_FULL (default 50,200:
// created from empty, planned, re-applied), BENCH_UPGRADE (default 50: also upgraded to a new
// image) and BENCH_OBSERVE (default 500: seeded, planned only). Needs `npm run bundle` first.
import { benchRollout } from "./rollout.ts";

const sizes = (name: string, fallback: number[]) =>
  (process.env[name] ?? "").trim() === ""
    ? fallback
    : (process.env[name] ?? "")
        .split(",")
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0);

await benchRollout({
  full: sizes("BENCH_FULL", [50, 200]),
  upgrade: sizes("BENCH_UPGRADE", [50]),
  observe: sizes("BENCH_OBSERVE", [500]),
});
