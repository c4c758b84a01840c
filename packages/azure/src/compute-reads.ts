// The reads of a plan, as plain REST: Microsoft.Compute's VM list (with instance view), disk list,
// gallery, image definition and image version list, and the resource group (Microsoft.Resources).
//
// Why not @azure/arm-compute (and arm-resources) for these: their model deserializers deep-copy every
// VM and disk of every list page into the SDK's flattened shape, dates turned into Date objects,
// only for observe.ts to pick a dozen fields out of them (about 40 ms of a 1000-claw plan's CPU). Here
// the same requests (the api-versions the SDKs send, cited below) go through the same Azure core
// (arm-rest.ts: the pipeline, credential, retry, throttling, LRO pacing, limiter, timeout and
// additional policies connectAzure gives every client), and ARM's JSON comes back as it is, in the
// REST shape: `properties` not flattened, dates as ARM's strings. Writes, long-running operations,
// run commands and snapshots stay on the SDK client (ctx.compute).
//
// The REST reference: https://learn.microsoft.com/rest/api/compute/virtual-machines/list,
// https://learn.microsoft.com/rest/api/compute/disks/list-by-resource-group,
// https://learn.microsoft.com/rest/api/compute/galleries/get,
// https://learn.microsoft.com/rest/api/compute/gallery-images/get,
// https://learn.microsoft.com/rest/api/compute/gallery-image-versions/list-by-gallery-image,
// https://learn.microsoft.com/rest/api/resources/resource-groups/get.
import type { TokenCredential } from "@azure/core-auth";
import type { Pipeline } from "@azure/core-rest-pipeline";
import type { Client } from "@azure-rest/core-client";
import {
  type ArmClientOptions,
  type ArmRequestOptions,
  type ArmResource,
  armGet,
  armList,
  armPath,
  armRestClient,
  type SubResource,
} from "./arm-rest.ts";

/**
 * The api-versions @azure/arm-compute 25.1.1 sends for these operations
 * (node_modules/@azure/arm-compute/dist/esm/api/virtualMachines/operations.js `_listSend`,
 * api/disks/operations.js `_listByResourceGroupSend`, api/galleries/operations.js `_getSend`,
 * api/galleryImages/operations.js `_getSend`, api/galleryImageVersions/operations.js
 * `_listByGalleryImageSend`), so ARM (and the local Azure) sees the requests it saw before.
 */
export const COMPUTE_API_VERSIONS = {
  virtualMachines: "2026-04-01",
  disks: "2026-03-02",
  galleries: "2025-12-03",
} as const;

/**
 * The api-version @azure/arm-resources 8.0.0 sends for a resource group read
 * (node_modules/@azure/arm-resources/dist/esm/api/resourceGroups/operations.js `_getSend`).
 */
export const RESOURCES_API_VERSION = "2025-04-01";

// ---- Resource shapes: what ARM returns, as far as the fleet reads it ----

/** One status of an instance view: `PowerState/running`, `ProvisioningState/succeeded`, ... */
export interface ArmInstanceViewStatus {
  code?: string;
  level?: string;
  displayStatus?: string;
  message?: string;
  /** ISO 8601 as ARM writes it, e.g. "2026-12-03T09:10:00.1234567+00:00". */
  time?: string;
}

export interface ArmDataDisk {
  lun: number;
  name?: string;
  createOption?: string;
  managedDisk?: SubResource & { storageAccountType?: string };
}

export interface ArmVirtualMachineProperties {
  hardwareProfile?: { vmSize?: string };
  storageProfile?: {
    imageReference?: { id?: string; exactVersion?: string };
    dataDisks?: ArmDataDisk[];
  };
  networkProfile?: { networkInterfaces?: SubResource[] };
  provisioningState?: string;
  /** Only with `$expand=instanceView`. */
  instanceView?: { statuses?: ArmInstanceViewStatus[] };
  timeCreated?: string;
}

export type ArmVirtualMachine = ArmResource<ArmVirtualMachineProperties>;

export interface ArmDiskProperties {
  diskSizeGB?: number;
  /** ISO 8601 as ARM writes it. */
  timeCreated?: string;
  diskState?: string;
  provisioningState?: string;
}

export interface ArmDisk extends ArmResource<ArmDiskProperties> {
  /** The VM the disk is attached to (top level, not in `properties`). */
  managedBy?: string;
  sku?: { name?: string; tier?: string };
}

