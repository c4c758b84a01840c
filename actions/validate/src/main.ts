// validate entry point: the first log line at once, then the action itself (./run.ts). ncc emits
// run.ts and everything it imports as a chunk of its own beside index.js, loaded only here, so
// the log shows the step started before Node has compiled the heavy code.
import "@openclawps/action-kit/commonjs-globals";
import { announceStart } from "@openclawps/action-kit/start";

announceStart("validate");
await import("./run.ts");
