// Microsoft.Network: virtual networks + subnets, network security groups + rules, public IP
// addresses, network interfaces.
//
// LRO habits of the Network RP (https://learn.microsoft.com/azure/networking/ ... and the
// @azure/arm-network pollers): PUT answers 201 (new) or 200 (update) with `Azure-AsyncOperation`
// and the body in provisioningState `Updating`; DELETE answers 202 with both `Location` and
// `Azure-AsyncOperation`; PATCH (updateTags) is synchronous.
import { randomUUID } from "node:crypto";
import type { Arm, Reply, ResourceRequest, ResourceType } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter } from "../arm-error.ts";
import { type Cidr, contains, ipToString, overlaps, parseCidr } from "../cidr.ts";
import type { StoredResource } from "../world.ts";
import { idOf, obj, properties, readTags, requireLocation, requireSameLocation } from "./common.ts";

const NS = "Microsoft.Network";
const VNET = `${NS}/virtualNetworks`;
const SUBNET = `${NS}/virtualNetworks/subnets`;
const NSG = `${NS}/networkSecurityGroups`;
const RULE = `${NS}/networkSecurityGroups/securityRules`;
const PIP = `${NS}/publicIPAddresses`;
const NIC = `${NS}/networkInterfaces`;

function etag(): string {
  return `W/"${randomUUID()}"`;
}

function accepted(arm: Arm, req: ResourceRequest, resource: StoredResource, isNew: boolean): Reply {
  return arm.accept(req, {
    kind: "network.write",
    completion: "provision",
    resourceId: resource.id,
    location: resource.location ?? "westus",
    status: isNew ? 201 : 200,
    body: viewOf(arm, resource),
    headers: "async",
  });
}

function deleting(arm: Arm, req: ResourceRequest, resource: StoredResource, completion = "delete"): Reply {
  resource.properties.provisioningState = "Deleting";
  return arm.accept(req, {
    kind: "network.delete",
    completion,
    resourceId: resource.id,
    location: resource.location ?? "westus",
    status: 202,
    headers: "both",
  });
}

function updateTags(arm: Arm, existing: StoredResource, req: ResourceRequest): Reply {
  const tags = readTags(req.body);
  if (tags !== undefined) existing.tags = tags;
  existing.etag = etag();
  return { status: 200, body: viewOf(arm, existing) };
}

function viewOf(arm: Arm, r: StoredResource): unknown {
  const rt = arm.types.get(r.type.toLowerCase());
  return rt?.view ? rt.view(r, undefined) : stripHidden(r);
}

function base(req: ResourceRequest, type: string, location: string | undefined): StoredResource {
  const r: StoredResource = { id: req.id, name: req.name, type, etag: etag(), properties: {} };
  if (location !== undefined) r.location = location;
  return r;
}

