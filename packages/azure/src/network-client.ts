// Microsoft.Network, for exactly the operations the fleet makes: public IP addresses and NICs
// (get, list, create or update, delete, update tags), the virtual network (get, create or update)
// and its subnet (create or update), the network security group (get, create or update).
//
// Why not @azure/arm-network: its NetworkManagementClient carries the model (de)serializers of
// every Network resource type; bundled, it was about 3.4 MB of deploy-fleet's 7.9 MB body chunk (each
// MB costs ~19 ms of compile time before the first ARM request), and its deserializers copy every
// NIC and public IP a list returns. This client sends the same requests through the same Azure
// core the other ARM clients use (arm-rest.ts: @azure-rest/core-client's getClient, the same
// pipeline, credential policy, retry and additional policies; @azure/core-lro's createHttpPoller,
// as the SDK's static-helpers/pollingHelpers.js does) and hands back ARM's JSON as it is, in the
// REST shape (`properties` not flattened): what Azure documents, and a body read can be written
// back whole.
//
// The REST reference: https://learn.microsoft.com/rest/api/virtualnetwork/public-ip-addresses,
// .../network-interfaces, .../virtual-networks, .../subnets, .../network-security-groups.
import type { AbortSignalLike } from "@azure/abort-controller";
import type { TokenCredential } from "@azure/core-auth";
import {
  createHttpPoller,
  type OperationResponse,
  type OperationState,
  type ResourceLocationConfig,
} from "@azure/core-lro";
import type { Pipeline } from "@azure/core-rest-pipeline";
import { type Client, createRestError, type HttpResponse } from "@azure-rest/core-client";
import {
  ACCEPT_JSON,
  type ArmClientOptions,
  type ArmRequestOptions,
  type ArmResource,
  armGet,
  armList,
  armPath,
  armRestClient,
  bodyOf,
  requestSignal,
  type SubResource,
  withApiVersion,
} from "./arm-rest.ts";
import { onHostThatAnswered } from "./same-host.ts";

export type { SubResource };

/** The api-version @azure/arm-network 39 sends for every operation here (api/<group>/operations.js). */
export const NETWORK_API_VERSION = "2026-01-01";

// ---- Resource shapes: what ARM returns and takes, as far as the fleet reads or writes it ----

type Tags = Record<string, string>;

/** The envelope every tracked Network resource has; `properties` is the type's own. */
export interface NetworkResource<P> extends ArmResource<P> {
  etag?: string;
}

/** A child in a parent's body (a NIC's IP configuration, a VNet's subnet, an NSG's rule). */
export interface NetworkChild<P> {
  id?: string;
  name?: string;
  properties?: P;
}

export interface PublicIpAddressProperties {
  publicIPAllocationMethod?: string;
  publicIPAddressVersion?: string;
  ipAddress?: string;
  /** The NIC IP configuration it is attached to. */
  ipConfiguration?: SubResource;
  provisioningState?: string;
}

export interface PublicIpAddress extends NetworkResource<PublicIpAddressProperties> {
  sku?: { name?: string; tier?: string };
}

export interface NicIpConfigurationProperties {
  primary?: boolean;
  privateIPAllocationMethod?: string;
  privateIPAddress?: string;
  subnet?: SubResource;
  publicIPAddress?: SubResource;
  provisioningState?: string;
}

export type NicIpConfiguration = NetworkChild<NicIpConfigurationProperties>;

export interface NetworkInterfaceProperties {
  ipConfigurations?: NicIpConfiguration[];
  networkSecurityGroup?: SubResource;
  /** The VM that uses it; absent while no VM does. */
  virtualMachine?: SubResource;
  provisioningState?: string;
}

export type NetworkInterface = NetworkResource<NetworkInterfaceProperties>;

/** A NIC's primary IP configuration (its first when none is marked primary): where its public IP and subnet are. */
export function primaryIpConfiguration(
  nic: NetworkInterface | undefined,
): NicIpConfigurationProperties | undefined {
  const configs = nic?.properties?.ipConfigurations ?? [];
  return (configs.find((c) => c.properties?.primary) ?? configs[0])?.properties;
}

export interface SubnetProperties {
  addressPrefix?: string;
  addressPrefixes?: string[];
  networkSecurityGroup?: SubResource;
  provisioningState?: string;
}

export type Subnet = NetworkChild<SubnetProperties>;

export interface VirtualNetworkProperties {
  addressSpace?: { addressPrefixes?: string[] };
  subnets?: Subnet[];
  provisioningState?: string;
}

export type VirtualNetwork = NetworkResource<VirtualNetworkProperties>;

