// The Azure credential of a GitHub workflow: the job's GitHub OIDC token exchanged at Microsoft
// Entra ID for an access token (workload identity federation), one POST per exchange (action-kit's
// entra-token.ts: the request, its retries, masking and errors). connectAzure wraps it in a
// SharedTokenCredential, so the ARM clients (and a Key Vault client given ctx.credential) share one
// exchange per scope until the token nears its expiry.
// https://learn.microsoft.com/entra/workload-id/workload-identity-federation
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import {
  authorityHostOf,
  type EntraAccessToken,
  type EntraTokenParams,
  type EntraTokenRequestOptions,
  requestEntraToken,
  takeEntraToken,
} from "@openclawps/action-kit/entra-token";
import { ENTRA_TOKEN_EXCHANGE_AUDIENCE, takeIdToken } from "@openclawps/action-kit/github-oidc";
import { TOKEN_RENEW_MARGIN_MS } from "./shared-token.ts";
import { isOtherTenant } from "./tenant.ts";

export interface GitHubOidcCredentialOptions {
  tenantId: string;
  clientId: string;
  /** Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** CA certificates (PEM) to trust instead of Node's default store, for Entra and GitHub. */
  ca?: string[];
  /**
   * Where each exchange's GitHub token comes from. Default: action-kit's takeIdToken (the token
   * the action prefetched at its start, a new request for every later exchange); and only with
   * the default is an exchange the action prefetched at its start (takeEntraToken) used.
   */
  getIdToken?: (audience: string) => Promise<string>;
  /** Retries, timeouts, masking of the exchange (tests). */
  request?: Omit<EntraTokenRequestOptions, "claims" | "onSent">;
  now?: () => number;
}

export class GitHubOidcCredential implements TokenCredential {
  private readonly authorityHost: string;
  private readonly now: () => number;

  constructor(private readonly opts: GitHubOidcCredentialOptions) {
    this.authorityHost = authorityHostOf(opts.authorityHost);
    this.now = opts.now ?? Date.now;
  }

  /**
   * A token for `scopes` (one resource's `/.default`): the action's prefetched exchange when it was
   * made for exactly these parameters, otherwise an exchange of a fresh GitHub token. A claims
   * challenge is passed on to Entra. The app signs in to its own tenant only: when the options name
   * another tenant (a Key Vault's challenge names the vault's tenant, and the Key Vault client
   * passes it on), that is an error naming both, not a token the vault would refuse with
   * "AKV10032: Invalid issuer".
   */
  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    const asked = options?.tenantId;
    if (asked && isOtherTenant(asked, this.opts.tenantId)) {
      throw new Error(
        `${[scopes].flat().join(" ")} asks for a token of tenant ${asked}, but this workflow's app (client ${this.opts.clientId}) signs in to tenant ${this.opts.tenantId} only: keep the fleet's Key Vault in that tenant (a vault's tenant is its properties.tenantId).`,
      );
    }
    const params: EntraTokenParams = {
      tenantId: this.opts.tenantId,
      clientId: this.opts.clientId,
      authorityHost: this.authorityHost,
      scope: [scopes].flat().join(" "),
      ...(this.opts.ca ? { ca: this.opts.ca } : {}),
    };
    if (!this.opts.getIdToken && !options?.claims) {
      const prefetched = takeEntraToken(params);
      if (prefetched) {
        const token = await prefetched;
        // Taken at once in an action; a token this close to its end is renewed instead.
        if (token.expiresOnTimestamp - this.now() > TOKEN_RENEW_MARGIN_MS) return accessToken(token);
      }
    }
    const getIdToken =
      this.opts.getIdToken ??
      ((audience: string) => takeIdToken(audience, this.opts.ca ? { ca: this.opts.ca } : {}));
    const assertion = await getIdToken(ENTRA_TOKEN_EXCHANGE_AUDIENCE);
    return accessToken(
      await requestEntraToken(params, assertion, {
        ...this.opts.request,
        ...(options?.claims ? { claims: options.claims } : {}),
      }),
    );
  }
}

function accessToken(t: EntraAccessToken): AccessToken {
  return {
    token: t.token,
    expiresOnTimestamp: t.expiresOnTimestamp,
    ...(t.refreshAfterTimestamp ? { refreshAfterTimestamp: t.refreshAfterTimestamp } : {}),
    tokenType: "Bearer",
  };
}
