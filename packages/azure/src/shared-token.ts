// One token for the whole run. The ARM clients each keep their own token cycler, so at
// the first burst of parallel requests (observe lists five resource types at once) each asked
// the credential, and each ask was a GitHub OIDC request plus an Entra exchange: four of each
// per run where one does. This credential shares one request per scope among concurrent callers
// and hands out the token until shortly before it expires.
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

/**
 * A token is renewed this long before it expires: more than the ARM clients' own refresh
 * window (2 minutes, core-rest-pipeline's tokenCycler), so they never see one they would refresh.
 */
export const TOKEN_RENEW_MARGIN_MS = 5 * 60_000;

export class SharedTokenCredential implements TokenCredential {
  private readonly tokens = new Map<string, { pending: Promise<AccessToken | null>; token?: AccessToken }>();

  constructor(
    private readonly inner: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    // A claims challenge (continuous access evaluation) asks for a new token on purpose.
    if (options?.claims) return this.inner.getToken(scopes, options);
    // A token asked for a named tenant (a Key Vault challenge names the vault's) is that tenant's.
    const tenant = options?.tenantId ? ` tenant=${options.tenantId.toLowerCase()}` : "";
    const key = `${[scopes].flat().join(" ")}${tenant}`;
    const held = this.tokens.get(key);
    const fresh = held && (!held.token || held.token.expiresOnTimestamp - this.now() > TOKEN_RENEW_MARGIN_MS);
    if (fresh) return held.pending;
    const entry: { pending: Promise<AccessToken | null>; token?: AccessToken } = {
      pending: this.inner.getToken(scopes, options).then(
        (token) => {
          if (token) entry.token = token;
          else this.tokens.delete(key);
          return token;
        },
        (err: unknown) => {
          this.tokens.delete(key);
          throw err;
        },
      ),
    };
    this.tokens.set(key, entry);
    return entry.pending;
  }
}
