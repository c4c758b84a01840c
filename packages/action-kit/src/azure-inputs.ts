import { getString } from "./inputs.ts";
import { UserError } from "./user-error.ts";

/** The Azure identity and endpoints an action connects with (shape of @openclawps/azure's options). */
export interface AzureInputs {
  clientId: string;
  tenantId: string;
  subscriptionId: string;
  /** Default https://management.azure.com; other clouds or the local Azure override it. */
  armEndpoint?: string;
  /** Default https://login.microsoftonline.com. */
  authorityHost?: string;
}

/**
 * Reads `azure-client-id`, `azure-tenant-id`, `azure-subscription-id`, `azure-arm-endpoint`,
 * `azure-authority-host`, falling back to the AZURE_* environment variables azure/login uses.
 */
export function getAzureInputs(): AzureInputs {
  const read = (input: string, env: string) => getString(input) || process.env[env] || "";
  const clientId = read("azure-client-id", "AZURE_CLIENT_ID");
  const tenantId = read("azure-tenant-id", "AZURE_TENANT_ID");
  const subscriptionId = read("azure-subscription-id", "AZURE_SUBSCRIPTION_ID");
  const missing = [
    ["azure-client-id", clientId],
    ["azure-tenant-id", tenantId],
    ["azure-subscription-id", subscriptionId],
  ]
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length) {
    throw new UserError(
      `Missing Azure identity: ${missing.join(", ")}.`,
      "Pass them as inputs (from the AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_SUBSCRIPTION_ID secrets) or set those environment variables.",
    );
  }
  const armEndpoint = read("azure-arm-endpoint", "AZURE_ARM_ENDPOINT") || undefined;
  const authorityHost = read("azure-authority-host", "AZURE_AUTHORITY_HOST") || undefined;
  return { clientId, tenantId, subscriptionId, armEndpoint, authorityHost };
}