export interface SecurityRuleProperties {
  description?: string;
  protocol?: string;
  access?: string;
  direction?: string;
  priority?: number;
  sourcePortRange?: string;
  sourcePortRanges?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  provisioningState?: string;
}

export type SecurityRule = NetworkChild<SecurityRuleProperties>;

export interface NetworkSecurityGroupProperties {
  securityRules?: SecurityRule[];
  provisioningState?: string;
}

export type NetworkSecurityGroup = NetworkResource<NetworkSecurityGroupProperties>;

// ---- Options ----

export type NetworkRequestOptions = ArmRequestOptions;

export interface NetworkPollOptions extends NetworkRequestOptions {
  /** The poller's interval when ARM sends no Retry-After (connect.ts: `pollFor("network")`). */
  updateIntervalInMs?: number;
}

/** The Network operations on one resource type directly under a resource group. */
export interface NetworkResourceOperations<T> {
  get(resourceGroup: string, name: string, options?: NetworkRequestOptions): Promise<T>;
  createOrUpdate(resourceGroup: string, name: string, body: T, options?: NetworkPollOptions): Promise<T>;
}

/** A type each claw has one of (public IP, NIC): also listed, deleted when the claw retires, tagged on adoption. */
export interface ClawNetworkResourceOperations<T> extends NetworkResourceOperations<T> {
  /** Every resource of the type in the group, following `nextLink`. */
  list(resourceGroup: string, options?: NetworkRequestOptions): AsyncIterable<T>;
  delete(resourceGroup: string, name: string, options?: NetworkPollOptions): Promise<void>;
  /** PATCH of the tags alone (synchronous in Microsoft.Network): the tag set becomes `tags`. */
  updateTags(
    resourceGroup: string,
    name: string,
    body: { tags: Tags },
    options?: NetworkRequestOptions,
  ): Promise<T>;
}

export interface SubnetOperations {
  createOrUpdate(
    resourceGroup: string,
    virtualNetwork: string,
    subnet: string,
    body: Subnet,
    options?: NetworkPollOptions,
  ): Promise<Subnet>;
}

/** Options as for the ARM SDK clients (arm-rest.ts ArmClientOptions). */
export type NetworkClientOptions = ArmClientOptions;

// ---- The client ----

/** Microsoft.Network's public IPs, NICs, VNets + subnets and NSGs in one subscription. */
export class NetworkClient {
  readonly publicIPAddresses: ClawNetworkResourceOperations<PublicIpAddress>;
  readonly networkInterfaces: ClawNetworkResourceOperations<NetworkInterface>;
  readonly virtualNetworks: NetworkResourceOperations<VirtualNetwork>;
  readonly networkSecurityGroups: NetworkResourceOperations<NetworkSecurityGroup>;
  readonly subnets: SubnetOperations;
  /** The client's request pipeline (as the SDK clients' `pipeline`). */
  readonly pipeline: Pipeline;

  constructor(credential: TokenCredential, subscriptionId: string, options: NetworkClientOptions = {}) {
    const client = armRestClient(credential, options, "openclawps-network");
    this.pipeline = client.pipeline;
    const requests = new NetworkRequests(client, subscriptionId);
    this.publicIPAddresses = requests.perClaw<PublicIpAddress>("publicIPAddresses");
    this.networkInterfaces = requests.perClaw<NetworkInterface>("networkInterfaces");
    this.virtualNetworks = requests.resource<VirtualNetwork>("virtualNetworks");
    this.networkSecurityGroups = requests.resource<NetworkSecurityGroup>("networkSecurityGroups");
    this.subnets = {
      createOrUpdate: (rg, vnet, subnet, body, options) =>
        requests.put<Subnet>(requests.path(rg, "virtualNetworks", vnet, "subnets", subnet), body, options),
    };
  }
}

/** The requests themselves: one GET, a paged list, a PUT or DELETE as a long-running operation, a PATCH. */
class NetworkRequests {
  constructor(
    private readonly client: Client,
    private readonly subscriptionId: string,
  ) {}

  /** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/{type}/{name}[/{child type}/{child}]`. */
  path(resourceGroup: string, ...segments: string[]): string {
    const parts = ["subscriptions", this.subscriptionId, "resourceGroups", resourceGroup, "providers"];
    return armPath([...parts, "Microsoft.Network", ...segments], NETWORK_API_VERSION);
  }

  resource<T>(type: string): NetworkResourceOperations<T> {
    return {
      get: (rg, name, options) => this.get<T>(this.path(rg, type, name), options),
      createOrUpdate: (rg, name, body, options) => this.put<T>(this.path(rg, type, name), body, options),
    };
  }

