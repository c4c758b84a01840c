// Microsoft Entra ID, the slice workload identity federation uses: OpenID discovery and the v2.0
// token endpoint for `client_credentials` with a `client_assertion` (a GitHub OIDC token).
// https://learn.microsoft.com/entra/workload-id/workload-identity-federation
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential
//
// It checks the assertion the way Entra checks a federated identity credential: signature
// against the issuer's JWKS, and issuer + subject + audience matching a configured credential.
// Errors are Entra's OAuth error bodies with AADSTS codes
// (https://learn.microsoft.com/entra/identity-platform/reference-error-codes), worded as Entra
// words them today (the sources are cited where each is made):
//   AADSTS900144 a required parameter is missing (the body is read only as a form, as the
//                client-credentials page specifies Content-Type: application/x-www-form-urlencoded)
//   AADSTS700211 / 700213 / 700212 no federated credential for the token's issuer / subject / audience,
//   AADSTS7002138 the subject matches one only when letter case is ignored
//   AADSTS70003 another grant type, AADSTS700016 unknown application, AADSTS90002 unknown tenant,
//   AADSTS1002012 scope without /.default, AADSTS7000218 no client credential,
//   AADSTS50027 malformed JWT, AADSTS5002738 bad signature, AADSTS700024 expired assertion.
import { createHash, randomUUID } from "node:crypto";
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
import type { Reply } from "./arm.ts";

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

import { ArmError } from "./arm-error.ts";
import type { GitHubIssuer } from "./github-oidc.ts";

/** The audience GitHub tokens must carry for Entra federation. */
export const FEDERATION_AUDIENCE = "api://AzureADTokenExchange";

// Audiences ARM accepts for its tokens.
const ARM_AUDIENCES = [
  "https://management.core.windows.net/",
  "https://management.core.windows.net",
  "https://management.azure.com/",
  "https://management.azure.com",
];

export interface EntraConfig {
  tenantId: string;
  clientId: string;
  /** Object id of the service principal (shows in AuthorizationFailed messages). */
  objectId: string;
  federatedSubjects: string[];
  tokenLifetimeSeconds: number;
}

interface OAuthError {
  status: number;
  error: string;
  aadsts: number;
  description: string;
}

export class Entra {
  private privateKey: SigningKey | undefined;
  private jwk: JWK | undefined;
  private readonly kid = randomUUID();
  private readonly verified = new Map<string, JWTPayload>();

  constructor(
    private readonly baseUrl: () => string,
    readonly config: EntraConfig,
    private readonly github: GitHubIssuer,
  ) {}