export type ArmGallery = ArmResource<{ provisioningState?: string }>;

/** What an image definition declares: what decides which VMs it boots (vm-capabilities.ts). */
export interface ArmGalleryImageProperties {
  identifier?: { publisher?: string; offer?: string; sku?: string };
  osType?: string;
  osState?: string;
  hyperVGeneration?: string;
  features?: { name?: string; value?: string }[];
  purchasePlan?: { name?: string; publisher?: string; product?: string };
  provisioningState?: string;
}

export type ArmGalleryImage = ArmResource<ArmGalleryImageProperties>;

export type ArmGalleryImageVersion = ArmResource<{ provisioningState?: string }>;

export type ArmResourceGroup = ArmResource<{ provisioningState?: string }>;

// ---- The client ----

export interface VmListOptions extends ArmRequestOptions {
  /** `instanceView`: each VM's power and provisioning statuses in the same answer. */
  expand?: "instanceView";
}

/** The plan's reads in one subscription; the operations are named as the SDK clients name them. */
export class ComputeReads {
  readonly virtualMachines: {
    list(resourceGroup: string, options?: VmListOptions): AsyncIterable<ArmVirtualMachine>;
  };
  readonly disks: {
    listByResourceGroup(resourceGroup: string, options?: ArmRequestOptions): AsyncIterable<ArmDisk>;
  };
  readonly galleries: {
    get(resourceGroup: string, gallery: string, options?: ArmRequestOptions): Promise<ArmGallery>;
  };
  readonly galleryImages: {
    get(
      resourceGroup: string,
      gallery: string,
      image: string,
      options?: ArmRequestOptions,
    ): Promise<ArmGalleryImage>;
  };
  readonly galleryImageVersions: {
    listByGalleryImage(
      resourceGroup: string,
      gallery: string,
      image: string,
      options?: ArmRequestOptions,
    ): AsyncIterable<ArmGalleryImageVersion>;
  };
  /** Microsoft.Resources' resource group read, which a plan makes beside the others. */
  readonly resourceGroups: {
    get(resourceGroup: string, options?: ArmRequestOptions): Promise<ArmResourceGroup>;
  };
  /** The client's request pipeline (as the SDK clients' `pipeline`). */
  readonly pipeline: Pipeline;

  constructor(credential: TokenCredential, subscriptionId: string, options: ArmClientOptions = {}) {
    const client: Client = armRestClient(credential, options, "openclawps-compute-reads");
    this.pipeline = client.pipeline;
    const compute = (rg: string, ...segments: string[]) => [
      ...["subscriptions", subscriptionId, "resourceGroups", rg, "providers", "Microsoft.Compute"],
      ...segments,
    ];
    const { virtualMachines: vmApi, disks: diskApi, galleries: galleryApi } = COMPUTE_API_VERSIONS;

    this.virtualMachines = {
      // The SDK writes the parameter as `%24expand` (its urlTemplate.js); ARM reads `$expand`.
      list: (rg, options = {}) =>
        armList(
          client,
          armPath(
            compute(rg, "virtualMachines"),
            vmApi,
            options.expand ? `&%24expand=${options.expand}` : "",
          ),
          vmApi,
          options,
        ),
    };
    this.disks = {
      listByResourceGroup: (rg, options) =>
        armList(client, armPath(compute(rg, "disks"), diskApi), diskApi, options),
    };
    this.galleries = {
      get: (rg, gallery, options) =>
        armGet(client, armPath(compute(rg, "galleries", gallery), galleryApi), options),
    };
    this.galleryImages = {
      get: (rg, gallery, image, options) =>
        armGet(client, armPath(compute(rg, "galleries", gallery, "images", image), galleryApi), options),
    };
    this.galleryImageVersions = {
      listByGalleryImage: (rg, gallery, image, options) =>
        armList(
          client,
          armPath(compute(rg, "galleries", gallery, "images", image, "versions"), galleryApi),
          galleryApi,
          options,
        ),
    };
    this.resourceGroups = {
      // `resourcegroups`, lower case, as arm-resources writes it.
      get: (rg, options) =>
        armGet(
          client,
          armPath(["subscriptions", subscriptionId, "resourcegroups", rg], RESOURCES_API_VERSION),
          options,
        ),
    };
  }
}
