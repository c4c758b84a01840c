// What apply must do to the fleet's shared resources (the `azure:` block and `ssh.allowed_cidrs`):
// resource group, VNet + subnet, NSG and the two rules we own in it (SSH in, and no traffic
// between claws), gallery, image definition. Pure, so the
// plan shows (and its hash covers) exactly the writes the Azure adapter's ensure step makes: that
// step observes, calls this, and executes the changes. Resources are created when missing and
// never deleted; differences Azure cannot change in place, or that are someone else's, are
// warnings and left alone.
import { asCidr, cidrContains, parseCidr } from "./cidr.ts";
import type { ObservedSecurityRule, ObservedSharedInfra, ResolvedFleet, SharedChange } from "./types.ts";

/** Names of the NSG rules deploy-fleet owns. Other rules in the NSG are left alone (and reported). */
export const SSH_RULE_NAME = "openclawps-ssh-inbound";
export const ISOLATION_RULE_NAME = "openclawps-deny-claw-to-claw";
/** The rules deploy-fleet writes; every other rule of the NSG is someone else's. */
export const MANAGED_RULE_NAMES: ReadonlySet<string> = new Set([SSH_RULE_NAME, ISOLATION_RULE_NAME]);
/**
 * Where each rule of ours starts looking for a free priority (lower number = evaluated first).
 * The rule between claws comes before the SSH rule: an SSH source that covers the claws' subnet
 * (0.0.0.0/0, a 10.0.0.0/8) must not admit SSH from one claw to another.
 */
const DEFAULT_PRIORITY: Record<string, number> = { [SSH_RULE_NAME]: 1000, [ISOLATION_RULE_NAME]: 900 };
/** Azure's range for security rule priorities (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules). */
const PRIORITY_MIN = 100;

export type SharedInfraFleet = Pick<ResolvedFleet, "azure" | "ssh">;

export interface SharedInfraPlan {
  changes: SharedChange[];
  warnings: string[];
}

/** Which shared resources a caller ensures: deploy-fleet all of them, bake only what Packer needs. */
export type SharedScope = "fleet" | "image";

/** The inbound SSH rule the manifest asks for, or undefined when `ssh.allowed_cidrs` is empty. */
export function desiredSshRule(fleet: SharedInfraFleet, priority: number): ObservedSecurityRule | undefined {
  const cidrs = [...new Set(fleet.ssh.allowed_cidrs)].sort();
  if (cidrs.length === 0) return undefined;
  return {
    name: SSH_RULE_NAME,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    priority,
    sourceAddressPrefixes: cidrs,
    sourcePortRanges: ["*"],
    destinationAddressPrefixes: ["*"],
    destinationPortRanges: ["22"],
  };
}

/**
 * The inbound traffic between claws that Azure admits unless told otherwise: every NSG carries
 * the default rule AllowVnetInBound (priority 65000, VirtualNetwork to VirtualNetwork, any port),
 * so one claw reaches every port of every other claw in the subnet
 * (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#default-security-rules).
 * This rule denies inbound from the claws' subnet to the claws' subnet, before our SSH rule, so
 * SSH from `ssh.allowed_cidrs` reaches them from outside the subnet and never from another claw;
 * a rule of yours with a lower number than this one is evaluated first and can reopen it (the
 * plan warns about each).
 * Run Command needs no inbound traffic (the VM agent fetches the script), and Azure's platform
 * address 168.63.129.16 (DHCP, DNS, health probes) is not filtered by NSGs
 * (https://learn.microsoft.com/azure/virtual-network/what-is-ip-address-168-63-129-16).
 * Undefined when `azure.allow_claw_to_claw` is true.
 */
export function desiredIsolationRule(
  fleet: SharedInfraFleet,
  priority: number,
): ObservedSecurityRule | undefined {
  if (fleet.azure.allow_claw_to_claw) return undefined;
  const subnet = [...new Set(fleet.azure.subnet_prefixes)].sort();
  return {
    name: ISOLATION_RULE_NAME,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    priority,
    sourceAddressPrefixes: subnet,
    sourcePortRanges: ["*"],
    destinationAddressPrefixes: subnet,
    destinationPortRanges: ["*"],
  };
}

