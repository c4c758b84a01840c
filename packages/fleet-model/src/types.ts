// The shared vocabulary of the project. Every other package speaks in these types:
// the Azure adapter fills ObservedFleet, the plan turns (desired, observed) into a Plan,
// deploy-fleet executes it. Keep this file free of logic.
import type { ParkedUpgrade, ScheduleSetting } from "./power-schedule.ts";
import type { SecretVersionChange } from "./secret-source.ts";

/** One thing wrong with an input file, pointing at the exact place. */
export interface Problem {
  /** Path of the file as the user named it (relative to the repository root when possible). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  endLine?: number;
  endColumn?: number;
  /** Dotted path into the document, e.g. `claws.alice.vm_size`; "" for the whole file. */
  path: string;
  message: string;
  /** What to change to make the problem go away. */
  fix?: string;
  severity: "error" | "warning";
}

/** The `azure:` block, as written (seed key names). */
export interface AzureBlock {
  location: string;
  resource_group_name: string;
  virtual_network_name: string;
  subnet_name: string;
  network_security_group_name: string;
  address_space: string[];
  subnet_prefixes: string[];
  gallery_name: string;
  fleet_image_definition_name: string;
  fleet_image_version?: string;
  image_definitions: Record<string, ImageDefinition>;
  hyper_v_generation: "V1" | "V2";
  trusted_launch_enabled: boolean;
  /**
   * A new image definition declares the NVMe disk controller (feature DiskControllerTypes
   * "SCSI, NVMe"), so NVMe-only sizes (the v6 series) can boot its images. Absent: SCSI only.
   */
  nvme_enabled?: boolean;
  /**
   * Admit traffic between claws (Azure's default AllowVnetInBound). Absent or false: the NSG
   * denies inbound from the claws' subnet to the claws' subnet.
   */
  allow_claw_to_claw?: boolean;
  tags: Record<string, string>;
  /** Gallery replication regions for bake; defaults to [location]. */
  replication_regions?: string[];
}

export interface ImageDefinition {
  publisher: string;
  offer: string;
  sku: string;
  purchase_plan?: { name: string; publisher: string; product: string };
}

/** Fields a claw may override; `defaults:` holds the same fields. */
export interface ClawSettings {
  admin_username: string;
  vm_size: string;
  data_disk_size_gb: number;
  data_disk_sku: string;
  /** `Major.Minor.Patch` or `latest`. */
  image_version: string;
  model: string;
  telegram_user_id: string;
  enable_trusted_launch: boolean;
  /** When the VM runs: always-on (the default) or hours in a time zone; outside them it is parked. */
  schedule?: ScheduleSetting;
  /** An upgrade of a parked claw: replace it and park it again after verification, or defer it. */
  parked_upgrade?: ParkedUpgrade;
}

export interface RolloutPolicy {
  /** Canary claws: a count (the first N claws to replace, in manifest order) or explicit names. */
  canary: number | string[];
  /** Wave size after the canary: a count, or a percent string like "25%". */
  wave_size: number | string;
  /** Failures tolerated before the rollout halts: a count or a percent string. */
  max_unhealthy: number | string;
  /** Seconds to wait between waves. */
  pause_seconds: number;
  /** Roll a claw that fails verification back to its previous image on the same disk. */
  rollback: boolean;
  /** Take an incremental snapshot of the data disk before replacing its VM. */
  snapshot_before_replace: boolean;
  /**
   * Snapshots this product made of a data disk that are kept; older ones are deleted after a
   * replace takes a new one (default 3 when absent).
   */
  snapshots_kept?: number;
  /** Verify each wave over SSH. Off only when runners cannot reach the VMs: claws are then reported unverified. */
  verify: boolean;
  /** Max parallel claw operations (creates/recovers and within a wave). */
  parallelism: number;
}

export interface SshSettings {
  /** OpenSSH public key line for the admin user. */
  admin_public_key?: string;
  /** Source CIDRs allowed to reach port 22. Empty: no inbound SSH rule. */
  allowed_cidrs: string[];
}

/**
 * Where claws' secrets come from. Absent `key_vault`: CLAW_SECRETS_JSON, rendered into each VM's
 * customData. With `key_vault`: one secret per claw in that vault (secret-source.ts), read by the
 * claw itself through its managed identity at every boot.
 */
export interface SecretsSettings {
  key_vault?: string;
}

/** claws.yaml after schema validation, with omitted optional blocks defaulted. */
export interface Manifest {
  azure: AzureBlock;
  defaults: ClawSettings;
  rollout: RolloutPolicy;
  ssh: SshSettings;
  secrets: SecretsSettings;
  claws: Record<string, Partial<ClawSettings> & { retired?: boolean }>;
}

export interface ParseResult {
  /** Present when the document was structurally valid enough to use (no error problems). */
  manifest?: Manifest;
  problems: Problem[];
  /** Locates a dotted path in the source, for problems found later (e.g. against Azure). */
  locate(path: string): Pick<Problem, "line" | "column" | "endLine" | "endColumn">;
}