function requireRef(
  arm: Arm,
  id: string | undefined,
  referencedBy: string,
  type: string,
): StoredResource | undefined {
  if (id === undefined) return undefined;
  const target = arm.find(id);
  if (!target || target.type.toLowerCase() !== type.toLowerCase()) {
    // Network RP's answer to a dangling reference.
    throw new ArmError(
      400,
      "InvalidResourceReference",
      `Resource ${id} referenced by resource ${referencedBy} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
    );
  }
  return target;
}

// ---------------------------------------------------------------- virtual networks + subnets

function vnetPrefixes(vnet: StoredResource): Cidr[] {
  const space = obj(vnet.properties.addressSpace);
  const prefixes = Array.isArray(space?.addressPrefixes) ? (space.addressPrefixes as unknown[]) : [];
  return prefixes.flatMap((p) => {
    const c = typeof p === "string" ? parseCidr(p) : undefined;
    return c ? [c] : [];
  });
}

function subnetPrefix(props: Record<string, unknown>): string | undefined {
  if (typeof props.addressPrefix === "string") return props.addressPrefix;
  if (Array.isArray(props.addressPrefixes) && typeof props.addressPrefixes[0] === "string")
    return props.addressPrefixes[0];
  return undefined;
}

function validateSubnet(
  arm: Arm,
  vnet: StoredResource,
  vnetName: string,
  name: string,
  props: Record<string, unknown>,
  siblings: { name: string; cidr: Cidr }[],
): Cidr {
  const prefix = subnetPrefix(props);
  const cidr = prefix === undefined ? undefined : parseCidr(prefix);
  if (!cidr) {
    throw new ArmError(
      400,
      "InvalidAddressPrefixFormat",
      `Address prefix ${String(prefix)} of resource subnet ${name} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.`,
    );
  }
  if (!vnetPrefixes(vnet).some((space) => contains(space, cidr))) {
    // https://learn.microsoft.com/azure/virtual-network/virtual-network-manage-subnet
    throw new ArmError(
      400,
      "NetcfgSubnetRangeOutsideVnet",
      `Subnet '${name}' is not valid because its IP address range is outside the IP address range of virtual network '${vnetName}'.`,
    );
  }
  for (const s of siblings) {
    if (s.name.toLowerCase() !== name.toLowerCase() && overlaps(s.cidr, cidr)) {
      throw new ArmError(
        400,
        "NetcfgSubnetRangesOverlap",
        `Subnet '${name}' is not valid because its IP address range overlaps with that of an existing subnet '${s.name}' in virtual network '${vnetName}'.`,
      );
    }
  }
  const nsgId = idOf(props.networkSecurityGroup);
  requireRef(arm, nsgId, `${vnet.id}/subnets/${name}`, NSG);
  return cidr;
}

function subnetRecord(
  vnet: StoredResource,
  name: string,
  props: Record<string, unknown>,
  state: string,
): StoredResource {
  const p: Record<string, unknown> = { ...props, provisioningState: state };
  if (p.privateEndpointNetworkPolicies === undefined) p.privateEndpointNetworkPolicies = "Disabled";
  if (p.privateLinkServiceNetworkPolicies === undefined) p.privateLinkServiceNetworkPolicies = "Enabled";
  return {
    id: `${vnet.id}/subnets/${name}`,
    name,
    type: SUBNET,
    etag: etag(),
    properties: p,
  };
}

function nicsInSubnet(arm: Arm, subnetId: string): string[] {
  const out: string[] = [];
  for (const nic of arm.ofType(NIC)) {
    for (const ipc of ipConfigurations(nic)) {
      if (idOf(obj(ipc.properties)?.subnet)?.toLowerCase() === subnetId.toLowerCase())
        out.push(`${nic.id}/ipConfigurations/${String(ipc.name)}`);
    }
  }
  return out;
}

function inUseSubnet(subnetName: string, users: string[]): ArmError {
  return new ArmError(
    400,
    "InUseSubnetCannotBeDeleted",
    `Subnet ${subnetName} is in use by ${users[0]} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.`,
  );
}

const virtualNetworks: (arm: Arm) => ResourceType = (arm) => ({
  type: VNET,
  sdkName: "virtualNetworks",
  patchName: "updateTags",
  put(req, existing) {
    const location = requireLocation(req.body);
    if (existing) requireSameLocation(existing, location);
    const props = properties(req.body);
    const space = obj(props.addressSpace);
    const prefixes = Array.isArray(space?.addressPrefixes) ? (space.addressPrefixes as unknown[]) : [];
    if (prefixes.length === 0 || prefixes.some((p) => typeof p !== "string" || !parseCidr(p))) {
      throw invalidParameter(
        "The virtual network must have an address space with at least one valid CIDR prefix (properties.addressSpace.addressPrefixes).",
        "properties.addressSpace",
      );
    }
    const vnet = base(req, VNET, location);
    const tags = readTags(req.body);
    if (tags !== undefined) vnet.tags = tags;
    const { subnets: subnetBodies, ...rest } = props;
    vnet.properties = {
      ...rest,
      provisioningState: "Updating",
      resourceGuid: existing?.properties.resourceGuid ?? randomUUID(),
    };
    // PUT replaces the whole network, subnets included: a subnet left out is deleted, which
    // ARM refuses while something uses it.
    // https://learn.microsoft.com/rest/api/virtualnetwork/virtual-networks/create-or-update
    const wanted = Array.isArray(subnetBodies) ? (subnetBodies as unknown[]).map((s) => obj(s) ?? {}) : [];
    const siblings: { name: string; cidr: Cidr }[] = [];
    const records: StoredResource[] = [];
    for (const s of wanted) {
      const name = typeof s.name === "string" ? s.name : "";
      if (name === "") throw invalidParameter("Each subnet needs a name.", "properties.subnets");
      const sp = obj(s.properties) ?? {};
      const cidr = validateSubnet(arm, vnet, req.name, name, sp, siblings);
      siblings.push({ name, cidr });
      records.push(subnetRecord(vnet, name, sp, "Updating"));
    }
    if (existing) {
      for (const old of arm.children(existing.id, SUBNET)) {
        if (!records.some((r) => r.name.toLowerCase() === old.name.toLowerCase())) {
          const users = nicsInSubnet(arm, old.id);
          if (users.length > 0) throw inUseSubnet(old.name, users);
          arm.remove(old.id);
        }
      }
    }
    arm.upsert(vnet);
    for (const r of records) arm.upsert(r);
    return accepted(arm, req, vnet, !existing);
  },
  patch: (req, existing) => updateTags(arm, existing, req),
  delete(req, existing) {
    for (const subnet of arm.children(existing.id, SUBNET)) {
      const users = nicsInSubnet(arm, subnet.id);
      if (users.length > 0) throw inUseSubnet(subnet.name, users);
    }
    return deleting(arm, req, existing);
  },
  view(r) {
    const v = stripHidden(r);
    (v.properties as Record<string, unknown>).subnets = arm.children(r.id, SUBNET).map(stripHidden);
    return v;
  },
});

const subnets: (arm: Arm) => ResourceType = (arm) => ({
  type: SUBNET,
  sdkName: "subnets",
  put(req, existing) {
    const vnet = arm.find(req.parentId!)!;
    const props = properties(req.body);
    const siblings = arm.children(vnet.id, SUBNET).flatMap((s) => {
      const c = parseCidr(subnetPrefix(s.properties) ?? "");
      return c ? [{ name: s.name, cidr: c }] : [];
    });
    validateSubnet(arm, vnet, vnet.name, req.name, props, siblings);
    const record = subnetRecord(vnet, req.name, props, "Updating");
    arm.upsert(record);
    return arm.accept(req, {
      kind: "network.write",
      completion: "provision",
      resourceId: record.id,
      location: vnet.location ?? "westus",
      status: existing ? 200 : 201,
      body: stripHidden(record),
      headers: "async",
    });
  },
  delete(req, existing) {
    const users = nicsInSubnet(arm, existing.id);
    if (users.length > 0) throw inUseSubnet(existing.name, users);
    return deleting(arm, req, existing);
  },
});

// ---------------------------------------------------------------- network security groups

const RULE_PRIORITY_MIN = 100;
const RULE_PRIORITY_MAX = 4096;

function validateRule(name: string, p: Record<string, unknown>, nsgId: string): void {
  const priority = p.priority;
  if (
    typeof priority !== "number" ||
    !Number.isInteger(priority) ||
    priority < RULE_PRIORITY_MIN ||
    priority > RULE_PRIORITY_MAX
  ) {
    // https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules
    throw new ArmError(
      400,
      "SecurityRuleInvalidPriority",
      `Security rule ${name} has invalid Priority. Value provided: ${String(priority)} Allowed range ${RULE_PRIORITY_MIN}-${RULE_PRIORITY_MAX}.`,
      `${nsgId}/securityRules/${name}`,
    );
  }
  if (p.direction !== "Inbound" && p.direction !== "Outbound") {
    throw invalidParameter(
      `Security rule ${name} has invalid direction '${String(p.direction)}'; use Inbound or Outbound.`,
      `${nsgId}/securityRules/${name}`,
    );
  }
  if (p.access !== "Allow" && p.access !== "Deny") {
    throw invalidParameter(
      `Security rule ${name} has invalid access '${String(p.access)}'; use Allow or Deny.`,
      `${nsgId}/securityRules/${name}`,
    );
  }
  if (!["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"].includes(String(p.protocol))) {
    throw invalidParameter(
      `Security rule ${name} has invalid protocol '${String(p.protocol)}'.`,
      `${nsgId}/securityRules/${name}`,
    );
  }
  for (const side of ["source", "destination"] as const) validateSide(name, nsgId, side, p);
}

// Service tags and `*` stand alone in the singular field; the plural list holds only prefixes
// (Azure's refusal of `VirtualNetwork` in a list is quoted in
// https://github.com/hashicorp/terraform-provider-azurerm/issues/5617).
const ADDRESS_TAGS = /^(\*|VirtualNetwork|Internet|AzureLoadBalancer|[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)?)$/;

/** One side of a rule's values: the singular field and the plural list together. */
function sideValues(p: Record<string, unknown>, single: string, plural: string): string[] {
  const one = p[single];
  const many = p[plural];
  return [
    ...(typeof one === "string" && one !== "" ? [one] : []),
    ...(Array.isArray(many) ? many.map(String) : []),
  ];
}

/**
 * Each side of a rule names its addresses in the singular field or the plural list, or by
 * application security groups; one of them is required ("the user must supply one or the other",
 * https://github.com/Azure/azure-rest-api-specs/issues/1591). Ports: `*`, a port or a range
 * `low-high` within 0-65535, in the singular field or the list.
 */
function validateSide(
  name: string,
  nsgId: string,
  side: "source" | "destination",
  p: Record<string, unknown>,
): void {
  const id = `${nsgId}/securityRules/${name}`;
  const groups = p[`${side}ApplicationSecurityGroups`];
  const hasGroups = Array.isArray(groups) && groups.length > 0;
  if (sideValues(p, `${side}AddressPrefix`, `${side}AddressPrefixes`).length === 0 && !hasGroups) {
    throw new ArmError(
      400,
      "SecurityRuleInvalidAddressPrefix",
      `Security rule ${name} has invalid Address prefix. Value provided: ${side}AddressPrefix is missing (give ${side}AddressPrefix, ${side}AddressPrefixes or ${side}ApplicationSecurityGroups).`,
      id,
    );
  }
  for (const prefix of sideValues(p, "", `${side}AddressPrefixes`)) {
    if (ADDRESS_TAGS.test(prefix) && !/^\d/.test(prefix)) {
      throw new ArmError(
        400,
        "SecurityRuleParameterContainsUnsupportedValue",
        `Security rule parameter ${side === "source" ? "Source" : "Destination"}AddressPrefixes for rule with Id ${id} cannot specify existing VIRTUALNETWORK, INTERNET, AZURELOADBALANCER, '*' or system tags. Unsupported value used: ${prefix}.`,
        id,
      );
    }
  }
  const valid = (r: string) => {
    if (r === "*") return true;
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    return m !== null && Number(m[1]) <= Number(m[2] ?? m[1]) && Number(m[2] ?? m[1]) <= 65535;
  };
  const ranges = sideValues(p, `${side}PortRange`, `${side}PortRanges`);
  const bad = ranges.length === 0 ? "(none)" : ranges.find((r) => !valid(r));
  if (bad !== undefined) {
    throw new ArmError(
      400,
      "SecurityRuleInvalidPortRange",
      `Security rule ${name} has invalid Port range. Value provided: ${bad}. Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.`,
      id,
    );
  }
}

function checkPriorityConflicts(nsgId: string, rules: { name: string; p: Record<string, unknown> }[]): void {
  const seen = new Map<string, string>();
  for (const r of rules) {
    const k = `${String(r.p.direction)}:${String(r.p.priority)}`;
    const other = seen.get(k);
    if (other !== undefined) {
      throw new ArmError(
        400,
        "SecurityRuleConflict",
        `Security rule ${r.name} conflicts with rule ${other}. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.`,
        `${nsgId}/securityRules/${r.name}`,
      );
    }
    seen.set(k, r.name);
  }
}

// The six rules every NSG carries. https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules
const DEFAULT_RULES: [string, number, "Inbound" | "Outbound", "Allow" | "Deny", string, string][] = [
  ["AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"],
  ["AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"],
  ["DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"],
  ["AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"],
  ["AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"],
  ["DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"],
];

function defaultRules(nsgId: string): unknown[] {
  return DEFAULT_RULES.map(([name, priority, direction, access, source, destination]) => ({
    id: `${nsgId}/defaultSecurityRules/${name}`,
    name,
    type: `${NSG}/defaultSecurityRules`,
    properties: {
      provisioningState: "Succeeded",
      protocol: "*",
      sourcePortRange: "*",
      destinationPortRange: "*",
      sourceAddressPrefix: source,
      destinationAddressPrefix: destination,
      access,
      priority,
      direction,
    },
  }));
}

const networkSecurityGroups: (arm: Arm) => ResourceType = (arm) => ({
  type: NSG,
  sdkName: "networkSecurityGroups",
  patchName: "updateTags",
  put(req, existing) {
    const location = requireLocation(req.body);
    if (existing) requireSameLocation(existing, location);
    const props = properties(req.body);
    const nsg = base(req, NSG, location);
    const tags = readTags(req.body);
    if (tags !== undefined) nsg.tags = tags;
    const { securityRules, defaultSecurityRules: _ignored, ...rest } = props;
    nsg.properties = {
      ...rest,
      provisioningState: "Updating",
      resourceGuid: existing?.properties.resourceGuid ?? randomUUID(),
    };
    const rules = (Array.isArray(securityRules) ? (securityRules as unknown[]) : []).map((r) => {
      const o = obj(r) ?? {};
      const name = typeof o.name === "string" ? o.name : "";
      if (name === "") throw invalidParameter("Each security rule needs a name.", "properties.securityRules");
      const p = obj(o.properties) ?? {};
      validateRule(name, p, nsg.id);
      return { name, p };
    });
    checkPriorityConflicts(nsg.id, rules);
    // PUT replaces the rule set.
    if (existing) for (const old of arm.children(existing.id, RULE)) arm.remove(old.id);
    arm.upsert(nsg);
    for (const { name, p } of rules) {
      arm.upsert({
        id: `${nsg.id}/securityRules/${name}`,
        name,
        type: RULE,
        etag: etag(),
        properties: { ...p, provisioningState: "Updating" },
      });
    }
    return accepted(arm, req, nsg, !existing);
  },
  patch: (req, existing) => updateTags(arm, existing, req),
  delete(req, existing) {
    const users = [
      ...arm
        .ofType(SUBNET)
        .filter((s) => idOf(s.properties.networkSecurityGroup)?.toLowerCase() === existing.id.toLowerCase()),
      ...arm
        .ofType(NIC)
        .filter((n) => idOf(n.properties.networkSecurityGroup)?.toLowerCase() === existing.id.toLowerCase()),
    ];
    if (users.length > 0) {
      throw new ArmError(
        400,
        "InUseNetworkSecurityGroupCannotBeDeleted",
        `Network security group ${existing.id} cannot be deleted because it is in use by the following resources: ${users.map((u) => u.id).join(", ")}. In order to delete the Network security group, remove the association with the resource(s).`,
      );
    }
    return deleting(arm, req, existing);
  },
  view(r) {
    const v = stripHidden(r);
    const props = v.properties as Record<string, unknown>;
    props.securityRules = arm.children(r.id, RULE).map(stripHidden);
    props.defaultSecurityRules = defaultRules(r.id);
    return v;
  },
});

const securityRules: (arm: Arm) => ResourceType = (arm) => ({
  type: RULE,
  sdkName: "securityRules",
  put(req, existing) {
    const nsg = arm.find(req.parentId!)!;
    const p = properties(req.body);
    validateRule(req.name, p, nsg.id);
    const others = arm
      .children(nsg.id, RULE)
      .filter((r) => r.name.toLowerCase() !== req.name.toLowerCase())
      .map((r) => ({ name: r.name, p: r.properties }));
    checkPriorityConflicts(nsg.id, [...others, { name: req.name, p }]);
    const rule: StoredResource = {
      id: req.id,
      name: req.name,
      type: RULE,
      etag: etag(),
      properties: { ...p, provisioningState: "Updating" },
    };
    arm.upsert(rule);
    return arm.accept(req, {
      kind: "network.write",
      completion: "provision",
      resourceId: rule.id,
      location: nsg.location ?? "westus",
      status: existing ? 200 : 201,
      body: stripHidden(rule),
      headers: "async",
    });
  },
  delete: (req, existing) => deleting(arm, req, existing),
});

// ---------------------------------------------------------------- NSG evaluation

/** One inbound connection, as an NSG sees it. */
export interface InboundFlow {
  /** Source IPv4 address. */
  source: string;
  /** Destination IPv4 address (the NIC's private address). */
  destination: string;
  port: number;
  protocol?: "Tcp" | "Udp";
}

export interface NsgVerdict {
  access: "Allow" | "Deny";
  /** The rule that decided: a security rule's or a default rule's name. */
  rule: string;
  priority: number;
}

/**
 * What an NSG does with an inbound flow, as Azure evaluates it: security rules and default rules
 * by priority, lowest number first, the first rule that matches decides and processing stops
 * (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules).
 * The VirtualNetwork tag stands for the address spaces of the virtual networks in the NSG's
 * resource group (peerings and on-premises ranges are not modelled); `Internet` for every other
 * address. Application security groups and source ports are not modelled.
 */
export function evaluateInbound(arm: Arm, nsgId: string, flow: InboundFlow): NsgVerdict {
  const nsg = arm.find(nsgId);
  if (!nsg || nsg.type !== NSG) throw new Error(`no network security group ${nsgId}`);
  const rg = nsg.id.slice(0, nsg.id.toLowerCase().indexOf("/providers/")).toLowerCase();
  const vnetSpace = arm
    .ofType(VNET)
    .filter((v) => v.id.toLowerCase().startsWith(`${rg}/`))
    .flatMap((v) => vnetPrefixes(v));
  const asCidr = (ip: string) => parseCidr(`${ip}/32`);
  const src = asCidr(flow.source);
  const dst = asCidr(flow.destination);
  if (!src || !dst) throw new Error(`flow addresses must be IPv4: ${flow.source} -> ${flow.destination}`);
  const inVnet = (c: Cidr) => vnetSpace.some((s) => contains(s, c));
  const matchesAddress = (values: string[], c: Cidr) =>
    values.some((v) => {
      if (v === "*") return true;
      if (v.toLowerCase() === "virtualnetwork") return inVnet(c);
      if (v.toLowerCase() === "internet") return !inVnet(c);
      const prefix = parseCidr(v.includes("/") ? v : `${v}/32`);
      return prefix !== undefined && contains(prefix, c);
    });
  const matchesPort = (values: string[]) =>
    values.some((v) => {
      if (v === "*") return true;
      const [lo, hi] = v.split("-").map(Number);
      return flow.port >= lo! && flow.port <= (hi ?? lo)!;
    });
  const protocol = flow.protocol ?? "Tcp";
  const rules = [
    ...arm.children(nsg.id, RULE).map((r) => ({ name: r.name, p: r.properties })),
    ...(defaultRules(nsg.id) as { name: string; properties: Record<string, unknown> }[]).map((r) => ({
      name: r.name,
      p: r.properties,
    })),
  ]
    .filter((r) => r.p.direction === "Inbound")
    .sort((a, b) => Number(a.p.priority) - Number(b.p.priority));
  for (const r of rules) {
    if (r.p.protocol !== "*" && String(r.p.protocol).toLowerCase() !== protocol.toLowerCase()) continue;
    if (!matchesAddress(sideValues(r.p, "sourceAddressPrefix", "sourceAddressPrefixes"), src)) continue;
    if (!matchesAddress(sideValues(r.p, "destinationAddressPrefix", "destinationAddressPrefixes"), dst))
      continue;
    if (!matchesPort(sideValues(r.p, "destinationPortRange", "destinationPortRanges"))) continue;
    return { access: r.p.access as "Allow" | "Deny", rule: r.name, priority: Number(r.p.priority) };
  }
  throw new Error("unreachable: DenyAllInBound matches every inbound flow");
}

// ---------------------------------------------------------------- public IP addresses

/**
 * Public IPs come from 127.0.0.0/8 (127.10.0.1 upwards) so a local process standing in for the
 * VM can listen on "its" public address: Linux routes the whole /8 to the loopback interface.
 */
function allocatePublicIp(arm: Arm): string {
  const n = arm.world.nextPublicIp++;
  const host = n % 254;
  const block = Math.floor(n / 254);
  const second = 10 + Math.floor(block / 256);
  if (second > 254)
    throw new ArmError(
      409,
      "PublicIPCountLimitReached",
      "Cannot create more than the local address pool allows.",
    );
  return `127.${second}.${block % 256}.${host + 1}`;
}

const publicIPAddresses: (arm: Arm) => ResourceType = (arm) => ({
  type: PIP,
  sdkName: "publicIPAddresses",
  patchName: "updateTags",
  put(req, existing) {
    const location = requireLocation(req.body);
    if (existing) requireSameLocation(existing, location);
    const props = properties(req.body);
    const sku = obj(req.body?.sku) ?? { name: "Standard", tier: "Regional" };
    const method = props.publicIPAllocationMethod ?? (sku.name === "Standard" ? "Static" : "Dynamic");
    if (sku.name === "Standard" && method !== "Static") {
      // https://learn.microsoft.com/azure/virtual-network/ip-services/public-ip-addresses#sku
      throw new ArmError(
        400,
        "StandardSkuPublicIPAddressesMustBeStatic",
        `Standard sku publicIp ${req.id} must have AllocationMethod set to Static.`,
      );
    }
    const pip = base(req, PIP, location);
    pip.sku = { name: sku.name ?? "Standard", tier: sku.tier ?? "Regional" };
    const tags = readTags(req.body);
    if (tags !== undefined) pip.tags = tags;
    if (Array.isArray(req.body?.zones)) pip.zones = req.body.zones;
    const { ipAddress: _requested, ipConfiguration: _readOnly, ...rest } = props;
    pip.properties = {
      publicIPAddressVersion: "IPv4",
      idleTimeoutInMinutes: 4,
      ...rest,
      publicIPAllocationMethod: method,
      provisioningState: "Updating",
      resourceGuid: existing?.properties.resourceGuid ?? randomUUID(),
      // A static address is kept for the life of the resource.
      ipAddress: existing?.properties.ipAddress ?? allocatePublicIp(arm),
    };
    if (existing?.properties.ipConfiguration)
      pip.properties.ipConfiguration = existing.properties.ipConfiguration;
    arm.upsert(pip);
    return accepted(arm, req, pip, !existing);
  },
  patch: (req, existing) => updateTags(arm, existing, req),
  delete(req, existing) {
    const ipc = idOf(existing.properties.ipConfiguration);
    if (ipc) {
      throw new ArmError(
        400,
        "PublicIPAddressCannotBeDeleted",
        `Public IP address ${existing.id} can not be deleted since it is still allocated to resource ${ipc}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.  To learn how to do this, see aka.ms/deletepublicip.`,
      );
    }
    return deleting(arm, req, existing);
  },
});

// ---------------------------------------------------------------- network interfaces

function ipConfigurations(nic: StoredResource): Record<string, unknown>[] {
  const list = nic.properties.ipConfigurations;
  return Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
}

function allocatePrivateIp(arm: Arm, subnet: StoredResource, self: string): string {
  const cidr = parseCidr(subnetPrefix(subnet.properties) ?? "");
  if (!cidr)
    throw new ArmError(400, "InvalidAddressPrefixFormat", `Subnet ${subnet.id} has no valid address prefix.`);
  const used = new Set<string>();
  for (const nic of arm.ofType(NIC)) {
    if (nic.id.toLowerCase() === self.toLowerCase()) continue;
    for (const ipc of ipConfigurations(nic)) {
      const p = obj(ipc.properties);
      if (typeof p?.privateIPAddress === "string") used.add(p.privateIPAddress);
    }
  }
  // Azure reserves the first four addresses and the last one of every subnet.
  // https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#are-there-any-restrictions-on-using-ip-addresses-within-these-subnets
  for (let ip = cidr.network + 4; ip < cidr.network + cidr.size - 1; ip++) {
    const text = ipToString(ip);
    if (!used.has(text)) return text;
  }
  throw new ArmError(
    400,
    "SubnetIsFull",
    `Subnet ${subnet.name} with address prefix ${subnetPrefix(subnet.properties)} does not have enough capacity for 1 IP addresses.`,
  );
}

function macAddress(): string {
  const bytes = [0x00, 0x0d, 0x3a, ...Array.from({ length: 3 }, () => Math.floor(Math.random() * 256))];
  return bytes.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join("-");
}

const networkInterfaces: (arm: Arm) => ResourceType = (arm) => ({
  type: NIC,
  sdkName: "networkInterfaces",
  patchName: "updateTags",
  put(req, existing) {
    const location = requireLocation(req.body);
    if (existing) requireSameLocation(existing, location);
    const props = properties(req.body);
    const bodies = Array.isArray(props.ipConfigurations)
      ? (props.ipConfigurations as unknown[]).map((c) => obj(c) ?? {})
      : [];
    if (bodies.length === 0) {
      throw invalidParameter(
        `Network interface ${req.id} must have one or more IP configurations.`,
        "properties.ipConfigurations",
      );
    }
    requireRef(arm, idOf(props.networkSecurityGroup), req.id, NSG);
    const previous = existing ? ipConfigurations(existing) : [];
    const configs = bodies.map((c, i) => {
      const name = typeof c.name === "string" ? c.name : `ipconfig${i + 1}`;
      const cid = `${req.id}/ipConfigurations/${name}`;
      const p = obj(c.properties) ?? {};
      const subnet = requireRef(arm, idOf(p.subnet), cid, SUBNET);
      if (!subnet)
        throw invalidParameter(
          `IP configuration ${cid} must reference a subnet.`,
          "properties.ipConfigurations.subnet",
        );
      const pipId = idOf(p.publicIPAddress);
      const pip = requireRef(arm, pipId, cid, PIP);
      if (pip) {
        const holder = idOf(pip.properties.ipConfiguration);
        if (holder && holder.toLowerCase() !== cid.toLowerCase()) {
          throw new ArmError(
            400,
            "PublicIPAddressInUse",
            `Resource ${pip.id} is already in use by ${holder} and cannot be referenced by ${cid}.`,
          );
        }
      }
      const before = previous.find((x) => String(x.name).toLowerCase() === name.toLowerCase());
      const beforeProps = obj(before?.properties);
      const sameSubnet = idOf(beforeProps?.subnet)?.toLowerCase() === subnet.id.toLowerCase();
      const requested =
        typeof p.privateIPAddress === "string" && p.privateIPAllocationMethod === "Static"
          ? p.privateIPAddress
          : undefined;
      const privateIp =
        requested ??
        (sameSubnet && typeof beforeProps?.privateIPAddress === "string"
          ? beforeProps.privateIPAddress
          : allocatePrivateIp(arm, subnet, req.id));
      const out: Record<string, unknown> = {
        id: cid,
        name,
        type: `${NIC}/ipConfigurations`,
        etag: etag(),
        properties: {
          ...p,
          privateIPAddress: privateIp,
          privateIPAllocationMethod: p.privateIPAllocationMethod ?? "Dynamic",
          privateIPAddressVersion: "IPv4",
          primary: p.primary ?? i === 0,
          provisioningState: "Succeeded",
          subnet: { id: subnet.id },
          ...(pip ? { publicIPAddress: { id: pip.id } } : {}),
        },
      };
      return { out, pip };
    });
    // Release public IPs this NIC no longer references, claim the ones it now does.
    for (const old of previous) {
      const oldPip = idOf(obj(old.properties)?.publicIPAddress);
      if (oldPip && !configs.some((c) => c.pip?.id.toLowerCase() === oldPip.toLowerCase())) {
        const pipRes = arm.find(oldPip);
        if (pipRes) delete pipRes.properties.ipConfiguration;
      }
    }
    for (const c of configs) if (c.pip) c.pip.properties.ipConfiguration = { id: c.out.id };

    const nic = base(req, NIC, location);
    const tags = readTags(req.body);
    if (tags !== undefined) nic.tags = tags;
    const { ipConfigurations: _c, virtualMachine: _vm, macAddress: _mac, ...rest } = props;
    nic.properties = {
      enableAcceleratedNetworking: false,
      enableIPForwarding: false,
      ...rest,
      ipConfigurations: configs.map((c) => c.out),
      provisioningState: "Updating",
      resourceGuid: existing?.properties.resourceGuid ?? randomUUID(),
      primary: true,
    };
    if (existing?.properties.virtualMachine)
      nic.properties.virtualMachine = existing.properties.virtualMachine;
    if (existing?.properties.macAddress) nic.properties.macAddress = existing.properties.macAddress;
    arm.upsert(nic);
    return accepted(arm, req, nic, !existing);
  },
  patch: (req, existing) => updateTags(arm, existing, req),
  delete(req, existing) {
    const reserved = nicReservations.get(arm)?.get(existing.id.toLowerCase());
    if (reserved && arm.now() < reserved.until) {
      // A 400 the SDK does not retry; the caller waits out the hold (see operation-kind.ts).
      throw new ArmError(
        400,
        "NicReservedForAnotherVm",
        `Nic(s) in request is reserved for another Virtual Machine for 180 seconds. Please provide another nic(s) or retry after 180 seconds. Reserved VM: ${reserved.vmId}`,
      );
    }
    const vm = idOf(existing.properties.virtualMachine);
    if (vm) {
      // https://learn.microsoft.com/azure/virtual-network/virtual-network-network-interface#delete-a-network-interface
      throw new ArmError(
        400,
        "NicInUse",
        `Network Interface ${existing.id} is used by existing resource ${vm}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
      );
    }
    return deleting(arm, req, existing, "networkInterface.delete");
  },
});

