import * as core from "@actions/core";
import { log } from "@openclawps/action-kit";
import type { RolloutLog } from "@openclawps/rollout";

/** The rollout's progress as workflow log groups and warning annotations. */
export const coreLog: RolloutLog = {
  group: (title) => core.startGroup(title),
  endGroup: () => core.endGroup(),
  info: (message) => log.info(message),
  warning: (message) => core.warning(message),
};
