// Microsoft.Resources: resource groups and tags at any scope.
// https://learn.microsoft.com/rest/api/resources/resource-groups
// https://learn.microsoft.com/rest/api/resources/tags
import type { Arm, Reply } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter, resourceGroupNotFound } from "../arm-error.ts";
import type { ResourceGroupRecord } from "../world.ts";
import { readTags } from "./common.ts";

// Resource group names: 1-90 chars, alphanumerics, underscores, parentheses, hyphens, periods
// (not ending in a period). https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftresources
const RG_NAME = /^[-\w._()]{1,90}$/u;

function rgView(rg: ResourceGroupRecord): Record<string, unknown> {
  return structuredClone(rg) as unknown as Record<string, unknown>;
}

export function registerResources(arm: Arm): void {
  arm.genericHandlers.set("resourceGroups", ({ method, query, pathname }) => {
    if (method !== "GET")
      throw new ArmError(405, "MethodNotAllowed", `The method '${method}' is not supported.`);
    const groups = Object.values(arm.world.resourceGroups).map(rgView);
    return { status: 200, body: arm.page(groups, query, pathname) };
  });

  arm.genericHandlers.set("resourceGroup", ({ method, parsed, body, apiVersion }) => {
    if (parsed.kind !== "resourceGroup") throw new Error("unreachable");
    const name = parsed.resourceGroup;
    const existing = arm.resourceGroup(name);
    switch (method) {
      case "GET": {
        if (!existing) throw resourceGroupNotFound(name);
        return { status: 200, body: rgView(existing) };
      }
      case "HEAD":
        // checkExistence: 204 when it exists, 404 when not.
        return { status: existing ? 204 : 404 };
      case "PUT": {
        if (!RG_NAME.test(name) || name.endsWith(".")) {
          throw new ArmError(
            400,
            "InvalidResourceGroupName",
            `The provided resource group name '${name}' has these invalid characters or is too long. The name can only contain alphanumeric, underscore, parentheses, hyphen, period (except at end) and Unicode characters that match the allowed characters.`,
          );
        }
        const location = body?.location;
        if (typeof location !== "string" || location === "") {
          throw new ArmError(
            400,
            "LocationRequired",
            "The location property is required for this definition.",
          );
        }
        if (existing?.properties.provisioningState === "Deleting") {
          // https://learn.microsoft.com/azure/azure-resource-manager/management/delete-resource-group
          throw new ArmError(
            409,
            "ResourceGroupBeingDeleted",
            `The resource group '${existing.name}' is in deprovisioning state and cannot perform this operation.`,
          );
        }
        if (existing && existing.location.toLowerCase() !== location.toLowerCase()) {
          throw new ArmError(
            409,
            "InvalidResourceGroupLocation",
            `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`,
          );
        }
        const tags = readTags(body);
        const rg: ResourceGroupRecord = existing ?? {
          id: arm.resourceGroupId(name),
          name,
          type: "Microsoft.Resources/resourceGroups",
          location,
          properties: { provisioningState: "Succeeded" },
        };
        if (tags !== undefined) rg.tags = tags;
        else if (!existing) rg.tags = {};
        arm.world.resourceGroups[name.toLowerCase()] = rg;
        // Resource group create/update is synchronous: 201 Created or 200 OK.
        return { status: existing ? 200 : 201, body: rgView(rg) };
      }
      case "PATCH": {
        if (!existing) throw resourceGroupNotFound(name);
        const tags = readTags(body);
        if (tags !== undefined) existing.tags = tags;
        return { status: 200, body: rgView(existing) };
      }
      case "DELETE": {
        if (!existing) throw resourceGroupNotFound(name);
        existing.properties.provisioningState = "Deleting";
        // Deleting a resource group is asynchronous: 202 + Location, polled until 200.
        const op = arm.accept(
          {
            method,
            query: new URLSearchParams(),
            body: undefined,
            apiVersion,
            subscriptionId: arm.subscriptionId,
            resourceGroup: existing.name,
            id: existing.id,
            name: existing.name,
            names: [],
            path: existing.id,
            type: { type: "Microsoft.Resources/resourceGroups", sdkName: "resourceGroups" },
          },
          {
            kind: "resourceGroup.delete",
            completion: "resourceGroup.delete",
            resourceId: existing.id,
            location: existing.location,
            status: 202,
            headers: "location",
          },
        );
        return op;
      }
      default:
        throw new ArmError(405, "MethodNotAllowed", `The method '${method}' is not supported.`);
    }
  });

  arm.registerCompletion("resourceGroup.delete", (a, op) => {
    for (const r of a.inResourceGroup(op.resourceId)) a.remove(r.id);
    const name = op.resourceId.split("/").pop()!;
    delete a.world.resourceGroups[name.toLowerCase()];
  });

  arm.genericHandlers.set("resourceGroupResources", ({ parsed, query, pathname }) => {
    if (parsed.kind !== "resourceGroupResources") throw new Error("unreachable");
    const rg = arm.requireResourceGroup(parsed.resourceGroup);
    const items = arm
      .inResourceGroup(rg.id)
      // Only top-level resources are listed (a type has one slash: Namespace/type).
      .filter((r) => r.type.split("/").length === 2)
      .map((r) => {
        const { properties: _p, ...generic } = stripHidden(r);
        return generic;
      });
    return { status: 200, body: arm.page(items, query, pathname) };
  });

  arm.genericHandlers.set("tags", ({ method, parsed, body }) => {
    if (parsed.kind !== "tags") throw new Error("unreachable");
    const target = tagTarget(arm, parsed.scope);
    const answer = (): Reply => ({
      status: 200,
      body: {
        id: `${target.id}/providers/Microsoft.Resources/tags/default`,
        name: "default",
        type: "Microsoft.Resources/tags",
        properties: { tags: { ...(target.tags ?? {}) } },
      },
    });
    switch (method) {
      case "GET":
        return answer();
      case "PUT": {
        target.tags = tagsFromTagsBody(body);
        return answer();
      }
      case "PATCH": {
        // https://learn.microsoft.com/rest/api/resources/tags/update-at-scope: operation Merge | Replace | Delete.
        const operation = body?.operation;
        const tags = tagsFromTagsBody(body);
        if (operation === "Replace") target.tags = tags;
        else if (operation === "Merge") target.tags = { ...(target.tags ?? {}), ...tags };
        else if (operation === "Delete") {
          const next = { ...(target.tags ?? {}) };
          for (const [k, v] of Object.entries(tags)) if (next[k] === v) delete next[k];
          target.tags = next;
        } else {
          throw invalidParameter(
            `The value '${String(operation)}' of 'operation' is not valid; use Merge, Replace or Delete.`,
            "operation",
          );
        }
        return answer();
      }
      case "DELETE":
        target.tags = {};
        return { status: 200 };
      default:
        throw new ArmError(405, "MethodNotAllowed", `The method '${method}' is not supported.`);
    }
  });
}

function tagsFromTagsBody(body: Record<string, unknown> | undefined): Record<string, string> {
  const props = body?.properties as Record<string, unknown> | undefined;
  const tags = readTags(props) ?? {};
  return tags;
}

function tagTarget(arm: Arm, scope: string): { id: string; tags?: Record<string, string> } {
  const segments = scope.split("/").filter(Boolean);
  if (segments.length === 4 && segments[2]!.toLowerCase() === "resourcegroups") {
    const rg = arm.resourceGroup(segments[3]!);
    if (!rg) throw resourceGroupNotFound(segments[3]!);
    return rg;
  }
  const resource = arm.find(scope);
  if (!resource) {
    throw new ArmError(
      404,
      "ResourceNotFound",
      `The Resource '${scope}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
    );
  }
  return resource;
}
