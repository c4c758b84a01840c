// deploy-fleet, the action itself (main.ts prints the first line, then imports this): inputs →
// deployFleet → outputs, summary and annotations through the core-backed Reporter. The work is in
// deploy-fleet.ts.
import { coreReporter, findShippedVmRuntime, runAction } from "@openclawps/action-kit";
import { azureClients, deployFleet } from "./deploy-fleet.ts";
import { getDeployInputs } from "./inputs.ts";
import { rolloutRunId } from "./run-id.ts";

// When the run is cancelled the runner signals the process (SIGINT, then SIGTERM) before killing
// it: stop starting claws, stop the ARM call in flight, release the lease.
const cancel = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => cancel.abort());

await runAction(async () => {
  await deployFleet(
    {
      inputs: getDeployInputs(),
      workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
      shippedVmRuntime: findShippedVmRuntime(import.meta.url),
      runId: rolloutRunId(),
      signal: cancel.signal,
    },
    { clients: azureClients, reporter: coreReporter, clock: { now: () => new Date() } },
  );
});
