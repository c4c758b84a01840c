// The fleet the verify tests work on: a claws.yaml in one resource group (its line numbers are
// pinned by the annotation tests), and the gallery image its VMs are seeded from.
import { seedManifestYaml } from "@openclawps/fleet-model/testing";
import type { LocalAzure } from "@openclawps/local-azure";

const GALLERY = "gallery";
const IMAGE = "claw-desktop";

/**
 * A claws.yaml for the verify tests: the seed's in one resource group, with a plain image
 * definition and no fleet-wide version or tags, the claws given as YAML.
 */
export function manifestYaml(rg: string, claws: string): string {
  return seedManifestYaml({
    resourceGroup: rg,
    gallery: GALLERY,
    imageDefinition: IMAGE,
    azure: {
      fleet_image_version: null,
      image_definitions: `\n    ${IMAGE}: { publisher: claw, offer: claw-vm, sku: desktop }`,
      tags: "{}",
    },
    claws,
  });
}

/** Publishes image version 1.0.0 in the resource group's gallery; returns its id, for seeded VMs. */
export async function seedImage(azure: LocalAzure, rg: string): Promise<string> {
  await azure.seedGalleryVersions(rg, GALLERY, IMAGE, ["1.0.0"]);
  return `/subscriptions/${azure.subscriptionId}/resourceGroups/${rg}/providers/Microsoft.Compute/galleries/${GALLERY}/images/${IMAGE}/versions/1.0.0`;
}
