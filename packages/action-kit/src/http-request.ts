// One HTTP(S) request and its whole answer, over node:http(s) loaded when the request starts: the
// two token requests an action makes before Azure (GitHub's OIDC token, Microsoft Entra ID's access
// token) are sent at its start, before its body is loaded (azure-prefetch.ts), and node:https costs
// tens of ms to load, so nothing here is loaded on the way to the first log line.
//
// Behind a proxy: a self-hosted runner's proxy is given to every step as https_proxy / http_proxy
// / no_proxy (https://docs.github.com/actions/hosting-your-own-runners/using-a-proxy-server-with-self-hosted-runners),
// as the Azure SDK's pipeline and @actions/http-client honour them. Node's own agent does, given
// them as `proxyEnv` (Node >= 24.5, https://nodejs.org/api/http.html#built-in-proxy-support:
// HTTPS through a CONNECT tunnel, NO_PROXY respected).
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage, RequestOptions } from "node:http";

export interface HttpRequest {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** CA certificates (PEM) to trust instead of Node's default store (https only). */
  ca?: string[];
  /** A request whose socket is idle this long fails with code ETIMEDOUT. */
  socketTimeoutMs: number;
  /** Who is asked, for the timeout's message ("GitHub's OIDC token endpoint"). */
  service: string;
  /** Called once the request is on the wire (handed to the OS). */
  onSent?: () => void;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** node:https or node:http, loaded on first use. */
function clientFor(https: boolean) {
  return https ? process.getBuiltinModule("node:https") : process.getBuiltinModule("node:http");
}

export function sendRequest(url: URL, request: HttpRequest): Promise<HttpAnswer> {
  const https = url.protocol === "https:";
  const client = clientFor(https);
  const agent = proxyAgent(https);
  const options: RequestOptions & { ca?: string[] } = {
    ...(agent ? { agent } : {}),
    method: request.method,
    headers: {
      ...request.headers,
      ...(request.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(request.body)) }),
    },
    ...(https && request.ca ? { ca: request.ca } : {}),
  };
  return new Promise((resolve, reject) => {
    const req: ClientRequest = client.request(url, options, (res: IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.setTimeout(request.socketTimeoutMs, () => {
      const err = new Error(
        `no answer from ${request.service} in ${request.socketTimeoutMs} ms`,
      ) as NodeJS.ErrnoException;
      err.code = "ETIMEDOUT";
      req.destroy(err);
    });
    req.on("error", reject);
    if (request.onSent) req.on("finish", request.onSent);
    req.end(request.body);
  });
}

const PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"];
const proxyAgents = new Map<string, Agent>();

/** An agent that goes through the proxy the environment names, or undefined (Node's global agent) when none. */
function proxyAgent(https: boolean): Agent | undefined {
  const env = process.env;
  if (!PROXY_VARIABLES.some((v) => env[v])) return undefined;
  const key = [https, ...[...PROXY_VARIABLES, "no_proxy", "NO_PROXY"].map((v) => env[v] ?? "")].join("|");
  let agent = proxyAgents.get(key);
  if (!agent) {
    agent = new (clientFor(https).Agent)({ keepAlive: true, proxyEnv: { ...env } });
    proxyAgents.set(key, agent);
  }
  return agent;
}

/** Errors of the connection itself (reset, refused, timed out, DNS), as opposed to an answer. */
export function isNetworkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

/**
 * A Retry-After value in ms from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when it is neither. One reading for every client here (Entra's token endpoint, ARM's
 * long-running operations in @openclawps/azure's lro-polling.ts).
 */
export function retryAfterValueMs(raw: string | undefined, now: number): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  // (Not for a number: Date.parse reads "-5" as the year -5.)
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
