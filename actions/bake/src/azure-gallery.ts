// The bake's view of the fleet's gallery image, through the Azure adapter. ARM errors become
// user errors that say what to fix (describeAzureError); none is swallowed.
import { UserError } from "@openclawps/action-kit";
import {
  type AzureConnectionOptions,
  connectAzure,
  describeAzureError,
  listImageVersions,
  tagImageVersion,
} from "@openclawps/azure";
import type { ImageGallery } from "./bake.ts";

export function azureImageGallery(
  connection: Omit<AzureConnectionOptions, "resourceGroup">,
  target: { resourceGroup: string; gallery: string; imageDefinition: string },
): ImageGallery {
  const ctx = connectAzure({ ...connection, resourceGroup: target.resourceGroup });
  const label = `gallery ${target.gallery}, image ${target.imageDefinition} (resource group ${target.resourceGroup})`;
  const explain = (what: string) => (err: unknown) => {
    throw new UserError(`${what} failed: ${describeAzureError(err, { clientId: connection.clientId })}`);
  };
  return {
    label,
    listVersions: () =>
      listImageVersions(ctx, target.gallery, target.imageDefinition).catch(
        explain(`Listing the versions of ${label}`),
      ),
    tagVersion: (version, tags) =>
      tagImageVersion(ctx, target.gallery, target.imageDefinition, version, tags).catch(
        explain(`Tagging version ${version} of ${label}`),
      ),
  };
}
