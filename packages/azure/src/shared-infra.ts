// The fleet's shared resources from the manifest's `azure:` block: resource group, VNet +
// subnet, NSG, gallery, image definition. Created when missing, never deleted, and never
// written when already right (each is read and compared first), so a converged fleet costs
// reads only. Shared resources that exist but differ in ways we must not change (someone's
// address space, an image definition's immutable identifier) are reported, not rewritten.
import type { GalleryImage } from "@azure/arm-compute";
import type { NetworkSecurityGroup, SecurityRule } from "@azure/arm-network";
import type { ResolvedFleet } from "@openclawps/fleet-model";
import { getIfExists } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import { hasTags, mergeTags } from "./resource-tags.ts";

/** Name of the one NSG rule deploy-fleet owns. Other rules in the NSG are left alone (and reported). */
export const SSH_RULE_NAME = "openclawps-ssh-inbound";
const SSH_RULE_DEFAULT_PRIORITY = 1000;

export interface SharedInfraReport {
  /** "kind name" of each resource created. */
  created: string[];
  /** "kind name: what changed" for each resource updated. */
  updated: string[];
  /** Differences left as they are, for the summary. */
  warnings: string[];
}

export type SharedInfraFleet = Pick<ResolvedFleet, "azure" | "ssh">;

export async function ensureSharedInfra(
  ctx: AzureContext,
  fleet: SharedInfraFleet,
): Promise<SharedInfraReport> {
  const report: SharedInfraReport = { created: [], updated: [], warnings: [] };
  await ensureResourceGroup(ctx, fleet, report);
  await Promise.all([
    ensureNetwork(ctx, fleet, report),
    ensureNsg(ctx, fleet, report),
    ensureGallery(ctx, fleet, report).then(() => ensureImageDefinition(ctx, fleet, report)),
  ]);
  return report;
}

async function ensureResourceGroup(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const { location, tags } = fleet.azure;
  const rg = await getIfExists(ctx.resources.resourceGroups.get(ctx.resourceGroup));
  if (!rg) {
    await ctx.resources.resourceGroups.createOrUpdate(ctx.resourceGroup, { location, tags });
    report.created.push(`resource group ${ctx.resourceGroup}`);
    return;
  }
  if (!sameLocation(rg.location, location)) {
    report.warnings.push(
      `Resource group ${ctx.resourceGroup} is in ${rg.location}, not ${location} (azure.location); new resources go to ${location}.`,
    );
  }
  if (!hasTags(rg.tags, tags)) {
    // PATCH replaces the tag set: merge, so the lease and anyone else's tags survive.
    await ctx.resources.resourceGroups.update(ctx.resourceGroup, { tags: mergeTags(rg.tags, tags) });
    report.updated.push(`resource group ${ctx.resourceGroup}: tags`);
  }
}

async function ensureNetwork(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  const rg = ctx.resourceGroup;
  const subnetBody = prefixes(a.subnet_prefixes);
  const vnet = await getIfExists(ctx.network.virtualNetworks.get(rg, a.virtual_network_name));
  if (!vnet) {
    await ctx.network.virtualNetworks.createOrUpdate(
      rg,
      a.virtual_network_name,
      {
        location: a.location,
        tags: a.tags,
        addressSpace: { addressPrefixes: a.address_space },
        subnets: [{ name: a.subnet_name, ...subnetBody }],
      },
      ctx.poll,
    );
    report.created.push(`virtual network ${a.virtual_network_name}`, `subnet ${a.subnet_name}`);
    return;
  }
  const have = new Set(vnet.addressSpace?.addressPrefixes ?? []);
  const missing = a.address_space.filter((p) => !have.has(p));
  if (missing.length) {
    report.warnings.push(
      `Virtual network ${a.virtual_network_name} lacks address space ${missing.join(", ")} (azure.address_space); it is left as it is.`,
    );
  }
  const subnet = vnet.subnets?.find((s) => s.name?.toLowerCase() === a.subnet_name.toLowerCase());
  if (!subnet) {
    // A VNet PUT without every existing subnet would delete them; add the subnet on its own.
    await ctx.network.subnets.createOrUpdate(rg, a.virtual_network_name, a.subnet_name, subnetBody, ctx.poll);
    report.created.push(`subnet ${a.subnet_name}`);
    return;
  }
  const subnetHas = [subnet.addressPrefix, ...(subnet.addressPrefixes ?? [])].filter(Boolean);
  if (!sameSet(subnetHas as string[], a.subnet_prefixes)) {
    report.warnings.push(
      `Subnet ${a.subnet_name} has ${subnetHas.join(", ") || "no prefix"}, not ${a.subnet_prefixes.join(", ")} (azure.subnet_prefixes); it is left as it is.`,
    );
  }
}

