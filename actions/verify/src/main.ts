// verify entry point: read inputs, verify the claws over SSH, report. The flow is in
// verify-action.ts, the SSH work in @openclawps/verify.
import "@openclawps/action-kit/commonjs-globals";
import { runAction } from "@openclawps/action-kit";
import { runVerifyAction } from "./verify-action.ts";

await runAction(() => runVerifyAction(process.env.GITHUB_WORKSPACE || process.cwd()));
