// Parking and resuming claws outside a rollout: deallocate (compute billing stops; a VM only
// stopped from inside is still billed, https://learn.microsoft.com/azure/virtual-machines/states-billing)
// and start. The VM is marked (TAGS.parkedBy) before it is deallocated, so a run that dies in
// between leaves a VM the schedule recognises as its own; the mark goes after a start. A run that
// dies after the mark but before the deallocate (or after a start but before the mark goes) leaves
// a running VM with a mark: the next power run removes it (powerActions' unmark, clearParkMark).
//
// A power run holds the fleet's rollout lease for minutes under a run id of its own form
// (powerRunId): a power run that died leaves a lease the next power run may take over once it has
// expired, since a dead park or start leaves nothing an operator must look at first; a stale lease
// of a rollout still needs the operator's force-unlock.
import { formatParkedBy, type ObservedVm, type ParkedBy, TAGS } from "@openclawps/fleet-model";
import type { AzureContext } from "./connect.ts";
import { mergeTags, updateTagsAtScope } from "./resource-tags.ts";

// The mark goes through the Tags API on the VM, which needs only Microsoft.Resources/tags/write:
// the power role holds no virtualMachines/write (which would let it change any VM property).
function vmScope(ctx: AzureContext, name: string): string {
  return `/subscriptions/${ctx.options.subscriptionId}/resourceGroups/${ctx.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`;
}

/** Marks the VM as parked by `by`, then deallocates it. */
export async function parkVm(
  ctx: AzureContext,
  vm: Pick<ObservedVm, "name" | "tags">,
  by: ParkedBy,
): Promise<void> {
  const mark = formatParkedBy(by);
  await updateTagsAtScope(ctx, vmScope(ctx, vm.name), "Merge", { [TAGS.parkedBy]: mark });
  const tags = mergeTags(vm.tags, { [TAGS.parkedBy]: mark });
  await ctx.compute.virtualMachines.deallocate(ctx.resourceGroup, vm.name, ctx.poll);
  vm.tags = tags;
}

/** Starts the VM (when it is not running) and removes the park mark. */
export async function startParkedVm(
  ctx: AzureContext,
  vm: Pick<ObservedVm, "name" | "tags" | "powerState">,
): Promise<void> {
  if (vm.powerState !== "running" && vm.powerState !== "starting")
    await ctx.compute.virtualMachines.start(ctx.resourceGroup, vm.name, ctx.poll);
  await clearParkMark(ctx, vm);
}

/** Removes the park mark, when the VM has one (a running VM's mark is one a dead run left). */
export async function clearParkMark(ctx: AzureContext, vm: Pick<ObservedVm, "name" | "tags">): Promise<void> {
  const key = Object.keys(vm.tags).find((k) => k.toLowerCase() === TAGS.parkedBy);
  if (key !== undefined) {
    // Delete removes the name/value pairs given: the mark as this run read it.
    await updateTagsAtScope(ctx, vmScope(ctx, vm.name), "Delete", { [key]: vm.tags[key]! });
    vm.tags = mergeTags(vm.tags, { [key]: undefined });
  }
}

const POWER_RUN = "power-";

/** The lease run id of a power run: its workflow run's, marked as a power run's. */
export function powerRunId(runId: string): string {
  return `${POWER_RUN}${runId}`;
}

/** Whether a lease run id is a power run's (powerRunId). */
export function isPowerRunId(runId: string): boolean {
  return runId.startsWith(POWER_RUN);
}
