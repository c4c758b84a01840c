// The local Azure for these tests: a real HTTPS server the real SDK clients talk to. The CA is
// passed through connectAzure's `caCertPem` (not trusted process-wide), so the tests exercise
// the adapter's own CA handling for ARM, Entra and the GitHub OIDC request (action-kit's
// takeIdToken, the one an action makes).
import { type LocalAzure, type LocalAzureOptions, startLocalAzure } from "@openclawps/local-azure";
import { type AzureConnectionOptions, type AzureContext, connectAzure } from "../src/connect.ts";

export async function startAzure(opts: LocalAzureOptions = {}): Promise<LocalAzure> {
  const azure = await startLocalAzure(opts);
  // What the runner sets for a job with `permissions: id-token: write`.
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = azure.idTokenRequestUrl;
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = azure.idTokenRequestToken;
  return azure;
}

export function connectTo(
  azure: LocalAzure,
  resourceGroup: string,
  extra: Partial<AzureConnectionOptions> = {},
): AzureContext {
  return connectAzure({
    ...azure.connection(resourceGroup),
    // The real GitHub OIDC request (action-kit's takeIdToken) against the stand-in, not its minter.
    getIdToken: undefined,
    pollIntervalMs: 0,
    ...extra,
  });
}

/** Requests the local Azure logged since `since`, by operation, leaving out LRO polls. */
export function operationsSince(azure: LocalAzure, since: number): Record<string, number> {
  return azure.counts({ since, excludePolling: true }).byOperation;
}

/** The error `p` rejects with; a test fails when it resolves. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}
