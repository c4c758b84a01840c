// The fleet's shared resources from the manifest's `azure:` block: resource group, VNet +
// subnet, NSG, gallery, image definition. Observed with one GET each; what to change is decided by
// fleet-model's pure planSharedInfra (the same function the plan shows and hashes), and executed
// here. Created when missing, never deleted, never written when already right, so a converged
// fleet costs reads only. Differences we must not change (someone's address space, an image
// definition's immutable identifier) are reported, not rewritten.
import type { GalleryImage } from "@azure/arm-compute";
import {
  desiredManagedRules,
  ISOLATION_RULE_NAME,
  MANAGED_RULE_NAMES,
  type ObservedSecurityRule,
  type ObservedSharedInfra,
  planSharedInfra,
  type SharedChange,
  type SharedInfraFleet,
  type SharedScope,
  SSH_RULE_NAME,
  sameSecurityRule,
} from "@openclawps/fleet-model";
import { getIfExists } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import type { NetworkSecurityGroup, SecurityRule } from "./network-client.ts";
import { mergeResourceGroupTags } from "./resource-tags.ts";
import { imageDefinitionFacts } from "./vm-capabilities.ts";

export { ISOLATION_RULE_NAME, type SharedInfraFleet, SSH_RULE_NAME };

export interface SharedInfraReport {
  /** "kind name" of each resource created. */
  created: string[];
  /** "kind name: what changed" for each resource updated. */
  updated: string[];
  /** Differences left as they are, for the summary. */
  warnings: string[];
}

const RULE_DESCRIPTION: Record<string, string> = {
  [SSH_RULE_NAME]: "SSH from the CIDRs in claws.yaml ssh.allowed_cidrs (managed by openclawps deploy-fleet)",
  [ISOLATION_RULE_NAME]:
    "No traffic between claws; claws.yaml azure.allow_claw_to_claw: true removes it (managed by openclawps deploy-fleet)",
};

/**
 * The shared resources as Azure has them: one GET each (a missing one is absent). `image` scope
 * reads only what bake needs: resource group, gallery, image definition.
 */
export async function observeSharedInfra(
  ctx: AzureContext,
  fleet: Pick<SharedInfraFleet, "azure">,
  scope: SharedScope = "fleet",
): Promise<ObservedSharedInfra> {
  const a = fleet.azure;
  const rg = ctx.resourceGroup;
  const [group, vnet, nsg, gallery, image] = await Promise.all([
    getIfExists(ctx.computeReads.resourceGroups.get(rg)),
    scope === "fleet" ? getIfExists(ctx.network.virtualNetworks.get(rg, a.virtual_network_name)) : undefined,
    scope === "fleet"
      ? getIfExists(ctx.network.networkSecurityGroups.get(rg, a.network_security_group_name))
      : undefined,
    getIfExists(ctx.computeReads.galleries.get(rg, a.gallery_name)),
    getIfExists(ctx.computeReads.galleryImages.get(rg, a.gallery_name, a.fleet_image_definition_name)),
  ]);
  const out: ObservedSharedInfra = {};
  if (group) out.resourceGroup = { location: group.location ?? "", tags: group.tags ?? {} };
  if (vnet) {
    out.virtualNetwork = {
      addressPrefixes: vnet.properties?.addressSpace?.addressPrefixes ?? [],
      subnets: (vnet.properties?.subnets ?? []).map((s) => ({
        name: s.name ?? "",
        addressPrefixes: [s.properties?.addressPrefix, ...(s.properties?.addressPrefixes ?? [])].filter(
          (p): p is string => !!p,
        ),
      })),
    };
  }
  if (nsg) out.networkSecurityGroup = { rules: (nsg.properties?.securityRules ?? []).map(toObservedRule) };
  if (gallery) out.gallery = {};
  if (image) {
    const declared = image.properties ?? {};
    out.imageDefinition = {
      publisher: declared.identifier?.publisher ?? "",
      offer: declared.identifier?.offer ?? "",
      sku: declared.identifier?.sku ?? "",
      ...(declared.hyperVGeneration ? { hyperVGeneration: declared.hyperVGeneration } : {}),
    };
    const facts = imageDefinitionFacts(a.fleet_image_definition_name, declared);
    if (facts.securityType) out.imageDefinition.securityType = facts.securityType;
    if (facts.diskControllerTypes) out.imageDefinition.diskControllerTypes = facts.diskControllerTypes;
    if (facts.purchasePlan) out.imageDefinition.purchasePlan = facts.purchasePlan;
  }
  return out;
}

