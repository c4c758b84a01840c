// The GitHub Actions OIDC provider as a workflow job sees it: the endpoint behind
// ACTIONS_ID_TOKEN_REQUEST_URL (bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN) that mints a signed JWT
// for a requested audience, plus the issuer's discovery document and JWKS.
// https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import type { Reply } from "./arm.ts";

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

export const GITHUB_PATH = "/github";

export const DEFAULT_SUBJECT = "repo:openclawps/example-fleet:environment:production";

/** Claims of a GitHub Actions token for a job in the default example repository. */
export function defaultIdTokenClaims(): Record<string, unknown> {
  return {
    sub: DEFAULT_SUBJECT,
    repository: "openclawps/example-fleet",
    repository_owner: "openclawps",
    ref: "refs/heads/main",
    ref_type: "branch",
    environment: "production",
    workflow: "fleet",
    job_workflow_ref: "openclawps/actions/.github/workflows/deploy.yml@refs/heads/main",
    event_name: "push",
    run_id: "1",
    run_attempt: "1",
    actor: "octocat",
    runner_environment: "github-hosted",
  };
}

export class GitHubIssuer {
  private privateKey: SigningKey | undefined;
  private jwk: JWK | undefined;
  private readonly kid = randomUUID();
  claims: Record<string, unknown>;

  constructor(
    private readonly baseUrl: () => string,
    readonly requestToken: string,
    claims: Record<string, unknown>,
  ) {
    this.claims = claims;
  }

  async init(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    this.privateKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: this.kid, alg: "RS256", use: "sig" };
  }

  get issuer(): string {
    return `${this.baseUrl()}${GITHUB_PATH}`;
  }

  /** What ACTIONS_ID_TOKEN_REQUEST_URL is set to; it already has a query so `&audience=` can be appended. */
  get requestUrl(): string {
    return `${this.issuer}/idtoken?api-version=2.0`;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.jwk!] };
  }

  /**
   * Mints a token the way GitHub does: RS256, 5 minutes of validity, `aud` as requested.
   * `iat`/`exp` in the configured claims override the clock (to test expired assertions).
   */
  async mint(audience: string | undefined, extra: Record<string, unknown> = {}): Promise<string> {
    const now = typeof this.claims.iat === "number" ? this.claims.iat : Math.floor(Date.now() / 1000);
    const exp = typeof this.claims.exp === "number" ? this.claims.exp : now + 300;
    const owner = String(this.claims.repository_owner ?? "openclawps");
    // Without `audience`, GitHub uses the repository owner's URL.
    const aud = audience ?? `https://github.com/${owner}`;
    return new SignJWT({ ...this.claims, ...extra, jti: randomUUID() })
      .setProtectedHeader({ alg: "RS256", kid: this.kid, typ: "JWT", x5t: this.kid })
      .setIssuer(this.issuer)
      .setAudience(aud)
      .setSubject(String(this.claims.sub ?? DEFAULT_SUBJECT))
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(exp)
      .sign(this.privateKey!);
  }

  /** Handles requests under /github. Returns undefined for paths it does not own. */
  async handle(
    method: string,
    subpath: string,
    query: URLSearchParams,
    authorization: string | undefined,
  ): Promise<Reply | undefined> {
    if (method !== "GET") return undefined;
    if (subpath === "/.well-known/openid-configuration") {
      return {
        status: 200,
        body: {
          issuer: this.issuer,
          jwks_uri: `${this.issuer}/.well-known/jwks`,
          subject_types_supported: ["public", "pairwise"],
          response_types_supported: ["id_token"],
          claims_supported: [
            "sub",
            "aud",
            "exp",
            "iat",
            "iss",
            "jti",
            "nbf",
            "ref",
            "repository",
            "repository_owner",
            "environment",
            "job_workflow_ref",
            "run_id",
          ],
          id_token_signing_alg_values_supported: ["RS256"],
          scopes_supported: ["openid"],
        },
      };
    }
    if (subpath === "/.well-known/jwks") return { status: 200, body: this.jwks() };
    if (subpath === "/idtoken") {
      const expected = `Bearer ${this.requestToken}`;
      if (authorization !== expected) {
        return {
          status: 401,
          body: { message: "Unauthorized: the ACTIONS_ID_TOKEN_REQUEST_TOKEN is missing or wrong." },
        };
      }
      const audience = query.get("audience") ?? undefined;
      const value = await this.mint(audience);
      return { status: 200, body: { count: value.length, value } };
    }
    return undefined;
  }
}