  async init(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    this.privateKey = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: this.kid, alg: "RS256", use: "sig" };
  }

  /** Issuer of access tokens (ARM's v1 tokens say `https://sts.windows.net/{tenant}/`). */
  get accessTokenIssuer(): string {
    return `https://sts.windows.net/${this.config.tenantId}/`;
  }

  openidConfiguration(tenant: string): unknown {
    const base = `${this.baseUrl()}/${tenant}`;
    // MSAL compares the issuer with the authority it was given, so it carries our scheme and host.
    return {
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      response_modes_supported: ["query", "fragment", "form_post"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
      tenant_region_scope: "NA",
      cloud_instance_name: "microsoftonline.com",
      request_uri_parameter_supported: false,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
    };
  }

  /** Routes `/{tenant}/...` and `/common/discovery/instance`. Undefined when not an Entra path. */
  async handle(
    method: string,
    pathname: string,
    query: URLSearchParams,
    body: string,
    contentType?: string,
  ): Promise<{ reply: Reply; operation: string; scope?: string } | undefined> {
    const parts = pathname.split("/").filter(Boolean);
    if (parts.length < 2) return undefined;
    const tenant = parts[0]!;
    const rest = parts.slice(1).join("/").toLowerCase();
    if (method === "GET" && rest === "discovery/instance") {
      // Instance discovery (only used when a client does not set disableInstanceDiscovery).
      const host = new URL(this.baseUrl()).host;
      return {
        operation: "entra.instanceDiscovery",
        reply: {
          status: 200,
          body: {
            tenant_discovery_endpoint: `${this.baseUrl()}/${tenant}/v2.0/.well-known/openid-configuration`,
            "api-version": query.get("api-version") ?? "1.1",
            metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
          },
        },
      };
    }
    if (
      method === "GET" &&
      (rest === "v2.0/.well-known/openid-configuration" || rest === ".well-known/openid-configuration")
    ) {
      if (!this.knownTenant(tenant))
        return { operation: "entra.openidConfiguration", reply: this.oauthReply(tenantNotFound(tenant)) };
      return {
        operation: "entra.openidConfiguration",
        reply: { status: 200, body: this.openidConfiguration(tenant) },
      };
    }
    if (method === "GET" && rest === "discovery/v2.0/keys") {
      return { operation: "entra.keys", reply: { status: 200, body: { keys: [this.jwk!] } } };
    }
    if (method === "POST" && (rest === "oauth2/v2.0/token" || rest === "oauth2/token")) {
      // The token request is a form (the client-credentials page's requests are
      // application/x-www-form-urlencoded); Entra reads no parameter from a body of another type,
      // so a JSON body is refused as one without grant_type (AADSTS900144).
      const form = /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "")
        ? new URLSearchParams(body)
        : new URLSearchParams();
      const result = await this.token(tenant, form);
      return {
        operation: "entra.token",
        // What the client asked a token for: tests check the audience each cloud's ARM wants.
        scope: form.get("scope") ?? "",
        reply: isOAuthError(result) ? this.oauthReply(result) : { status: 200, body: result },
      };
    }
    return undefined;
  }

  private knownTenant(tenant: string): boolean {
    return (
      tenant.toLowerCase() === this.config.tenantId.toLowerCase() ||
      tenant === "organizations" ||
      tenant === "common"
    );
  }

  private oauthReply(e: OAuthError): Reply {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z");
    return {
      status: e.status,
      body: {
        error: e.error,
        error_description: `AADSTS${e.aadsts}: ${e.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
        error_codes: [e.aadsts],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${this.baseUrl()}/error?code=${e.aadsts}`,
      },
    };
  }

  private async token(tenant: string, form: URLSearchParams): Promise<OAuthError | Record<string, unknown>> {
    if (!this.knownTenant(tenant) || tenant === "common" || tenant === "organizations")
      return tenantNotFound(tenant);
    // "AADSTS900144: The request body must contain the following parameter: 'client_id'." (Entra's
    // wording for any missing parameter; https://login.microsoftonline.com/error?code=900144)
    for (const required of ["grant_type", "client_id", "scope"]) {
      if (!form.get(required)) {
        return {
          status: 400,
          error: "invalid_request",
          aadsts: 900144,
          description: `The request body must contain the following parameter: '${required}'.`,
        };
      }
    }
    if (form.get("grant_type") !== "client_credentials") {
      return {
        status: 400,
        error: "unsupported_grant_type",
        aadsts: 70003,
        description:
          "The app requested an unsupported grant type. This stand-in supports client_credentials only.",
      };
    }
    const clientId = form.get("client_id") ?? "";
    if (clientId.toLowerCase() !== this.config.clientId.toLowerCase()) {
      return {
        status: 400,
        error: "unauthorized_client",
        aadsts: 700016,
        description: `Application with identifier '${clientId}' was not found in the directory '${this.config.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      };
    }
    const scope = form.get("scope") ?? "";
    const resource = scope.split(" ").find((s) => s.endsWith("/.default"));
    if (!resource) {
      return {
        status: 400,
        error: "invalid_scope",
        aadsts: 1002012,
        description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      };
    }
    const assertion = form.get("client_assertion");
    if (
      form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
      !assertion
    ) {
      return {
        status: 401,
        error: "invalid_client",
        aadsts: 7000218,
        description:
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      };
    }
    const checked = await this.checkAssertion(assertion);
    if (isOAuthError(checked)) return checked;
    const audience = resource.slice(0, -".default".length);
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({
      tid: this.config.tenantId,
      oid: this.config.objectId,
      appid: this.config.clientId,
      appidacr: "2",
      idtyp: "app",
      ver: "1.0",
    })
      .setProtectedHeader({ alg: "RS256", kid: this.kid, typ: "JWT" })
      .setIssuer(this.accessTokenIssuer)
      .setAudience(audience)
      .setSubject(this.config.objectId)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + this.config.tokenLifetimeSeconds)
      .sign(this.privateKey!);
    return {
      token_type: "Bearer",
      expires_in: this.config.tokenLifetimeSeconds,
      ext_expires_in: this.config.tokenLifetimeSeconds,
      access_token: accessToken,
    };
  }

  /** Validates a GitHub OIDC token as a federated credential would. */
  private async checkAssertion(assertion: string): Promise<OAuthError | JWTPayload> {
    let claims: JWTPayload;
    try {
      decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      return {
        status: 400,
        error: "invalid_request",
        aadsts: 50027,
        description: "JWT token is invalid or malformed.",
      };
    }
    const issuer = String(claims.iss ?? "");
    const subject = String(claims.sub ?? "");
    const audiences = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).map((a) => String(a ?? ""));
    // Entra's answers when no federated credential matches, 401 invalid_client with the claim that
    // did not match: "AADSTS700211: No matching federated identity record found for presented
    // assertion issuer '...'" (github.com/Azure/login/issues/360), "AADSTS700213: ... subject '...'"
    // (github.com/Azure/login/issues/482), "AADSTS700212: ... audience '...'", and AADSTS7002138
    // when the subject matches only case-insensitively (github.com/Azure/login/issues/515). They
    // replaced AADSTS70021, which named all three claims in one message.
    const noMatch = (aadsts: number, claim: string, value: string, extra = ""): OAuthError => ({
      status: 401,
      error: "invalid_client",
      aadsts,
      description: `No matching federated identity record found for presented assertion ${claim} '${value}'.${extra} Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    });
    if (issuer !== this.github.issuer) return noMatch(700211, "issuer", issuer);
    if (!this.config.federatedSubjects.includes(subject)) {
      const folded = subject.toLowerCase();
      return this.config.federatedSubjects.some((s) => s.toLowerCase() === folded)
        ? noMatch(
            7002138,
            "subject",
            subject,
            " The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
          )
        : noMatch(700213, "subject", subject);
    }
    if (!audiences.includes(FEDERATION_AUDIENCE)) return noMatch(700212, "audience", audiences.join(","));
    try {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(this.github.jwks()), {
        issuer: this.github.issuer,
        audience: FEDERATION_AUDIENCE,
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired || err instanceof joseErrors.JWTClaimValidationFailed) {
        const fmt = (s: unknown) => (typeof s === "number" ? new Date(s * 1000).toISOString() : "unknown");
        return {
          status: 400,
          error: "invalid_client",
          aadsts: 700024,
          description: `Client assertion is not within its valid time range. Current time: ${new Date().toISOString()}, assertion valid from ${fmt(claims.nbf ?? claims.iat)}, expiry time of assertion ${fmt(claims.exp)}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`,
        };
      }
      return {
        status: 401,
        error: "invalid_client",
        aadsts: 5002738,
        description: `Invalid JWT token. Signature validation failed: ${(err as Error).message}`,
      };
    }
  }

  /**
   * Verifies a bearer token for ARM (default) or another audience (Key Vault); throws the ArmError
   * ARM would answer with.
   */
  async verifyAccessToken(
    authorization: string | undefined,
    audiences: string[] = ARM_AUDIENCES,
  ): Promise<JWTPayload> {
    if (!authorization) {
      throw new ArmError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
      );
    }
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) {
      throw new ArmError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      );
    }
    const token = m[1]!;
    const cached = this.verified.get(token);
    const now = Math.floor(Date.now() / 1000);
    if (cached && (cached.exp ?? 0) > now && audiences.includes(String(cached.aud))) return cached;
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
    const aud = String(claims.aud ?? "");
    if (!audiences.includes(aud)) {
      throw new ArmError(
        401,
        "InvalidAuthenticationTokenAudience",
        `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences '${audiences.join("','")}'.`,
      );
    }
    if (claims.iss !== this.accessTokenIssuer) {
      throw new ArmError(
        401,
        "InvalidAuthenticationTokenTenant",
        `The access token is from the wrong issuer '${String(claims.iss)}'. It must match the tenant '${this.accessTokenIssuer}' associated with this subscription. Please use the authority (URL) '${this.baseUrl()}/${this.config.tenantId}' to get the token.`,
      );
    }
    if (typeof claims.exp === "number" && claims.exp <= now) {
      throw new ArmError(
        401,
        "ExpiredAuthenticationToken",
        `The access token expiry UTC time '${new Date(claims.exp * 1000).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
      );
    }
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [this.jwk!] }), {
        issuer: this.accessTokenIssuer,
      });
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(token, payload);
      return payload;
    } catch {
      throw new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
  }

  /**
   * A managed identity's access token, as the instance metadata service hands it to its VM: the
   * identity's service principal (`oid`), the resource it is for (`aud`), and the resource id of
   * the VM it belongs to (`xms_mirid`).
   */
  async issueManagedIdentityToken(
    principalId: string,
    resourceId: string,
    audience: string,
  ): Promise<{ token: string; expiresOn: number; notBefore: number; lifetime: number }> {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.config.tokenLifetimeSeconds;
    const appid = objectIdFor(`mi:${principalId}`);
    const token = await new SignJWT({
      tid: this.config.tenantId,
      oid: principalId,
      appid,
      appidacr: "2",
      idtyp: "app",
      xms_mirid: resourceId,
      ver: "1.0",
    })
      .setProtectedHeader({ alg: "RS256", kid: this.kid, typ: "JWT" })
      .setIssuer(this.accessTokenIssuer)
      .setAudience(audience)
      .setSubject(principalId)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetime)
      .sign(this.privateKey!);
    return { token, expiresOn: now + lifetime, notBefore: now - 5, lifetime };
  }

  /** An access token for tests that do not exercise the federation flow. */
  async issueAccessToken(
    lifetimeSeconds = this.config.tokenLifetimeSeconds,
  ): Promise<{ token: string; expiresOnTimestamp: number }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      tid: this.config.tenantId,
      oid: this.config.objectId,
      appid: this.config.clientId,
      idtyp: "app",
      ver: "1.0",
    })
      .setProtectedHeader({ alg: "RS256", kid: this.kid, typ: "JWT" })
      .setIssuer(this.accessTokenIssuer)
      .setAudience("https://management.azure.com/")
      .setSubject(this.config.objectId)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.privateKey!);
    return { token, expiresOnTimestamp: (now + lifetimeSeconds) * 1000 };
  }
}

function isOAuthError(x: unknown): x is OAuthError {
  return typeof x === "object" && x !== null && "aadsts" in x;
}

function tenantNotFound(tenant: string): OAuthError {
  return {
    status: 400,
    error: "invalid_tenant",
    aadsts: 90002,
    description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  };
}

/** Deterministic object id for a client id, so messages stay stable across restarts. */
export function objectIdFor(clientId: string): string {
  const h = createHash("sha256").update(`sp:${clientId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
