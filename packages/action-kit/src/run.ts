import { UserError } from "./user-error.ts";
import * as core from "./workflow-commands.ts";

/**
 * Runs an action's body: a UserError fails the step with its message only; any other error is
 * a bug, reported with its stack so it can be fixed.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof UserError) {
      core.setFailed(err.message);
    } else if (err instanceof Error) {
      core.setFailed(`${err.message}\n${err.stack ?? ""}`);
    } else {
      core.setFailed(String(err));
    }
  }
}
