// The stand-in as a whole: one HTTPS listener on 127.0.0.1 serving ARM, Microsoft Entra and the
// GitHub OIDC issuer, with request log, faults, throttling, latency and persistence around them.
import { randomInt, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assignmentAllowed, parseAssignmentCondition, ROLE_ASSIGNMENT_WRITE } from "./abac.ts";
import { Arm, type Reply, type RouteInfo } from "./arm.ts";
import { ArmError } from "./arm-error.ts";
import { actionAllowed, authorizationFailed } from "./authorization.ts";
import { generateCertificates } from "./certificates.ts";
import { Entra, objectIdFor } from "./entra.ts";
import { type FaultSpec, Faults } from "./faults.ts";
import { DEFAULT_SUBJECT, defaultIdTokenClaims, GITHUB_PATH, GitHubIssuer } from "./github-oidc.ts";
import { DEFECT_TAG, GuestManager, type GuestOptions, type GuestStatus } from "./guests/guest-manager.ts";
import { guestsUnavailableReason } from "./guests/host-check.ts";
import { guestSpec } from "./guests/spec.ts";
import { serveImds } from "./imds.ts";
import { KeyVaultData, vaultHost } from "./key-vault-data.ts";
import { registerLifecycle } from "./lifecycle.ts";
import { AZURE_LATENCY_MS, type OperationKind } from "./operation-kind.ts";
import {
  powerState,
  registerCompute,
  seedIncrementalSnapshots,
  VM,
  type VmPowerHooks,
} from "./providers/compute.ts";
import { registerGallery } from "./providers/gallery.ts";
import { addSecretVersion, registerKeyVault, VAULT, vaultUri } from "./providers/key-vault.ts";
import { evaluateInbound, type InboundFlow, type NsgVerdict, registerNetwork } from "./providers/network.ts";
import { registerResources } from "./providers/resources.ts";
import { registerRoleAssignments } from "./providers/role-assignments.ts";
import type { VmAgents } from "./providers/run-commands.ts";
import {
  type CountFilter,
  type Counts,
  countRequests,
  type RequestLogEntry,
  recordPace,
} from "./request-log.ts";
import { type SeedVmOptions, seedGalleryVersions, seedVirtualMachines } from "./seed.ts";
import { type LocalAzureState, snapshot } from "./snapshot.ts";
import { type ThrottleConfig, Throttling } from "./throttling.ts";
import { loadWorld, saveWorld } from "./world.ts";

export interface LocalAzureOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** JSON file the world is loaded from at start and written to after every change. */
  stateFile?: string;
  /** Items per page in list answers (default 100). */
  pageSize?: number;
  /** Multiplier on Azure's durations (0 = instant, default). */
  timeScale?: number;
  /** Azure-time duration per operation kind, overriding the defaults (ms, before timeScale). */
  latencyMs?: Partial<Record<OperationKind, number>>;
  /** true = Azure's limits; an object overrides some buckets; false/absent = off. */
  throttling?: boolean | Partial<ThrottleConfig>;
  tenantId?: string;
  clientId?: string;
  subscriptionId?: string;
  /** Subjects with a federated credential on the app (default: the example fleet's production environment). */
  federatedSubjects?: string[];
  /** Claims of GitHub OIDC tokens (merged over defaults; `sub` decides federation). */
  idTokenClaims?: Record<string, unknown>;
  /** When set, only these ARM actions are permitted (role-definition wildcards allowed). */
  allowedActions?: string[];
  /**
   * A condition on the caller's role assignment (ABAC 2.0, the "constrain roles / principal
   * types" shape of abac.ts): roleAssignments/write requests it does not admit are refused.
   */
  assignmentCondition?: string;
  /** Lifetime of issued access tokens in seconds (default 3599). */
  accessTokenLifetimeSeconds?: number;
  /**
   * Boot a guest for every running VM (README "Guest mode"). When this machine cannot
   * (not root, no loop devices, missing tools), VMs stay records and `guestsUnavailableReason`
   * says why.
   */
  guests?: boolean | GuestOptions;
}

