export * from "./annotations.ts";
export * from "./azure-inputs.ts";
export * from "./inputs.ts";
export * from "./run.ts";
export * from "./run-id.ts";
export * from "./untrusted.ts";
export * from "./user-error.ts";
export * from "./vm-runtime-dir.ts";
