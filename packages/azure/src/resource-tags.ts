// Tag sets as the controller writes them. ARM PATCHes of `tags` replace the whole set, so every
// tag write merges into what is there, and is skipped when nothing would change (a converged
// fleet gets zero writes).
import { type ResolvedClaw, type ResolvedFleet, TAGS } from "@openclawps/fleet-model";
import type { AzureContext } from "./connect.ts";

export type Tags = Record<string, string>;

/** Tags every resource of a claw carries: the fleet's azure.tags, the claw's own, its name. */
export function clawTags(
  fleet: Pick<ResolvedFleet, "azure">,
  claw: Pick<ResolvedClaw, "name" | "tags">,
): Tags {
  return { ...fleet.azure.tags, ...claw.tags, [TAGS.claw]: claw.name };
}

/** True when every `wanted` tag is present with the same value. */
export function hasTags(current: Tags | undefined, wanted: Tags): boolean {
  return Object.entries(wanted).every(([k, v]) => current?.[k] === v);
}

/** `current` with `changes` applied; `undefined` values remove a tag. */
export function mergeTags(current: Tags | undefined, changes: Record<string, string | undefined>): Tags {
  const out: Tags = { ...(current ?? {}) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/**
 * Tags - Update At Scope: `Merge` adds or sets only these tags, `Delete` removes only these
 * name/value pairs; every other tag stays as Azure has it at the moment of the write
 * (https://learn.microsoft.com/rest/api/resources/tags/update-at-scope). It needs only
 * `Microsoft.Resources/tags/write`, not write access to the resource itself
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#required-access).
 */
export async function updateTagsAtScope(
  ctx: AzureContext,
  scope: string,
  operation: "Merge" | "Delete",
  tags: Tags,
): Promise<void> {
  await ctx.resources.tagsOperations.updateAtScope(scope, { operation, properties: { tags } });
}

/** Tags - Update At Scope on the fleet's resource group. */
export function updateResourceGroupTags(
  ctx: AzureContext,
  operation: "Merge" | "Delete",
  tags: Tags,
): Promise<void> {
  return updateTagsAtScope(
    ctx,
    `/subscriptions/${ctx.options.subscriptionId}/resourceGroups/${ctx.resourceGroup}`,
    operation,
    tags,
  );
}

/** Sets `tags` on the fleet's resource group without touching any other tag. */
export function mergeResourceGroupTags(ctx: AzureContext, tags: Tags): Promise<void> {
  return updateResourceGroupTags(ctx, "Merge", tags);
}