/** Names of every Azure resource that belongs to one claw (seed naming, so seed fleets are adopted). */
export interface ClawResourceNames {
  vm: string;
  nic: string;
  publicIp: string;
  dataDisk: string;
  /** Linux host name: at most 64 chars, no dots/underscores. */
  computerName: string;
  /** The claw's secret in the fleet's Key Vault (when `secrets.key_vault` is set). */
  keyVaultSecret: string;
}

/** One claw with defaults merged and names derived. */
export interface ResolvedClaw {
  name: string;
  settings: ClawSettings;
  retired: boolean;
  names: ClawResourceNames;
  /** Tags every resource of this claw carries: azure.tags plus TAGS.claw = name. */
  tags: Record<string, string>;
}

export interface ResolvedFleet {
  manifestFile: string;
  azure: AzureBlock;
  rollout: RolloutPolicy;
  ssh: SshSettings;
  secrets: SecretsSettings;
  /** In manifest order. */
  claws: ResolvedClaw[];
}

/** What the controller needs from a claw beyond the manifest: computed by deploy-fleet. */
export interface DesiredClaw extends ResolvedClaw {
  /** Hash of the rendered cloud-init without per-VM random material (see cloud-init package). */
  configHash: string;
  /**
   * The legacy (v1) hash of the same cloud-init, which VMs deployed before the v2 hash carry in
   * their tag: a VM tagged with it is unchanged. deploy-fleet sets it only for a claw whose VM
   * carries a hash that is not configHash.
   */
  legacyConfigHash?: string;
}

export interface DesiredFleet extends Omit<ResolvedFleet, "claws"> {
  claws: DesiredClaw[];
}

/** Per-claw secrets, keyed as in the seed. Values are secret: never log, never embed in errors. */
export interface ClawSecrets {
  telegram_bot_token: string;
  xai_api_key?: string;
  openai_api_key?: string;
  anthropic_api_key?: string;
  moonshot_api_key?: string;
  deepseek_api_key?: string;
  brightdata_api_token?: string;
  tailscale_authkey?: string;
  /** Gateway auth token; generated per claw when absent. */
  gateway_token?: string;
}

// ---------------------------------------------------------------- observed (filled by the Azure adapter)

export type PowerState =
  | "running"
  | "starting"
  | "stopping"
  | "stopped"
  | "deallocating"
  | "deallocated"
  | "unknown";

export interface ObservedVm {
  id: string;
  name: string;
  vmSize: string;
  provisioningState: string;
  powerState: PowerState;
  /**
   * ISO time of the VM's last completed operation (its instance view's provisioning status), when
   * the list returned one: a power state has held since then at the latest.
   */
  lastOperationAt?: string;
  /** Gallery image version the VM was created from (from imageReference id), if any. */
  imageVersion?: string;
  /** Managed disk ids attached as data disks, by LUN. */
  dataDisks: { lun: number; diskId: string; name: string }[];
  nicIds: string[];
  tags: Record<string, string>;
}

export interface ObservedDisk {
  id: string;
  name: string;
  sizeGb: number;
  sku: string;
  /** Id of the VM the disk is attached to, if any. */
  managedBy?: string;
  /** ISO timestamp. */
  timeCreated?: string;
  tags: Record<string, string>;
}

export interface ObservedSnapshot {
  name: string;
  /** ISO timestamp. */
  timeCreated?: string;
}

export interface ObservedNic {
  id: string;
  name: string;
  /** VM the NIC is attached to, if any. */
  vmId?: string;
  publicIpId?: string;
  subnetId?: string;
  tags: Record<string, string>;
}

export interface ObservedPublicIp {
  id: string;
  name: string;
  ipAddress?: string;
  /** NIC ip configuration that holds it, if any. */
  attachedTo?: string;
  tags: Record<string, string>;
}

export interface ObservedFleet {
  /** Everything in the fleet's resource group (not only tagged resources: seed fleets are untagged). */
  vms: ObservedVm[];
  disks: ObservedDisk[];
  nics: ObservedNic[];
  publicIps: ObservedPublicIp[];
  /** Versions of the fleet's gallery image definition, `Major.Minor.Patch`. */
  imageVersions: string[];
  /**
   * The shared resources of the `azure:` block as Azure has them. Absent: not observed (the plan
   * then proposes no shared change); the Azure adapter always fills it.
   */
  shared?: ObservedSharedInfra;
  /** The rollout lease recorded on the resource group, if any (expired or not). */
  lease?: ObservedLease;
}

/** One NSG security rule, flattened (single and plural ARM fields merged). */
export interface ObservedSecurityRule {
  name: string;
  direction: string;
  access: string;
  protocol: string;
  priority: number;
  sourceAddressPrefixes: string[];
  sourcePortRanges: string[];
  destinationAddressPrefixes: string[];
  destinationPortRanges: string[];
}

