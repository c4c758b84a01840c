// Would Azure create this VM? The checks deploy-fleet makes before it takes a claw's running VM
// down, so that a replacement Azure refuses is refused while the old VM still runs (design
// invariant 9). Pure: the adapter reads the image definition and the size's entry in the resource
// SKUs API (https://learn.microsoft.com/rest/api/compute/resource-skus/list) and hands them here;
// the local Azure refuses the same requests at create time.

/** A VM size as the resource SKUs API describes it for one location. */
export interface SizeCapabilities {
  name: string;
  /** Capability `PremiumIO`: the size can attach Premium SSD disks. */
  premiumIO: boolean;
  /** Capability `HyperVGenerations`, e.g. ["V1", "V2"]. */
  hyperVGenerations: string[];
  /**
   * Capability `DiskControllerTypes`; a size without it is SCSI only
   * (https://learn.microsoft.com/azure/virtual-machines/nvme-overview).
   */
  diskControllerTypes: string[];
  /** Reason codes of the size's restrictions in this location (`NotAvailableForSubscription`, `QuotaId`). */
  restrictions: string[];
}

/** What a gallery image definition says about the VMs it can boot. */
export interface ImageDefinitionFacts {
  name: string;
  hyperVGeneration?: string;
  /** Feature `SecurityType` (TrustedLaunch, TrustedLaunchSupported, ...); absent = standard only. */
  securityType?: string;
  /** Feature `DiskControllerTypes` ("SCSI, NVMe"); absent = SCSI only. */
  diskControllerTypes?: string[];
  purchasePlan?: { name: string; publisher: string; product: string };
}

/** The parts of a VM create request these checks look at. */
export interface VmCreateRequest {
  vmSize: string;
  trustedLaunch: boolean;
  plan?: { name: string; publisher: string; product: string };
  /** SKU of each disk the VM attaches (the data disk; the OS disk is Standard_LRS). */
  diskSkus: string[];
}

/** Something Azure refuses, with the manifest change that avoids it. */
export interface CreateProblem {
  /** The Azure error code Azure answers with. */
  code: string;
  cause: string;
  fix: string;
}

/** Image definition security types that admit a Trusted Launch VM. */
const TRUSTED_LAUNCH_CAPABLE = new Set([
  "trustedlaunch",
  "trustedlaunchsupported",
  "trustedlaunchandconfidentialvmsupported",
]);
/** Image definition security types that admit only a Trusted Launch (or confidential) VM. */
const TRUSTED_LAUNCH_ONLY = new Set(["trustedlaunch", "confidentialvm"]);

const lower = (s: string) => s.toLowerCase();

