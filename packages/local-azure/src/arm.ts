// The Azure Resource Manager front door: dispatches parsed requests to resource types,
// answers long-running operations the way ARM does, pages lists.
//
// LRO protocol (https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/async-api-reference.md):
// the initial response is 201/202 with an `Azure-AsyncOperation` header (a status resource
// `{status: InProgress|Succeeded|Failed|Canceled, error?}`) and/or a `Location` header
// (202 while running, then the final result). The SDK pollers (@azure/core-lro) follow whichever
// header is present; for PUT they GET the resource afterwards, for POST with
// `resourceLocationConfig: "location"` they GET the Location URL.
import { randomUUID } from "node:crypto";
import { ArmError, invalidRequestContent, resourceGroupNotFound, resourceNotFound } from "./arm-error.ts";
import { type ArmPath, parseArmPath } from "./arm-path.ts";
import type { OperationKind } from "./operation-kind.ts";
import { acceptedRetryAfter, inProgressRetryAfter, retryAfterHeader } from "./retry-after.ts";
import {
  key,
  type OperationRecord,
  type ResourceGroupRecord,
  type StoredResource,
  type WorldState,
} from "./world.ts";

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request routed to a resource type. */
export interface ResourceRequest {
  method: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
  apiVersion: string;
  subscriptionId: string;
  /** Canonical resource group name (as created). */
  resourceGroup: string;
  /** Canonical id of the addressed resource (or, for a collection, of the would-be child's parent). */
  id: string;
  /** The addressed resource's name (last name segment). */
  name: string;
  /** Names along the path, outermost first (gallery, image, version). */
  names: string[];
  /** Id of the parent resource for nested types. */
  parentId?: string;
  type: ResourceType;
  /** Path of the request (no query), for nextLink. */
  path: string;
}

export interface LroOptions {
  kind: OperationKind;
  /** Key into the completion table: what happens when the operation finishes. */
  completion: string;
  resourceId: string;
  location: string;
  status: 200 | 201 | 202;
  body?: unknown;
  /** Which polling headers to send; each resource provider has its habit (see the callers). */
  headers: "async" | "location" | "both";
  data?: Record<string, unknown>;
  result?: unknown;
  /** The operation has no schedule: whoever started it sets `readyAt` when it is done. */
  pending?: boolean;
  /** Called with the operation record once it exists. */
  onAccepted?: (op: OperationRecord) => void;
}

export interface ResourceType {
  /** Canonical type, e.g. `Microsoft.Compute/galleries/images`. */
  type: string;
  /** Operation group name in the SDKs (`virtualMachines`), used in operation names. */
  sdkName: string;
  /** Name of the PATCH operation in the SDK (`update`, or `updateTags` in Microsoft.Network). */
  patchName?: string;
  /** Name of the subscription-wide list in the SDK (default `listAll`; `list` for resource SKUs). */
  subscriptionListName?: string;
  /** Words used in `ResourceNotFound` messages: `Microsoft.Compute/virtualMachines/{name}`. */
  put?(req: ResourceRequest, existing: StoredResource | undefined): Reply;
  patch?(req: ResourceRequest, existing: StoredResource): Reply;
  delete?(req: ResourceRequest, existing: StoredResource): Reply;
  /** POST actions and GET sub-resources (`instanceView`), by lower-cased name. */
  actions?: Record<
    string,
    { method: "GET" | "POST"; handler(req: ResourceRequest, existing: StoredResource): Reply }
  >;
  /** Serializes a resource for a GET/list answer (`query` carries `$expand` and the like). */
  view?(resource: StoredResource, query: URLSearchParams | undefined): unknown;
  /** Checks a list request's query and filters the items (e.g. `$filter`); throws ArmError when unsupported. */
  filterList?(
    items: StoredResource[],
    query: URLSearchParams,
    scope: "subscription" | "parent",
  ): StoredResource[];
}

export interface ArmOptions {
  baseUrl: () => string;
  subscriptionId: string;
  /** Tenant of the subscription (managed identities live in it). */
  tenantId: string;
  pageSize: number;
  latencyMs: (kind: OperationKind) => number;
  /** The time scale durations run at, for the Retry-After hints (retry-after.ts). */
  timeScale: () => number;
}