export interface SeedGalleryOptions {
  /** Publish the versions with a defective image layer (what breaks; see README "Guest mode"). */
  defective?: "xrdp";
}

/**
 * What an in-process client needs to reach the stand-in as the workflow's identity: the shape of
 * @openclawps/azure's `connectAzure` options (this package does not depend on it).
 */
export interface LocalAzureConnection {
  subscriptionId: string;
  tenantId: string;
  clientId: string;
  resourceGroup: string;
  armEndpoint: string;
  authorityHost: string;
  caCertPem: string;
  /** The job's GitHub OIDC token (`mintIdToken`), exchanged at the stand-in's Entra. */
  getIdToken: (audience: string) => Promise<string>;
}

export interface LocalAzure {
  /** https://127.0.0.1:PORT — pass as `endpoint` to the ARM clients. */
  armEndpoint: string;
  /** https://127.0.0.1:PORT — pass as `authorityHost` to @azure/identity (with disableInstanceDiscovery). */
  authorityHost: string;
  tenantId: string;
  clientId: string;
  subscriptionId: string;
  /** Object id of the app's service principal (appears in AuthorizationFailed messages). */
  objectId: string;
  caCertPem: string;
  /** The CA certificate as a file (for NODE_EXTRA_CA_CERTS). */
  caCertPath: string;
  /** For ACTIONS_ID_TOKEN_REQUEST_URL (already contains "?"). */
  idTokenRequestUrl: string;
  /** For ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  idTokenRequestToken: string;
  /** Issuer URL of the local GitHub OIDC provider. */
  githubIssuer: string;
  /** Environment a client process needs (see README: names and meaning). */
  env(): Record<string, string>;
  readonly requestLog: RequestLogEntry[];
  counts(filter?: CountFilter): Counts;
  resetLog(): void;
  setIdTokenClaims(claims: Record<string, unknown>): void;
  /**
   * The job's GitHub OIDC token for `audience`, as the request at idTokenRequestUrl returns it,
   * for in-process clients (connectAzure's getIdToken): core.getIDToken trusts only Node's CA
   * store, which a running process cannot extend with the local Azure's CA.
   */
  mintIdToken(audience: string): Promise<string>;
  /** `connectAzure` options for `resourceGroup`: ids, endpoints, the CA and `mintIdToken` as the token source. */
  connection(resourceGroup: string): LocalAzureConnection;
  setFederatedSubjects(subjects: string[]): void;
  /** Restricts ARM to these actions (undefined = everything allowed). */
  setAllowedActions(actions: string[] | undefined): void;
  /** Sets (or lifts) the condition on the caller's role assignment; throws on a shape abac.ts does not evaluate. */
  setAssignmentCondition(condition: string | undefined): void;
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  setThrottling(on: boolean | Partial<ThrottleConfig>): void;
  setTimeScale(scale: number): void;
  /**
   * Restricts a VM size for the subscription (reason NotAvailableForSubscription in the resource
   * SKUs API; creates and resizes to it fail with SkuNotAvailable), or lifts the restriction.
   */
  restrictVmSize(name: string, restricted?: boolean): void;
  /** Creates the resource group, gallery, image definition and the given versions directly. */
  seedGalleryVersions(
    rg: string,
    gallery: string,
    image: string,
    versions: string[],
    location?: string,
    tags?: Record<string, string>,
    options?: SeedGalleryOptions,
  ): Promise<void>;
  /** Guest mode on: the guests' manager (undefined when off or unavailable). */
  readonly guests: GuestManager | undefined;
  /** Guest mode asked for but impossible here: why, in one line. */
  readonly guestsUnavailableReason: string | undefined;
  /** A VM's guest (guest mode on): state, OS disk and console paths. */
  guestStatus(rg: string, vmName: string): GuestStatus | undefined;
  /** Creates VMs (with NIC, and data disk unless told otherwise) directly in the state, for scale tests. */
  seedVirtualMachines(rg: string, names: string[], options: SeedVmOptions): Promise<void>;
  /** https://{vault}.vault.localhost:PORT/ — a vault's data-plane URL (its `properties.vaultUri`). */
  vaultUrl(vault: string): string;
  /**
   * The instance metadata service as one VM sees it (its token endpoint answers with that VM's
   * system-assigned identity): the base URL standing for http://169.254.169.254. Closed by stop().
   */
  imdsEndpoint(rg: string, vmName: string): Promise<string>;
  /** Sets secrets (a new version each) in an existing vault directly, for scale tests. */
  seedKeyVaultSecrets(rg: string, vault: string, secrets: Record<string, string>): Promise<void>;
  /**
   * Incremental snapshots of a disk (by id), stored as finished creates leave them; in the disk's
   * resource group, or in `resourceGroup` (which must exist).
   */
  seedIncrementalSnapshots(diskId: string, names: string[], resourceGroup?: string): Promise<void>;
  /** What a network security group (by id) does with an inbound flow, evaluated as Azure does. */
  nsgVerdict(nsgId: string, flow: InboundFlow): NsgVerdict;
  /** A TokenCredential-shaped object that skips federation (for benchmarks and quick scripts). */
  staticCredential(): { getToken(): Promise<{ token: string; expiresOnTimestamp: number }> };
  /** Read-only snapshot of the world, for assertions. */
  state(): LocalAzureState;
  stop(): Promise<void>;
}

