export * from "./log.ts";
export * from "./operations.ts";
export * from "./render-report.ts";
export * from "./report.ts";
export * from "./rollout.ts";