/** Splits a capability or feature list value ("SCSI, NVMe"). */
export function listValue(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * Every reason Azure would refuse to create the VM: the size missing from or restricted in the
 * location, the image's generation, security type, disk controller and purchase plan against the
 * VM, premium disks on a size without premium storage. `size`: the size's entry in the location;
 * "not-offered" when the location has none; "unknown" when the SKUs could not be read (only the
 * image definition is checked then).
 */
export function vmCreateProblems(
  request: VmCreateRequest,
  image: ImageDefinitionFacts,
  size: SizeCapabilities | "not-offered" | "unknown",
  location: string,
): CreateProblem[] {
  const problems: CreateProblem[] = [];
  const sizeName = request.vmSize;
  if (size === "unknown") return imageProblems(request, image);
  if (size === "not-offered") {
    // https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-sku-not-available
    return [
      {
        code: "SkuNotAvailable",
        cause: `VM size ${sizeName} is not offered in ${location}`,
        fix: `set vm_size to a size ${location} offers (az vm list-skus --location ${location} --resource-type virtualMachines)`,
      },
    ];
  }
  if (size.restrictions.length > 0) {
    problems.push({
      code: "SkuNotAvailable",
      cause: `VM size ${sizeName} is restricted for this subscription in ${location} (${size.restrictions.join(", ")})`,
      fix: `set vm_size to another size, or ask Azure support to lift the restriction (https://aka.ms/azureskunotavailable)`,
    });
  }
  const generation = image.hyperVGeneration;
  if (generation && !size.hyperVGenerations.some((g) => lower(g) === lower(generation))) {
    problems.push({
      code: "BadRequest",
      cause: `VM size ${sizeName} cannot boot Hyper-V generation ${generation} images (it boots ${size.hyperVGenerations.join(", ") || "none"}), and image definition ${image.name} is ${generation}`,
      fix: `set vm_size to a size that boots ${generation} (https://aka.ms/azuregen2vm)`,
    });
  }
  problems.push(...imageProblems(request, image));
  const controllers = size.diskControllerTypes.length > 0 ? size.diskControllerTypes : ["SCSI"];
  const imageControllers = image.diskControllerTypes?.length ? image.diskControllerTypes : ["SCSI"];
  if (!controllers.some((c) => imageControllers.some((i) => lower(i) === lower(c)))) {
    problems.push({
      code: "InvalidParameter",
      cause: `VM size ${sizeName} supports only the ${controllers.join(", ")} disk controller, and image definition ${image.name} is tagged for ${imageControllers.join(", ")}`,
      fix: `set vm_size to a size with a SCSI controller, or bake into a new image definition that declares NVMe (azure.nvme_enabled: true and a new fleet_image_definition_name; an existing definition's features cannot change, https://learn.microsoft.com/azure/virtual-machines/nvme-overview)`,
    });
  }
  const premium = request.diskSkus.filter((s) => lower(s).startsWith("premium"));
  if (premium.length > 0 && !size.premiumIO) {
    problems.push({
      code: "InvalidParameter",
      cause: `VM size ${sizeName} does not support premium storage, and the claw's data disk is ${premium.join(", ")}`,
      fix: "set vm_size to a size with premium storage (an `s` in its name), or data_disk_sku to StandardSSD_LRS",
    });
  }
  return problems;
}

/**
 * The disk controller a VM create or resize must ask for (storageProfile.diskControllerType): NVMe
 * when the size has no SCSI controller (the v6 sizes) and the image definition declares NVMe; SCSI
 * when a VM on NVMe is resized to a size without it; otherwise none, and Azure's default (SCSI)
 * stands.
 * Asked for explicitly because a VM keeps its controller through a resize unless the update asks
 * for another (https://learn.microsoft.com/azure/virtual-machines/enable-nvme-interface).
 */
export function diskControllerFor(
  size: SizeCapabilities | "not-offered" | "unknown",
  image: ImageDefinitionFacts,
  /** The controller of the VM being resized. */
  current?: string,
): "NVMe" | "SCSI" | undefined {
  if (typeof size === "string") return undefined;
  const has = (list: string[] | undefined, c: string) => (list ?? []).some((x) => lower(x) === c);
  const sizeControllers = size.diskControllerTypes.length > 0 ? size.diskControllerTypes : ["SCSI"];
  if (!has(sizeControllers, "scsi"))
    return has(sizeControllers, "nvme") && has(image.diskControllerTypes, "nvme") ? "NVMe" : undefined;
  // Back to SCSI from an NVMe-only size.
  return current !== undefined && lower(current) === "nvme" && !has(sizeControllers, "nvme")
    ? "SCSI"
    : undefined;
}

/** What the image definition alone refuses: its security type and purchase plan against the VM. */
function imageProblems(request: VmCreateRequest, image: ImageDefinitionFacts): CreateProblem[] {
  const problems: CreateProblem[] = [];
  const security = image.securityType ? lower(image.securityType) : undefined;
  if (request.trustedLaunch && (security === undefined || !TRUSTED_LAUNCH_CAPABLE.has(security))) {
    problems.push({
      code: "BadRequest",
      cause: `the VM asks for Trusted Launch and image definition ${image.name} does not support it (feature SecurityType is ${image.securityType ?? "not set"})`,
      fix: `set enable_trusted_launch: false, or use an image definition with SecurityType TrustedLaunchSupported (azure.trusted_launch_enabled: true makes new definitions so; an existing definition's features cannot change)`,
    });
  }
  if (!request.trustedLaunch && security !== undefined && TRUSTED_LAUNCH_ONLY.has(security)) {
    problems.push({
      code: "BadRequest",
      cause: `image definition ${image.name} only boots Trusted Launch VMs (feature SecurityType ${image.securityType}) and the VM is a standard one`,
      fix: "set enable_trusted_launch: true for the claw",
    });
  }
  const want = image.purchasePlan;
  const have = request.plan;
  if (want && !samePlan(want, have)) {
    problems.push({
      code: "VMMarketplaceInvalidInput",
      cause: `image definition ${image.name} carries purchase plan ${planText(want)} and the VM ${have ? `asks for ${planText(have)}` : "has no plan"}`,
      fix: `set purchase_plan of image definition ${image.name} in azure.image_definitions to ${planText(want)}`,
    });
  }
  if (!want && have) {
    problems.push({
      code: "VMMarketplaceInvalidInput",
      cause: `the VM asks for purchase plan ${planText(have)} and image definition ${image.name} has none`,
      fix: `remove purchase_plan from image definition ${image.name} in azure.image_definitions`,
    });
  }
  return problems;
}

function samePlan(
  a: { name: string; publisher: string; product: string },
  b: { name: string; publisher: string; product: string } | undefined,
): boolean {
  return (
    b !== undefined &&
    lower(a.name) === lower(b.name) &&
    lower(a.publisher) === lower(b.publisher) &&
    lower(a.product) === lower(b.product)
  );
}

function planText(p: { name: string; publisher: string; product: string }): string {
  return `${p.publisher}/${p.product}/${p.name}`;
}
