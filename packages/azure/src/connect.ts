// One authenticated connection to Azure Resource Manager: the OIDC credential, the ARM clients
// (the SDK's for Compute and Resources, our own for Network and for the plan's reads), and the
// request limiter they share. Everything else in this package takes an
// AzureContext.
import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import {
  formDataPolicyName,
  type Pipeline,
  type PipelinePolicy,
  type TlsSettings,
  throttlingRetryPolicy,
} from "@azure/core-rest-pipeline";
import {
  armEndpointOf,
  armScopeFor,
  authorityHostOf,
  PUBLIC_ARM_ENDPOINT,
  PUBLIC_AUTHORITY_HOST,
} from "@openclawps/action-kit/entra-token";
import { ENTRA_TOKEN_EXCHANGE_AUDIENCE } from "@openclawps/action-kit/github-oidc";
import { ComputeReads } from "./compute-reads.ts";
import { GitHubOidcCredential } from "./github-oidc-credential.ts";
import { DEFAULT_POLL_INTERVAL_MS, type LroKind, LroPacing, pollIntervalFor } from "./lro-polling.ts";
import { NetworkClient } from "./network-client.ts";
import {
  ArmRequestLimiter,
  atTimeScale,
  DEFAULT_RATE_LIMITS,
  limiterTimeScaleFromEnv,
  type RateLimits,
} from "./rate-limit.ts";
import { REQUEST_TIMEOUT_MS, requestTimeoutPolicy } from "./request-timeout.ts";
import { SharedTokenCredential } from "./shared-token.ts";

export { armScopeFor, ENTRA_TOKEN_EXCHANGE_AUDIENCE, PUBLIC_ARM_ENDPOINT, PUBLIC_AUTHORITY_HOST };

export interface AzureConnectionOptions {
  subscriptionId: string;
  tenantId: string;
  clientId: string;
  resourceGroup: string;
  /** Default https://management.azure.com. */
  armEndpoint?: string;
  /**
   * Token scope for ARM. Default: the cloud's ARM audience for the public, China and US
   * Government endpoints, and the public audience for any other endpoint (the local Azure
   * stands in for public Azure at another address). Set it for other private clouds.
   */
  armScope?: string;
  /** Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /**
   * Extra CA (PEM) to trust besides the public roots, for ARM, Entra and the default GitHub OIDC
   * request: the local Azure's.
   */
  caCertPem?: string;
  /**
   * Default: GitHub's OIDC token from action-kit's `takeIdToken` (the one the action prefetched at
   * its start, then a fresh one for every later token exchange). Only with the default does the
   * credential use the exchange the action prefetched at its start (action-kit's azure-prefetch).
   */
  getIdToken?: (audience: string) => Promise<string>;
  /** Max ARM requests in flight (default 16). */
  maxParallel?: number;
  /**
   * Client-side token buckets (default: 80% of ARM's subscription limits). They refill at the
   * time scale OPENCLAWPS_ARM_LIMITER_TIME_SCALE names (a benchmark knob, rate-limit.ts; default 1).
   */
  rateLimits?: RateLimits;
  /**
   * Fallback delay between polls of a VM operation when ARM sends no Retry-After (default 10 s);
   * other kinds wait their share of it (lro-polling.ts: disks a tenth, network a fifth).
   */
  pollIntervalMs?: number;
  /** Retries per request for transient errors (5xx, network), with exponential back-off (default 3). */
  maxRetries?: number;
  /** Further rounds for a request still throttled (429/503 with Retry-After) after those (default 10). */
  maxThrottleRetries?: number;
  /** Extra pipeline policies (per retry), e.g. request logging in tests. */
  additionalPolicies?: PipelinePolicy[];
  /** Deadline of each ARM request attempt (default REQUEST_TIMEOUT_MS, 2 min). */
  requestTimeoutMs?: number;
}

export interface AzureContext {
  options: AzureConnectionOptions;
  credential: TokenCredential;
  compute: ComputeManagementClient;
  /**
   * The plan's reads (VM and disk lists, gallery, image definition and versions, resource group)
   * as plain REST on the same pipeline options (compute-reads.ts): ARM's JSON, not the SDK's models.
   */
  computeReads: ComputeReads;
  /** Our own Microsoft.Network client (network-client.ts) on the same pipeline options. */
  network: NetworkClient;
  resources: ResourceManagementClient;
  subscriptionId: string;
  resourceGroup: string;
  armEndpoint: string;
  /** Shared by the clients: rate limiting and bounded parallelism for every request. */
  limiter: ArmRequestLimiter;
  /** Shared by the clients: holds each LRO status poll until the time ARM's Retry-After names. */
  pacing: LroPacing;
  /** Pass to a VM's long-running operations (and any without a kind of its own). */
  poll: { updateIntervalInMs: number };
  /** Pass to every long-running operation: the poller's fallback interval for its kind. */
  pollFor(kind: LroKind): { updateIntervalInMs: number };
}

/**
 * Builds the credential and ARM clients. Makes no request: the first ARM call fetches the
 * first token, so auth errors surface there (run them through describeAzureError).
 */
