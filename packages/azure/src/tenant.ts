// Tenant ids as Entra and ARM give them: GUIDs, compared without case. An app registration signs
// in to its own tenant; a resource of another tenant (a Key Vault's properties.tenantId) refuses
// its tokens.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Two tenant ids that are both GUIDs and differ (a domain name cannot be compared with a GUID). */
export function isOtherTenant(tenant: string, own: string): boolean {
  return GUID.test(tenant) && GUID.test(own) && tenant.toLowerCase() !== own.toLowerCase();
}
