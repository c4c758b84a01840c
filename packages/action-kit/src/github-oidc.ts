// GitHub's OIDC ID token for the job, the one request an action makes to GitHub before Azure.
// The runner gives a job with `permissions: id-token: write` two variables: the URL of its token
// endpoint (already carrying a query) and a bearer token for it; the ID token comes back as
// `{"value": "<jwt>"}` for `&audience=<audience>` appended to that URL.
// https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#updating-your-actions-for-oidc
// (the same request @actions/core's getIDToken makes: packages/core/src/oidc-utils.ts in
// actions/toolkit, with @actions/http-client retrying 502, 503 and 504).
//
// Made over node:http(s), loaded when the request starts (http-request.ts): an action starts its
// request right after its first log line (prefetchIdToken, or azure-prefetch.ts, which exchanges
// the answer for an Azure token at once) and its Azure credential takes the answer (takeIdToken),
// so the token exchange does not wait for the action's own start-up.
import { isNetworkError, sendRequest } from "./http-request.ts";
import { UserError } from "./user-error.ts";
import { setSecret as maskInLog } from "./workflow-commands.ts";

/** Audience GitHub's OIDC token must carry for Microsoft Entra workload identity federation. */
// https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust#github-actions
export const ENTRA_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** The runner gave the job no OIDC token endpoint: the workflow lacks `id-token: write`. */
export class IdTokenUnavailableError extends UserError {
  constructor() {
    super(
      "GitHub did not provide an OIDC token to this job (ACTIONS_ID_TOKEN_REQUEST_URL is not set).",
      "Add `permissions: { id-token: write, contents: read }` to the job (or the workflow) that runs this action; " +
        "a reusable workflow needs it on the calling job.",
    );
    this.name = "IdTokenUnavailableError";
  }
}

/** GitHub's token endpoint answered with an error status (other than a transient 502/503/504). */
export class IdTokenRequestError extends Error {
  constructor(
    readonly statusCode: number,
    body: string,
  ) {
    super(`GitHub's OIDC token endpoint answered HTTP ${statusCode}${body ? `: ${body.slice(0, 300)}` : ""}`);
    this.name = "IdTokenRequestError";
  }
}

export interface IdTokenRequestOptions {
  /** Where ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** CA certificates (PEM) to trust instead of Node's default store: a local stand-in's. */
  ca?: string[];
  /** Masks the token in the log the moment it is read (default: the add-mask workflow command). */
  setSecret?: (value: string) => void;
  /** A request whose socket is idle this long fails, and is retried (default 30 s). */
  socketTimeoutMs?: number;
  /** Attempts after the first for 502/503/504 answers and network errors (default 5). */
  retries?: number;
  /** Waits between attempts (injected by tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Called once the first attempt's request is on the wire (handed to the OS). */
  onSent?: () => void;
}

/** Transient answers of the token endpoint, retried as @actions/http-client does. */
const RETRY_STATUS = new Set([502, 503, 504]);
const SOCKET_TIMEOUT_MS = 30_000;
const RETRIES = 5;
/** Back-off before attempt n+1: 250 ms doubled each time (250 ms ... 4 s, 7.75 s in all). */
const backoffMs = (attempt: number) => 250 * 2 ** attempt;

/** True when the runner gave this job an OIDC token endpoint. */
export function idTokenAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

/** Requests an ID token for `audience` from GitHub, masked in the log before it is returned. */
export async function requestIdToken(audience: string, opts: IdTokenRequestOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const base = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!base || !bearer) throw new IdTokenUnavailableError();
  const url = new URL(`${base}&audience=${encodeURIComponent(audience)}`);
  const retries = opts.retries ?? RETRIES;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    let transient: Error;
    try {
      const { status, body } = await get(url, bearer, attempt === 0 ? opts : { ...opts, onSent: undefined });
      if (status === 200) {
        const value = parseValue(body);
        (opts.setSecret ?? maskInLog)(value);
        return value;
      }
      if (!RETRY_STATUS.has(status)) throw new IdTokenRequestError(status, body);
      transient = new IdTokenRequestError(status, body);
    } catch (err) {
      if (!isNetworkError(err)) throw err;
      transient = err as Error;
    }
    if (attempt >= retries) {
      throw new Error(
        `GitHub's OIDC token endpoint failed ${attempt + 1} times (${transient.message}); it is GitHub's service, so run the job again later.`,
        { cause: transient },
      );
    }
    await sleep(backoffMs(attempt));
  }
}

function parseValue(body: string): string {
  let value: unknown;
  try {
    value = (JSON.parse(body) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== "string" || !value) {
    throw new Error(
      "GitHub's OIDC token endpoint answered 200 without an ID token (`value`) in its JSON body",
    );
  }
  return value;
}

function get(
  url: URL,
  bearer: string,
  opts: IdTokenRequestOptions,
): Promise<{ status: number; body: string }> {
  return sendRequest(url, {
    method: "GET",
    headers: {
      Authorization: `Bearer ${bearer}`,
      Accept: "application/json",
      "User-Agent": "openclawps-actions",
    },
    ...(opts.ca ? { ca: opts.ca } : {}),
    socketTimeoutMs: opts.socketTimeoutMs ?? SOCKET_TIMEOUT_MS,
    service: "GitHub's OIDC token endpoint",
    ...(opts.onSent ? { onSent: opts.onSent } : {}),
  });
}

/**
 * A prefetched token is handed out only this soon after its request started. GitHub's ID tokens
 * are valid for 5 minutes (`exp - iat` = 300 s: the example token in GitHub's OIDC docs, and
 * https://github.com/actions/toolkit/issues/2048); this leaves Entra most of that (a later take
 * asks GitHub anew).
 */
export const PREFETCH_FRESH_MS = 60_000;

const prefetched = new Map<string, { at: number; token: Promise<string> }>();

/** How long an action waits at most for its prefetch request to be on the wire (see prefetchIdToken). */
export const PREFETCH_SEND_WAIT_MS = 100;

/**
 * Starts the request for an ID token for `audience` now (an action calls it right after its
 * first line), for `takeIdToken` to hand out. Does nothing when the job has no token endpoint:
 * the action then reports that where it needs the token. A failure is kept for the taker.
 *
 * Resolves once the request is on the wire (or failed, or after PREFETCH_SEND_WAIT_MS): the
 * action should wait for that before it loads its body. Loading compiles megabytes of code
 * synchronously, and a request not yet sent would wait for it (connect and TLS handshake need the
 * event loop); a sent one is answered by GitHub meanwhile.
 */
export function prefetchIdToken(
  audience: string = ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  opts: IdTokenRequestOptions = {},
): Promise<void> {
  if (!idTokenAvailable(opts.env)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, PREFETCH_SEND_WAIT_MS);
    const sent = () => {
      clearTimeout(timer);
      resolve();
    };
    const token = requestIdToken(audience, {
      ...opts,
      onSent: () => {
        sent();
        opts.onSent?.();
      },
    });
    // Not an unhandled rejection if nobody takes it; takeIdToken's caller sees the error.
    token.catch(() => {}).finally(sent);
    prefetched.set(audience, { at: Date.now(), token });
  });
}

/**
 * An ID token for `audience`: the prefetched one the first time (if it is fresh), a new request
 * after that, so each token exchange presents a token minted for it.
 */
export function takeIdToken(
  audience: string = ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  opts: IdTokenRequestOptions = {},
): Promise<string> {
  const held = prefetched.get(audience);
  prefetched.delete(audience);
  if (held && Date.now() - held.at < PREFETCH_FRESH_MS) return held.token;
  return requestIdToken(audience, opts);
}
