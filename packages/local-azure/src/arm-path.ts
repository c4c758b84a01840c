// Parses ARM request paths. ARM treats every path segment case-insensitively
// (https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/resource-api-reference.md),
// and the SDKs do mix cases (arm-resources sends `resourcegroups`), so matching is on lower case.

export type ArmPath =
  /** /subscriptions/{sub}/resourcegroups */
  | { kind: "resourceGroups"; subscriptionId: string }
  /** /subscriptions/{sub}/resourcegroups/{rg} */
  | { kind: "resourceGroup"; subscriptionId: string; resourceGroup: string }
  /** /subscriptions/{sub}/resourceGroups/{rg}/resources */
  | { kind: "resourceGroupResources"; subscriptionId: string; resourceGroup: string }
  /** .../providers/{ns}/{type}/{name}[/{type}/{name}...] with an optional trailing segment */
  | {
      kind: "provider";
      subscriptionId: string;
      /** Absent for subscription-level lists (`/subscriptions/{sub}/providers/{ns}/{type}`). */
      resourceGroup?: string;
      namespace: string;
      types: string[];
      names: string[];
      /** Set when the path names a collection (types.length === names.length + 1 is false) or an action. */
      trailing?: string;
    }
  /** /subscriptions/{sub}/providers/{ns}/locations/{loc}/operations|operationResults/{id} */
  | {
      kind: "operation";
      subscriptionId: string;
      namespace: string;
      location: string;
      operationId: string;
      result: boolean;
    }
  /** /subscriptions/{sub}/operationresults/{id} (resource group deletion) */
  | { kind: "subscriptionOperation"; subscriptionId: string; operationId: string }
  /** {scope}/providers/Microsoft.Resources/tags/default */
  | { kind: "tags"; scope: string }
  /** {scope}/providers/Microsoft.Authorization/roleAssignments[/{name}] (an extension resource) */
  | { kind: "roleAssignments"; scope: string; name?: string }
  | { kind: "unknown" };

export function parseArmPath(pathname: string): ArmPath {
  const segments = pathname
    .split("/")
    .filter((s) => s !== "")
    .map(decodeURIComponent);
  const lower = segments.map((s) => s.toLowerCase());
  const n = segments.length;

  if (n >= 4 && lower.slice(-4).join("/") === "providers/microsoft.resources/tags/default") {
    return { kind: "tags", scope: `/${segments.slice(0, -4).join("/")}` };
  }
  // Role assignments extend any scope: find the last `providers/Microsoft.Authorization/roleAssignments`.
  for (let i = n - 3; i >= 0; i--) {
    if (
      lower[i] === "providers" &&
      lower[i + 1] === "microsoft.authorization" &&
      lower[i + 2] === "roleassignments"
    ) {
      if (n > i + 4) break;
      const scope = `/${segments.slice(0, i).join("/")}`;
      return n === i + 4
        ? { kind: "roleAssignments", scope, name: segments[i + 3]! }
        : { kind: "roleAssignments", scope };
    }
  }
  if (lower[0] !== "subscriptions" || n < 2) return { kind: "unknown" };
  const subscriptionId = segments[1]!;

  if (lower[2] === "operationresults" && n === 4) {
    return { kind: "subscriptionOperation", subscriptionId, operationId: segments[3]! };
  }
  if (lower[2] === "resourcegroups") {
    if (n === 3) return { kind: "resourceGroups", subscriptionId };
    const resourceGroup = segments[3]!;
    if (n === 4) return { kind: "resourceGroup", subscriptionId, resourceGroup };
    if (n === 5 && lower[4] === "resources")
      return { kind: "resourceGroupResources", subscriptionId, resourceGroup };
    if (lower[4] === "providers" && n >= 7) {
      return providerPath(subscriptionId, resourceGroup, segments[5]!, segments.slice(6));
    }
    return { kind: "unknown" };
  }
  if (lower[2] === "providers" && n >= 5) {
    const namespace = segments[3]!;
    if (
      lower[4] === "locations" &&
      n === 8 &&
      (lower[6] === "operations" || lower[6] === "operationresults")
    ) {
      return {
        kind: "operation",
        subscriptionId,
        namespace,
        location: segments[5]!,
        operationId: segments[7]!,
        result: lower[6] === "operationresults",
      };
    }
    return providerPath(subscriptionId, undefined, namespace, segments.slice(4));
  }
  return { kind: "unknown" };
}

function providerPath(
  subscriptionId: string,
  resourceGroup: string | undefined,
  namespace: string,
  rest: string[],
): ArmPath {
  const types: string[] = [];
  const names: string[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    types.push(rest[i]!);
    names.push(rest[i + 1]!);
  }
  const base = { kind: "provider" as const, subscriptionId, namespace, types, names };
  const withRg = resourceGroup === undefined ? base : { ...base, resourceGroup };
  return rest.length % 2 === 1 ? { ...withRg, trailing: rest[rest.length - 1]! } : withRg;
}
