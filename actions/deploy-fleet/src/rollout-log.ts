// The rollout's progress through the action's Reporter: a log group per wave, warnings as
// warning annotations.
import type { Reporter } from "@openclawps/action-kit";
import type { RolloutLog } from "@openclawps/rollout";

export function rolloutLog(reporter: Reporter): RolloutLog {
  return {
    group: (title) => reporter.startGroup(title),
    endGroup: () => reporter.endGroup(),
    info: (message) => reporter.info(message),
    warning: (message) => reporter.warning(message),
  };
}
