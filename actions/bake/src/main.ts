// bake entry point: the first log line at once, then the action itself (./run.ts). ncc emits
// run.ts and everything it imports as a chunk of its own beside index.js, loaded only here, so
// the log shows the step started before Node has compiled the heavy code.
// The GitHub OIDC token request is sent first: GitHub answers it while the body compiles, and the
// Azure credential takes the answer (takeIdToken), so the first ARM request does not wait for it.
import "@openclawps/action-kit/commonjs-globals";
import { prefetchIdToken } from "@openclawps/action-kit/github-oidc";
import { announceStart } from "@openclawps/action-kit/start";

announceStart("bake");
await prefetchIdToken();
await import("./run.ts");