/** The fleet's shared resources; an absent member does not exist in Azure. */
export interface ObservedSharedInfra {
  resourceGroup?: { location: string; tags: Record<string, string> };
  virtualNetwork?: {
    addressPrefixes: string[];
    subnets: { name: string; addressPrefixes: string[] }[];
  };
  networkSecurityGroup?: { rules: ObservedSecurityRule[] };
  gallery?: Record<string, never>;
  imageDefinition?: {
    publisher: string;
    offer: string;
    sku: string;
    hyperVGeneration?: string;
    /** Feature `SecurityType` (TrustedLaunchSupported, TrustedLaunch, ...). */
    securityType?: string;
    /** Feature `DiskControllerTypes` ("SCSI, NVMe"); absent = SCSI only. */
    diskControllerTypes?: string[];
    purchasePlan?: { name: string; publisher: string; product: string };
  };
}

export interface ObservedLease {
  runId: string;
  /** ISO timestamp. */
  expiresAt: string;
}

// ---------------------------------------------------------------- plan

export type ActionKind =
  | "create"
  | "recover"
  | "replace"
  | "resize"
  | "grow-disk"
  | "noop"
  /** An upgrade of a parked claw that waits until it runs again (parked_upgrade: defer). */
  | "deferred"
  | "orphan"
  | "retire"
  | "blocked";

export interface FieldChange {
  field: "imageVersion" | "configHash" | "vmSize" | "dataDiskSizeGb" | "exists";
  from: string | number | null;
  to: string | number | null;
}

export interface ClawPlan {
  claw: string;
  action: ActionKind;
  /** One human sentence: why this action. */
  reason: string;
  /** Every difference found (a replace may also grow the disk). */
  changes: FieldChange[];
  /** The claw as desired (absent for orphans). */
  desired?: DesiredClaw;
  /** Concrete image version to run after apply (latest resolved); absent for orphan/retire/blocked. */
  targetImageVersion?: string;
  /** Image version the claw runs now (VM tag/imageReference, or the disk's last-image tag). */
  currentImageVersion?: string;
  /**
   * Image a failed verification rolls the claw back to: the disk's last healthy image when it
   * differs from the target, else the current image when that differs. Never an image known not
   * to have proved itself while one that did is known.
   */
  rollbackImageVersion?: string;
  /** Replacements (and resizes) are health-gated in waves; creates/recovers are not. */
  gated: boolean;
  /**
   * Ids of the Azure resources the plan matched to this claw (by tag or seed name), so apply
   * acts on exactly what was planned. Absent when nothing exists; `vm`/`dataDisk` absent when
   * none or more than one matched (the claw is then blocked).
   */
  resources?: { vm?: string; dataDisk?: string; nics?: string[]; publicIps?: string[] };
}

/** A change apply makes to a shared resource of the `azure:` block (never a delete of a resource). */
export interface SharedChange {
  kind:
    | "resource-group"
    | "virtual-network"
    | "subnet"
    | "network-security-group"
    | "ssh-rule"
    | "isolation-rule"
    | "gallery"
    | "image-definition";
  /** Resource name (`vnet/subnet` for a subnet). */
  name: string;
  action: "create" | "update" | "remove";
  /** One human sentence: what changes. */
  detail: string;
  /** What is written (decisive for the plan hash): tags, prefixes, the SSH rule's sources. */
  value: unknown;
}

/** An unchanged claw whose disk does not record its current image as verified. */
export interface UnprovenClaw {
  claw: string;
  imageVersion: string;
  /** What the disk says last ran healthy on it, if anything. */
  lastHealthy?: string;
}

export interface PlanLease extends ObservedLease {
  /** Apply clears (takes over) this lease: the run was told to force-unlock. */
  clear: boolean;
}

export interface Plan {
  /** Stable hash over everything apply would do (sha256 hex). */
  hash: string;
  claws: ClawPlan[];
  /** Shared-infrastructure changes apply makes before any claw (empty when none or not observed). */
  shared: SharedChange[];
  /** Claws apply verifies although nothing changes on them (only when verification is on). */
  unproven: UnprovenClaw[];
  /** The rollout lease recorded on the fleet, if any. */
  lease?: PlanLease;
  /** Differences apply leaves alone (someone's address space, a foreign NSG rule, ...). */
  warnings: string[];
  /**
   * How apply rolls the changes out (canary, waves, verification, rollback, snapshots): in the
   * hash, so an approved plan cannot apply with a weaker policy.
   */
  rollout?: RolloutPolicy;
  /** Key Vault fleets: each claw's secret version against the one its VM loaded (in the hash). */
  secrets?: SecretVersionChange[];
}

export interface Wave {
  index: number;
  kind: "ungated" | "canary" | "wave";
  claws: string[];
}
