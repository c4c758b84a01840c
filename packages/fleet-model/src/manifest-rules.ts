// Rules of claws.yaml that relate several fields or derive names. They run on the raw parsed
// document next to the schema, each checking only what is well-typed, so a manifest with a
// type error somewhere still gets every other problem reported.
import { type AzureNameKind, azureNameLabel, azureNameProblem } from "./azure-names.ts";
import { asCidr, cidrContains, parseCidr } from "./cidr.ts";
import { didYouMean } from "./did-you-mean.ts";
import { deriveResourceNames } from "./resource-names.ts";
import { TAG_PREFIX } from "./tags.ts";
import type { PathSegment } from "./yaml-locator.ts";

export interface RuleProblem {
  path: PathSegment[];
  message: string;
  fix?: string;
  severity: "error" | "warning";
  /** Point at the key rather than the value. */
  atKey?: boolean;
}

// Azure allows 50 tags per resource: https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
// The controller writes up to 5 of its own on one resource (see tags.ts).
const AZURE_MAX_TAGS = 50;
const RESERVED_TAG_COUNT = 5;
const MAX_USER_TAGS = AZURE_MAX_TAGS - RESERVED_TAG_COUNT;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const quoted = (v: string) => JSON.stringify(v);

const DERIVED: { kind: AzureNameKind; name: (n: ReturnType<typeof deriveResourceNames>) => string }[] = [
  { kind: "linuxComputerName", name: (n) => n.computerName },
  { kind: "virtualMachine", name: (n) => n.vm },
  { kind: "networkInterface", name: (n) => n.nic },
  { kind: "publicIp", name: (n) => n.publicIp },
  { kind: "disk", name: (n) => n.dataDisk },
];

function clawNameProblems(
  claws: Record<string, unknown>,
  lineOf: (path: PathSegment[]) => number,
): RuleProblem[] {
  const out: RuleProblem[] = [];
  const seen = new Map<string, string>();
  for (const name of Object.keys(claws)) {
    const names = deriveResourceNames(name);
    const failures: { kind: AzureNameKind; derived: string; why: string }[] = [];
    for (const { kind, name: pick } of DERIVED) {
      const derived = pick(names);
      const why = azureNameProblem(kind, derived);
      if (why) failures.push({ kind, derived, why });
    }
    if (failures.length > 0) {
      const [first, ...rest] = failures;
      const also =
        rest.length > 0 ? ` (also an invalid ${rest.map((f) => azureNameLabel(f.kind)).join(", ")})` : "";
      out.push({
        path: ["claws", name],
        atKey: true,
        severity: "error",
        message: `claw name ${quoted(name)} gives an invalid ${azureNameLabel(first!.kind)} ${quoted(first!.derived)}: ${first!.why}${also}`,
        fix: "name claws with letters, digits and hyphens, starting and ending with a letter or digit, at most 64 characters (e.g. alice-claw)",
      });
    }
    const folded = name.toLowerCase();
    const earlier = seen.get(folded);
    if (earlier !== undefined) {
      out.push({
        path: ["claws", name],
        atKey: true,
        severity: "error",
        message: `claw name ${quoted(name)} is the same as ${quoted(earlier)} (line ${lineOf(["claws", earlier])}) except for case; Azure resource names are case-insensitive, so both would be the same VM and disk`,
        fix: "rename one of them, or remove the duplicate",
      });
    } else seen.set(folded, name);
  }
  return out;
}

// Azure reserves five addresses of every subnet (the network address, three for Azure services
// and the broadcast address), so a /29 holds 3 NICs:
// https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#are-there-any-restrictions-on-using-ip-addresses-within-these-subnets
export const AZURE_RESERVED_SUBNET_ADDRESSES = 5;

/** Claws that get a NIC in the subnet: every one not retired. */
const activeClaws = (claws: Record<string, unknown> | undefined) =>
  Object.values(claws ?? {}).filter((c) => !(isRecord(c) && c.retired === true)).length;

/** Each active claw takes one private address; Azure refuses the NIC past the last (SubnetIsFull). */
function subnetCapacityProblems(azure: Record<string, unknown>, active: number): RuleProblem[] {
  if (!Array.isArray(azure.subnet_prefixes)) return [];
  const v4 = azure.subnet_prefixes
    .map((v) => (typeof v === "string" ? parseCidr(v) : undefined))
    .filter((c) => c !== undefined && c.family === 4 && c.prefix >= 2 && c.prefix <= 29);
  if (v4.length === 0 || v4.length !== azure.subnet_prefixes.length) return [];
  const usable = v4.reduce((sum, c) => sum + 2 ** (32 - c!.prefix) - AZURE_RESERVED_SUBNET_ADDRESSES, 0);
  if (active <= usable) return [];
  let wider = v4[0]!.prefix;
  while (wider > 2 && 2 ** (32 - wider) - AZURE_RESERVED_SUBNET_ADDRESSES < active) wider--;
  return [
    {
      path: ["azure", "subnet_prefixes"],
      severity: "error",
      message: `the subnet has ${usable} usable address${usable === 1 ? "" : "es"} (Azure reserves ${AZURE_RESERVED_SUBNET_ADDRESSES} of each prefix) but the fleet has ${active} active claws, one network interface each; Azure would refuse the network interfaces past the first ${usable} (SubnetIsFull)`,
      fix: `use a /${wider} or wider subnet prefix (inside azure.address_space), or retire claws`,
    },
  ];
}