export function toObservedRule(rule: SecurityRule): ObservedSecurityRule {
  const both = (one: string | undefined, many: string[] | undefined) =>
    [one, ...(many ?? [])].filter((v): v is string => !!v);
  const r = rule.properties ?? {};
  return {
    name: rule.name ?? "",
    direction: r.direction ?? "",
    access: r.access ?? "",
    protocol: r.protocol ?? "",
    priority: r.priority ?? 0,
    sourceAddressPrefixes: both(r.sourceAddressPrefix, r.sourceAddressPrefixes),
    sourcePortRanges: both(r.sourcePortRange, r.sourcePortRanges),
    destinationAddressPrefixes: both(r.destinationAddressPrefix, r.destinationAddressPrefixes),
    destinationPortRanges: both(r.destinationPortRange, r.destinationPortRanges),
  };
}

/** A rule of ours as ARM takes it: a single prefix or range in the singular field, as Azure returns it. */
export function toSecurityRule(r: ObservedSecurityRule): SecurityRule {
  const one = (list: string[], single: string, many: string) =>
    list.length === 1 ? { [single]: list[0] } : { [many]: list };
  return {
    name: r.name,
    properties: {
      description: RULE_DESCRIPTION[r.name],
      protocol: r.protocol,
      access: r.access,
      direction: r.direction,
      priority: r.priority,
      ...one(r.sourcePortRanges, "sourcePortRange", "sourcePortRanges"),
      ...one(r.destinationPortRanges, "destinationPortRange", "destinationPortRanges"),
      ...one(r.sourceAddressPrefixes, "sourceAddressPrefix", "sourceAddressPrefixes"),
      ...one(r.destinationAddressPrefixes, "destinationAddressPrefix", "destinationAddressPrefixes"),
    },
  };
}

/** A rule read from Azure, to be written back unchanged: its writable part (no provisioningState, etag, type). */
function asWritten(rule: SecurityRule): SecurityRule {
  const { provisioningState: _readOnly, ...properties } = rule.properties ?? {};
  return { id: rule.id, name: rule.name, properties };
}

export interface EnsureOptions {
  /** `image`: only the resource group, gallery and image definition (what bake needs before Packer). */
  scope?: SharedScope;
}

/** Observes the shared resources, plans their changes (fleet-model) and makes them. */
export async function ensureSharedInfra(
  ctx: AzureContext,
  fleet: SharedInfraFleet,
  options: EnsureOptions = {},
): Promise<SharedInfraReport> {
  const scope = options.scope ?? "fleet";
  const observed = await observeSharedInfra(ctx, fleet, scope);
  const { changes, warnings } = planSharedInfra(fleet, observed, scope);
  const report: SharedInfraReport = { created: [], updated: [], warnings };
  const of = (kind: SharedChange["kind"]) => changes.filter((c) => c.kind === kind);
  // The resource group first: everything else lives in it.
  for (const c of of("resource-group")) await ensureResourceGroup(ctx, fleet, c, report);
  const has = (kind: SharedChange["kind"]) => of(kind).length > 0;
  const network = async () => {
    // A new VNet is created with its subnet.
    if (has("virtual-network")) await createNetwork(ctx, fleet, report);
    else if (has("subnet")) await addSubnet(ctx, fleet, report);
  };
  const nsg = async () => {
    if (has("network-security-group")) await createNsg(ctx, fleet, report);
    else if (has("ssh-rule") || has("isolation-rule")) await writeManagedRules(ctx, fleet, report);
  };
  const gallery = async () => {
    if (has("gallery")) await createGallery(ctx, fleet, report);
    if (has("image-definition")) await createImageDefinition(ctx, fleet, report);
  };
  await Promise.all([network(), nsg(), gallery()]);
  return report;
}

async function ensureResourceGroup(
  ctx: AzureContext,
  fleet: SharedInfraFleet,
  change: SharedChange,
  report: SharedInfraReport,
) {
  const { location, tags } = fleet.azure;
  if (change.action === "create") {
    // Only when the observe found no group: a PUT replaces the tag set of one that exists.
    await ctx.resources.resourceGroups.createOrUpdate(ctx.resourceGroup, { location, tags });
    report.created.push(`resource group ${ctx.resourceGroup}`);
    return;
  }
  // The Tags API's Merge sets only azure.tags and leaves every other tag as Azure has it at the
  // moment of the write: the rollout lease another run took since the observe, and anyone's own.
  // (A resource group PATCH replaces the whole set with what this run read earlier.)
  // https://learn.microsoft.com/rest/api/resources/tags/update-at-scope
  await mergeResourceGroupTags(ctx, tags);
  report.updated.push(`resource group ${ctx.resourceGroup}: tags`);
}

async function createNetwork(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  await ctx.network.virtualNetworks.createOrUpdate(
    ctx.resourceGroup,
    a.virtual_network_name,
    {
      location: a.location,
      tags: a.tags,
      properties: {
        addressSpace: { addressPrefixes: a.address_space },
        subnets: [{ name: a.subnet_name, properties: prefixes(a.subnet_prefixes) }],
      },
    },
    ctx.pollFor("network"),
  );
  report.created.push(`virtual network ${a.virtual_network_name}`, `subnet ${a.subnet_name}`);
}

