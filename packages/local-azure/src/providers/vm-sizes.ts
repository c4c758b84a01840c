// Microsoft.Compute/skus: a small catalogue of VM sizes, served by the resource SKUs API, and the
// refusals a VM create or resize gets when the size, the image definition and the request do not
// fit together.
// https://learn.microsoft.com/rest/api/compute/resource-skus/list
//
// Capabilities as the SKUs API names them: `PremiumIO` (premium disks), `HyperVGenerations`
// ("V1,V2"), `DiskControllerTypes` (absent = SCSI only; the v6 sizes list "NVMe" alone,
// https://learn.microsoft.com/azure/virtual-machines/nvme-overview). A restriction with reason
// `NotAvailableForSubscription` makes a create fail with SkuNotAvailable
// (https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-sku-not-available).
import type { Arm } from "../arm.ts";
import { ArmError, invalidParameter } from "../arm-error.ts";
import type { StoredResource } from "../world.ts";
import { obj } from "./common.ts";
import { GALLERY_IMAGE, GALLERY_IMAGE_VERSION } from "./gallery.ts";

export const SKU = "Microsoft.Compute/skus";

export interface VmSize {
  name: string;
  family: string;
  vCPUs: number;
  memoryGB: number;
  premiumIO: boolean;
  hyperVGenerations: ("V1" | "V2")[];
  /** Absent: SCSI only. */
  diskControllerTypes?: string;
}

const BOTH: ("V1" | "V2")[] = ["V1", "V2"];

/**
 * The sizes this stand-in knows: those the fleet's tests and examples use, and one of each kind
 * Azure refuses in some combination (no premium storage, Gen1 only, NVMe only).
 */
export const VM_SIZES: readonly VmSize[] = [
  {
    name: "Standard_B2s",
    family: "standardBSFamily",
    vCPUs: 2,
    memoryGB: 4,
    premiumIO: true,
    hyperVGenerations: BOTH,
  },
  {
    name: "Standard_D2s_v3",
    family: "standardDSv3Family",
    vCPUs: 2,
    memoryGB: 8,
    premiumIO: true,
    hyperVGenerations: BOTH,
  },
  ...[2, 4, 8, 16, 64].map((n) => ({
    name: `Standard_D${n}s_v5`,
    family: "standardDSv5Family",
    vCPUs: n,
    memoryGB: n * 4,
    premiumIO: true,
    hyperVGenerations: BOTH,
  })),
  // Dv5 without the `s`: no premium storage (https://learn.microsoft.com/azure/virtual-machines/dv5-dsv5-series).
  {
    name: "Standard_D2_v5",
    family: "standardDv5Family",
    vCPUs: 2,
    memoryGB: 8,
    premiumIO: false,
    hyperVGenerations: BOTH,
  },
  // Av2: Generation 1 only (https://learn.microsoft.com/azure/virtual-machines/generation-2#generation-2-vm-sizes).
  {
    name: "Standard_A2_v2",
    family: "standardAv2Family",
    vCPUs: 2,
    memoryGB: 4,
    premiumIO: false,
    hyperVGenerations: ["V1"],
  },
  // Dadsv6: Generation 2, NVMe only.
  {
    name: "Standard_D2ads_v6",
    family: "standardDadsv6Family",
    vCPUs: 2,
    memoryGB: 8,
    premiumIO: true,
    hyperVGenerations: ["V2"],
    diskControllerTypes: "NVMe",
  },
  ...[12, 24].map((n) => ({
    name: `Standard_NV${n}ads_V710_v5`,
    family: "StandardNVadsV710v5Family",
    vCPUs: n,
    memoryGB: n * 5,
    premiumIO: true,
    hyperVGenerations: BOTH,
  })),
  {
    name: "Standard_NV36ads_A10_v5",
    family: "StandardNVADSA10v5Family",
    vCPUs: 36,
    memoryGB: 440,
    premiumIO: true,
    hyperVGenerations: BOTH,
  },
];

/** Regions a filter-less list reports each size in (a filtered list answers for any location). */
const LISTED_LOCATIONS = ["westus", "westus2", "eastus", "eastus2", "centralus", "westeurope", "northeurope"];

export function findSize(name: string): VmSize | undefined {
  return VM_SIZES.find((s) => s.name.toLowerCase() === name.toLowerCase());
}

function restricted(arm: Arm, name: string): boolean {
  return (arm.world.restrictedVmSizes ?? []).includes(name.toLowerCase());
}