function networkProblems(azure: Record<string, unknown>): RuleProblem[] {
  const out: RuleProblem[] = [];
  const spaces = Array.isArray(azure.address_space)
    ? azure.address_space
        .flatMap((v) => (typeof v === "string" ? [parseCidr(v)] : []))
        .filter((c) => c !== undefined)
    : [];
  if (!Array.isArray(azure.subnet_prefixes)) return out;
  azure.subnet_prefixes.forEach((v, i) => {
    const subnet = typeof v === "string" ? parseCidr(v) : undefined;
    if (!subnet) return;
    // Subnet sizes: IPv4 from /2 to /29, IPv6 exactly /64.
    // https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq#how-small-and-how-large-can-virtual-networks-and-subnets-be
    if (subnet.family === 4 && (subnet.prefix < 2 || subnet.prefix > 29)) {
      out.push({
        path: ["azure", "subnet_prefixes", i],
        severity: "error",
        message: `subnet prefix ${quoted(v)} is a /${subnet.prefix}; Azure IPv4 subnets must be between /2 and /29`,
        fix: "use e.g. a /24",
      });
    } else if (subnet.family === 6 && subnet.prefix !== 64) {
      out.push({
        path: ["azure", "subnet_prefixes", i],
        severity: "error",
        message: `subnet prefix ${quoted(v)} is a /${subnet.prefix}; Azure IPv6 subnets must be exactly /64`,
      });
    }
    if (spaces.length > 0 && !spaces.some((s) => cidrContains(s, subnet))) {
      out.push({
        path: ["azure", "subnet_prefixes", i],
        severity: "error",
        message: `subnet prefix ${quoted(v)} is not inside the virtual network's address space (${spaces.map((s) => s.text).join(", ")})`,
        fix: "pick a subnet prefix inside azure.address_space, or widen the address space",
      });
    }
  });
  return out;
}

function imageProblems(
  azure: Record<string, unknown>,
  defaults: Record<string, unknown> | undefined,
): RuleProblem[] {
  const out: RuleProblem[] = [];
  const def = str(azure.fleet_image_definition_name);
  if (def !== undefined && isRecord(azure.image_definitions) && !(def in azure.image_definitions)) {
    const names = Object.keys(azure.image_definitions);
    const guess = didYouMean(def, names);
    out.push({
      path: ["azure", "fleet_image_definition_name"],
      severity: "error",
      message: `${quoted(def)} is not described under azure.image_definitions${names.length ? ` (it has ${names.map(quoted).join(", ")})` : ""}`,
      fix: guess
        ? `did you mean ${quoted(guess)}?`
        : `add ${def}: { publisher: ..., offer: ..., sku: ... } under azure.image_definitions`,
    });
  }
  const fleetVersion = str(azure.fleet_image_version);
  const defaultVersion = str(defaults?.image_version);
  if (fleetVersion !== undefined && defaultVersion !== undefined && fleetVersion !== defaultVersion) {
    out.push({
      path: ["defaults", "image_version"],
      severity: "warning",
      message: `${quoted(defaultVersion)} overrides azure.fleet_image_version ${quoted(fleetVersion)}, which is then unused`,
      fix: "remove azure.fleet_image_version, or make both the same",
    });
  }
  return out;
}

