// Whether the real Packer is installed: the journeys bake with it (CI installs it).
import { execFileSync } from "node:child_process";

export const hasPacker = (() => {
  try {
    execFileSync("packer", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