  perClaw<T>(type: string): ClawNetworkResourceOperations<T> {
    return {
      ...this.resource<T>(type),
      list: (rg, options) => this.list<T>(this.path(rg, type), options),
      delete: (rg, name, options) => this.delete(this.path(rg, type, name), options),
      updateTags: (rg, name, body, options) => this.patch<T>(this.path(rg, type, name), body, options),
    };
  }

  get<T>(path: string, options: NetworkRequestOptions = {}): Promise<T> {
    return armGet<T>(this.client, path, options);
  }

  async patch<T>(path: string, body: { tags: Tags }, options: NetworkRequestOptions = {}): Promise<T> {
    const response = await this.client
      .path(path)
      .patch({ ...requestSignal(options), ...ACCEPT_JSON, contentType: "application/json", body });
    return bodyOf<T>(response, ["200"]);
  }

  /** Every item of a list, following `nextLink` (https://learn.microsoft.com/rest/api/virtualnetwork/network-interfaces/list). */
  list<T>(path: string, options: NetworkRequestOptions = {}): AsyncIterableIterator<T> {
    return armList<T>(this.client, path, NETWORK_API_VERSION, options);
  }

  /**
   * A create or update. Microsoft.Network answers 200/201 with `Azure-AsyncOperation`; the poller
   * follows it, then reads the resource (the SDK's `resourceLocationConfig: "azure-async-operation"`).
   * https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations
   */
  put<T>(path: string, body: unknown, options: NetworkPollOptions = {}): Promise<T> {
    return this.longRunning<T>(
      () =>
        this.client
          .path(path)
          .put({ ...requestSignal(options), ...ACCEPT_JSON, contentType: "application/json", body }),
      ["200", "201", "202"],
      "azure-async-operation",
      options,
      (response) => bodyOf<T>(response, ["200", "201", "202"]),
    );
  }

  /**
   * A delete: 202 with `Location` and `Azure-AsyncOperation` (core-lro polls the latter when both
   * come, the former otherwise; no final read), or 200/204 when done or already absent.
   */
  delete(path: string, options: NetworkPollOptions = {}): Promise<void> {
    return this.longRunning<void>(
      () => this.client.path(path).delete({ ...requestSignal(options) }),
      ["200", "202", "204"],
      "location",
      options,
      () => undefined,
    );
  }

  /**
   * As the SDK's getLongRunningPoller: core-lro's createHttpPoller drives the operation from its
   * first answer's headers; every answer outside `expected` fails as a RestError with ARM's code,
   * a failed operation as core-lro's "The long-running operation has failed" Error. The status URLs
   * are polled through the same pipeline (LroPacing holds each poll until ARM's Retry-After).
   */
  private longRunning<T>(
    send: () => PromiseLike<HttpResponse>,
    expected: string[],
    resourceLocationConfig: ResourceLocationConfig,
    options: NetworkPollOptions,
    result: (response: HttpResponse) => T,
  ): Promise<T> {
    const lroResponse = (response: HttpResponse): OperationResponse<HttpResponse> => {
      if (!expected.includes(response.status)) throw createRestError(response);
      return {
        flatResponse: response,
        rawResponse: {
          statusCode: Number.parseInt(response.status, 10),
          request: response.request,
          headers: response.headers,
          body: response.body,
        },
      };
    };
    let answered = "";
    return createHttpPoller<T, OperationState<T>>(
      {
        sendInitialRequest: async () => {
          const response = await send();
          answered = response.request.url;
          return lroResponse(response);
        },
        sendPollRequest: async (url, pollOptions) => {
          const statusUrl = onHostThatAnswered(url, answered, "status URL");
          // A poll stops when the caller's signal (a step's deadline) or the poller's aborts.
          const both = linkSignals(options.abortSignal, pollOptions?.abortSignal);
          try {
            const response = await this.client
              .pathUnchecked(withApiVersion(statusUrl, NETWORK_API_VERSION))
              .get({ abortSignal: both.signal, ...ACCEPT_JSON });
            return lroResponse(response);
          } finally {
            both.unlink();
          }
        },
      },
      {
        intervalInMs: options.updateIntervalInMs,
        resourceLocationConfig,
        processResult: async (response) => result(response as HttpResponse),
      },
    );
  }
}

/** One signal that aborts when any of `signals` does; `unlink` drops the listeners. */
function linkSignals(...signals: (AbortSignalLike | undefined)[]): { signal: AbortSignal; unlink(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const present = signals.filter((s): s is AbortSignalLike => s !== undefined);
  for (const s of present) {
    if (s.aborted) abort();
    else s.addEventListener("abort", abort, { once: true });
  }
  return {
    signal: controller.signal,
    unlink: () => {
      for (const s of present) s.removeEventListener("abort", abort);
    },
  };
}
