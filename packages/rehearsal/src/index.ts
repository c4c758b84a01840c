export { RehearsalError, type Value } from "./expressions.ts";
export { FleetRepo, Rehearsal, type RehearsalOptions } from "./rehearsal.ts";
export { type JobRecord, Runner, type RunnerHost, type RunRecord, type RunRequest } from "./runner.ts";
