import * as core from "@actions/core";
import type { RolloutLog } from "@openclawps/rollout";

/** The rollout's progress as workflow log groups and warning annotations. */
export const coreLog: RolloutLog = {
  group: (title) => core.startGroup(title),
  endGroup: () => core.endGroup(),
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
};