function prefixes(list: string[]): { addressPrefix?: string; addressPrefixes?: string[] } {
  return list.length === 1 ? { addressPrefix: list[0] } : { addressPrefixes: list };
}

/** The inbound SSH rule the manifest asks for, or undefined when `ssh.allowed_cidrs` is empty. */
export function desiredSshRule(fleet: SharedInfraFleet, priority: number): SecurityRule | undefined {
  const cidrs = [...fleet.ssh.allowed_cidrs].sort();
  if (cidrs.length === 0) return undefined;
  return {
    name: SSH_RULE_NAME,
    description: "SSH from the CIDRs in claws.yaml ssh.allowed_cidrs (managed by openclawps deploy-fleet)",
    protocol: "Tcp",
    access: "Allow",
    direction: "Inbound",
    priority,
    sourcePortRange: "*",
    destinationPortRange: "22",
    destinationAddressPrefix: "*",
    ...(cidrs.length === 1 ? { sourceAddressPrefix: cidrs[0] } : { sourceAddressPrefixes: cidrs }),
  };
}

function sourcesOf(rule: SecurityRule): string[] {
  return [rule.sourceAddressPrefix, ...(rule.sourceAddressPrefixes ?? [])].filter((s): s is string => !!s);
}

function sameRule(have: SecurityRule, want: SecurityRule): boolean {
  return (
    have.protocol?.toLowerCase() === want.protocol?.toLowerCase() &&
    have.access === want.access &&
    have.direction === want.direction &&
    have.priority === want.priority &&
    (have.sourcePortRange ?? "*") === "*" &&
    !have.sourcePortRanges?.length &&
    have.destinationPortRange === "22" &&
    !have.destinationPortRanges?.length &&
    (have.destinationAddressPrefix ?? "*") === "*" &&
    !have.destinationAddressPrefixes?.length &&
    sameSet(sourcesOf(have), sourcesOf(want))
  );
}

async function ensureNsg(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  const name = a.network_security_group_name;
  const nsg = await getIfExists(ctx.network.networkSecurityGroups.get(ctx.resourceGroup, name));
  if (!nsg) {
    const rule = desiredSshRule(fleet, SSH_RULE_DEFAULT_PRIORITY);
    await ctx.network.networkSecurityGroups.createOrUpdate(
      ctx.resourceGroup,
      name,
      { location: a.location, tags: a.tags, securityRules: rule ? [rule] : [] },
      ctx.poll,
    );
    report.created.push(`network security group ${name}`);
    return;
  }
  const rules = nsg.securityRules ?? [];
  const ours = rules.find((r) => r.name === SSH_RULE_NAME);
  const foreign = rules.filter((r) => r.name !== SSH_RULE_NAME);
  for (const r of foreign) {
    if (r.direction === "Inbound" && r.access === "Allow") {
      const ports = [r.destinationPortRange, ...(r.destinationPortRanges ?? [])].filter(Boolean).join(",");
      report.warnings.push(
        `Network security group ${name} has inbound rule '${r.name}' (${r.protocol ?? "*"} ${ports || "*"} from ${sourcesOf(r).join(",") || "*"}) that claws.yaml does not declare; it is left as it is. Delete it if only SSH should reach the claws.`,
      );
    }
  }
  const priority = ours?.priority ?? freePriority(foreign);
  const want = desiredSshRule(fleet, priority);
  if (want && ours && sameRule(ours, want)) return;
  if (!want && !ours) return;
  // One PUT of the whole NSG with the other rules as they are: ARM replaces the rule list.
  const body: NetworkSecurityGroup = {
    location: nsg.location,
    tags: nsg.tags,
    securityRules: [...foreign, ...(want ? [want] : [])],
  };
  await ctx.network.networkSecurityGroups.createOrUpdate(ctx.resourceGroup, name, body, ctx.poll);
  report.updated.push(
    `network security group ${name}: ${want ? `SSH from ${sourcesOf(want).join(", ")}` : "SSH rule removed (ssh.allowed_cidrs is empty)"}`,
  );
}

