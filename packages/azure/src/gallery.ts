// Gallery image versions, for bake (which version exists, with which content hash) and for
// deploy-fleet's observe.
import { listAll } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import { mergeTags, type Tags } from "./resource-tags.ts";

export interface ImageVersionInfo {
  name: string;
  id: string;
  tags: Tags;
  provisioningState: string;
}

/** Every version of `gallery/image` in the context's resource group; [] when the gallery or image does not exist. */
export async function listImageVersions(
  ctx: AzureContext,
  gallery: string,
  image: string,
): Promise<ImageVersionInfo[]> {
  const versions = await listAll(
    ctx.compute.galleryImageVersions.listByGalleryImage(ctx.resourceGroup, gallery, image),
    {
      missingOk: true,
    },
  );
  return versions.map((v) => ({
    name: v.name ?? "",
    id: v.id ?? "",
    tags: v.tags ?? {},
    provisioningState: v.provisioningState ?? "",
  }));
}

/** Merges `tags` into the version's tags (PATCH replaces the set); no write when already there. */
export async function tagImageVersion(
  ctx: AzureContext,
  gallery: string,
  image: string,
  version: string,
  tags: Tags,
): Promise<void> {
  const current = await ctx.compute.galleryImageVersions.get(ctx.resourceGroup, gallery, image, version);
  if (Object.entries(tags).every(([k, v]) => current.tags?.[k] === v)) return;
  await ctx.compute.galleryImageVersions.update(
    ctx.resourceGroup,
    gallery,
    image,
    version,
    { tags: mergeTags(current.tags, tags) },
    ctx.poll,
  );
}
