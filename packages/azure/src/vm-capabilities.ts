// What Azure will create: the fleet image definition's features and purchase plan, and each VM
// size's capabilities in the fleet's location from the resource SKUs API
// (https://learn.microsoft.com/rest/api/compute/resource-skus/list). Read once per run; the rule
// that decides (fleet-model's vmCreateProblems) is pure.
import {
  type CreateProblem,
  diskControllerFor,
  type ImageDefinitionFacts,
  listValue,
  type SizeCapabilities,
  type VmCreateRequest,
  vmCreateProblems,
} from "@openclawps/fleet-model";
import { listAll } from "./arm-read.ts";
import { azureErrorCode, SIZE_READER_ROLE_NAME } from "./azure-error.ts";
import type { ArmGalleryImageProperties } from "./compute-reads.ts";
import type { AzureContext } from "./connect.ts";

/** The VM sizes offered in `location`, by lower-cased name. */
export async function readVmSizes(
  ctx: AzureContext,
  location: string,
): Promise<Map<string, SizeCapabilities>> {
  // The SKUs API takes only a location filter; without it, it lists every region's SKUs.
  const skus = await listAll(ctx.compute.resourceSkus.list({ filter: `location eq '${location}'` }));
  const sizes = new Map<string, SizeCapabilities>();
  const here = (l: string) =>
    l.toLowerCase().replace(/\s+/g, "") === location.toLowerCase().replace(/\s+/g, "");
  for (const sku of skus) {
    if (sku.resourceType !== "virtualMachines" || !sku.name) continue;
    if (sku.locations && !sku.locations.some(here)) continue;
    const cap = (name: string) => sku.capabilities?.find((c) => c.name === name)?.value;
    sizes.set(sku.name.toLowerCase(), {
      name: sku.name,
      premiumIO: cap("PremiumIO")?.toLowerCase() === "true",
      hyperVGenerations: listValue(cap("HyperVGenerations")),
      diskControllerTypes: listValue(cap("DiskControllerTypes")),
      // A zone restriction leaves the size usable outside that zone; claws are not zonal.
      restrictions: (sku.restrictions ?? [])
        .filter((r) => r.type === "Location" && (r.values ?? []).some(here))
        .map((r) => r.reasonCode ?? "restricted"),
    });
  }
  return sizes;
}

/**
 * The facts of an image definition that decide which VMs it boots: from what it declares (a REST
 * image definition's `properties`, or the SDK's GalleryImage, which has the same fields flattened).
 */
export function imageDefinitionFacts(name: string, image: ArmGalleryImageProperties): ImageDefinitionFacts {
  const feature = (n: string) =>
    image.features?.find((f) => f.name?.toLowerCase() === n.toLowerCase())?.value ?? undefined;
  const security = feature("SecurityType");
  const controllers = listValue(feature("DiskControllerTypes"));
  const plan = image.purchasePlan;
  return {
    name,
    ...(image.hyperVGeneration ? { hyperVGeneration: image.hyperVGeneration } : {}),
    ...(security ? { securityType: security } : {}),
    ...(controllers.length > 0 ? { diskControllerTypes: controllers } : {}),
    ...(plan?.name && plan.publisher && plan.product
      ? { purchasePlan: { name: plan.name, publisher: plan.publisher, product: plan.product } }
      : {}),
  };
}

/** Azure would refuse the claw's new VM: raised while its running VM is still untouched. */
export class VmCreateRefusedError extends Error {
  constructor(
    readonly claw: string,
    readonly what: string,
    readonly problems: CreateProblem[],
    leftAsIs: string,
  ) {
    super(
      `${claw}: Azure would refuse ${what}, so ${leftAsIs}: ` +
        problems.map((p) => `${p.cause} (${p.code}); fix: ${p.fix}`).join(". ") +
        ". Apply again after the fix",
    );
    this.name = "VmCreateRefusedError";
  }
}

interface CheckFacts {
  /** Undefined when the SKUs API refused the read (see VmCreateCheck.sizesUnread). */
  sizes: Map<string, SizeCapabilities> | undefined;
  image: ImageDefinitionFacts;
}

/** Reads what the checks need once, and checks each VM request against it. */
export class VmCreateCheck {
  private facts: Promise<CheckFacts> | undefined;
  /**
   * Why the sizes were not checked: the SKUs API is read at subscription scope, which a role
   * assigned on the resource group alone does not reach (AuthorizationFailed). The image
   * definition is still checked; Azure's own refusal after the delete is then the backstop (the
   * VM is recreated as it was).
   */
  sizesUnread: string | undefined;

  constructor(
    private readonly ctx: AzureContext,
    private readonly location: string,
    private readonly gallery: string,
    private readonly imageDefinition: string,
  ) {}

  /** The problems Azure would refuse `request` with; [] when it would create it. */
  async problems(request: VmCreateRequest): Promise<CreateProblem[]> {
    const facts = await this.readOnce();
    return vmCreateProblems(request, facts.image, this.size(facts, request.vmSize), this.location);
  }

  /**
   * The disk controller a VM of `vmSize` must ask for (fleet-model's diskControllerFor); undefined
   * when the sizes could not be read: Azure then picks the size's default.
   */
  async diskController(vmSize: string, current?: string): Promise<"NVMe" | "SCSI" | undefined> {
    const facts = await this.readOnce();
    return diskControllerFor(this.size(facts, vmSize), facts.image, current);
  }

  private async readOnce(): Promise<CheckFacts> {
    this.facts ??= this.read();
    // A failed read is not cached: the next claw tries again.
    return this.facts.catch((err: unknown) => {
      this.facts = undefined;
      throw err;
    });
  }

  private size(facts: CheckFacts, vmSize: string): SizeCapabilities | "not-offered" | "unknown" {
    return facts.sizes ? (facts.sizes.get(vmSize.toLowerCase()) ?? "not-offered") : "unknown";
  }

  private async read(): Promise<CheckFacts> {
    const [sizes, image] = await Promise.all([
      readVmSizes(this.ctx, this.location).catch((err: unknown) => {
        if (azureErrorCode(err) !== "AuthorizationFailed") throw err;
        this.sizesUnread =
          `the identity may not read the resource SKUs API (Microsoft.Compute/skus/read at subscription scope); ` +
          `assign it the "${SIZE_READER_ROLE_NAME}" role (infra/azure/fleet-size-reader-role.json) on the subscription, as infra/azure/bootstrap-oidc.sh does`;
        return undefined;
      }),
      this.ctx.compute.galleryImages.get(this.ctx.resourceGroup, this.gallery, this.imageDefinition),
    ]);
    return { sizes, image: imageDefinitionFacts(this.imageDefinition, image) };
  }
}