export function connectAzure(opts: AzureConnectionOptions): AzureContext {
  for (const key of ["subscriptionId", "tenantId", "clientId", "resourceGroup"] as const) {
    if (!opts[key]) throw new Error(`connectAzure: ${key} is required`);
  }
  const armEndpoint = armEndpointOf(opts.armEndpoint);
  if (opts.caCertPem) checkCaCertificates(opts.caCertPem);
  // `ca` replaces Node's bundled roots (core-rest-pipeline TlsSettings docs, node:tls), so keep
  // them and add the extra CA; no NODE_EXTRA_CA_CERTS needed and public endpoints keep working.
  const ca = opts.caCertPem ? [...rootCertificates, opts.caCertPem] : undefined;
  const tlsOptions: TlsSettings | undefined = ca ? { ca } : undefined;

  // Shared by the ARM clients (and Key Vault clients given ctx.credential): one OIDC request
  // and one Entra exchange per run and scope (shared-token.ts), each exchange with a fresh GitHub
  // token so a long rollout never presents an expired one (github-oidc-credential.ts).
  const credential = new SharedTokenCredential(
    new GitHubOidcCredential({
      tenantId: opts.tenantId,
      clientId: opts.clientId,
      authorityHost: authorityHostOf(opts.authorityHost),
      ...(ca ? { ca } : {}),
      ...(opts.getIdToken ? { getIdToken: opts.getIdToken } : {}),
    }),
  );

  const limiter = new ArmRequestLimiter(
    atTimeScale(opts.rateLimits ?? DEFAULT_RATE_LIMITS, limiterTimeScaleFromEnv()),
    opts.maxParallel ?? 16,
  );
  const pacing = new LroPacing();
  const clientOptions = {
    endpoint: armEndpoint,
    credentials: { scopes: [opts.armScope ?? armScopeFor(armEndpoint)] },
    ...(tlsOptions ? { tlsOptions } : {}),
    // The default retry policy retries 429/503 after the server's Retry-After
    // (throttlingRetryStrategy in @typespec/ts-http-runtime, used by core-rest-pipeline's
    // defaultRetryPolicy) and other transient failures with exponential back-off, sharing one
    // retry count. Keep that count small so a failing ARM write surfaces quickly...
    retryOptions: { maxRetries: opts.maxRetries ?? 3 },
    additionalPolicies: [
      // ...and give a request that is still throttled after it more rounds, each after the
      // server's Retry-After: a throttled minute during a large rollout is not a failure.
      // (perCall: outside the retry policy; it sees the response the retry policy gave up on.)
      {
        policy: throttlingRetryPolicy({ maxRetries: opts.maxThrottleRetries ?? 10 }),
        position: "perCall" as const,
      },
      // perCall: a poll held until ARM's Retry-After (lro-polling.ts) waits outside the retry
      // policy and the limiter, so it holds no slot and no token while it waits.
      { policy: pacing.policy(), position: "perCall" as const },
      // perRetry: the limiter sees each attempt, retries included.
      { policy: limiter.policy(), position: "perRetry" as const },
      // perRetry: each attempt gets the whole deadline.
      {
        policy: requestTimeoutPolicy(opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS),
        position: "perRetry" as const,
      },
      ...(opts.additionalPolicies ?? []).map((policy) => ({ policy, position: "perRetry" as const })),
    ],
  };
  const vmPollMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const computeReads = withoutFormData(new ComputeReads(credential, opts.subscriptionId, clientOptions));
  const network = withoutFormData(new NetworkClient(credential, opts.subscriptionId, clientOptions));
  // The SDK clients are made on first use: constructing them builds every operation group of
  // Compute and Resources (~10 ms of CPU), and a plan reads through computeReads alone.
  let compute: ComputeManagementClient | undefined;
  let resources: ResourceManagementClient | undefined;
  return {
    options: opts,
    credential,
    get compute() {
      compute ??= withoutFormData(
        new ComputeManagementClient(credential, opts.subscriptionId, clientOptions),
      );
      return compute;
    },
    computeReads,
    network,
    get resources() {
      resources ??= withoutFormData(
        new ResourceManagementClient(credential, opts.subscriptionId, clientOptions),
      );
      return resources;
    },
    subscriptionId: opts.subscriptionId,
    resourceGroup: opts.resourceGroup,
    armEndpoint,
    limiter,
    pacing,
    poll: { updateIntervalInMs: pollIntervalFor("vm", vmPollMs) },
    pollFor: (kind) => ({ updateIntervalInMs: pollIntervalFor(kind, vmPollMs) }),
  };
}

/**
 * ARM requests carry JSON, never multipart form data. The default pipeline's formDataPolicy asks
 * `typeof FormData` of every request (ts-http-runtime formData.js), and in Node that first look
 * loads the built-in fetch implementation (undici) and worker_threads: ~20 ms of CPU and a
 * garbage collection on the way to an action's first ARM request, for nothing.
 */
function withoutFormData<T extends { pipeline: Pipeline }>(client: T): T {
  client.pipeline.removePolicy({ name: formDataPolicyName });
  return client;
}

/**
 * Node leaves out a `ca` entry OpenSSL cannot read without a word (tls.createSecureContext), and
 * every request then fails far from the cause, as "unable to verify the first certificate"
 * (UNABLE_TO_VERIFY_LEAF_SIGNATURE). Refuse such a CA here instead.
 */
function checkCaCertificates(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new Error("connectAzure: caCertPem holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(
        `connectAzure: certificate ${i + 1} of ${blocks.length} in caCertPem cannot be read (${(err as Error).message}), so TLS would not trust it`,
      );
    }
  }
}
