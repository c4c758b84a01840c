export * from "./azure-error.ts";
export * from "./connect.ts";
export * from "./rate-limit.ts";