function skuEntry(arm: Arm, size: VmSize, location: string): Record<string, unknown> {
  const capabilities = [
    { name: "vCPUs", value: String(size.vCPUs) },
    { name: "MemoryGB", value: String(size.memoryGB) },
    { name: "HyperVGenerations", value: size.hyperVGenerations.join(",") },
    { name: "PremiumIO", value: size.premiumIO ? "True" : "False" },
    ...(size.diskControllerTypes ? [{ name: "DiskControllerTypes", value: size.diskControllerTypes }] : []),
  ];
  return {
    resourceType: "virtualMachines",
    name: size.name,
    tier: "Standard",
    size: size.name.replace(/^Standard_/, ""),
    family: size.family,
    locations: [location],
    locationInfo: [{ location, zones: [], zoneDetails: [] }],
    capabilities,
    restrictions: restricted(arm, size.name)
      ? [
          {
            type: "Location",
            values: [location],
            restrictionInfo: { locations: [location] },
            reasonCode: "NotAvailableForSubscription",
          },
        ]
      : [],
  };
}

/** Resource Skus - List: only `$filter=location eq '<location>'` is supported, as in Azure. */
export function registerVmSizes(arm: Arm): void {
  arm.register({
    type: SKU,
    sdkName: "resourceSkus",
    subscriptionListName: "list",
    filterList(_items, query, scope): StoredResource[] {
      if (scope !== "subscription")
        throw new ArmError(404, "InvalidResourceType", "Resource SKUs are listed per subscription.");
      const filter = query.get("$filter");
      let locations = LISTED_LOCATIONS;
      if (filter) {
        const m = /^\s*location\s+eq\s+'([^']+)'\s*$/i.exec(filter);
        if (!m) {
          throw invalidParameter(
            `The $filter '${filter}' is not supported; only the location filter is (location eq '<location>').`,
            "$filter",
          );
        }
        locations = [m[1]!.toLowerCase().replace(/\s+/g, "")];
      }
      return locations.flatMap((location) =>
        VM_SIZES.map((size) => ({
          id: `${SKU}/${location}/${size.name}`,
          name: size.name,
          type: SKU,
          properties: skuEntry(arm, size, location),
        })),
      );
    },
    view: (r) => r.properties,
  });
}

/** What a VM create or resize asks of its size, read from the request and the world. */
export interface SizeRequest {
  vmId: string;
  vmSize: string;
  location: string;
  /** The gallery image (version or definition) id, when the VM boots from a gallery. */
  imageId?: string;
  securityType?: string;
  plan?: Record<string, unknown>;
  diskControllerType?: string;
  /** Storage account type of every disk the VM uses, with its name. */
  disks: { name: string; sku: string }[];
}

/** The image definition of a gallery image (version) id. */
function imageDefinition(arm: Arm, imageId: string): StoredResource | undefined {
  const target = arm.find(imageId);
  if (target?.type === GALLERY_IMAGE) return target;
  if (target?.type === GALLERY_IMAGE_VERSION) return arm.find(imageId.replace(/\/versions\/[^/]+$/i, ""));
  return undefined;
}

function feature(definition: StoredResource, name: string): string | undefined {
  const features = (definition.properties.features as { name?: string; value?: string }[] | undefined) ?? [];
  return features.find((f) => String(f.name).toLowerCase() === name.toLowerCase())?.value;
}

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/**
 * Throws the error Azure answers a VM create (or a resize to `vmSize`) with when the size cannot
 * take the request. Wording as the Compute RP sends it, where known (each cited). Returns the disk
 * controller the VM gets.
 */
