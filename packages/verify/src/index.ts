export { noChecks } from "./claw-result.ts";
export * from "./readiness.ts";
export * from "./report.ts";
export * from "./run-command-transport.ts";
export {
  ConnectFailure,
  connect,
  InvalidPrivateKeyError,
  parsePrivateKey as checkPrivateKey,
  type SshConnection,
} from "./ssh-connection.ts";
export * from "./transport.ts";
export * from "./types.ts";
export * from "./verify-claws.ts";
export {
  type CommandOutcome,
  countStatuses,
  type ParsedVerifyOutput,
  parseVerifyOutput,
} from "./verify-output.ts";
