// Microsoft Entra ID's access token for the job's GitHub OIDC token: the OAuth 2.0 client
// credentials grant with a federated credential, one POST to the tenant's v2.0 token endpoint.
// https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential
//   POST {authority host}/{tenant}/oauth2/v2.0/token, Content-Type: application/x-www-form-urlencoded
//   client_id, scope={resource}/.default, grant_type=client_credentials,
//   client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
//   client_assertion={the GitHub token}
//   200: {"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"..."}
//   error (same page, "Error response"): {"error":"invalid_client","error_description":"AADSTS700213:
//   ... Trace ID: ... Correlation ID: ... Timestamp: ...","error_codes":[700213],"timestamp":...,
//   "trace_id":...,"correlation_id":...,"error_uri":...}; the AADSTS codes are listed at
//   https://learn.microsoft.com/entra/identity-platform/reference-error-codes ("Handling error
//   codes": `temporarily_unavailable`, "the server is temporarily too busy ... retry the request").
//
// Written out instead of @azure/identity's ClientAssertionCredential: MSAL behind it built a
// confidential client application, loaded worker_threads and could fetch the authority's
// metadata before this one request, about 100 ms on the way to an action's first ARM request and
// 1.5 MB of bundle. And an action can start this request at its start (azure-prefetch.ts), while
// its body compiles: prefetchEntraToken / takeEntraToken below.
import { isNetworkError, retryAfterValueMs, sendRequest } from "./http-request.ts";
import { setSecret as maskInLog } from "./workflow-commands.ts";

export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";
export const PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com";
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** The Entra authority host an action uses: the given one without trailing slashes, or the public cloud's. */
export function authorityHostOf(authorityHost?: string): string {
  return (authorityHost || PUBLIC_AUTHORITY_HOST).replace(/\/+$/, "");
}

/** The ARM endpoint an action uses: the given one without trailing slashes, or the public cloud's. */
export function armEndpointOf(armEndpoint?: string): string {
  return (armEndpoint || PUBLIC_ARM_ENDPOINT).replace(/\/+$/, "");
}

/**
 * ARM's token audience per cloud (the ARM clients default to the public one whatever their
 * endpoint: @azure/arm-compute computeManagementContext.js).
 * https://learn.microsoft.com/azure/azure-government/compare-azure-government-global-azure#guidance-for-developers
 */
const ARM_SCOPES: Record<string, string> = {
  "management.azure.com": "https://management.azure.com/.default",
  "management.chinacloudapi.cn": "https://management.chinacloudapi.cn/.default",
  "management.usgovcloudapi.net": "https://management.usgovcloudapi.net/.default",
};

/** The scope of ARM tokens for an endpoint: its cloud's, or the public one for any other host (the local Azure). */
export function armScopeFor(armEndpoint: string): string {
  const host = new URL(armEndpoint).hostname.toLowerCase();
  return ARM_SCOPES[host] ?? ARM_SCOPES["management.azure.com"]!;
}

/** Everything an exchange depends on besides the assertion. */
export interface EntraTokenParams {
  tenantId: string;
  clientId: string;
  /** Without trailing slashes (authorityHostOf). */
  authorityHost: string;
  /** `<resource>/.default`. */
  scope: string;
  /** CA certificates (PEM) to trust instead of Node's default store (the local Azure's, besides the public roots). */
  ca?: string[];
}

export interface EntraAccessToken {
  token: string;
  /** When Entra says it expires (expires_in counted from when the request was sent). */
  expiresOnTimestamp: number;
  /** When Entra says to renew it (refresh_in), when it says so. */
  refreshAfterTimestamp?: number;
}

export interface EntraTokenRequestOptions {
  /** Masks the access token in the log the moment it is read (default: the add-mask workflow command). */
  setSecret?: (value: string) => void;
  /** A request whose socket is idle this long fails, and is retried (default 30 s). */
  socketTimeoutMs?: number;
  /** Attempts after the first for 429, 5xx answers and network errors (default 3). */
  retries?: number;
  /** Waits between attempts (injected by tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Called once the first attempt's request is on the wire (handed to the OS). */
  onSent?: () => void;
  /** A claims challenge from the resource (continuous access evaluation), passed on as `claims`. */
  claims?: string;
  now?: () => number;
}

