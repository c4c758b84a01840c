// The bake's view of the fleet's gallery image, through the Azure adapter. ARM errors become
// user errors that say what to fix (describeAzureError); none is swallowed.
import { UserError } from "@openclawps/action-kit";
import {
  type AzureConnectionOptions,
  connectAzure,
  describeAzureError,
  ensureSharedInfra,
  listImageVersions,
  type SharedInfraFleet,
  tagImageVersion,
} from "@openclawps/azure";
import type { ImageGallery } from "./bake.ts";

export function azureImageGallery(
  connection: Omit<AzureConnectionOptions, "resourceGroup">,
  target: { resourceGroup: string; gallery: string; imageDefinition: string },
  /** The manifest's `azure:` block (and `ssh:`), for creating what is missing. */
  fleet: SharedInfraFleet,
): ImageGallery {
  const ctx = connectAzure({
    // No armScope: connectAzure asks for the audience of the cloud armEndpoint names (public,
    // China, US Government), one rule for every action.
    ...connection,
    resourceGroup: target.resourceGroup,
  });
  const label = `gallery ${target.gallery}, image ${target.imageDefinition} (resource group ${target.resourceGroup})`;
  const explain = (what: string) => (err: unknown) => {
    throw new UserError(
      `${what} failed: ${describeAzureError(err, {
        clientId: connection.clientId,
        subscriptionId: connection.subscriptionId,
        tenantId: connection.tenantId,
      })}`,
    );
  };
  return {
    label,
    // The same ensure code (and the same plan of what to create) deploy-fleet uses, limited to
    // what Packer's azure-arm builder needs to publish a version.
    ensure: () =>
      ensureSharedInfra(ctx, fleet, { scope: "image" }).catch(
        explain(
          `Preparing resource group ${target.resourceGroup}, gallery ${target.gallery} and image definition ${target.imageDefinition}`,
        ),
      ),
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
