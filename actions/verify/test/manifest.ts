// The fleet the verify tests work on: a claws.yaml in one resource group (its line numbers are
// pinned by the annotation tests), and the gallery image its VMs are seeded from.
import { SEED_DEFAULTS_YAML } from "@openclawps/fleet-model/testing";
import type { LocalAzure } from "@openclawps/local-azure";

const GALLERY = "gallery";
const IMAGE = "claw-desktop";

/** A claws.yaml for the verify tests: one resource group's fleet with the seed's defaults, the claws given as YAML. */
export function manifestYaml(rg: string, claws: string): string {
  return `azure:
  location: westus
  resource_group_name: ${rg}
  virtual_network_name: ${rg}-vnet
  subnet_name: default
  network_security_group_name: ${rg}-nsg
  address_space: [10.0.0.0/16]
  subnet_prefixes: [10.0.0.0/24]
  gallery_name: ${GALLERY}
  fleet_image_definition_name: ${IMAGE}
  image_definitions:
    ${IMAGE}: { publisher: claw, offer: claw-vm, sku: desktop }
  hyper_v_generation: V2
  trusted_launch_enabled: false
  tags: {}
${SEED_DEFAULTS_YAML}claws:
${claws}`;
}

/** Publishes image version 1.0.0 in the resource group's gallery; returns its id, for seeded VMs. */
export async function seedImage(azure: LocalAzure, rg: string): Promise<string> {
  await azure.seedGalleryVersions(rg, GALLERY, IMAGE, ["1.0.0"]);
  return `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${IMAGE}/versions/1.0.0`;
}