/** Transient answers: throttled, or the service failing (Entra's `temporarily_unavailable`). */
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const SOCKET_TIMEOUT_MS = 30_000;
/** As many retries as @azure/identity was given here (retryOptions.maxRetries 3). */
const RETRIES = 3;
/** Back-off before attempt n+1 without a Retry-After: 500 ms doubled each time (0.5, 1, 2 s). */
const backoffMs = (attempt: number) => 500 * 2 ** attempt;
/** A Retry-After longer than this is not waited out in full. */
const MAX_RETRY_AFTER_MS = 30_000;

/** Entra's OAuth error body (see the top of this file). */
interface OAuthErrorBody {
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
  trace_id?: unknown;
  correlation_id?: unknown;
}

/** Entra answered the token request with an error: its OAuth error, AADSTS code and description. */
export class EntraTokenError extends Error {
  /** The AADSTS code, e.g. "AADSTS700213" (undefined when the answer was not Entra's error body). */
  readonly code: string | undefined;
  /** The OAuth error (`invalid_client`, `invalid_request`, ...), or "" when the answer had none. */
  readonly error: string;
  /** Entra's error_description: "AADSTSnnnn: what went wrong. Trace ID: ... Correlation ID: ... Timestamp: ...". */
  readonly description: string;
  readonly traceId: string | undefined;
  readonly correlationId: string | undefined;

  constructor(
    readonly statusCode: number,
    body: string,
    endpoint: string,
    /** How many times the request was made before this answer was kept. */
    readonly attempts = 1,
  ) {
    const parsed = parseErrorBody(body);
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : "";
    super(
      parsed
        ? `Microsoft Entra ID refused the token request with HTTP ${statusCode} ${parsed.error}${tries}: ${parsed.description}`
        : `Microsoft Entra ID's token endpoint ${endpoint} answered HTTP ${statusCode}${tries} without an OAuth error: ` +
            `${body.replace(/\s+/g, " ").trim().slice(0, 200) || "(empty body)"}. Check azure-authority-host.`,
    );
    this.name = "EntraTokenError";
    this.error = parsed?.error ?? "";
    this.description = parsed?.description ?? "";
    this.code = parsed?.code;
    this.traceId = parsed?.traceId;
    this.correlationId = parsed?.correlationId;
  }
}

/** The token endpoint could not be reached (every attempt ended in a network error). */
export class EntraUnreachableError extends Error {
  constructor(endpoint: string, attempts: number, cause: Error) {
    super(
      `Microsoft Entra ID's token endpoint ${endpoint} could not be reached (${attempts} attempts; the last: ${cause.message}). ` +
        "Check azure-authority-host and that the runner can reach that host over HTTPS, or run the job again later.",
      { cause },
    );
    this.name = "EntraUnreachableError";
  }
}

function parseErrorBody(
  body: string,
):
  | { error: string; description: string; code?: string; traceId?: string; correlationId?: string }
  | undefined {
  let json: OAuthErrorBody;
  try {
    json = JSON.parse(body) as OAuthErrorBody;
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || typeof json.error !== "string") return undefined;
  const description = typeof json.error_description === "string" ? json.error_description : "";
  const first = Array.isArray(json.error_codes) ? json.error_codes[0] : undefined;
  // error_codes is the documented field; the description starts with the same code.
  const code =
    typeof first === "number" ? `AADSTS${first}` : (/^(AADSTS\d+)\b/.exec(description)?.[1] ?? undefined);
  return {
    error: json.error,
    description,
    ...(code ? { code } : {}),
    ...(typeof json.trace_id === "string" ? { traceId: json.trace_id } : {}),
    ...(typeof json.correlation_id === "string" ? { correlationId: json.correlation_id } : {}),
  };
}

export function tokenEndpoint(params: Pick<EntraTokenParams, "authorityHost" | "tenantId">): URL {
  return new URL(
    `${authorityHostOf(params.authorityHost)}/${encodeURIComponent(params.tenantId)}/oauth2/v2.0/token`,
  );
}

/**
 * Exchanges `assertion` (the GitHub OIDC token) for an access token for `params.scope`. The token
 * is masked in the log before it is returned; neither token is ever part of an error.
 */
