// `npm run bench` (after `npm run bundle`): prints figures; nothing here passes or fails on a
// timing. `npm run bench -- --quick` runs the small sizes only (a few minutes).
// Sizes (comma-separated claw counts, empty = none):
//   BENCH_PLAN     fleets seeded and planned            default 50,200,1000   quick 50,200,1000
//   BENCH_CREATE   fleets applied from empty            default 50,200        quick 50
//   BENCH_UPGRADE  of those, also upgraded (waves)      default 50            quick none
//   BENCH_VERIFY   claws verified at once (1 = alone)   default 1,50,200      quick 1,50
//   BENCH_VALIDATE validate on a generated manifest     default 1000          quick none
//   BENCH_COLD     cold start of each action (1 = on)   default 1             quick 1
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { benchColdStart } from "./cold-start.ts";
import { bundleOf } from "./measure.ts";
import { benchRollout } from "./rollout.ts";
import { benchValidate, printValidateRows } from "./validate.ts";
import { benchVerify } from "./verify.ts";

const quick = process.argv.includes("--quick");

const sizes = (name: string, full: number[], fast: number[]) => {
  const raw = process.env[name];
  if (raw === undefined) return quick ? fast : full;
  return raw
    .split(",")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
};

for (const action of ["deploy-fleet", "verify", "validate", "bake", "status"]) {
  if (!existsSync(bundleOf(action)))
    throw new Error(
      `${bundleOf(action)} is missing: run \`npm run bundle\` first (the benchmark runs the bundles).`,
    );
}

const started = Date.now();
console.log(
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} at start${quick ? "; --quick" : ""}\n`,
);
if (sizes("BENCH_COLD", [1], [1]).length > 0) {
  await benchColdStart();
  console.log();
}
const verify = sizes("BENCH_VERIFY", [1, 50, 200], [1, 50]);
if (verify.length > 0) {
  await benchVerify(verify);
  console.log();
}
await benchRollout({
  plan: sizes("BENCH_PLAN", [50, 200, 1000], [50, 200, 1000]),
  create: sizes("BENCH_CREATE", [50, 200], [50]),
  upgrade: sizes("BENCH_UPGRADE", [50], []),
});
const validate = sizes("BENCH_VALIDATE", [1000], []);
if (validate.length > 0) {
  console.log();
  printValidateRows(await benchValidate(validate));
}
console.log(
  `\nBenchmark took ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadavg()[0]?.toFixed(1)}.`,
);
