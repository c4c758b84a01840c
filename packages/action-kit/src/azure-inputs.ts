import { UserError } from "./user-error.ts";
import { getInput } from "./workflow-commands.ts";

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
 * `azure-client-id`, `azure-tenant-id`, `azure-subscription-id`, `azure-arm-endpoint`,
 * `azure-authority-host` as given, falling back to the AZURE_* environment variables azure/login
 * uses; "" where neither is set. Light enough for an action's start (azure-prefetch.ts).
 */
export function readAzureIdentity(): Record<keyof AzureInputs, string> {
  const read = (input: string, env: string) => getInput(input) || process.env[env] || "";
  return {
    clientId: read("azure-client-id", "AZURE_CLIENT_ID"),
    tenantId: read("azure-tenant-id", "AZURE_TENANT_ID"),
    subscriptionId: read("azure-subscription-id", "AZURE_SUBSCRIPTION_ID"),
    armEndpoint: read("azure-arm-endpoint", "AZURE_ARM_ENDPOINT"),
    authorityHost: read("azure-authority-host", "AZURE_AUTHORITY_HOST"),
  };
}

/** The identity inputs (readAzureIdentity), refused with a UserError when one of the three ids is missing. */
export function getAzureInputs(): AzureInputs {
  const { clientId, tenantId, subscriptionId, armEndpoint, authorityHost } = readAzureIdentity();
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
  return {
    clientId,
    tenantId,
    subscriptionId,
    armEndpoint: armEndpoint || undefined,
    authorityHost: authorityHost || undefined,
  };
}