/** Each rule of ours the manifest asks for, with its priority among `rules` (what the NSG has). */
export function desiredManagedRules(
  fleet: SharedInfraFleet,
  rules: ObservedSecurityRule[],
): ObservedSecurityRule[] {
  const inbound = rules.filter((r) => r.direction === "Inbound");
  const taken = new Set(inbound.filter((r) => r.name !== ISOLATION_RULE_NAME).map((r) => r.priority));
  const existing = (name: string) => inbound.find((r) => r.name === name)?.priority;
  let sshPriority = existing(SSH_RULE_NAME);
  if (sshPriority === undefined) {
    sshPriority = DEFAULT_PRIORITY[SSH_RULE_NAME] as number;
    while (taken.has(sshPriority)) sshPriority += 10;
  }
  taken.add(sshPriority);
  const ssh = desiredSshRule(fleet, sshPriority);
  // The rule between claws keeps its number while it comes before the SSH rule; otherwise (a
  // fleet from before this order) it moves to a free number below the SSH rule's.
  let isolationPriority = existing(ISOLATION_RULE_NAME);
  if (isolationPriority === undefined || (ssh && isolationPriority >= sshPriority)) {
    const below = (from: number, step: number) => {
      for (let p = from; p >= PRIORITY_MIN; p -= step) if (!taken.has(p)) return p;
      return undefined;
    };
    const start = ssh
      ? Math.min(DEFAULT_PRIORITY[ISOLATION_RULE_NAME] as number, sshPriority - 10)
      : (DEFAULT_PRIORITY[ISOLATION_RULE_NAME] as number);
    isolationPriority = below(start, 10) ?? below(sshPriority - 1, 1) ?? start;
  }
  return [ssh, desiredIsolationRule(fleet, isolationPriority)].filter(
    (r): r is ObservedSecurityRule => r !== undefined,
  );
}

const star = (list: string[]) => (list.length === 0 ? ["*"] : list);

export function sameSecurityRule(have: ObservedSecurityRule, want: ObservedSecurityRule): boolean {
  return (
    have.protocol.toLowerCase() === want.protocol.toLowerCase() &&
    have.access === want.access &&
    have.direction === want.direction &&
    have.priority === want.priority &&
    sameSet(star(have.sourcePortRanges), want.sourcePortRanges) &&
    sameSet(star(have.destinationPortRanges), want.destinationPortRanges) &&
    sameSet(star(have.destinationAddressPrefixes), want.destinationAddressPrefixes) &&
    sameSet(have.sourceAddressPrefixes, want.sourceAddressPrefixes)
  );
}

