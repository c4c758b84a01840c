// The Azure sign-in an action starts right after its first log line, before it loads its body:
// GitHub's OIDC token, then at once its exchange for an ARM token at Microsoft Entra ID
// (entra-token.ts). Loading the body compiles and runs megabytes of code synchronously (7.9 MB for
// deploy-fleet, ~230 ms), and a request not yet on the wire waits for it (connect and the TLS
// handshake need the event loop); a request on the wire is answered meanwhile. So the action waits
// until the exchange is sent, at most PREFETCH_EXCHANGE_WAIT_MS, then loads its body, and
// connectAzure's credential takes the answer (takeEntraToken) when it asks with the same
// parameters: one OIDC request and one exchange per run, as before, with both round trips off the
// path to the first ARM request.
import { readAzureIdentity } from "./azure-inputs.ts";
import {
  armEndpointOf,
  armScopeFor,
  authorityHostOf,
  type EntraTokenParams,
  prefetchEntraToken,
} from "./entra-token.ts";
import {
  ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  idTokenAvailable,
  prefetchIdToken,
  requestIdToken,
} from "./github-oidc.ts";

/**
 * How long an action waits at most, before it loads its body, for its exchange to be on the wire:
 * GitHub's OIDC answer, then the connection to Entra. Waiting costs the action nothing as long as
 * the token is what its first ARM request would wait for (its two round trips take longer than
 * loading the body); beyond this, GitHub is having a slow moment and the body loads meanwhile.
 */
export const PREFETCH_EXCHANGE_WAIT_MS = 1000;

/**
 * The exchange connectAzure (@openclawps/azure) makes for the action's inputs, when they are all
 * given: the identity, the authority host, and the ARM scope of the ARM endpoint (no extra CA: an
 * action trusts a private CA through NODE_EXTRA_CA_CERTS). Undefined when one is missing, and the
 * action reports that itself.
 */
export function startExchangeParams(): EntraTokenParams | undefined {
  const id = readAzureIdentity();
  if (!id.clientId || !id.tenantId || !id.subscriptionId) return undefined;
  let scope: string;
  try {
    scope = armScopeFor(armEndpointOf(id.armEndpoint));
  } catch {
    return undefined; // Not a URL: connectAzure says so.
  }
  return {
    tenantId: id.tenantId,
    clientId: id.clientId,
    authorityHost: authorityHostOf(id.authorityHost),
    scope,
  };
}

/**
 * For an action that uses Azure, called right after its first line: starts the OIDC request and
 * the exchange, and resolves once the exchange is on the wire (or failed, or after
 * PREFETCH_EXCHANGE_WAIT_MS). Without the Azure inputs it prefetches the OIDC token alone
 * (prefetchIdToken); without a token endpoint (no `id-token: write`) it does nothing, and the
 * action reports that where it needs the token.
 */
export function prefetchAzureToken(waitMs = PREFETCH_EXCHANGE_WAIT_MS): Promise<void> {
  if (!idTokenAvailable()) return Promise.resolve();
  const params = startExchangeParams();
  if (!params) return prefetchIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE);
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    const sent = () => {
      clearTimeout(timer);
      resolve();
    };
    prefetchEntraToken(params, () => requestIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE), { onSent: sent })
      .catch(() => {})
      .finally(sent);
  });
}