function trustedLaunchProblems(
  azure: Record<string, unknown>,
  defaults: Record<string, unknown> | undefined,
  claws: Record<string, unknown> | undefined,
): RuleProblem[] {
  // Trusted launch needs a Generation 2 image whose definition declares trusted launch support:
  // https://learn.microsoft.com/azure/virtual-machines/trusted-launch
  const wants: PathSegment[][] = [];
  if (defaults?.enable_trusted_launch === true) wants.push(["defaults", "enable_trusted_launch"]);
  for (const [name, c] of Object.entries(claws ?? {})) {
    if (isRecord(c) && c.enable_trusted_launch === true) wants.push(["claws", name, "enable_trusted_launch"]);
  }
  const out: RuleProblem[] = [];
  // NVMe disk controllers are for Generation 2 VMs only
  // (https://learn.microsoft.com/azure/virtual-machines/nvme-overview).
  if (azure.nvme_enabled === true && azure.hyper_v_generation === "V1") {
    out.push({
      path: ["azure", "nvme_enabled"],
      severity: "error",
      message: "the NVMe disk controller needs a Generation 2 image, but azure.hyper_v_generation is V1",
      fix: "set azure.hyper_v_generation: V2 (a new image definition) or remove azure.nvme_enabled",
    });
  }
  for (const path of wants) {
    if (azure.hyper_v_generation === "V1") {
      out.push({
        path,
        severity: "error",
        message: "trusted launch needs a Generation 2 image, but azure.hyper_v_generation is V1",
        fix: "set azure.hyper_v_generation: V2 (a new image definition) or enable_trusted_launch: false",
      });
    } else if (azure.trusted_launch_enabled !== true) {
      out.push({
        path,
        severity: "error",
        message:
          "trusted launch VMs need an image definition that supports trusted launch, but azure.trusted_launch_enabled is not true",
        fix: "set azure.trusted_launch_enabled: true (for a new image definition) or enable_trusted_launch: false",
      });
    }
  }
  return out;
}

function tagProblems(tags: unknown): RuleProblem[] {
  if (!isRecord(tags)) return [];
  const out: RuleProblem[] = [];
  const names = Object.keys(tags);
  if (names.length > MAX_USER_TAGS) {
    out.push({
      path: ["azure", "tags"],
      atKey: true,
      severity: "error",
      message: `${names.length} tags; Azure allows 50 per resource and the controller uses ${RESERVED_TAG_COUNT}, so at most ${MAX_USER_TAGS}`,
    });
  }
  for (const name of names) {
    const path: PathSegment[] = ["azure", "tags", name];
    if (name.toLowerCase().startsWith(TAG_PREFIX)) {
      out.push({
        path,
        atKey: true,
        severity: "error",
        message: `tag name ${quoted(name)} uses the prefix ${quoted(TAG_PREFIX)}, which is reserved for the controller's own tags`,
        fix: "choose another tag name",
      });
    } else if (/[<>%&\\?/]/.test(name) || name.length > 512 || name.length === 0) {
      out.push({
        path,
        atKey: true,
        severity: "error",
        message: `tag name ${quoted(name)} is not allowed: Azure tag names are 1-512 characters without < > % & \\ ? /`,
      });
    }
    const value = tags[name];
    if (typeof value === "string" && value.length > 256) {
      out.push({
        path,
        severity: "error",
        message: `tag value is ${value.length} characters; Azure allows 256`,
      });
    }
  }
  return out;
}

function rolloutProblems(rollout: unknown, claws: Record<string, unknown> | undefined): RuleProblem[] {
  if (!isRecord(rollout)) return [];
  const out: RuleProblem[] = [];
  if (Array.isArray(rollout.canary) && claws) {
    const names = Object.keys(claws);
    const seen = new Set<string>();
    rollout.canary.forEach((v, i) => {
      if (typeof v !== "string") return;
      const path: PathSegment[] = ["rollout", "canary", i];
      if (seen.has(v)) {
        out.push({
          path,
          severity: "error",
          message: `${quoted(v)} is listed twice`,
          fix: "remove the duplicate",
        });
        return;
      }
      seen.add(v);
      if (!(v in claws)) {
        const guess = didYouMean(v, names);
        out.push({
          path,
          severity: "error",
          message: `${quoted(v)} is not a claw in this manifest`,
          fix: guess ? `did you mean ${quoted(guess)}?` : "list names from claws:",
        });
      } else if (isRecord(claws[v]) && (claws[v] as Record<string, unknown>).retired === true) {
        out.push({
          path,
          severity: "error",
          message: `${quoted(v)} is retired, so it is never replaced`,
          fix: "pick a claw that is not retired",
        });
      }
    });
  }
  if (rollout.verify === false && rollout.rollback !== false) {
    out.push({
      path: ["rollout", "verify"],
      severity: "warning",
      message:
        "with verify off no claw can fail verification, so rollback never happens; replaced claws are reported unverified",
      fix: "keep verify: true when the runner can reach the VMs over SSH, or also set rollback: false to say so",
    });
  }
  return out;
}

/**
 * An allowed SSH source wider than this prefix length is a warning: no operator office or
 * self-hosted runner pool needs more than a /8, and anything wider is a large share of the
 * internet (GitHub-hosted runners' published ranges are many small prefixes, not one wide one).
 */
export const WIDEST_SSH_PREFIX = 8;