/** Pure: the shared-resource changes and warnings for `fleet` against what Azure has. */
export function planSharedInfra(
  fleet: SharedInfraFleet,
  observed: ObservedSharedInfra,
  scope: SharedScope = "fleet",
): SharedInfraPlan {
  const a = fleet.azure;
  const changes: SharedChange[] = [];
  const warnings: string[] = [];
  const rg = observed.resourceGroup;
  if (!rg) {
    changes.push({
      kind: "resource-group",
      name: a.resource_group_name,
      action: "create",
      detail: `create resource group ${a.resource_group_name} in ${a.location}`,
      value: { location: a.location, tags: a.tags },
    });
  } else {
    if (!sameLocation(rg.location, a.location)) {
      warnings.push(
        `Resource group ${a.resource_group_name} is in ${rg.location}, not ${a.location} (azure.location); new resources go to ${a.location}.`,
      );
    }
    const missingTags = Object.entries(a.tags).filter(([k, v]) => rg.tags[k] !== v);
    // The tags of a group that exists are set through the Tags API (only azure.tags, so the
    // rollout lease and anyone's own tags stay), which the un-gated identity bake signs in as
    // may not write: bake leaves them to deploy-fleet.
    if (missingTags.length > 0 && scope === "fleet") {
      changes.push({
        kind: "resource-group",
        name: a.resource_group_name,
        action: "update",
        detail: `tag resource group ${a.resource_group_name} with ${missingTags.map(([k, v]) => `${k}=${v}`).join(", ")} (azure.tags)`,
        value: { tags: a.tags },
      });
    }
  }
  if (scope === "fleet") {
    planNetwork(fleet, observed, changes, warnings);
    planNsg(fleet, observed, changes, warnings);
  }
  if (!observed.gallery) {
    changes.push({
      kind: "gallery",
      name: a.gallery_name,
      action: "create",
      detail: `create compute gallery ${a.gallery_name}`,
      value: { location: a.location },
    });
  }
  const def = a.image_definitions[a.fleet_image_definition_name];
  const have = observed.imageDefinition;
  if (!have) {
    changes.push({
      kind: "image-definition",
      name: `${a.gallery_name}/${a.fleet_image_definition_name}`,
      action: "create",
      detail: `create image definition ${a.gallery_name}/${a.fleet_image_definition_name} (${def ? `${def.publisher}/${def.offer}/${def.sku}` : "?"}, ${a.hyper_v_generation}${def?.purchase_plan ? `, plan ${def.purchase_plan.name}` : ""}${a.trusted_launch_enabled ? ", trusted launch" : ""}${a.nvme_enabled ? ", NVMe disk controller" : ""})`,
      value: {
        identifier: def && { publisher: def.publisher, offer: def.offer, sku: def.sku },
        purchasePlan: def?.purchase_plan,
        hyperVGeneration: a.hyper_v_generation,
        trustedLaunch: a.trusted_launch_enabled,
        ...(a.nvme_enabled ? { nvme: true } : {}),
      },
    });
  } else if (def) {
    // Identifier, OS state and generation cannot change after creation
    // (https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#image-definitions).
    const diffs: string[] = [];
    if (have.publisher !== def.publisher || have.offer !== def.offer || have.sku !== def.sku) {
      diffs.push(
        `identifier ${have.publisher}/${have.offer}/${have.sku} (manifest: ${def.publisher}/${def.offer}/${def.sku})`,
      );
    }
    if (have.hyperVGeneration && have.hyperVGeneration !== a.hyper_v_generation) {
      diffs.push(`hyper-V generation ${have.hyperVGeneration} (manifest: ${a.hyper_v_generation})`);
    }
    // Features and purchase plan are fixed at creation too; a definition made by the seed's
    // Terraform or in the portal may differ, and VMs are refused for it (vm-compatibility.ts).
    const security = have.securityType?.toLowerCase();
    const trustedCapable = security?.startsWith("trustedlaunch") === true;
    if (a.trusted_launch_enabled && !trustedCapable) {
      diffs.push(
        `security type ${have.securityType ?? "not set"} (manifest: trusted_launch_enabled: true needs TrustedLaunchSupported)`,
      );
    }
    if (!a.trusted_launch_enabled && (security === "trustedlaunch" || security === "confidentialvm")) {
      diffs.push(
        `security type ${have.securityType}, which boots Trusted Launch VMs only (manifest: trusted_launch_enabled: false)`,
      );
    }
    // NVMe-only sizes (the v6 series) boot only images whose definition declares NVMe.
    const nvme = (have.diskControllerTypes ?? []).some((c) => c.toLowerCase() === "nvme");
    if (a.nvme_enabled && !nvme) {
      diffs.push(
        `disk controllers ${have.diskControllerTypes?.join(", ") || "SCSI"} (manifest: nvme_enabled: true needs DiskControllerTypes "SCSI, NVMe"; NVMe-only sizes are refused before a VM goes down)`,
      );
    }
    const plan = (p: { publisher: string; product: string; name: string } | undefined) =>
      p ? `${p.publisher}/${p.product}/${p.name}` : "none";
    if (plan(have.purchasePlan).toLowerCase() !== plan(def.purchase_plan).toLowerCase()) {
      diffs.push(`purchase plan ${plan(have.purchasePlan)} (manifest: ${plan(def.purchase_plan)})`);
    }
    if (diffs.length) {
      warnings.push(
        `Image definition ${a.fleet_image_definition_name} has ${diffs.join("; ")}; Azure cannot change these in place, so it is left as it is.`,
      );
    }
  }
  return { changes, warnings };
}

