// Every input of the status action, read and validated up front (action.yml documents them).
import {
  type AzureInputs,
  getAzureInputs,
  getChoice,
  getDuration,
  getList,
  getString,
  UserError,
} from "@openclawps/action-kit";
import { STATUS_MODES, type StatusMode } from "./status.ts";

export interface StatusInputs {
  manifest: string;
  mode: StatusMode;
  claws: string[];
  /** The time the schedule is evaluated at; absent: now. */
  at?: Date;
  azure: AzureInputs;
  pollIntervalMs: number;
}

export function getStatusInputs(): StatusInputs {
  const atText = getString("at");
  const at = atText ? new Date(atText) : undefined;
  if (at && (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(atText))) {
    throw new UserError(
      `Input 'at' must be an ISO 8601 time like 2026-12-04T20:00:00Z (got '${atText}').`,
      "Leave it empty to use the current time.",
    );
  }
  return {
    manifest: getString("manifest", "claws.yaml"),
    mode: getChoice("mode", STATUS_MODES, "status"),
    claws: getList("claws"),
    ...(at ? { at } : {}),
    azure: getAzureInputs(),
    pollIntervalMs: Math.round(getDuration("poll-interval", 10) * 1000),
  };
}
