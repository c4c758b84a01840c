// ARM resource ids of the fleet's resources, built from names (so a create request can reference
// a resource without reading it first) and compared case-insensitively (ARM ids are
// case-insensitive, and services echo them back with varying case, e.g. "resourcegroups").
import type { AzureContext } from "./connect.ts";

export function resourceGroupId(ctx: AzureContext): string {
  return `/subscriptions/${ctx.subscriptionId}/resourceGroups/${ctx.resourceGroup}`;
}

function providerId(ctx: AzureContext, path: string): string {
  return `${resourceGroupId(ctx)}/providers/${path}`;
}

export const ids = {
  vm: (ctx: AzureContext, name: string) => providerId(ctx, `Microsoft.Compute/virtualMachines/${name}`),
  disk: (ctx: AzureContext, name: string) => providerId(ctx, `Microsoft.Compute/disks/${name}`),
  nic: (ctx: AzureContext, name: string) => providerId(ctx, `Microsoft.Network/networkInterfaces/${name}`),
  publicIp: (ctx: AzureContext, name: string) =>
    providerId(ctx, `Microsoft.Network/publicIPAddresses/${name}`),
  nsg: (ctx: AzureContext, name: string) =>
    providerId(ctx, `Microsoft.Network/networkSecurityGroups/${name}`),
  subnet: (ctx: AzureContext, vnet: string, subnet: string) =>
    providerId(ctx, `Microsoft.Network/virtualNetworks/${vnet}/subnets/${subnet}`),
  imageVersion: (ctx: AzureContext, gallery: string, image: string, version: string) =>
    providerId(ctx, `Microsoft.Compute/galleries/${gallery}/images/${image}/versions/${version}`),
};

export function sameId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** `.../galleries/g/images/i/versions/1.2.3` → "1.2.3"; undefined for other image references. */
export function imageVersionOf(imageReferenceId: string | undefined): string | undefined {
  if (!imageReferenceId) return undefined;
  return /\/galleries\/[^/]+\/images\/[^/]+\/versions\/([^/]+)$/i.exec(imageReferenceId)?.[1];
}
