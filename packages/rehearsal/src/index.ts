export { RehearsalError, type Value } from "./expressions.ts";
export { FleetRepo, Rehearsal, type RehearsalOptions } from "./rehearsal.ts";
export { type JobRecord, type RunRecord, type RunRequest, Runner, type RunnerHost } from "./runner.ts";