function sshProblems(doc: Record<string, unknown>): RuleProblem[] {
  if (!("ssh" in doc)) return [];
  const ssh = doc.ssh;
  const out: RuleProblem[] = [];
  if (ssh === null || (isRecord(ssh) && ssh.admin_public_key === undefined)) {
    out.push({
      path: ["ssh"],
      atKey: true,
      severity: "warning",
      message:
        "no admin_public_key; deploy-fleet needs an admin key to create VMs (from here or its admin-public-key input)",
      fix: 'add admin_public_key: "ssh-ed25519 AAAA... you@host" under ssh:',
    });
  }
  if (isRecord(ssh) && Array.isArray(ssh.allowed_cidrs)) {
    ssh.allowed_cidrs.forEach((v, i) => {
      const c = typeof v === "string" ? parseCidr(v) : undefined;
      if (c && c.prefix < WIDEST_SSH_PREFIX) {
        out.push({
          path: ["ssh", "allowed_cidrs", i],
          severity: "warning",
          message:
            c.prefix === 0
              ? `${quoted(v)} opens SSH (port 22) to the whole internet`
              : `${quoted(v)} opens SSH (port 22) to a /${c.prefix}, wider than a /${WIDEST_SSH_PREFIX}: a large part of the internet`,
          fix: "list only the address ranges your runners and operators connect from; with the default verify transport (run-command) no SSH rule is needed at all",
        });
      }
    });
  }
  out.push(...sshSubnetProblems(doc));
  return out;
}

/** Every cross-field rule of the manifest. `lineOf` gives the line of a path, for messages that refer to another place. */
export function manifestRuleProblems(
  doc: Record<string, unknown>,
  lineOf: (path: PathSegment[]) => number,
): RuleProblem[] {
  const azure = isRecord(doc.azure) ? doc.azure : undefined;
  const defaults = isRecord(doc.defaults) ? doc.defaults : undefined;
  const claws = isRecord(doc.claws) ? doc.claws : undefined;
  const out: RuleProblem[] = [];
  if (claws) {
    out.push(...clawNameProblems(claws, lineOf));
    if (Object.keys(claws).length === 0) {
      out.push({
        path: ["claws"],
        atKey: true,
        severity: "warning",
        message: "the fleet has no claws",
        fix: "add a claw, e.g. alice: {}",
      });
    }
  }
  if (azure) {
    out.push(
      ...networkProblems(azure),
      ...subnetCapacityProblems(azure, activeClaws(claws)),
      ...imageProblems(azure, defaults),
      ...trustedLaunchProblems(azure, defaults, claws),
    );
    out.push(...tagProblems(azure.tags));
  }
  out.push(...rolloutProblems(doc.rollout, claws), ...sshProblems(doc));
  return out;
}

/**
 * An SSH source against the claws' subnet, while the NSG denies traffic between claws (the rule
 * between claws is evaluated before the SSH rule, see shared-infra-plan.ts): a source inside the
 * subnet never gets in, and one that covers it admits only the addresses outside it.
 */
function sshSubnetProblems(doc: Record<string, unknown>): RuleProblem[] {
  const azure = isRecord(doc.azure) ? doc.azure : undefined;
  const ssh = isRecord(doc.ssh) ? doc.ssh : undefined;
  if (!azure || azure.allow_claw_to_claw === true || !ssh || !Array.isArray(ssh.allowed_cidrs)) return [];
  const subnets = (Array.isArray(azure.subnet_prefixes) ? azure.subnet_prefixes : [])
    .map((s) => (typeof s === "string" ? parseCidr(s) : undefined))
    .filter((c): c is NonNullable<typeof c> => c !== undefined);
  const out: RuleProblem[] = [];
  ssh.allowed_cidrs.forEach((v, i) => {
    const c = typeof v === "string" ? asCidr(v) : undefined;
    if (!c) return;
    const inside = subnets.find((s) => cidrContains(s, c));
    const covered = subnets.find((s) => cidrContains(c, s));
    if (inside) {
      out.push({
        path: ["ssh", "allowed_cidrs", i],
        severity: "error",
        message: `${quoted(v)} lies in the claws' subnet ${inside.text}, and the network security group denies traffic between addresses of that subnet before it admits SSH: SSH from there never reaches a claw`,
        fix: "run the runner or bastion in another subnet and list that address, or set azure.allow_claw_to_claw: true to let claws (and it) reach each other",
      });
    } else if (covered && c.prefix >= WIDEST_SSH_PREFIX) {
      out.push({
        path: ["ssh", "allowed_cidrs", i],
        severity: "warning",
        message: `${quoted(v)} covers the claws' subnet ${covered.text}: SSH gets in from its addresses outside that subnet only (the rule between claws comes first), never from one claw to another`,
        fix: `list only the addresses your runners and operators connect from, outside ${covered.text}`,
      });
    }
  });
  return out;
}
