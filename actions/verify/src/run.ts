// verify, the action itself (main.ts prints the first line, then imports this): inputs →
// verifyAction → outputs, summary and annotations through the core-backed Reporter. The flow is in
// verify-action.ts, the SSH work in @openclawps/verify.
import { coreReporter, getAzureInputs, runAction } from "@openclawps/action-kit";
import { connectAzure } from "@openclawps/azure";
import { getVerifyInputs } from "./inputs.ts";
import { verifyAction } from "./verify-action.ts";

await runAction(async () => {
  await verifyAction(
    { inputs: getVerifyInputs(), workspace: process.env.GITHUB_WORKSPACE || process.cwd() },
    {
      clients: { connectAzure: (resourceGroup) => connectAzure({ ...getAzureInputs(), resourceGroup }) },
      reporter: coreReporter,
    },
  );
});