function planNetwork(
  fleet: SharedInfraFleet,
  observed: ObservedSharedInfra,
  changes: SharedChange[],
  warnings: string[],
): void {
  const a = fleet.azure;
  const vnet = observed.virtualNetwork;
  const subnetChange = (why: string): SharedChange => ({
    kind: "subnet",
    name: `${a.virtual_network_name}/${a.subnet_name}`,
    action: "create",
    detail: `${why} subnet ${a.subnet_name} (${a.subnet_prefixes.join(", ")})`,
    value: { prefixes: a.subnet_prefixes },
  });
  if (!vnet) {
    changes.push({
      kind: "virtual-network",
      name: a.virtual_network_name,
      action: "create",
      detail: `create virtual network ${a.virtual_network_name} (${a.address_space.join(", ")})`,
      value: { addressSpace: a.address_space },
    });
    changes.push(subnetChange("create, with it,"));
    return;
  }
  const have = new Set(vnet.addressPrefixes);
  const missing = a.address_space.filter((p) => !have.has(p));
  if (missing.length) {
    warnings.push(
      `Virtual network ${a.virtual_network_name} lacks address space ${missing.join(", ")} (azure.address_space); it is left as it is.`,
    );
  }
  const subnet = vnet.subnets.find((s) => s.name.toLowerCase() === a.subnet_name.toLowerCase());
  if (!subnet) {
    changes.push(subnetChange("add"));
    return;
  }
  if (!sameSet(subnet.addressPrefixes, a.subnet_prefixes)) {
    warnings.push(
      `Subnet ${a.subnet_name} has ${subnet.addressPrefixes.join(", ") || "no prefix"}, not ${a.subnet_prefixes.join(", ")} (azure.subnet_prefixes); it is left as it is.`,
    );
  }
}