export type Completion = (arm: Arm, op: OperationRecord) => void;

/** Description of one routed request, for the request log, faults, throttling and RBAC. */
export interface RouteInfo {
  operation: string;
  /** The ARM action an RBAC role needs, e.g. `Microsoft.Compute/virtualMachines/write`. */
  action: string;
  /** Scope the action applies to (resource id or the collection's parent). */
  scope: string;
  polling: boolean;
  /** Id of the resource written, for per-resource throttling (Compute's per-VM buckets). */
  resourceId?: string;
  resourceType?: string;
}

export class Arm {
  readonly types = new Map<string, ResourceType>();
  readonly completions = new Map<string, Completion>();
  world: WorldState;
  /**
   * Set by the server for the request being handled when a fault asks that its long-running
   * operation fail at the end or never finish; consumed by the next `accept`.
   */
  injection: { fail?: { code: string; message: string }; hang?: boolean } | undefined;

  constructor(
    world: WorldState,
    readonly options: ArmOptions,
  ) {
    this.world = world;
    this.reindex();
  }

  register(type: ResourceType): void {
    this.types.set(type.type.toLowerCase(), type);
  }

  registerCompletion(name: string, completion: Completion): void {
    this.completions.set(name, completion);
  }

  get subscriptionId(): string {
    return this.options.subscriptionId;
  }

  get tenantId(): string {
    return this.options.tenantId;
  }

  // ---- state helpers used by resource types ----

  find(id: string): StoredResource | undefined {
    return this.world.resources[key(id)];
  }

  upsert(resource: StoredResource): void {
    const k = key(resource.id);
    this.world.resources[k] = resource;
    this.indexed(resource.type).set(k, resource);
  }

  remove(id: string): void {
    const k = key(id);
    const r = this.world.resources[k];
    if (!r) return;
    delete this.world.resources[k];
    this.byType.get(r.type.toLowerCase())?.delete(k);
  }

  /** Resources by lower-cased type, in creation order: lists and lookups stay fast with thousands of resources. */
  private readonly byType = new Map<string, Map<string, StoredResource>>();

  private indexed(type: string): Map<string, StoredResource> {
    const t = type.toLowerCase();
    let m = this.byType.get(t);
    if (!m) {
      m = new Map();
      this.byType.set(t, m);
    }
    return m;
  }

  private reindex(): void {
    this.byType.clear();
    for (const [k, r] of Object.entries(this.world.resources)) this.indexed(r.type).set(k, r);
  }

  resourceGroup(name: string): ResourceGroupRecord | undefined {
    return this.world.resourceGroups[name.toLowerCase()];
  }

  requireResourceGroup(name: string): ResourceGroupRecord {
    const rg = this.resourceGroup(name);
    if (!rg || rg.properties.provisioningState === "Deleting") throw resourceGroupNotFound(name);
    return rg;
  }

  /** Resources of a type directly under a parent (resource group id or parent resource id). */
  children(parentId: string, type: string): StoredResource[] {
    const prefix = `${key(parentId)}/`;
    const out: StoredResource[] = [];
    for (const [k, r] of this.byType.get(type.toLowerCase()) ?? []) {
      if (k.startsWith(prefix)) out.push(r);
    }
    return out;
  }

  ofType(type: string): StoredResource[] {
    return [...(this.byType.get(type.toLowerCase())?.values() ?? [])];
  }

  /** A resource and everything nested under it (subnets of a VNet, versions of an image...). */
  subtree(id: string): StoredResource[] {
    const self = this.find(id);
    if (!self) return [];
    const k = key(id);
    const parentType = `${self.type.toLowerCase()}/`;
    const out = [self];
    for (const [t, m] of this.byType) {
      if (!t.startsWith(parentType)) continue;
      for (const [rk, r] of m) if (rk.startsWith(`${k}/`)) out.push(r);
    }
    return out;
  }

  /** Every resource in a resource group. */
  inResourceGroup(rgId: string): StoredResource[] {
    const prefix = `${key(rgId)}/`;
    return Object.entries(this.world.resources)
      .filter(([k]) => k.startsWith(prefix))
      .map(([, r]) => r);
  }

