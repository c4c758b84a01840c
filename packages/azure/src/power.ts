// Parking and resuming claws outside a rollout: deallocate (compute billing stops; a VM only
// stopped from inside is still billed, https://learn.microsoft.com/azure/virtual-machines/states-billing)
// and start. The VM is marked (TAGS.parkedBy) before it is deallocated, so a run that dies in
// between leaves a VM the schedule recognises as its own; the mark goes after a start.
import { formatParkedBy, type ObservedVm, type ParkedBy, TAGS } from "@openclawps/fleet-model";
import type { AzureContext } from "./connect.ts";
import { mergeTags } from "./resource-tags.ts";

/** Marks the VM as parked by `by`, then deallocates it. */
export async function parkVm(
  ctx: AzureContext,
  vm: Pick<ObservedVm, "name" | "tags">,
  by: ParkedBy,
): Promise<void> {
  const tags = mergeTags(vm.tags, { [TAGS.parkedBy]: formatParkedBy(by) });
  await ctx.compute.virtualMachines.update(ctx.resourceGroup, vm.name, { tags }, ctx.poll);
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
  if (Object.keys(vm.tags).some((k) => k.toLowerCase() === TAGS.parkedBy)) {
    const tags = mergeTags(vm.tags, { [TAGS.parkedBy]: undefined });
    await ctx.compute.virtualMachines.update(ctx.resourceGroup, vm.name, { tags }, ctx.poll);
    vm.tags = tags;
  }
}
