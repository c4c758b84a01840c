// deploy-fleet entry point: read inputs, run plan or apply, report. The work is in deploy-fleet.ts.
import "@openclawps/action-kit/commonjs-globals";
import { findShippedVmRuntime, runAction } from "@openclawps/action-kit";
import { coreLog } from "./core-log.ts";
import { deployFleet } from "./deploy-fleet.ts";
import { getDeployInputs } from "./inputs.ts";
import { rolloutRunId } from "./run-id.ts";

// When the run is cancelled the runner signals the process (SIGINT, then SIGTERM) before killing
// it: stop starting claws, let the ones in flight finish their step, release the lease.
const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => cancel.abort());

await runAction(async () => {
  const inputs = getDeployInputs();
  await deployFleet(inputs, {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    shippedVmRuntime: findShippedVmRuntime(import.meta.url),
    runId: rolloutRunId(),
    log: coreLog,
    signal: cancel.signal,
  });
});
