// deploy-fleet entry point: the first log line at once, then the action itself (./run.ts). ncc emits
// run.ts and everything it imports as a chunk of its own beside index.js, loaded only here, so
// the log shows the step started before Node has compiled the heavy code.
// The Azure sign-in starts first (GitHub's OIDC token, then its exchange at Microsoft Entra ID):
// it is answered while the body compiles, and connectAzure's credential takes the answer.
import "@openclawps/action-kit/commonjs-globals";
import { prefetchAzureToken } from "@openclawps/action-kit/azure-prefetch";
import { announceStart } from "@openclawps/action-kit/start";

announceStart("deploy-fleet");
await prefetchAzureToken();
await import("./run.ts");