function freePriority(rules: SecurityRule[]): number {
  const taken = new Set(rules.filter((r) => r.direction === "Inbound").map((r) => r.priority));
  let p = SSH_RULE_DEFAULT_PRIORITY;
  while (taken.has(p)) p += 10;
  return p;
}

async function ensureGallery(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  const gallery = await getIfExists(ctx.compute.galleries.get(ctx.resourceGroup, a.gallery_name));
  if (gallery) return;
  await ctx.compute.galleries.createOrUpdate(
    ctx.resourceGroup,
    a.gallery_name,
    { location: a.location, tags: a.tags },
    ctx.poll,
  );
  report.created.push(`gallery ${a.gallery_name}`);
}

/** The image definition the manifest describes (body of a create). */
export function desiredImageDefinition(fleet: SharedInfraFleet): GalleryImage {
  const a = fleet.azure;
  const def = a.image_definitions[a.fleet_image_definition_name];
  if (!def) {
    throw new Error(
      `azure.image_definitions has no entry for fleet_image_definition_name '${a.fleet_image_definition_name}'`,
    );
  }
  return {
    location: a.location,
    tags: a.tags,
    osType: "Linux",
    // Packer bakes generalized images (waagent -deprovision); VMs get osProfile at create.
    osState: "Generalized",
    hyperVGeneration: a.hyper_v_generation,
    identifier: { publisher: def.publisher, offer: def.offer, sku: def.sku },
    ...(def.purchase_plan ? { purchasePlan: { ...def.purchase_plan } } : {}),
    // Trusted launch VMs need an image definition that declares support for it
    // (https://learn.microsoft.com/azure/virtual-machines/trusted-launch-portal#trusted-launch-vm-supported-images).
    ...(a.trusted_launch_enabled
      ? { features: [{ name: "SecurityType", value: "TrustedLaunchSupported" }] }
      : {}),
  };
}

async function ensureImageDefinition(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  const want = desiredImageDefinition(fleet);
  const have = await getIfExists(
    ctx.compute.galleryImages.get(ctx.resourceGroup, a.gallery_name, a.fleet_image_definition_name),
  );
  if (!have) {
    await ctx.compute.galleryImages.createOrUpdate(
      ctx.resourceGroup,
      a.gallery_name,
      a.fleet_image_definition_name,
      want,
      ctx.poll,
    );
    report.created.push(`image definition ${a.gallery_name}/${a.fleet_image_definition_name}`);
    return;
  }
  // Identifier, OS state and generation cannot change after creation
  // (https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#image-definitions).
  const diffs: string[] = [];
  const hi = have.identifier;
  const wi = want.identifier!;
  if (hi && (hi.publisher !== wi.publisher || hi.offer !== wi.offer || hi.sku !== wi.sku)) {
    diffs.push(
      `identifier ${hi.publisher}/${hi.offer}/${hi.sku} (manifest: ${wi.publisher}/${wi.offer}/${wi.sku})`,
    );
  }
  if (have.hyperVGeneration && have.hyperVGeneration !== want.hyperVGeneration) {
    diffs.push(`hyper-V generation ${have.hyperVGeneration} (manifest: ${want.hyperVGeneration})`);
  }
  if (diffs.length) {
    report.warnings.push(
      `Image definition ${a.fleet_image_definition_name} has ${diffs.join("; ")}; Azure cannot change these in place, so it is left as it is.`,
    );
  }
}

function sameLocation(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, "").toLowerCase();
  return a === undefined || norm(a) === norm(b);
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = [...new Set(a)].sort();
  const sb = [...new Set(b)].sort();
  return sa.length === sb.length && sa.every((v, i) => v === sb[i]);
}