/** Called by Compute when a VM takes or releases a NIC. */
export function attachNic(arm: Arm, nicId: string, vmId: string | undefined): void {
  const nic = arm.find(nicId);
  if (!nic) return;
  if (vmId) {
    nic.properties.virtualMachine = { id: vmId };
    if (!nic.properties.macAddress) nic.properties.macAddress = macAddress();
  } else {
    delete nic.properties.virtualMachine;
  }
}

/** NIC id (lower case) → the VM it is held for after that VM's delete, and until when (arm.now()). */
const nicReservations = new WeakMap<Arm, Map<string, { vmId: string; until: number }>>();

/**
 * Called by Compute when a VM delete releases a NIC it keeps (deleteOption Detach): Azure holds
 * the NIC for that VM for about 180 s (scaled like every other duration here), refusing its delete.
 */
export function releaseNicAfterVmDelete(arm: Arm, nicId: string, vmId: string): void {
  attachNic(arm, nicId, undefined);
  const hold = arm.options.latencyMs("nic.reservation");
  if (hold <= 0) return;
  let held = nicReservations.get(arm);
  if (!held) {
    held = new Map();
    nicReservations.set(arm, held);
  }
  held.set(nicId.toLowerCase(), { vmId, until: arm.now() + hold });
}

/** Deletes a NIC (VM deletion with deleteOption Delete), releasing its public IPs. */
export function deleteNic(arm: Arm, nicId: string): void {
  const nic = arm.find(nicId);
  if (!nic) return;
  for (const ipc of ipConfigurations(nic)) {
    const pipId = idOf(obj(ipc.properties)?.publicIPAddress);
    const pip = pipId ? arm.find(pipId) : undefined;
    if (pip) delete pip.properties.ipConfiguration;
  }
  arm.remove(nic.id);
}

export function registerNetwork(arm: Arm): void {
  arm.register(virtualNetworks(arm));
  arm.register(subnets(arm));
  arm.register(networkSecurityGroups(arm));
  arm.register(securityRules(arm));
  arm.register(publicIPAddresses(arm));
  arm.register(networkInterfaces(arm));
  arm.registerCompletion("networkInterface.delete", (a, op) => deleteNic(a, op.resourceId));
}

export const NETWORK_TYPES = { VNET, SUBNET, NSG, RULE, PIP, NIC };