  resourceGroupId(name: string): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${name}`;
  }

  /** Parses a resource id someone referenced in a body; undefined when it is not an ARM id. */
  lookupReference(id: unknown): StoredResource | undefined {
    if (typeof id !== "string") return undefined;
    return this.find(id);
  }

  now(): number {
    return Date.now();
  }

  // ---- long-running operations ----

  /** Starts a long-running operation and builds the initial response with its polling headers. */
  accept(req: ResourceRequest, lro: LroOptions): Reply {
    const injected = this.injection;
    const id = randomUUID();
    const ns = req.type.type.split("/")[0]!;
    const now = this.now();
    const delay = this.options.latencyMs(lro.kind);
    const op: OperationRecord = {
      id,
      namespace: ns,
      location: lro.location || "westus",
      completion: lro.completion,
      resourceId: lro.resourceId,
      status: "InProgress",
      startTime: new Date(now).toISOString(),
      readyAt: injected?.hang || lro.pending ? null : now + delay,
      kind: lro.kind,
    };
    if (lro.data !== undefined) op.data = lro.data;
    if (lro.result !== undefined) op.result = lro.result;
    if (injected?.fail) op.failWith = injected.fail;
    this.injection = undefined;
    this.world.operations[id] = op;
    if (!injected?.hang) lro.onAccepted?.(op);
    const headers: Record<string, string> = retryAfterHeader(
      acceptedRetryAfter(lro.kind),
      this.options.timeScale(),
    );
    if (lro.headers === "async" || lro.headers === "both")
      headers["azure-asyncoperation"] = this.asyncUrl(op, req.apiVersion);
    if (lro.headers === "location" || lro.headers === "both")
      headers.location = this.locationUrl(op, req.apiVersion);
    const reply: Reply = { status: lro.status, headers };
    if (lro.body !== undefined) reply.body = lro.body;
    return reply;
  }

  private asyncUrl(op: OperationRecord, apiVersion: string): string {
    return `${this.options.baseUrl()}/subscriptions/${this.subscriptionId}/providers/${op.namespace}/locations/${op.location}/operations/${op.id}?api-version=${apiVersion}`;
  }

  private locationUrl(op: OperationRecord, apiVersion: string): string {
    const base = this.options.baseUrl();
    if (op.namespace === "Microsoft.Resources") {
      return `${base}/subscriptions/${this.subscriptionId}/operationresults/${op.id}?api-version=${apiVersion}`;
    }
    if (op.namespace === "Microsoft.Network") {
      return `${base}/subscriptions/${this.subscriptionId}/providers/${op.namespace}/locations/${op.location}/operationResults/${op.id}?api-version=${apiVersion}`;
    }
    // Compute's Location URL is its operation URL with `monitor=true`.
    return `${base}/subscriptions/${this.subscriptionId}/providers/${op.namespace}/locations/${op.location}/operations/${op.id}?monitor=true&api-version=${apiVersion}`;
  }

  /** Finishes every operation whose time has come. Returns whether anything changed. */
  settle(): boolean {
    const now = this.now();
    let changed = false;
    for (const op of Object.values(this.world.operations)) {
      if (op.status !== "InProgress" || op.readyAt === null || op.readyAt > now) continue;
      this.finish(op, now);
      changed = true;
    }
    return changed;
  }

  private finish(op: OperationRecord, now: number): void {
    op.endTime = new Date(now).toISOString();
    const completion = this.completions.get(op.completion);
    if (!completion) throw new Error(`no completion registered for ${op.completion}`);
    if (op.failWith) {
      op.status = "Failed";
      op.error = op.failWith;
      const failed =
        this.completions.get(`${op.completion}:failed`) ?? this.completions.get("default:failed");
      failed?.(this, op);
      return;
    }
    try {
      completion(this, op);
      op.status = "Succeeded";
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      op.status = "Failed";
      op.error = { code: err.code, message: err.message };
    }
  }

  /** Finishes the given operations now, whatever their schedule (state seeding). */
  finishNow(ids: Iterable<string>): void {
    const now = this.now();
    for (const id of ids) {
      const op = this.world.operations[id];
      if (op && op.status === "InProgress") this.finish(op, now);
    }
  }

  /** Drops finished operations older than an hour so the state file does not grow forever. */
  pruneOperations(): void {
    const cutoff = this.now() - 3600_000;
    for (const [id, op] of Object.entries(this.world.operations)) {
      if (op.status !== "InProgress" && op.endTime && Date.parse(op.endTime) < cutoff)
        delete this.world.operations[id];
    }
  }

  private operationStatus(op: OperationRecord, apiVersion: string, monitor: boolean): Reply {
    const pace = op.status === "InProgress" ? this.inProgressPace(op) : {};
    if (monitor) {
      // Location semantics: 202 while running, then the final result (200).
      if (op.status === "InProgress")
        return { status: 202, headers: { ...pace, location: this.locationUrl(op, apiVersion) } };
      if (op.status === "Failed") {
        const err = op.error ?? { code: "InternalOperationError", message: "The operation failed." };
        return { status: 500, body: { error: err } };
      }
      if (op.data?.returnResource === true) {
        // Disks and snapshots: the Location URL answers with the resource once done.
        const r = this.find(op.resourceId);
        const rt = r ? this.types.get(r.type.toLowerCase()) : undefined;
        if (r && rt) return { status: 200, body: this.view(rt, r, undefined) };
      }
      return op.result === undefined ? { status: 200 } : { status: 200, body: op.result };
    }
    const body: Record<string, unknown> = {
      name: op.id,
      status: op.status,
      startTime: op.startTime,
    };
    if (op.endTime) body.endTime = op.endTime;
    if (op.error) body.error = op.error;
    return { status: 200, body, headers: pace };
  }

  /** The Retry-After of an `InProgress` status answer, as ARM paces this kind (retry-after.ts). */
  private inProgressPace(op: OperationRecord): Record<string, string> {
    const answered = op.statusAnswers ?? 0;
    op.statusAnswers = answered + 1;
    if (!op.kind) return {};
    return retryAfterHeader(inProgressRetryAfter(op.kind, answered), this.options.timeScale());
  }

  // ---- routing ----

  /** Describes a request without executing it (for the log, faults, throttling and RBAC). */
  describe(method: string, pathname: string, query: URLSearchParams): RouteInfo {
    const parsed = parseArmPath(pathname);
    const m = method.toUpperCase();
    const verb = m === "GET" || m === "HEAD" ? "read" : m === "DELETE" ? "delete" : "write";
    switch (parsed.kind) {
      case "resourceGroups":
        return {
          operation: "resourceGroups.list",
          action: "Microsoft.Resources/subscriptions/resourceGroups/read",
          scope: `/subscriptions/${parsed.subscriptionId}`,
          polling: false,
        };
      case "resourceGroup": {
        const op =
          { GET: "get", HEAD: "checkExistence", PUT: "createOrUpdate", PATCH: "update", DELETE: "delete" }[
            m
          ] ?? m;
        return {
          operation: `resourceGroups.${op}`,
          action: `Microsoft.Resources/subscriptions/resourceGroups/${verb}`,
          scope: `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}`,
          polling: false,
        };
      }
      case "resourceGroupResources":
        return {
          operation: "resources.listByResourceGroup",
          action: "Microsoft.Resources/subscriptions/resourceGroups/resources/read",
          scope: `/subscriptions/${parsed.subscriptionId}/resourceGroups/${parsed.resourceGroup}`,
          polling: false,
        };
      case "operation":
        return {
          operation: "operations.get",
          action: `${this.canonicalNamespace(parsed.namespace)}/locations/${parsed.result ? "operationResults" : "operations"}/read`,
          scope: `/subscriptions/${parsed.subscriptionId}`,
          polling: true,
        };
      case "subscriptionOperation":
        return {
          operation: "operations.get",
          action: "Microsoft.Resources/subscriptions/operationresults/read",
          scope: `/subscriptions/${parsed.subscriptionId}`,
          polling: true,
        };
      case "tags": {
        const op =
          {
            GET: "getAtScope",
            PUT: "createOrUpdateAtScope",
            PATCH: "updateAtScope",
            DELETE: "deleteAtScope",
          }[m] ?? m;
        return {
          operation: `tags.${op}`,
          action: `Microsoft.Resources/tags/${verb}`,
          scope: parsed.scope,
          polling: false,
        };
      }
      case "roleAssignments": {
        const op =
          parsed.name === undefined
            ? "listForScope"
            : ({ GET: "get", PUT: "create", DELETE: "delete" }[m] ?? m);
        return {
          operation: `roleAssignments.${op}`,
          action: `Microsoft.Authorization/roleAssignments/${verb}`,
          scope: parsed.scope,
          polling: false,
        };
      }
      case "provider":
        return this.describeProvider(parsed, m, verb, query);
      default:
        return { operation: "unknown", action: `unknown/${verb}`, scope: pathname, polling: false };
    }
  }

  private canonicalNamespace(ns: string): string {
    const lower = ns.toLowerCase();
    for (const t of this.types.values()) {
      const n = t.type.split("/")[0]!;
      if (n.toLowerCase() === lower) return n;
    }
    return ns;
  }

  private describeProvider(
    p: Extract<ArmPath, { kind: "provider" }>,
    m: string,
    verb: string,
    _query: URLSearchParams,
  ): RouteInfo {
    const ns = this.canonicalNamespace(p.namespace);
    const isCollection = p.trailing !== undefined && m === "GET" && !this.isAction(p, m);
    const typeSegments = isCollection ? [...p.types, p.trailing!] : p.types;
    const rt = this.types.get(`${p.namespace}/${typeSegments.join("/")}`.toLowerCase());
    const typeName = rt?.type ?? `${ns}/${typeSegments.join("/")}`;
    const sdkName = rt?.sdkName ?? typeSegments[typeSegments.length - 1] ?? "unknown";
    const scopeBase = p.resourceGroup
      ? `/subscriptions/${p.subscriptionId}/resourceGroups/${p.resourceGroup}`
      : `/subscriptions/${p.subscriptionId}`;
    const idPath = p.types.map((t, i) => `${t}/${p.names[i]}`).join("/");
    const resourceId = `${scopeBase}/providers/${ns}/${idPath}`;
    if (isCollection) {
      const parentScope = p.types.length > 0 ? resourceId : scopeBase;
      return {
        operation: `${sdkName}.${p.resourceGroup ? "list" : (rt?.subscriptionListName ?? "listAll")}`,
        action: `${typeName}/read`,
        scope: parentScope,
        polling: false,
      };
    }
    if (p.trailing !== undefined) {
      const action = p.trailing;
      const canonicalAction = action;
      if (m === "GET") {
        return {
          operation: `${sdkName}.${canonicalAction}`,
          action: `${typeName}/${canonicalAction}/read`,
          scope: resourceId,
          polling: false,
        };
      }
      return {
        operation: `${sdkName}.${canonicalAction}`,
        action: `${typeName}/${canonicalAction}/action`,
        scope: resourceId,
        polling: false,
        resourceId,
        resourceType: typeName,
      };
    }
    const opName =
      { GET: "get", PUT: "createOrUpdate", PATCH: rt?.patchName ?? "update", DELETE: "delete", HEAD: "get" }[
        m
      ] ?? m;
    const info: RouteInfo = {
      operation: `${sdkName}.${opName}`,
      action: `${typeName}/${verb}`,
      scope: resourceId,
      polling: false,
      resourceType: typeName,
    };
    if (m !== "GET" && m !== "HEAD") info.resourceId = resourceId;
    return info;
  }

  private isAction(p: Extract<ArmPath, { kind: "provider" }>, m: string): boolean {
    const rt = this.types.get(`${p.namespace}/${p.types.join("/")}`.toLowerCase());
    const action = rt?.actions?.[p.trailing!.toLowerCase()];
    return action !== undefined && action.method === m;
  }

  /** Executes a request. Throws ArmError for ARM-level failures. */
  handle(method: string, pathname: string, query: URLSearchParams, rawBody: string): Reply {
    const m = method.toUpperCase();
    const parsed = parseArmPath(pathname);
    const apiVersion = query.get("api-version") ?? "";
    if (apiVersion === "" && parsed.kind !== "operation" && parsed.kind !== "subscriptionOperation") {
      // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-register-resource-provider
      throw new ArmError(
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
      );
    }
    let body: Record<string, unknown> | undefined;
    if (rawBody.trim() !== "") {
      try {
        body = JSON.parse(rawBody) as Record<string, unknown>;
      } catch (err) {
        throw invalidRequestContent(
          `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`,
        );
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw invalidRequestContent(
          "The request content was invalid and could not be deserialized: expected a JSON object.",
        );
      }
    }
    // Any subscription but the one it holds does not exist, as ARM answers an unknown subscription
    // id (or one in another tenant): 404 `SubscriptionNotFound` "The subscription '<id>' could not
    // be found.", for reads, lists and writes alike (wording as ARM sends it, e.g.
    // webdevops/azure-metrics-exporter#1). Clients must not read it as an empty resource group.
    if (
      "subscriptionId" in parsed &&
      parsed.subscriptionId.toLowerCase() !== this.subscriptionId.toLowerCase()
    ) {
      throw new ArmError(
        404,
        "SubscriptionNotFound",
        `The subscription '${parsed.subscriptionId}' could not be found.`,
      );
    }
    switch (parsed.kind) {
      case "operation":
      case "subscriptionOperation": {
        const op = this.world.operations[parsed.operationId];
        if (!op) throw new ArmError(404, "NotFound", `The operation '${parsed.operationId}' was not found.`);
        const monitor =
          parsed.kind === "subscriptionOperation" ||
          (parsed.kind === "operation" && parsed.result) ||
          query.get("monitor") === "true";
        return this.operationStatus(op, apiVersion, monitor);
      }
      case "provider":
        return this.handleProvider(parsed, m, query, body, apiVersion, pathname);
      case "unknown":
        throw new ArmError(
          404,
          "InvalidResourceType",
          `The resource type could not be found for path '${pathname}'.`,
        );
      default: {
        const generic = this.genericHandlers.get(parsed.kind);
        if (!generic) throw new ArmError(404, "NotFound", `No route for '${pathname}'.`);
        return generic({ method: m, parsed, query, body, apiVersion, pathname });
      }
    }
  }

  /** Handlers for non-provider paths (resource groups, tags), registered by their modules. */
  readonly genericHandlers = new Map<
    string,
    (r: {
      method: string;
      parsed: ArmPath;
      query: URLSearchParams;
      body: Record<string, unknown> | undefined;
      apiVersion: string;
      pathname: string;
    }) => Reply
  >();

  private handleProvider(
    p: Extract<ArmPath, { kind: "provider" }>,
    m: string,
    query: URLSearchParams,
    body: Record<string, unknown> | undefined,
    apiVersion: string,
    pathname: string,
  ): Reply {
    if (p.resourceGroup === undefined) {
      // Subscription-wide list: /subscriptions/{sub}/providers/{ns}/{type}
      if (p.types.length === 0 && p.trailing !== undefined && m === "GET") {
        const rt = this.types.get(`${p.namespace}/${p.trailing}`.toLowerCase());
        if (!rt)
          throw new ArmError(
            404,
            "InvalidResourceType",
            `The resource type '${p.trailing}' could not be found in the namespace '${p.namespace}'.`,
          );
        const all = this.ofType(rt.type);
        const items = rt.filterList ? rt.filterList(all, query, "subscription") : all;
        return {
          status: 200,
          body: this.page(
            items.map((r) => this.view(rt, r, query)),
            query,
            pathname,
          ),
        };
      }
      throw new ArmError(404, "InvalidResourceType", `Unsupported subscription-level path '${pathname}'.`);
    }
    const rg = this.requireResourceGroup(p.resourceGroup);
    const collection = p.trailing !== undefined && m === "GET" && !this.isAction(p, m);
    const typeSegments = collection ? [...p.types, p.trailing!] : p.types;
    const rt = this.types.get(`${p.namespace}/${typeSegments.join("/")}`.toLowerCase());
    if (!rt) {
      throw new ArmError(
        404,
        "InvalidResourceType",
        `The resource type '${typeSegments.join("/")}' could not be found in the namespace '${p.namespace}' for api version '${apiVersion}'.`,
      );
    }
    const canonicalTypes = rt.type.split("/").slice(1);
    const rgId = this.resourceGroupId(rg.name);
    const ns = rt.type.split("/")[0]!;
    const idFor = (count: number) =>
      `${rgId}/providers/${ns}/${canonicalTypes
        .slice(0, count)
        .map((t, i) => `${t}/${p.names[i]}`)
        .join("/")}`;

    const base = {
      method: m,
      query,
      body,
      apiVersion,
      subscriptionId: this.subscriptionId,
      resourceGroup: rg.name,
      names: p.names,
      type: rt,
      path: pathname,
    };

    if (collection) {
      const parentId = p.types.length > 0 ? idFor(p.types.length) : rgId;
      if (p.types.length > 0) this.requireParent(parentId, p.names);
      const children = this.children(parentId, rt.type);
      const items = rt.filterList ? rt.filterList(children, query, "parent") : children;
      return {
        status: 200,
        body: this.page(
          items.map((r) => this.view(rt, r, query)),
          query,
          pathname,
        ),
      };
    }

    const id = idFor(p.types.length);
    const name = p.names[p.names.length - 1]!;
    const parentId = p.types.length > 1 ? idFor(p.types.length - 1) : undefined;
    const req: ResourceRequest = { ...base, id, name, ...(parentId ? { parentId } : {}) };
    if (parentId) this.requireParent(parentId, p.names);
    const existing = this.find(id);
    const notFound = () => resourceNotFound(`${rt.type}/${p.names.join("/")}`, rg.name);

    if (p.trailing !== undefined) {
      const action = rt.actions?.[p.trailing.toLowerCase()];
      if (!action || action.method !== m) {
        throw new ArmError(
          404,
          "InvalidResourceType",
          `The resource type '${p.trailing}' could not be found in the namespace '${p.namespace}'.`,
        );
      }
      if (!existing) throw notFound();
      return action.handler(req, existing);
    }
    switch (m) {
      case "GET":
      case "HEAD":
        if (!existing) throw notFound();
        return { status: 200, body: this.view(rt, existing, query) };
      case "PUT":
        if (!rt.put) throw methodNotAllowed(m, rt.type);
        if (body === undefined)
          throw invalidRequestContent(
            "The request content was invalid and could not be deserialized: empty body.",
          );
        return rt.put(req, existing);
      case "PATCH":
        if (!rt.patch) throw methodNotAllowed(m, rt.type);
        if (!existing) throw notFound();
        return rt.patch(req, existing);
      case "DELETE":
        if (!rt.delete) throw methodNotAllowed(m, rt.type);
        // ARM answers 204 No Content to a DELETE of something that is not there.
        // https://github.com/Azure/azure-resource-manager-rpc/blob/master/v1.0/resource-api-reference.md#delete-resource
        if (!existing) return { status: 204 };
        return rt.delete(req, existing);
      default:
        throw methodNotAllowed(m, rt.type);
    }
  }

  private requireParent(parentId: string, names: string[]): void {
    if (this.find(parentId)) return;
    // ARM's answer for a nested resource under a missing parent.
    const depth = parentId.split("/providers/")[1]!.split("/").length / 2;
    throw new ArmError(
      404,
      "ParentResourceNotFound",
      `Can not perform requested operation on nested resource. Parent resource '${names.slice(0, depth).join("/")}' not found.`,
    );
  }

  view(rt: ResourceType, r: StoredResource, query: URLSearchParams | undefined): unknown {
    if (rt.view) return rt.view(r, query);
    return stripHidden(r);
  }

  /** ARM paging: `{ value, nextLink }`; the SDK's iterator follows nextLink until it is absent. */
  page(items: unknown[], query: URLSearchParams, pathname: string): { value: unknown[]; nextLink?: string } {
    const size = this.options.pageSize;
    const skip = Number.parseInt(query.get("$skiptoken") ?? "0", 10) || 0;
    const value = items.slice(skip, skip + size);
    if (skip + size >= items.length) return { value };
    const next = new URLSearchParams(query);
    next.set("$skiptoken", String(skip + size));
    return { value, nextLink: `${this.options.baseUrl()}${pathname}?${next.toString()}` };
  }
}

function methodNotAllowed(method: string, type: string): ArmError {
  return new ArmError(
    405,
    "MethodNotAllowed",
    `The method '${method}' is not supported for resource type '${type}'.`,
  );
}

/** Copy of a stored resource without the bookkeeping clients never see. */
export function stripHidden(r: StoredResource): Record<string, unknown> {
  const { hidden: _hidden, ...rest } = r;
  return structuredClone(rest);
}