export function checkVmSize(arm: Arm, r: SizeRequest): string {
  const size = findSize(r.vmSize);
  if (!size || restricted(arm, r.vmSize)) {
    // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-sku-not-available
    throw new ArmError(
      409,
      "SkuNotAvailable",
      `The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: ${r.vmSize}' is currently not available in location '${r.location}'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.`,
    );
  }
  const definition = r.imageId ? imageDefinition(arm, r.imageId) : undefined;
  if (definition) {
    const generation = String(definition.properties.hyperVGeneration ?? "V1");
    const genNumber = generation.replace(/^V/i, "");
    if (!size.hyperVGenerations.some((g) => g.toLowerCase() === generation.toLowerCase())) {
      // Wording seen in microsoft/ga4gh-tes#43 and loft-sh/devpod#731.
      throw new ArmError(
        400,
        "BadRequest",
        `The selected VM size '${size.name}' cannot boot Hypervisor Generation '${genNumber}'. If this was a Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation of the selected VM Size. If this was an Update operation please select a Hypervisor Generation '${genNumber}' VM Size. For more information, see https://aka.ms/azuregen2vm`,
      );
    }
    const security = feature(definition, "SecurityType")?.toLowerCase();
    const trusted = r.securityType?.toLowerCase() === "trustedlaunch";
    if (!trusted && (security === "trustedlaunch" || security === "confidentialvm")) {
      // Wording seen in hashicorp/terraform-provider-azurerm#23148 and kubermatic/machine-controller#2013.
      throw new ArmError(
        400,
        "BadRequest",
        `The provided gallery image only supports creation of VMs and VM Scale Sets with '${feature(definition, "SecurityType")}' security type.`,
      );
    }
    if (
      trusted &&
      !["trustedlaunch", "trustedlaunchsupported", "trustedlaunchandconfidentialvmsupported"].includes(
        security ?? "",
      )
    ) {
      // A Trusted Launch VM needs an image definition that declares it
      // (https://learn.microsoft.com/azure/virtual-machines/trusted-launch-portal#trusted-launch-vm-supported-images).
      throw new ArmError(
        400,
        "BadRequest",
        `The provided gallery image does not support creation of VMs and VM Scale Sets with 'TrustedLaunch' security type: its image definition has no SecurityType feature that allows it.`,
        "securityProfile.securityType",
      );
    }
    const plan = obj(definition.properties.purchasePlan);
    const samePlan =
      plan !== undefined &&
      r.plan !== undefined &&
      ["name", "publisher", "product"].every(
        (k) => String(plan[k] ?? "").toLowerCase() === String(r.plan?.[k] ?? "").toLowerCase(),
      );
    if ((plan && !samePlan) || (!plan && r.plan)) {
      // Azure reports this at once or as the create's failure (both seen: Azure/sap-automation#433,
      // Azure/azure-cli#4233); answered at once here.
      throw new ArmError(
        400,
        "VMMarketplaceInvalidInput",
        plan
          ? `Creating a virtual machine from Marketplace image or a custom image sourced from a Marketplace image requires Plan information in the request. VM: '${r.vmId}'.`
          : `The purchase plan information in the request does not match the image. VM: '${r.vmId}'.`,
      );
    }
  }
  const controller = diskController(size, definition, r.diskControllerType);
  if (!size.premiumIO) {
    const premium = r.disks.find((d) => d.sku.toLowerCase().startsWith("premium"));
    if (premium) {
      // Wording quoted in microsoft/lisa#689.
      throw invalidParameter(
        `Requested operation cannot be performed because the VM size ${size.name} does not support the storage account type ${premium.sku} of disk '${premium.name}'. Consider updating the VM to a size that supports Premium storage.`,
        "vmSize",
      );
    }
  }
  return controller;
}

/**
 * The disk controller a VM on `size` gets: the one it asks for (storageProfile.diskControllerType),
 * which both the size and the image must support; otherwise Azure's default, SCSI where the size
 * and image have it, else the one they share (an NVMe-only size with an image tagged for NVMe).
 * https://learn.microsoft.com/azure/virtual-machines/enable-nvme-interface: "If the customer
 * doesn't specify a DiskControllerType value then the platform will automatically choose the
 * default controller based on the VM size configuration"; a VM changes controller only when it
 * asks to, deallocated or in the same update as its new size.
 */
function diskController(
  size: VmSize,
  definition: StoredResource | undefined,
  asked: string | undefined,
): string {
  const sizeControllers = size.diskControllerTypes ? list(size.diskControllerTypes) : ["scsi"];
  const imageControllers = definition ? list(feature(definition, "DiskControllerTypes")) : [];
  const imageTypes = imageControllers.length > 0 ? imageControllers : ["scsi"];
  const name = (c: string) => (c === "nvme" ? "NVMe" : "SCSI");
  if (asked !== undefined) {
    const want = asked.toLowerCase();
    if (!sizeControllers.includes(want)) {
      // This stand-in's wording; the documented rule is the one above.
      throw invalidParameter(
        `The VM size '${size.name}' does not support the disk controller type '${asked}'; it supports ${sizeControllers.map(name).join(", ")}. Query the sku api at https://aka.ms/azure-compute-skus for the disk controller types of a VM size.`,
        "storageProfile.diskControllerType",
      );
    }
    if (!imageTypes.includes(want)) {
      throw cannotBoot(size, "storageProfile.diskControllerType");
    }
    return name(want);
  }
  const shared = sizeControllers.filter((c) => imageTypes.includes(c));
  if (shared.length === 0) {
    throw cannotBoot(size, "vmSize");
  }
  return name(shared.includes("scsi") ? "scsi" : shared[0]!);
}

/** Wording seen in MarcelMeurer/WVD-Hydra#26. */
function cannotBoot(size: VmSize, target: string): ArmError {
  return invalidParameter(
    `The VM size '${size.name}' cannot boot with OS image or disk. Please check that disk controller types supported by the OS image or disk is one of the supported disk controller types for the VM size '${size.name}'. Please query sku api at https://aka.ms/azure-compute-skus to determine supported disk controller types for the VM size.`,
    target,
  );
}