async function addSubnet(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  // A VNet PUT without every existing subnet would delete them; add the subnet on its own.
  await ctx.network.subnets.createOrUpdate(
    ctx.resourceGroup,
    a.virtual_network_name,
    a.subnet_name,
    { properties: prefixes(a.subnet_prefixes) },
    ctx.pollFor("network"),
  );
  report.created.push(`subnet ${a.subnet_name}`);
}

function prefixes(list: string[]): { addressPrefix?: string; addressPrefixes?: string[] } {
  return list.length === 1 ? { addressPrefix: list[0] } : { addressPrefixes: list };
}

async function createNsg(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  await ctx.network.networkSecurityGroups.createOrUpdate(
    ctx.resourceGroup,
    a.network_security_group_name,
    {
      location: a.location,
      tags: a.tags,
      properties: { securityRules: desiredManagedRules(fleet, []).map(toSecurityRule) },
    },
    ctx.pollFor("network"),
  );
  report.created.push(`network security group ${a.network_security_group_name}`);
}

async function writeManagedRules(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const name = fleet.azure.network_security_group_name;
  // Read again right before the write: the PUT carries every other rule as it is now.
  const nsg = await ctx.network.networkSecurityGroups.get(ctx.resourceGroup, name);
  const rules = nsg.properties?.securityRules ?? [];
  const observed = rules.map(toObservedRule);
  const want = desiredManagedRules(fleet, observed);
  // One PUT of the whole NSG with the other rules as they are: ARM replaces the rule list.
  const body: NetworkSecurityGroup = {
    location: nsg.location,
    tags: nsg.tags,
    properties: {
      securityRules: [
        ...rules.filter((r) => !MANAGED_RULE_NAMES.has(r.name ?? "")).map(asWritten),
        ...want.map(toSecurityRule),
      ],
    },
  };
  await ctx.network.networkSecurityGroups.createOrUpdate(
    ctx.resourceGroup,
    name,
    body,
    ctx.pollFor("network"),
  );
  const changed = (rule: string) => {
    const have = observed.find((r) => r.name === rule);
    const wanted = want.find((r) => r.name === rule);
    return have && wanted ? !sameSecurityRule(have, wanted) : have !== wanted;
  };
  const ssh = want.find((r) => r.name === SSH_RULE_NAME);
  if (changed(SSH_RULE_NAME))
    report.updated.push(
      `network security group ${name}: ${ssh ? `SSH from ${ssh.sourceAddressPrefixes.join(", ")}` : "SSH rule removed (ssh.allowed_cidrs is empty)"}`,
    );
  if (changed(ISOLATION_RULE_NAME))
    report.updated.push(
      `network security group ${name}: ${want.some((r) => r.name === ISOLATION_RULE_NAME) ? "traffic between claws denied" : "traffic between claws admitted (azure.allow_claw_to_claw)"}`,
    );
}

async function createGallery(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  await ctx.compute.galleries.createOrUpdate(
    ctx.resourceGroup,
    a.gallery_name,
    { location: a.location, tags: a.tags },
    ctx.pollFor("shared"),
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
  const features = [
    // Trusted launch VMs need an image definition that declares support for it
    // (https://learn.microsoft.com/azure/virtual-machines/trusted-launch-portal#trusted-launch-vm-supported-images).
    ...(a.trusted_launch_enabled ? [{ name: "SecurityType", value: "TrustedLaunchSupported" }] : []),
    // NVMe-only sizes boot only images tagged for NVMe: `az sig image-definition create --features
    // DiskControllerTypes=SCSI,NVMe` (https://learn.microsoft.com/azure/virtual-machines/enable-nvme-interface).
    ...(a.nvme_enabled ? [{ name: "DiskControllerTypes", value: "SCSI, NVMe" }] : []),
  ];
  return {
    location: a.location,
    tags: a.tags,
    osType: "Linux",
    // Packer bakes generalized images (waagent -deprovision); VMs get osProfile at create.
    osState: "Generalized",
    hyperVGeneration: a.hyper_v_generation,
    identifier: { publisher: def.publisher, offer: def.offer, sku: def.sku },
    ...(def.purchase_plan ? { purchasePlan: { ...def.purchase_plan } } : {}),
    ...(features.length > 0 ? { features } : {}),
  };
}

async function createImageDefinition(ctx: AzureContext, fleet: SharedInfraFleet, report: SharedInfraReport) {
  const a = fleet.azure;
  await ctx.compute.galleryImages.createOrUpdate(
    ctx.resourceGroup,
    a.gallery_name,
    a.fleet_image_definition_name,
    desiredImageDefinition(fleet),
    ctx.pollFor("shared"),
  );
  report.created.push(`image definition ${a.gallery_name}/${a.fleet_image_definition_name}`);
}
