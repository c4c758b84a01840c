// ARM requests as plain REST, for our own clients (network-client.ts, compute-reads.ts): the same
// Azure core the @azure/arm-* clients use (@azure-rest/core-client's getClient: the pipeline,
// credential policy, retry and additional policies connectAzure gives every client), and ARM's
// JSON handed back as it is, in the REST shape (`properties` not flattened, dates as strings):
// no model (de)serializers to bundle or to copy every resource of every list page through.
import type { AbortSignalLike } from "@azure/abort-controller";
import type { TokenCredential } from "@azure/core-auth";
import { RestError } from "@azure/core-rest-pipeline";
import {
  type Client,
  type ClientOptions,
  createRestError,
  getClient,
  type HttpResponse,
} from "@azure-rest/core-client";
import { onHostThatAnswered } from "./same-host.ts";

type Tags = Record<string, string>;

/** A reference to another resource by id. */
export interface SubResource {
  id?: string;
}

/** The envelope of every tracked ARM resource; `properties` is the type's own. */
export interface ArmResource<P> {
  id?: string;
  name?: string;
  type?: string;
  location?: string;
  tags?: Tags;
  properties?: P;
}

export interface ArmRequestOptions {
  abortSignal?: AbortSignalLike;
}

/**
 * Options as for the ARM SDK clients (@azure-rest/core-client ClientOptions): `endpoint`,
 * `credentials.scopes`, `tlsOptions`, `retryOptions`, `additionalPolicies`, ...
 */
export type ArmClientOptions = ClientOptions;

/** A REST client on ARM's pipeline, its user agent marked with `userAgent`. */
export function armRestClient(
  credential: TokenCredential,
  options: ArmClientOptions,
  userAgent: string,
): Client {
  const endpoint = options.endpoint ?? "https://management.azure.com";
  return getClient(endpoint, credential, {
    ...options,
    // The ARM clients default to the public cloud's audience whatever their endpoint
    // (arm-compute computeManagementContext.js); connectAzure passes the cloud's own.
    credentials: { scopes: options.credentials?.scopes ?? ["https://management.azure.com/.default"] },
    userAgentOptions: {
      userAgentPrefix: [options.userAgentOptions?.userAgentPrefix, userAgent].filter(Boolean).join(" "),
    },
  });
}

/**
 * `/{segment}/{segment}...?api-version={apiVersion}{query}`, each segment encoded as the SDK's
 * urlTemplate.js encodes path parameters (RFC 3986: `(` and `)`, allowed in resource group
 * names, are escaped too), so ARM sees the request the SDK would send.
 */
export function armPath(segments: string[], apiVersion: string, query = ""): string {
  return `/${segments.map(encodeSegment).join("/")}?api-version=${apiVersion}${query}`;
}

function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export const ACCEPT_JSON = { headers: { accept: "application/json" } } as const;

export function requestSignal(options: ArmRequestOptions): { abortSignal?: AbortSignalLike } {
  return options.abortSignal ? { abortSignal: options.abortSignal } : {};
}

/** One GET of a resource. */
export async function armGet<T>(client: Client, path: string, options: ArmRequestOptions = {}): Promise<T> {
  const response = await client.path(path).get({ ...requestSignal(options), ...ACCEPT_JSON });
  return bodyOf<T>(response, ["200"]);
}

/**
 * Every item of a list: ARM pages with `nextLink`, an absolute URL that usually carries the
 * api-version; one that does not gets `apiVersion` (as the SDK's pagingHelpers.js addApiVersionToUrl).
 * Every list answers `{ value: [...], nextLink }` (e.g.
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/list,
 * https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/list).
 */
export async function* armList<T>(
  client: Client,
  path: string,
  apiVersion: string,
  options: ArmRequestOptions = {},
): AsyncIterableIterator<T> {
  let response = await client.path(path).get({ ...requestSignal(options), ...ACCEPT_JSON });
  for (;;) {
    const page = bodyOf<{ value?: unknown; nextLink?: unknown }>(response, ["200"]);
    if (!Array.isArray(page.value)) {
      throw new RestError(`Azure answered a list without a 'value' array (GET ${response.request.url})`, {
        statusCode: Number(response.status),
      });
    }
    yield* page.value as T[];
    if (typeof page.nextLink !== "string" || page.nextLink === "") return;
    response = await client
      .pathUnchecked(
        withApiVersion(onHostThatAnswered(page.nextLink, response.request.url, "nextLink"), apiVersion),
      )
      .get({ ...requestSignal(options), ...ACCEPT_JSON });
  }
}

/**
 * The body of an answer with an expected status; otherwise ARM's error as a RestError with its
 * `statusCode` and `code` (ARM's `{error: {code, message}}`, as isNotFound and describeAzureError
 * read it; https://learn.microsoft.com/javascript/api/@azure/arm-network/commonerrorresponse).
 */
export function bodyOf<T>(response: HttpResponse, expected: string[]): T {
  if (!expected.includes(response.status)) throw createRestError(response);
  return response.body as T;
}

/** A nextLink or status URL without an api-version gets `apiVersion` (as the SDK's addApiVersionToUrl). */
export function withApiVersion(url: string, apiVersion: string): string {
  const parsed = new URL(url, "https://management.azure.com");
  if (parsed.searchParams.get("api-version")) return url;
  return `${url}${parsed.search ? "&" : "?"}api-version=${apiVersion}`;
}
