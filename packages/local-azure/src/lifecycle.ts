// What happens when a long-running operation finishes, for the cases every provider shares:
// a create/update settles its provisioningState, a delete removes the resource and its children.
import type { Arm } from "./arm.ts";

export function setProvisioningState(arm: Arm, id: string, state: string): void {
  for (const r of arm.subtree(id)) r.properties.provisioningState = state;
}

export function removeWithChildren(arm: Arm, id: string): void {
  for (const r of arm.subtree(id)) arm.remove(r.id);
}

export function registerLifecycle(arm: Arm): void {
  arm.registerCompletion("provision", (a, op) => setProvisioningState(a, op.resourceId, "Succeeded"));
  arm.registerCompletion("delete", (a, op) => removeWithChildren(a, op.resourceId));
  // An operation that fails leaves the resource in provisioningState Failed, as ARM shows it.
  arm.registerCompletion("default:failed", (a, op) => {
    if (a.find(op.resourceId)) setProvisioningState(a, op.resourceId, "Failed");
  });
}
