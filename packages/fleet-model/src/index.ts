export * from "./types.ts";
export * from "./tags.ts";
export * from "./fingerprint.ts";
export * from "./api-contract.ts";
