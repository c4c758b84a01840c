// The test suites, side by side: every workspace's vitest suite through turbo, and vm-runtime's
// shellcheck + bats (vm-runtime/test/run.sh). bats runs its files one after another on one core
// while turbo's bundles and vitest workers take the other; in sequence the two took 33 min on
// 2 cores, side by side about the longer of the two. Each line of the bats run is prefixed
// `vm-runtime:` like turbo's own; the summary names what failed. Exit status: non-zero when
// either failed.
//   node scripts/run-tests.mjs              (called by `npm test` after lint and typecheck)
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const started = Date.now();
const minutes = (ms) =>
  `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;

/** Runs a command, prefixing each output line; resolves to its exit status and duration. */
function run(name, command, args, prefix) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    for (const [stream, out] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) =>
        out.write(`${prefix}${line}\n`),
      );
    }
    child.on("error", (err) => resolve({ name, code: 127, ms: Date.now() - started, error: err.message }));
    child.on("close", (code, signal) =>
      resolve({ name, code: code ?? (signal ? 128 : 1), ms: Date.now() - started }),
    );
  });
}

// On an interrupt, stop both (each child is in our process group and gets the signal too).
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(130));

const results = await Promise.all([
  run("vitest (turbo run test)", "npx", ["turbo", "run", "test"], ""),
  run("vm-runtime (shellcheck + bats)", "bash", ["vm-runtime/test/run.sh"], "vm-runtime: "),
]);

console.log("");
for (const r of results) {
  const outcome = r.code === 0 ? "passed" : `FAILED (exit ${r.code}${r.error ? `: ${r.error}` : ""})`;
  console.log(`${r.name}: ${outcome} after ${minutes(r.ms)}`);
}
console.log(`all tests: ${minutes(Date.now() - started)}`);
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
