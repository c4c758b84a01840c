// The local Azure for these tests: a real HTTPS server the real SDK clients talk to. The CA is
// passed through connectAzure's `caCertPem` (not trusted process-wide), so the tests exercise
// the adapter's own CA handling for ARM and Entra. The GitHub OIDC token is fetched here with the
// CA trusted (the request core.getIDToken makes; that takes no CA option, and an action run
// against the local Azure trusts it through NODE_EXTRA_CA_CERTS instead).
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";
import { type LocalAzure, type LocalAzureOptions, startLocalAzure } from "@openclawps/local-azure";
import { IdTokenUnavailableError } from "../src/azure-error.ts";
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
    getIdToken: (audience) => requestIdToken(audience, azure.caCertPem),
    pollIntervalMs: 0,
    ...extra,
  });
}

/**
 * The request core.getIDToken makes (GET `${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=...` with the
 * runtime bearer token, `{value}` back), trusting the local Azure's CA.
 */
function requestIdToken(audience: string, caCertPem: string): Promise<string> {
  const url = process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !bearer) return Promise.reject(new IdTokenUnavailableError());
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${url}&audience=${encodeURIComponent(audience)}`,
      {
        headers: { Authorization: `Bearer ${bearer}`, Accept: "application/json" },
        ca: [...rootCertificates, caCertPem],
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          const value = res.statusCode === 200 ? (JSON.parse(body) as { value?: unknown }).value : undefined;
          if (typeof value === "string" && value) resolve(value);
          else
            reject(
              new Error(
                `Failed to get an ID token from the local GitHub OIDC issuer: HTTP ${res.statusCode}`,
              ),
            );
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Requests the local Azure logged since `since`, by operation, leaving out LRO polls. */
export function operationsSince(azure: LocalAzure, since: number): Record<string, number> {
  return azure.counts({ since, excludePolling: true }).byOperation;
}
