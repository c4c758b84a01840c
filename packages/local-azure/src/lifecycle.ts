// What happens when a long-running operation finishes, for the cases every provider shares:
// a create/update settles its provisioningState, a delete removes the resource and its children.
import type { Arm } from "./arm.ts";
import { key } from "./world.ts";

export function setProvisioningState(arm: Arm, id: string, state: string): void {
  const k = key(id);
  for (const [rk, r] of Object.entries(arm.world.resources)) {
    if (rk === k || rk.startsWith(`${k}/`)) r.properties.provisioningState = state;
  }
}

export function removeWithChildren(arm: Arm, id: string): void {
  const k = key(id);
  for (const rk of Object.keys(arm.world.resources)) {
    if (rk === k || rk.startsWith(`${k}/`)) delete arm.world.resources[rk];
  }
}

export function registerLifecycle(arm: Arm): void {
  arm.registerCompletion("provision", (a, op) => setProvisioningState(a, op.resourceId, "Succeeded"));
  arm.registerCompletion("delete", (a, op) => removeWithChildren(a, op.resourceId));
  // An operation that fails leaves the resource in provisioningState Failed, as ARM shows it.
  arm.registerCompletion("default:failed", (a, op) => {
    if (a.find(op.resourceId)) setProvisioningState(a, op.resourceId, "Failed");
  });
}