const DEFAULTS = {
  tenantId: "00000000-0000-4000-8000-00000000a7e2",
  clientId: "00000000-0000-4000-8000-00000000c11e",
  subscriptionId: "00000000-0000-4000-8000-00000000c1a0",
};

const MAX_BODY = 8 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ArmError(413, "RequestEntityTooLarge", "The request content is too large."));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export async function startLocalAzure(opts: LocalAzureOptions = {}): Promise<LocalAzure> {
  const tenantId = opts.tenantId ?? DEFAULTS.tenantId;
  const clientId = opts.clientId ?? DEFAULTS.clientId;
  const subscriptionId = opts.subscriptionId ?? DEFAULTS.subscriptionId;
  const objectId = objectIdFor(clientId);
  let timeScale = opts.timeScale ?? 0;
  let allowedActions = opts.allowedActions;
  let assignmentCondition = opts.assignmentCondition
    ? parseAssignmentCondition(opts.assignmentCondition)
    : undefined;
  const certs = generateCertificates();
  const dir = mkdtempSync(join(tmpdir(), "local-azure-"));
  const caCertPath = join(dir, "ca.pem");
  writeFileSync(caCertPath, certs.caCertPem);

  let base = "";
  const baseUrl = () => base;
  const requestLog: RequestLogEntry[] = [];
  const faults = new Faults();
  const throttling = new Throttling(opts.throttling);
  throttling.setTimeScale(timeScale);
  const latency = (kind: OperationKind) => (opts.latencyMs?.[kind] ?? AZURE_LATENCY_MS[kind]) * timeScale;

  const github = new GitHubIssuer(baseUrl, randomUUID(), {
    ...defaultIdTokenClaims(),
    ...(opts.idTokenClaims ?? {}),
  });
  const entra = new Entra(
    baseUrl,
    {
      tenantId,
      clientId,
      objectId,
      federatedSubjects: opts.federatedSubjects ?? [DEFAULT_SUBJECT],
      tokenLifetimeSeconds: opts.accessTokenLifetimeSeconds ?? 3599,
    },
    github,
  );
  await Promise.all([github.init(), entra.init()]);

  const stateFile = opts.stateFile;
  const arm = new Arm(loadWorld(stateFile), {
    baseUrl,
    subscriptionId,
    tenantId,
    pageSize: opts.pageSize ?? 100,
    latencyMs: latency,
    timeScale: () => timeScale,
  });
  registerLifecycle(arm);
  registerResources(arm);
  registerNetwork(arm);
  registerGallery(arm);
  registerKeyVault(arm);
  registerRoleAssignments(arm);
  const keyVault = new KeyVaultData(
    arm,
    () => base,
    (authorization, audience) => entra.verifyAccessToken(authorization, [audience, `${audience}/`]),
  );
  let guests: GuestManager | undefined;
  let httpsPort: number | undefined;
  let guestsUnavailable: string | undefined;
  if (opts.guests) {
    guestsUnavailable = guestsUnavailableReason();
    if (!guestsUnavailable)
      guests = new GuestManager(opts.guests === true ? {} : opts.guests, {
        caCertPem: certs.caCertPem,
        // The VM the guest's link belongs to, as it is when the request comes (IMDS answers for
        // the VM a request comes from).
        imds: async (key, host, peer) =>
          (
            await serveImds(
              entra,
              host,
              0,
              () => {
                arm.settle();
                return arm.find(key);
              },
              { peer },
            )
          ).server,
        httpsPort: () => httpsPort,
      });
  }
  // Guests listen on their VM's public IP port 22, host-wide: a fresh world in guest mode takes
  // its public IPs from a random block of 127.0.0.0/8, so instances running side by side (test
  // files in parallel) do not hand out the same address.
  if (guests && arm.world.nextPublicIp === 0 && Object.keys(arm.world.resources).length === 0)
    arm.world.nextPublicIp = 254 * randomInt(1, 60_000);
  const hooks: VmPowerHooks | undefined = guests && {
    running: (a, vm) => guests.vmRunning(guestSpec(a, vm)),
    stopped: (_a, vm) => guests.vmStopped(vm.id.toLowerCase()),
    restarted: (a, vm) => guests.vmRestarted(guestSpec(a, vm)),
    deleted: (_a, vm) => guests.vmDeleted(vm.id.toLowerCase(), vm.name, String(vm.properties.vmId)),
  };
  // The VM agent lives in the guest: without guests no VM has one (Run Commands fail as on a VM
  // whose agent never reports, and the instance view says "Not Ready").
  const agents: VmAgents | undefined = guests && {
    ready: (vm) => guests.agentReady(vm.id),
    starting: (vm) => guests.isUp(vm.id),
    run: (vm, req) => guests.runScript(vm.id, req),
  };
  registerCompute(arm, hooks, agents);
  const persist = () => {
    if (stateFile) saveWorld(stateFile, arm.world);
  };

  const hanging = new Set<ServerResponse>();
  const imdsServers: HttpServer[] = [];

  const send = (res: ServerResponse, reply: Reply, extraHeaders: Record<string, string> = {}) => {
    const headers: Record<string, string> = {
      "x-ms-request-id": randomUUID(),
      "x-ms-correlation-request-id": randomUUID(),
      ...extraHeaders,
      ...(reply.headers ?? {}),
    };
    if (reply.body !== undefined) {
      const text = JSON.stringify(reply.body);
      headers["content-type"] = "application/json; charset=utf-8";
      headers["content-length"] = String(Buffer.byteLength(text));
      res.writeHead(reply.status, headers);
      res.end(text);
    } else {
      headers["content-length"] = "0";
      res.writeHead(reply.status, headers);
      res.end();
    }
  };

  const handleArm = async (
    method: string,
    url: URL,
    req: IncomingMessage,
    body: string,
    entry: RequestLogEntry,
  ): Promise<{ reply: Reply; headers: Record<string, string> } | "hang"> => {
    const info: RouteInfo = arm.describe(method, url.pathname, url.searchParams);
    entry.operation = info.operation;
    entry.action = info.action;
    entry.scope = info.scope;
    entry.polling = info.polling;
    const headers: Record<string, string> = {};
    try {
      const principal = await entra.verifyAccessToken(req.headers.authorization);
      if (allowedActions && !info.polling && !actionAllowed(allowedActions, info.action)) {
        throw authorizationFailed(
          String(principal.appid ?? clientId),
          String(principal.oid ?? objectId),
          info.action,
          info.scope,
        );
      }
      // A condition on the caller's assignment is checked against the request's attributes:
      // refused the same way as a missing action.
      // https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-portal
      if (
        assignmentCondition &&
        method === "PUT" &&
        info.action.toLowerCase() === ROLE_ASSIGNMENT_WRITE.toLowerCase() &&
        !assignmentAllowed(assignmentCondition, parseJsonOrUndefined(body))
      ) {
        throw authorizationFailed(
          String(principal.appid ?? clientId),
          String(principal.oid ?? objectId),
          info.action,
          info.scope,
        );
      }
      Object.assign(
        headers,
        throttling.charge(
          method,
          subscriptionId,
          String(principal.oid ?? objectId),
          info.resourceType === "Microsoft.Compute/virtualMachines" ? info.resourceId : undefined,
        ),
      );
      const fault = faults.match(info.operation, method, url.pathname);
      if (fault?.mode === "hang") return "hang";
      if (fault?.mode === "fail") throw new ArmError(fault.status, fault.code, fault.message);
      await sleep(latency(method === "GET" && info.operation.endsWith("list") ? "list" : "read"));
      const changed = arm.settle();
      if (fault?.mode === "lro-fail") arm.injection = { fail: { code: fault.code, message: fault.message } };
      if (fault?.mode === "lro-hang") arm.injection = { hang: true };
      let reply: Reply;
      try {
        reply = arm.handle(method, url.pathname, url.searchParams, body);
      } finally {
        arm.injection = undefined;
      }
      if (changed || (method !== "GET" && method !== "HEAD")) {
        arm.pruneOperations();
        persist();
      }
      return { reply, headers };
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      const extra: Record<string, string> = { ...headers, ...err.headers };
      if (err.status === 401) {
        // ARM's bearer challenge.
        extra["www-authenticate"] =
          `Bearer authorization_uri="${base}/${tenantId}", error="invalid_token", error_description="${err.message.replace(/"/g, "'")}"`;
      }
      entry.errorCode = err.code;
      return { reply: { status: err.status, body: err.body() }, headers: extra };
    }
  };

  const handleKeyVault = async (
    method: string,
    vault: string,
    url: URL,
    req: IncomingMessage,
    body: string,
  ) => {
    const fault = faults.match("keyVault", method, url.pathname);
    if (fault?.mode === "hang") return "hang" as const;
    await sleep(latency("read"));
    if (fault) {
      return {
        operation: "keyVault",
        action: "",
        scope: "",
        reply: { status: fault.status, body: { error: { code: fault.code, message: fault.message } } },
      };
    }
    arm.settle();
    const out = await keyVault.handle({
      method,
      vault,
      pathname: url.pathname,
      query: url.searchParams,
      body,
      authorization: req.headers.authorization,
    });
    if (method === "PUT" && out.reply.status < 300) persist();
    return out;
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const method = (req.method ?? "GET").toUpperCase();
    // Collapse repeated slashes before parsing: the SDK's `/{+scope}/...` templates yield `//subscriptions/...`
    // when the scope is a resource id, which WHATWG URL parsing would read as a host.
    // Only in the path: a query may carry `//` (`audience=api://AzureADTokenExchange`, unencoded).
    const url = new URL(collapsePathSlashes(req.url ?? "/"), base);
    const entry: RequestLogEntry = {
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      operation: "unknown",
      action: "",
      scope: "",
      service: "arm",
      polling: false,
      status: 0,
      at: Date.now(),
    };
    requestLog.push(entry);
    try {
      const body = await readBody(req);
      let reply: Reply | undefined;
      let headers: Record<string, string> = {};
      const vault = vaultHost(req.headers.host);
      if (vault !== undefined) {
        entry.service = "keyvault";
        const out = await handleKeyVault(method, vault, url, req, body);
        if (out === "hang") {
          hanging.add(res);
          return;
        }
        Object.assign(entry, { operation: out.operation, action: out.action, scope: out.scope });
        reply = out.reply;
      } else if (url.pathname === GITHUB_PATH || url.pathname.startsWith(`${GITHUB_PATH}/`)) {
        entry.service = "github";
        const sub = url.pathname.slice(GITHUB_PATH.length);
        entry.operation =
          sub === "/idtoken"
            ? "github.idToken"
            : sub.endsWith("jwks")
              ? "github.jwks"
              : "github.openidConfiguration";
        const fault = faults.match(entry.operation, method, url.pathname);
        if (fault?.mode === "hang") {
          hanging.add(res);
          return;
        }
        reply = fault
          ? { status: fault.status, body: { message: fault.message } }
          : await github.handle(method, sub, url.searchParams, req.headers.authorization);
      } else if (
        /^\/subscriptions\//i.test(url.pathname) ||
        /\/providers\/microsoft\.resources\/tags\/default$/i.test(url.pathname)
      ) {
        const out = await handleArm(method, url, req, body, entry);
        if (out === "hang") {
          hanging.add(res);
          return;
        }
        reply = out.reply;
        headers = out.headers;
        if (reply.status < 300) recordPace(entry, reply.headers);
      } else {
        entry.service = "entra";
        const probe = url.pathname.toLowerCase().endsWith("/token") ? "entra.token" : "entra.metadata";
        const fault = faults.match(probe, method, url.pathname);
        if (fault?.mode === "hang") {
          hanging.add(res);
          return;
        }
        if (fault) {
          entry.operation = probe;
          reply = {
            status: fault.status,
            body: { error: "temporarily_unavailable", error_description: `AADSTS50000: ${fault.message}` },
          };
        } else {
          await sleep(latency("token"));
          const out = await entra.handle(
            method,
            url.pathname,
            url.searchParams,
            body,
            req.headers["content-type"],
          );
          if (out) {
            entry.operation = out.operation;
            if (out.scope !== undefined) entry.scope = out.scope;
            reply = out.reply;
          }
        }
      }
      reply ??= {
        status: 404,
        body: { error: { code: "NotFound", message: `No route for ${method} ${url.pathname}` } },
      };
      entry.status = reply.status;
      // HEAD answers carry the status and headers only.
      if (method === "HEAD") delete reply.body;
      send(res, reply, headers);
    } catch (err) {
      const e =
        err instanceof ArmError
          ? err
          : new ArmError(500, "InternalServerError", (err as Error).stack ?? String(err));
      entry.status = e.status;
      entry.errorCode = e.code;
      if (!(err instanceof ArmError))
        process.stderr.write(`local-azure: ${String((err as Error).stack ?? err)}\n`);
      send(res, { status: e.status, body: e.body() });
    }
  };

  const server: Server = createServer({ key: certs.serverKeyPem, cert: certs.serverCertPem }, (req, res) => {
    void onRequest(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  httpsPort = port;
  base = `https://127.0.0.1:${port}`;
  // A world loaded from a state file: its running VMs boot (once the guests' link services can
  // reach this server).
  if (guests)
    for (const vm of arm.ofType(VM)) if (powerState(vm) === "running") guests.vmRunning(guestSpec(arm, vm));

  const azure: LocalAzure = {
    armEndpoint: base,
    authorityHost: base,
    tenantId,
    clientId,
    subscriptionId,
    objectId,
    caCertPem: certs.caCertPem,
    caCertPath,
    idTokenRequestUrl: github.requestUrl,
    idTokenRequestToken: github.requestToken,
    githubIssuer: github.issuer,
    mintIdToken: (audience) => github.mint(audience),
    connection: (resourceGroup) => ({
      subscriptionId,
      tenantId,
      clientId,
      resourceGroup,
      armEndpoint: base,
      authorityHost: base,
      caCertPem: certs.caCertPem,
      getIdToken: (audience) => github.mint(audience),
    }),
    env() {
      return {
        NODE_EXTRA_CA_CERTS: caCertPath,
        ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
        AZURE_TENANT_ID: tenantId,
        AZURE_CLIENT_ID: clientId,
        AZURE_SUBSCRIPTION_ID: subscriptionId,
        AZURE_ARM_ENDPOINT: base,
        AZURE_AUTHORITY_HOST: base,
      };
    },
    requestLog,
    counts: (filter) => countRequests(requestLog, filter),
    resetLog() {
      requestLog.length = 0;
    },
    setIdTokenClaims(claims) {
      github.claims = { ...defaultIdTokenClaims(), ...claims };
    },
    setFederatedSubjects(subjects) {
      entra.config.federatedSubjects = [...subjects];
    },
    setAllowedActions(actions) {
      allowedActions = actions ? [...actions] : undefined;
    },
    setAssignmentCondition(condition) {
      assignmentCondition = condition ? parseAssignmentCondition(condition) : undefined;
    },
    injectFault: (f) => faults.add(f),
    clearFaults: () => faults.clear(),
    setThrottling: (on) => throttling.set(on),
    setTimeScale(scale) {
      timeScale = scale;
      throttling.setTimeScale(scale);
    },
    restrictVmSize(name, restricted = true) {
      const others = (arm.world.restrictedVmSizes ?? []).filter((n) => n !== name.toLowerCase());
      arm.world.restrictedVmSizes = restricted ? [...others, name.toLowerCase()] : others;
      persist();
    },
    async seedGalleryVersions(rg, gallery, image, versions, location = "westus", tags, options) {
      arm.settle();
      const allTags = { ...(tags ?? {}), ...(options?.defective ? { [DEFECT_TAG]: options.defective } : {}) };
      seedGalleryVersions(arm, {
        rg,
        gallery,
        image,
        versions,
        location,
        ...(Object.keys(allTags).length > 0 ? { tags: allTags } : {}),
      });
      persist();
    },
    guests,
    guestsUnavailableReason: guestsUnavailable,
    guestStatus(rg, vmName) {
      if (!guests) return undefined;
      arm.settle();
      const vm = arm.find(`/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/${VM}/${vmName}`);
      if (!vm) return undefined;
      return guests.status(vm.id, vm.name, String(vm.properties.vmId));
    },
    async seedVirtualMachines(rg, names, options) {
      arm.settle();
      seedVirtualMachines(arm, rg, names, options);
      persist();
    },
    vaultUrl: (vault) => vaultUri(arm, vault),
    async imdsEndpoint(rg, vmName) {
      const vmId = `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/${VM}/${vmName}`;
      const { server, url } = await serveImds(entra, "127.0.0.1", 0, () => {
        arm.settle();
        return arm.find(vmId);
      });
      imdsServers.push(server);
      return url;
    },
    nsgVerdict(nsgId, flow) {
      arm.settle();
      return evaluateInbound(arm, nsgId, flow);
    },
    async seedIncrementalSnapshots(diskId, names, resourceGroup) {
      arm.settle();
      seedIncrementalSnapshots(arm, diskId, names, resourceGroup);
      persist();
    },
    async seedKeyVaultSecrets(rg, vaultName, secrets) {
      arm.settle();
      const vault = arm.find(
        `/subscriptions/${subscriptionId}/resourceGroups/${rg}/providers/${VAULT}/${vaultName}`,
      );
      if (!vault) throw new Error(`vault ${vaultName} does not exist in resource group ${rg}`);
      for (const [name, value] of Object.entries(secrets)) addSecretVersion(arm, vault, name, { value });
      persist();
    },
    staticCredential() {
      return { getToken: () => entra.issueAccessToken() };
    },
    state() {
      if (arm.settle()) persist();
      return snapshot(arm);
    },
    async stop() {
      await guests?.stop();
      await Promise.all(imdsServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      for (const res of hanging) res.destroy();
      hanging.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return azure;
}

/** `//a//b?x=api://y` → `/a/b?x=api://y`: repeated slashes collapse in the path, never in the query. */
function collapsePathSlashes(requestUrl: string): string {
  const q = requestUrl.indexOf("?");
  const path = q < 0 ? requestUrl : requestUrl.slice(0, q);
  const query = q < 0 ? "" : requestUrl.slice(q);
  return path.replace(/\/{2,}/g, "/") + query;
}

function parseJsonOrUndefined(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
