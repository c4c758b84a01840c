// Whether the real Packer is installed: the journeys bake with it (CI installs it). The journeys
// on booting guests also need the local Azure's guest mode (root, loop devices).
import { execFileSync } from "node:child_process";
import { guestsUnavailableReason } from "@openclawps/local-azure";

export const hasPacker = (() => {
  try {
    execFileSync("packer", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Why a journey on booting guests cannot run here (undefined: it can). In CI as root it must:
 * there the reason is an error, not a skip.
 */
export function guestJourneyUnavailable(what: string): string | undefined {
  const reason = guestsUnavailableReason() ?? (hasPacker ? undefined : "packer is not installed");
  if (reason && process.env.CI && process.getuid?.() === 0) {
    throw new Error(`${what} on guests must run in CI as root, but: ${reason}`);
  }
  if (reason) console.warn(`${what} on guests is skipped: ${reason}`);
  return reason;
}
