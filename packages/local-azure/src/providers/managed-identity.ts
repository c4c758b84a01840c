// A resource's system-assigned managed identity: `identity: { type: "SystemAssigned" }` on a PUT
// gives the resource a service principal in the tenant, whose id comes back read-only as
// `identity.principalId` (with `tenantId`); it lives as long as the resource, survives updates,
// and `type: "None"` removes it.
// https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/overview#managed-identity-types
// https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update (VirtualMachineIdentity)
import { randomUUID } from "node:crypto";
import { invalidParameter } from "../arm-error.ts";
import type { StoredResource } from "../world.ts";
import { obj } from "./common.ts";

const TYPES = ["SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned", "None"];

/** Applies the body's `identity` to the resource (absent = unchanged). */
export function applyIdentity(resource: StoredResource, body: unknown, tenantId: string): void {
  if (body === undefined) return;
  const want = obj(body);
  const type = want?.type;
  const canonical = TYPES.find((t) => t.toLowerCase() === String(type).toLowerCase().replace(/,\s*/, ", "));
  if (!canonical) {
    throw invalidParameter(
      `The value '${String(type)}' of parameter 'identity.type' is not valid. Allowed values: ${TYPES.join(", ")}.`,
      "identity.type",
    );
  }
  if (canonical === "None") {
    delete resource.identity;
    return;
  }
  const current = obj(resource.identity);
  const system = canonical.startsWith("SystemAssigned");
  const identity: Record<string, unknown> = { type: canonical };
  if (system) {
    // The same principal while the resource keeps a system identity: role assignments stay valid.
    identity.principalId = typeof current?.principalId === "string" ? current.principalId : randomUUID();
    identity.tenantId = tenantId;
  }
  if (want?.userAssignedIdentities !== undefined)
    identity.userAssignedIdentities = want.userAssignedIdentities;
  resource.identity = identity;
}

/** The principal id of a resource's system-assigned identity, if it has one. */
export function systemPrincipalId(resource: StoredResource): string | undefined {
  const p = obj(resource.identity)?.principalId;
  return typeof p === "string" ? p : undefined;
}
