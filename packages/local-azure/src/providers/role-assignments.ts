// Microsoft.Authorization role assignments at any scope (subscription, resource group, resource,
// a Key Vault secret), and the data-plane decision they drive: may this principal perform this
// data action on this resource?
// https://learn.microsoft.com/rest/api/authorization/role-assignments/create
// https://learn.microsoft.com/azure/role-based-access-control/role-assignments-list-rest
//
// Only the built-in Key Vault roles are known (role definition ids as Azure publishes them):
// https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/security
// https://learn.microsoft.com/azure/key-vault/general/rbac-guide#azure-built-in-roles-for-key-vault-data-plane-operations
import type { Arm, Reply } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter } from "../arm-error.ts";
import { actionAllowed } from "../authorization.ts";
import type { StoredResource } from "../world.ts";
import { properties } from "./common.ts";

export const ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments";

export interface RoleDefinition {
  roleName: string;
  dataActions: string[];
}

/** Built-in roles by role definition id (a GUID, the same in every subscription). */
export const BUILT_IN_ROLES: Record<string, RoleDefinition> = {
  "4633458b-17de-408a-b874-0445c86b69e6": {
    roleName: "Key Vault Secrets User",
    dataActions: [
      "Microsoft.KeyVault/vaults/secrets/getSecret/action",
      "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ],
  },
  "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": {
    roleName: "Key Vault Secrets Officer",
    dataActions: ["Microsoft.KeyVault/vaults/secrets/*"],
  },
  "00482a5a-887f-4fb3-b363-3b7fe8e74483": {
    roleName: "Key Vault Administrator",
    dataActions: ["Microsoft.KeyVault/vaults/*"],
  },
  "21090545-7ca7-4776-b22c-e363652d74d2": {
    roleName: "Key Vault Reader",
    dataActions: [
      "Microsoft.KeyVault/vaults/*/read",
      "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ],
  },
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function roleIdOf(roleDefinitionId: string): string {
  return roleDefinitionId.split("/").pop()!.toLowerCase();
}

/** `scope` is `resource` or one of its ancestors (segment-aligned, case-insensitive). */
function covers(scope: string, resource: string): boolean {
  const s = scope.toLowerCase().replace(/\/+$/, "");
  const r = resource.toLowerCase();
  return r === s || r.startsWith(`${s}/`);
}

/** Whether the principal holds a role at (or above) `resource`'s scope that grants `dataAction`. */
export function dataActionAllowed(
  arm: Arm,
  principalId: string,
  dataAction: string,
  resource: string,
): boolean {
  const who = principalId.toLowerCase();
  return arm.ofType(ROLE_ASSIGNMENT).some((a) => {
    const p = a.properties;
    if (String(p.principalId).toLowerCase() !== who || !covers(String(p.scope), resource)) return false;
    const role = BUILT_IN_ROLES[roleIdOf(String(p.roleDefinitionId))];
    return role !== undefined && actionAllowed(role.dataActions, dataAction);
  });
}

export function registerRoleAssignments(arm: Arm): void {
  arm.genericHandlers.set("roleAssignments", ({ method, parsed, body, query, pathname }) => {
    if (parsed.kind !== "roleAssignments") throw new Error("unreachable");
    requireScope(arm, parsed.scope);
    if (parsed.name === undefined) {
      if (method !== "GET")
        throw new ArmError(405, "MethodNotAllowed", `The method '${method}' is not supported.`);
      // Without a filter, a scope's list holds the assignments at, above and below it;
      // `$filter=atScope()` keeps those at or above.
      const atScope = /atScope\(\)/i.test(query.get("$filter") ?? "");
      const principal = /principalId\s+eq\s+'([^']+)'/i.exec(query.get("$filter") ?? "")?.[1]?.toLowerCase();
      const items = arm.ofType(ROLE_ASSIGNMENT).filter((a) => {
        const s = String(a.properties.scope);
        const related = covers(s, parsed.scope) || (!atScope && covers(parsed.scope, s));
        return related && (!principal || String(a.properties.principalId).toLowerCase() === principal);
      });
      return { status: 200, body: arm.page(items.map(stripHidden), query, pathname) };
    }
    const id = `${parsed.scope}/providers/${ROLE_ASSIGNMENT}/${parsed.name}`;
    const existing = arm.find(id);
    switch (method) {
      case "GET":
        if (!existing)
          throw new ArmError(
            404,
            "RoleAssignmentNotFound",
            `The role assignment '${parsed.name}' is not found.`,
          );
        return { status: 200, body: stripHidden(existing) };
      case "DELETE":
        if (!existing) return { status: 204 };
        arm.remove(id);
        return { status: 200, body: stripHidden(existing) };
      case "PUT":
        return putAssignment(arm, id, parsed.scope, parsed.name, body, existing);
      default:
        throw new ArmError(405, "MethodNotAllowed", `The method '${method}' is not supported.`);
    }
  });
}

function requireScope(arm: Arm, scope: string): void {
  const parts = scope.split("/").filter(Boolean);
  if (parts[0]?.toLowerCase() !== "subscriptions" || !parts[1]) {
    throw new ArmError(
      400,
      "InvalidRoleAssignmentScope",
      `The scope '${scope}' is not valid for a role assignment.`,
    );
  }
  if (parts[1].toLowerCase() !== arm.subscriptionId.toLowerCase())
    throw new ArmError(404, "SubscriptionNotFound", `The subscription '${parts[1]}' could not be found.`);
}

function putAssignment(
  arm: Arm,
  id: string,
  scope: string,
  name: string,
  body: Record<string, unknown> | undefined,
  existing: StoredResource | undefined,
): Reply {
  // "The role assignment ID must be a GUID" (InvalidRoleAssignmentId).
  // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-id-is-not-valid
  if (!GUID.test(name)) {
    throw new ArmError(
      400,
      "InvalidRoleAssignmentId",
      `The role assignment ID '${name}' is not valid. The role assignment ID must be a GUID.`,
    );
  }
  const p = properties(body);
  const roleDefinitionId = p.roleDefinitionId;
  const principalId = p.principalId;
  if (typeof roleDefinitionId !== "string")
    throw invalidParameter("properties.roleDefinitionId is required.", "properties.roleDefinitionId");
  if (typeof principalId !== "string")
    throw invalidParameter("properties.principalId is required.", "properties.principalId");
  if (!BUILT_IN_ROLES[roleIdOf(roleDefinitionId)]) {
    throw new ArmError(
      400,
      "RoleDefinitionDoesNotExist",
      `The specified role definition with ID '${roleIdOf(roleDefinitionId)}' does not exist.`,
    );
  }
  const same = (a: StoredResource) =>
    String(a.properties.principalId).toLowerCase() === principalId.toLowerCase() &&
    roleIdOf(String(a.properties.roleDefinitionId)) === roleIdOf(roleDefinitionId) &&
    String(a.properties.scope).toLowerCase() === scope.toLowerCase();
  if (existing) {
    // "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
    // (RoleAssignmentUpdateNotPermitted) https://learn.microsoft.com/azure/role-based-access-control/troubleshooting
    if (!same(existing)) {
      throw new ArmError(
        409,
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
      );
    }
    return { status: 201, body: stripHidden(existing) };
  }
  // One assignment per principal, role and scope: another name for the same one is refused.
  // https://learn.microsoft.com/azure/role-based-access-control/troubleshooting#symptom---role-assignment-already-exists
  if (arm.ofType(ROLE_ASSIGNMENT).some(same))
    throw new ArmError(409, "RoleAssignmentExists", "The role assignment already exists.");
  const now = new Date(arm.now()).toISOString();
  const assignment: StoredResource = {
    id,
    name,
    type: ROLE_ASSIGNMENT,
    properties: {
      roleDefinitionId,
      principalId,
      principalType: typeof p.principalType === "string" ? p.principalType : "ServicePrincipal",
      scope,
      createdOn: now,
      updatedOn: now,
    },
  };
  arm.upsert(assignment);
  return { status: 201, body: stripHidden(assignment) };
}
