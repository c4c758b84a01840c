// The run id lives in action-kit: the status action's power modes take the same lease.
export { rolloutRunId } from "@openclawps/action-kit";