function planNsg(
  fleet: SharedInfraFleet,
  observed: ObservedSharedInfra,
  changes: SharedChange[],
  warnings: string[],
): void {
  const name = fleet.azure.network_security_group_name;
  const nsg = observed.networkSecurityGroup;
  if (!nsg) {
    const want = desiredManagedRules(fleet, []);
    const ssh = want.find((r) => r.name === SSH_RULE_NAME);
    const isolation = want.find((r) => r.name === ISOLATION_RULE_NAME);
    changes.push({
      kind: "network-security-group",
      name,
      action: "create",
      detail: `create network security group ${name} ${ssh ? `admitting SSH from ${ssh.sourceAddressPrefixes.join(", ")}` : "admitting nothing inbound"}${isolation ? ", denying traffic between claws" : ", admitting traffic between claws (azure.allow_claw_to_claw)"}`,
      value: { ssh: ssh?.sourceAddressPrefixes ?? null, isolation: isolation?.sourceAddressPrefixes ?? null },
    });
    return;
  }
  const want = desiredManagedRules(fleet, nsg.rules);
  const isolating = want.find((r) => r.name === ISOLATION_RULE_NAME);
  for (const r of nsg.rules.filter((r) => !MANAGED_RULE_NAMES.has(r.name))) {
    if (r.direction !== "Inbound" || r.access !== "Allow") continue;
    const what = `inbound rule '${r.name}' (priority ${r.priority}: ${r.protocol || "*"} ${r.destinationPortRanges.join(",") || "*"} from ${r.sourceAddressPrefixes.join(",") || "*"} to ${r.destinationAddressPrefixes.join(",") || "*"})`;
    // Azure evaluates rules by priority, lowest number first, and stops at the first that matches
    // (https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#security-rules).
    if (isolating && r.priority < isolating.priority && admitsBetweenClaws(r, fleet.azure.subnet_prefixes)) {
      warnings.push(
        `Network security group ${name} has ${what}, evaluated before ${ISOLATION_RULE_NAME} (priority ${isolating.priority}): it admits traffic from claw to claw, so one claw reaches those ports of every other. ` +
          `It is left as it is: delete it, narrow its source or destination to outside ${fleet.azure.subnet_prefixes.join(", ")}, or give it a priority number above ${isolating.priority}.`,
      );
    } else {
      warnings.push(
        `Network security group ${name} has ${what} that claws.yaml does not declare; it is left as it is. Delete it if only SSH should reach the claws.`,
      );
    }
  }
  const ruleChange = (ruleName: string) => {
    const have = nsg.rules.find((r) => r.name === ruleName);
    const rule = want.find((r) => r.name === ruleName);
    if ((rule && have && sameSecurityRule(have, rule)) || (!rule && !have)) return undefined;
    return { have, rule, action: rule ? (have ? "update" : "create") : "remove" } as const;
  };
  const ssh = ruleChange(SSH_RULE_NAME);
  if (ssh) {
    const from = ssh.have ? ssh.have.sourceAddressPrefixes.join(", ") || "*" : undefined;
    changes.push({
      kind: "ssh-rule",
      name: `${name}/${SSH_RULE_NAME}`,
      action: ssh.action,
      detail: ssh.rule
        ? `${ssh.have ? "change" : "add"} the inbound SSH rule of ${name}: from ${ssh.rule.sourceAddressPrefixes.join(", ")}${from ? ` (was ${from})` : ""}`
        : `remove the inbound SSH rule of ${name} (ssh.allowed_cidrs is empty; was ${from})`,
      value: { ssh: ssh.rule?.sourceAddressPrefixes ?? null, priority: ssh.rule?.priority },
    });
  }
  const isolation = ruleChange(ISOLATION_RULE_NAME);
  if (isolation) {
    changes.push({
      kind: "isolation-rule",
      name: `${name}/${ISOLATION_RULE_NAME}`,
      action: isolation.action,
      detail: isolation.rule
        ? isolation.have && isolation.have.priority !== isolation.rule.priority
          ? `move the rule of ${name} that denies traffic between claws before the SSH rule (priority ${isolation.rule.priority}, was ${isolation.have.priority}), so no SSH source admits one claw to another`
          : `${isolation.have ? "restore" : "add"} the rule of ${name} that denies traffic between claws (from and to ${isolation.rule.sourceAddressPrefixes.join(", ")})`
        : `remove the rule of ${name} that denies traffic between claws (azure.allow_claw_to_claw is true)`,
      value: { isolation: isolation.rule?.sourceAddressPrefixes ?? null, priority: isolation.rule?.priority },
    });
  }
}

function sameLocation(a: string | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/\s+/g, "").toLowerCase();
  return a === undefined || a === "" || norm(a) === norm(b);
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = [...new Set(a)].sort();
  const sb = [...new Set(b)].sort();
  return sa.length === sb.length && sa.every((v, i) => v === sb[i]);
}

/**
 * Whether an inbound allow rule admits traffic from a claw to a claw: its source and destination
 * each take in an address of the claws' subnet (`*`, the VirtualNetwork tag, or a prefix that
 * overlaps it). Application security groups are not resolved here (they would need the NICs).
 */
export function admitsBetweenClaws(rule: ObservedSecurityRule, subnetPrefixes: string[]): boolean {
  const reaches = (prefixes: string[]) =>
    prefixes.some((p) => {
      if (p === "*" || p.toLowerCase() === "virtualnetwork") return true;
      const c = asCidr(p);
      return (
        c !== undefined &&
        subnetPrefixes.some((s) => {
          const subnet = parseCidr(s);
          return subnet !== undefined && (cidrContains(c, subnet) || cidrContains(subnet, c));
        })
      );
    });
  return reaches(rule.sourceAddressPrefixes) && reaches(rule.destinationAddressPrefixes);
}
