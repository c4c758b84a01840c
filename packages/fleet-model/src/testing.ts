// For other packages' tests: the seed project's claws.yaml, the one shape every action must keep
// accepting (see the design's "The manifest"), so tests do not each keep a copy that drifts.

export interface SeedManifestOptions {
  /** `azure.resource_group_name`; the VNet and NSG are named after it, as in the seed. Default `rg-claw-westus`. */
  resourceGroup?: string;
  /** `azure.gallery_name`. Default `clawGalleryWest`. */
  gallery?: string;
  /** `azure.fleet_image_definition_name` and its `image_definitions` key. Default `claw-desktop-gpu`. */
  imageDefinition?: string;
  /**
   * Keys of the `azure:` block to replace (in place), add (at its end) or, with null, leave out;
   * each value is YAML text after `key:` (e.g. `{ replication_regions: "[westus, eastus]" }`).
   */
  azure?: Record<string, string | null>;
  /** The lines under `claws:`, indented by two spaces. Default `  chad-claw: {}\n`. */
  claws?: string;
}

/** The seed's `defaults:` block, every setting spelled out. */
export const SEED_DEFAULTS_YAML = `defaults:
  admin_username: azureuser
  vm_size: Standard_NV12ads_V710_v5
  data_disk_size_gb: 32
  data_disk_sku: Standard_LRS
  image_version: "1.0.0"
  model: xai/grok-4-1-fast-non-reasoning
  telegram_user_id: ""
  enable_trusted_launch: false
`;

/** The seed-era claws.yaml from the design, unchanged with no options: no `rollout:`, no `ssh:`. */
export function seedManifestYaml(o: SeedManifestOptions = {}): string {
  const rg = o.resourceGroup ?? "rg-claw-westus";
  const image = o.imageDefinition ?? "claw-desktop-gpu";
  const azure: Record<string, string | null> = {
    location: "westus",
    resource_group_name: rg,
    virtual_network_name: `${rg}-vnet`,
    subnet_name: "default",
    network_security_group_name: `${rg}-nsg`,
    address_space: "[10.0.0.0/16]",
    subnet_prefixes: "[10.0.0.0/24]",
    gallery_name: o.gallery ?? "clawGalleryWest",
    fleet_image_definition_name: image,
    fleet_image_version: '"1.0.0"',
    image_definitions: `
    ${image}:
      publisher: claw
      offer: claw-vm
      sku: desktop-gpu
      purchase_plan: { name: planid125, publisher: amdinc1746636494855, product: nvv5_v710_linux_rocm_image }`,
    hyper_v_generation: "V2",
    trusted_launch_enabled: "false",
    tags: "{ project: openclawps }",
    ...o.azure,
  };
  const azureLines = Object.entries(azure)
    .filter(([, value]) => value !== null)
    .map(([key, value]) => `  ${key}:${value?.startsWith("\n") ? "" : " "}${value}\n`)
    .join("");
  return `azure:\n${azureLines}${SEED_DEFAULTS_YAML}claws:\n${o.claws ?? "  chad-claw: {}\n"}`;
}