export async function requestEntraToken(
  params: EntraTokenParams,
  assertion: string,
  opts: EntraTokenRequestOptions = {},
): Promise<EntraAccessToken> {
  const url = tokenEndpoint(params);
  const endpoint = `${url.origin}${url.pathname}`;
  const form = new URLSearchParams({
    client_id: params.clientId,
    scope: params.scope,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
    grant_type: "client_credentials",
  });
  if (opts.claims) form.set("claims", opts.claims);
  const body = form.toString();
  const retries = opts.retries ?? RETRIES;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  for (let attempt = 0; ; attempt++) {
    let transient: EntraTokenError | Error;
    let wait = backoffMs(attempt);
    const sentAt = now();
    try {
      const answer = await sendRequest(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded;charset=utf-8",
          Accept: "application/json",
          "User-Agent": "openclawps-actions",
        },
        body,
        ...(params.ca ? { ca: params.ca } : {}),
        socketTimeoutMs: opts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
        service: "Microsoft Entra ID's token endpoint",
        ...(attempt === 0 && opts.onSent ? { onSent: opts.onSent } : {}),
      });
      if (answer.status === 200) return accessTokenOf(answer.body, sentAt, opts.setSecret ?? maskInLog);
      transient = new EntraTokenError(answer.status, answer.body, endpoint, attempt + 1);
      if (!RETRY_STATUS.has(answer.status)) throw transient;
      const header = answer.headers["retry-after"];
      const after = retryAfterValueMs(Array.isArray(header) ? header[0] : header, now());
      if (after !== undefined) wait = Math.min(after, MAX_RETRY_AFTER_MS);
    } catch (err) {
      if (err instanceof EntraTokenError || !isNetworkError(err)) throw err;
      transient = err as Error;
    }
    if (attempt >= retries) {
      throw transient instanceof EntraTokenError
        ? transient
        : new EntraUnreachableError(endpoint, attempt + 1, transient);
    }
    await sleep(wait);
  }
}

function accessTokenOf(body: string, sentAt: number, setSecret: (value: string) => void): EntraAccessToken {
  let json: { access_token?: unknown; expires_in?: unknown; refresh_in?: unknown };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    json = {};
  }
  const token = typeof json.access_token === "string" ? json.access_token : "";
  if (token) setSecret(token);
  // expires_in is a number in the v2.0 endpoint's answers (a string in v1.0's): take either.
  const expiresIn = Number(json.expires_in);
  if (!token || !(expiresIn > 0)) {
    throw new Error(
      "Microsoft Entra ID's token endpoint answered 200 without an access token and its lifetime (access_token, expires_in)",
    );
  }
  const refreshIn = Number(json.refresh_in);
  return {
    token,
    expiresOnTimestamp: sentAt + expiresIn * 1000,
    ...(refreshIn > 0 ? { refreshAfterTimestamp: sentAt + refreshIn * 1000 } : {}),
  };
}

let prefetched: { params: EntraTokenParams; token: Promise<EntraAccessToken> } | undefined;

/**
 * Starts an exchange now (an action's start, azure-prefetch.ts), for `takeEntraToken` to hand to
 * the credential that asks with the same parameters. A failure is kept for the taker (and is no
 * unhandled rejection if nobody takes it).
 */
export function prefetchEntraToken(
  params: EntraTokenParams,
  assertion: () => Promise<string>,
  opts: EntraTokenRequestOptions = {},
): Promise<EntraAccessToken> {
  const token = assertion().then((value) => requestEntraToken(params, value, opts));
  token.catch(() => {});
  prefetched = { params, token };
  return token;
}

/**
 * The prefetched exchange, once, when it was made with exactly these parameters (tenant, client,
 * authority host, scope, CA); otherwise undefined, and the caller makes its own exchange.
 */
export function takeEntraToken(params: EntraTokenParams): Promise<EntraAccessToken> | undefined {
  if (!prefetched || !sameParams(prefetched.params, params)) return undefined;
  const { token } = prefetched;
  prefetched = undefined;
  return token;
}

function sameParams(a: EntraTokenParams, b: EntraTokenParams): boolean {
  return (
    a.tenantId === b.tenantId &&
    a.clientId === b.clientId &&
    authorityHostOf(a.authorityHost) === authorityHostOf(b.authorityHost) &&
    a.scope === b.scope &&
    (a.ca ?? []).join("\n") === (b.ca ?? []).join("\n")
  );
}
