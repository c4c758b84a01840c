// The zod schema of claws.yaml: shape, types and single-field rules. Rules that relate several
// fields (derived names, subnet inside the address space, canary names, ...) live in
// manifest-rules.ts. Custom issues carry a `fix` in `params`.
import { z } from "zod";
import { type AzureNameKind, azureNameLabel, azureNameProblem } from "./azure-names.ts";
import { hasHostBits, networkOf, parseCidr, parseIpAddress } from "./cidr.ts";
import { parsePercent } from "./count-or-percent.ts";
import { didYouMean } from "./did-you-mean.ts";
import { envValueProblem } from "./env-value.ts";
import { imageVersionProblem } from "./image-version.ts";
import { openSshPublicKeyProblem } from "./openssh-key.ts";
import { PARKED_UPGRADES, type ScheduleSetting, scheduleProblems } from "./power-schedule.ts";
import type { RolloutPolicy } from "./types.ts";

/** The VM's admin user when the manifest names none (the seed's and Azure's examples' choice). */
export const DEFAULT_ADMIN_USERNAME = "azureuser";

export const ROLLOUT_DEFAULTS: Required<RolloutPolicy> = {
  canary: 1,
  wave_size: "25%",
  max_unhealthy: 0,
  pause_seconds: 0,
  rollback: true,
  snapshot_before_replace: true,
  snapshots_kept: 3,
  verify: true,
  parallelism: 10,
};

/**
 * Most snapshots kept per data disk. Azure holds at most 500 incremental snapshots of a disk at a
 * time (https://learn.microsoft.com/azure/virtual-machines/disks-incremental-snapshots#restrictions);
 * each one also keeps a copy of the claw's .env, so fewer is better.
 */
export const MAX_SNAPSHOTS_KEPT = 100;

/** Managed disk SKUs a claw's data disk may use. */
export const DATA_DISK_SKUS = [
  "Standard_LRS",
  "StandardSSD_LRS",
  "StandardSSD_ZRS",
  "Premium_LRS",
  "Premium_ZRS",
] as const;

// Disk sizes: Standard HDD, Standard SSD and Premium SSD managed disks go up to 32,767 GiB
// https://learn.microsoft.com/azure/virtual-machines/disks-types (the smallest Premium/Standard
// SSD tier is 4 GiB). Premium SSD v2 and Ultra Disk go to 65,536 GiB but can only be attached to
// VMs in an availability zone, which this project does not place VMs in.
export const DATA_DISK_MIN_GB = 4;
export const DATA_DISK_MAX_GB = 32_767;

/** GitHub-hosted jobs end after 6 hours, so a longer pause can never finish. */
export const MAX_PAUSE_SECONDS = 6 * 60 * 60;
/**
 * The most claws changed at the same time (`rollout.parallelism`), and the most verified at the
 * same time (the verify action and the wave gate): verifying a wave costs about one claw's time.
 */
export const MAX_PARALLELISM = 50;

// Linux admin user: Azure's disallowed names (Compute API reference, OSProfile.adminUsername)
// and a portable POSIX user name of at most 32 characters (useradd's limit on Ubuntu; see
// https://learn.microsoft.com/azure/virtual-machines/linux/faq#what-are-the-username-requirements-when-creating-a-vm-).
const DISALLOWED_ADMIN_NAMES = new Set(
  "administrator admin user user1 test user2 test1 user3 admin1 1 123 a actuser adm admin2 aspnet backup console david guest john owner root server sql support support_388945a0 sys test2 test3 user4 user5".split(
    " ",
  ),
);

type Fix = { fix?: string };
const issue = (ctx: z.RefinementCtx, message: string, fix?: string) =>
  ctx.addIssue({ code: "custom", message, params: { fix } satisfies Fix });

const quoted = (v: string) => JSON.stringify(v);

const azureName = (kind: AzureNameKind) =>
  z.string().superRefine((v, ctx) => {
    const p = azureNameProblem(kind, v);
    if (p) {
      issue(
        ctx,
        `${quoted(v)} is not a valid Azure ${azureNameLabel(kind)}: ${p}`,
        "rename it (rules: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules)",
      );
    }
  });

const oneOf = <T extends string>(values: readonly T[], extra?: (v: string) => string | undefined) =>
  z.string().superRefine((v, ctx) => {
    if ((values as readonly string[]).includes(v)) return;
    const special = extra?.(v);
    const guess = values.find((x) => x.toLowerCase() === v.toLowerCase()) ?? didYouMean(v, values);
    issue(
      ctx,
      special ?? `${quoted(v)} is not one of ${values.map(quoted).join(", ")}`,
      guess ? `did you mean ${quoted(guess)}?` : undefined,
    );
  }) as unknown as z.ZodType<T, string>;

const region = z.string().superRefine((v, ctx) => {
  if (!/^[a-z][a-z0-9]*$/.test(v)) {
    issue(
      ctx,
      `${quoted(v)} is not an Azure region name`,
      `use the region's programmatic name, e.g. "${v.toLowerCase().replace(/[^a-z0-9]/g, "") || "westus"}" (see \`az account list-locations -o table\`)`,
    );
  }
});

const cidr = z.string().superRefine((v, ctx) => {
  const c = parseCidr(v);
  if (!c)
    return issue(
      ctx,
      `${quoted(v)} is not a CIDR prefix`,
      'write an address and prefix length, e.g. "10.0.0.0/16"',
    );
  if (hasHostBits(c))
    issue(ctx, `${quoted(v)} has host bits set`, `write the network address: ${quoted(networkOf(c))}`);
});

/** NSG sources: a CIDR prefix or a single address. */
const sourceAddress = z.string().superRefine((v, ctx) => {
  if (parseIpAddress(v)) return;
  const c = parseCidr(v);
  if (!c) return issue(ctx, `${quoted(v)} is not an IP address or CIDR prefix`, 'e.g. "203.0.113.7/32"');
  if (hasHostBits(c))
    issue(ctx, `${quoted(v)} has host bits set`, `write the network address: ${quoted(networkOf(c))}`);
});

export const imageVersionRequest = z.string().superRefine((v, ctx) => {
  const p = imageVersionProblem(v);
  if (p)
    issue(ctx, `${quoted(v)} is not an image version: ${p}`, 'quote it, e.g. "1.0.0", or write "latest"');
});

const vmSize = z.string().superRefine((v, ctx) => {
  if (!/^Standard_[A-Za-z0-9][A-Za-z0-9_-]*$/.test(v)) {
    issue(
      ctx,
      `${quoted(v)} is not an Azure VM size`,
      'VM sizes look like "Standard_D4s_v5" (see `az vm list-sizes -l <region>`)',
    );
  }
});

const adminUsername = z.string().superRefine((v, ctx) => {
  if (DISALLOWED_ADMIN_NAMES.has(v.toLowerCase())) {
    return issue(
      ctx,
      `${quoted(v)} is a user name Azure refuses for the admin account`,
      'use another name, e.g. "azureuser"',
    );
  }
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) {
    issue(
      ctx,
      `${quoted(v)} is not a Linux user name: use 1-32 lower-case letters, digits, "_" or "-", starting with a letter or "_"`,
      'e.g. "azureuser"',
    );
  }
});

const dataDiskSize = z.number().superRefine((v, ctx) => {
  if (!Number.isInteger(v)) return issue(ctx, `${v} is not a whole number of GiB`, `e.g. ${Math.ceil(v)}`);
  if (v < DATA_DISK_MIN_GB || v > DATA_DISK_MAX_GB) {
    issue(
      ctx,
      `${v} GiB is outside Azure's managed disk limits (${DATA_DISK_MIN_GB} to ${DATA_DISK_MAX_GB} GiB)`,
    );
  }
});

const dataDiskSku = oneOf(DATA_DISK_SKUS, (v) =>
  v === "PremiumV2_LRS" || v === "UltraSSD_LRS"
    ? `${v} disks can only attach to VMs in an availability zone, which claws are not placed in; use one of ${DATA_DISK_SKUS.join(", ")}`
    : undefined,
);

const model = z.string().superRefine((v, ctx) => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/\S+$/.test(v)) {
    issue(
      ctx,
      `${quoted(v)} is not a model id`,
      'write provider/model, e.g. "xai/grok-4-1-fast-non-reasoning"',
    );
  } else if (envValueProblem(v)) {
    // Said here, on the line that sets it, rather than by cloud-init for every claw inheriting it.
    issue(ctx, `${quoted(v)} ${envValueProblem(v)}`, "write the model id without those characters");
  }
});

/** Telegram user ids are integers; written bare in YAML they parse as numbers, which is fine. */
const telegramUserId = z
  .union([z.string(), z.number()])
  .superRefine((v, ctx) => {
    const s = String(v);
    if (s !== "" && !/^\d{1,20}$/.test(s)) {
      issue(
        ctx,
        `${quoted(s)} is not a Telegram user id`,
        'use the numeric id (ask @userinfobot), or "" for none',
      );
    }
  })
  .transform((v) => String(v));

const percent = (min: number) =>
  z.string().superRefine((v, ctx) => {
    const p = parsePercent(v);
    if (p === undefined || p < min || p > 100 || v !== v.trim()) {
      issue(
        ctx,
        `${quoted(v)} is not a count or a percent from ${min}% to 100%`,
        'write a whole number (e.g. 2) or a percent string (e.g. "25%")',
      );
    }
  });

const count = (min: number, max: number, fix?: string) =>
  z.number().superRefine((v, ctx) => {
    if (!Number.isInteger(v) || v < min || v > max)
      issue(ctx, `${v} is not a whole number from ${min} to ${max}`, fix);
  });

const countOrPercent = (minCount: number, minPercent: number) =>
  z.union([count(minCount, 100_000), percent(minPercent)]) as z.ZodType<number | string>;

const openSshKey = z.string().superRefine((v, ctx) => {
  const p = openSshPublicKeyProblem(v);
  if (p)
    issue(
      ctx,
      `not an accepted SSH public key: ${p}`,
      "paste the contents of ~/.ssh/id_ed25519.pub (ssh-keygen -t ed25519)",
    );
});

const imageIdentifier = (max: number) =>
  z.string().superRefine((v, ctx) => {
    if (!/^[A-Za-z0-9._-]+$/.test(v) || v.length > max) {
      issue(ctx, `${quoted(v)} is not valid: use 1-${max} letters, digits, ".", "_" or "-"`);
    }
  });

const nonEmpty = z.string().superRefine((v, ctx) => {
  if (v.trim() === "") issue(ctx, "must not be empty");
});

const imageDefinition = z.strictObject({
  publisher: imageIdentifier(128),
  offer: imageIdentifier(64),
  sku: imageIdentifier(64),
  purchase_plan: z.strictObject({ name: nonEmpty, publisher: nonEmpty, product: nonEmpty }).optional(),
});

const tags = z.record(z.string(), z.string());

export const azureSchema = z.strictObject({
  location: region,
  resource_group_name: azureName("resourceGroup"),
  virtual_network_name: azureName("virtualNetwork"),
  subnet_name: azureName("subnet"),
  network_security_group_name: azureName("networkSecurityGroup"),
  address_space: z.array(cidr).min(1, { error: "needs at least one CIDR prefix" }),
  subnet_prefixes: z.array(cidr).min(1, { error: "needs at least one CIDR prefix" }),
  gallery_name: azureName("gallery"),
  fleet_image_definition_name: azureName("galleryImage"),
  fleet_image_version: imageVersionRequest.optional(),
  image_definitions: z.record(azureName("galleryImage"), imageDefinition),
  hyper_v_generation: oneOf(["V1", "V2"] as const).default("V2"),
  trusted_launch_enabled: z.boolean().default(false),
  nvme_enabled: z.boolean().default(false),
  allow_claw_to_claw: z.boolean().default(false),
  tags: tags.default({}),
  replication_regions: z
    .array(region)
    .min(1, { error: "needs at least one region (or leave it out)" })
    .optional(),
});

/** `schedule:` (power-schedule.ts): always-on, or hours in a time zone on some days. */
const schedule = z.unknown().superRefine((v, ctx) => {
  for (const p of scheduleProblems(v))
    ctx.addIssue({ code: "custom", message: p.message, path: p.path, params: { fix: p.fix } satisfies Fix });
}) as unknown as z.ZodType<ScheduleSetting, unknown>;

const parkedUpgrade = oneOf(PARKED_UPGRADES);

const settingsShape = {
  admin_username: adminUsername,
  vm_size: vmSize,
  data_disk_size_gb: dataDiskSize,
  data_disk_sku: dataDiskSku,
  image_version: imageVersionRequest,
  model,
  telegram_user_id: telegramUserId,
  enable_trusted_launch: z.boolean(),
  schedule,
  parked_upgrade: parkedUpgrade,
};

export const defaultsSchema = z.strictObject({
  ...settingsShape,
  admin_username: settingsShape.admin_username.default(DEFAULT_ADMIN_USERNAME),
  data_disk_size_gb: settingsShape.data_disk_size_gb.default(32),
  data_disk_sku: settingsShape.data_disk_sku.default("Standard_LRS"),
  // Filled in after parsing: azure.fleet_image_version, else "latest".
  image_version: settingsShape.image_version.optional(),
  telegram_user_id: settingsShape.telegram_user_id.default(""),
  enable_trusted_launch: settingsShape.enable_trusted_launch.default(false),
  // Absent: always-on and replace (power-schedule.ts), so a manifest without them reads as before.
  schedule: settingsShape.schedule.optional(),
  parked_upgrade: settingsShape.parked_upgrade.optional(),
});

const clawObject = z.strictObject({
  admin_username: settingsShape.admin_username.optional(),
  vm_size: settingsShape.vm_size.optional(),
  data_disk_size_gb: settingsShape.data_disk_size_gb.optional(),
  data_disk_sku: settingsShape.data_disk_sku.optional(),
  image_version: settingsShape.image_version.optional(),
  model: settingsShape.model.optional(),
  telegram_user_id: settingsShape.telegram_user_id.optional(),
  enable_trusted_launch: settingsShape.enable_trusted_launch.optional(),
  schedule: settingsShape.schedule.optional(),
  parked_upgrade: settingsShape.parked_upgrade.optional(),
  retired: z.boolean().optional(),
});

/** `alice:` with nothing after it means the same as `alice: {}`. */
export const clawSchema = z.preprocess((v) => (v === null ? {} : v), clawObject);

export const rolloutSchema = z.strictObject({
  canary: z
    .union([count(0, 100_000), z.array(z.string()).min(1, { error: "list at least one claw, or write 0" })])
    .default(ROLLOUT_DEFAULTS.canary as number),
  wave_size: countOrPercent(1, 1).default(ROLLOUT_DEFAULTS.wave_size),
  max_unhealthy: countOrPercent(0, 0).default(ROLLOUT_DEFAULTS.max_unhealthy),
  pause_seconds: count(
    0,
    MAX_PAUSE_SECONDS,
    `pause at most ${MAX_PAUSE_SECONDS} seconds (6 h): a GitHub-hosted job ends after 6 hours, so a longer pause never ends`,
  ).default(ROLLOUT_DEFAULTS.pause_seconds),
  rollback: z.boolean().default(ROLLOUT_DEFAULTS.rollback),
  snapshot_before_replace: z.boolean().default(ROLLOUT_DEFAULTS.snapshot_before_replace),
  snapshots_kept: count(
    1,
    MAX_SNAPSHOTS_KEPT,
    `keep at most ${MAX_SNAPSHOTS_KEPT} snapshots per data disk (Azure holds at most 500 incremental snapshots of a disk)`,
  ).default(ROLLOUT_DEFAULTS.snapshots_kept),
  verify: z.boolean().default(ROLLOUT_DEFAULTS.verify),
  parallelism: count(1, MAX_PARALLELISM).default(ROLLOUT_DEFAULTS.parallelism),
});

export const sshSchema = z.strictObject({
  admin_public_key: openSshKey.optional(),
  allowed_cidrs: z.array(sourceAddress).default([]),
});

export const secretsSchema = z.strictObject({
  key_vault: azureName("keyVault").optional(),
});

export const manifestSchema = z.strictObject({
  azure: azureSchema,
  defaults: defaultsSchema,
  claws: z.record(z.string(), clawSchema),
  // An optional block written with nothing under it (`rollout:`) means its defaults.
  rollout: z.preprocess(
    (v) => v ?? undefined,
    rolloutSchema.default(() => ({ ...ROLLOUT_DEFAULTS })),
  ),
  ssh: z.preprocess(
    (v) => v ?? undefined,
    sshSchema.default(() => ({ allowed_cidrs: [] })),
  ),
  secrets: z.preprocess(
    (v) => v ?? undefined,
    secretsSchema.default(() => ({})),
  ),
});

/** Allowed keys of each map in the manifest, by path pattern (`*` = any name). For did-you-mean. */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  "": Object.keys(manifestSchema.shape),
  azure: Object.keys(azureSchema.shape),
  "azure.image_definitions.*": Object.keys(imageDefinition.shape),
  "azure.image_definitions.*.purchase_plan": ["name", "publisher", "product"],
  defaults: Object.keys(defaultsSchema.shape),
  "claws.*": Object.keys(clawObject.shape),
  rollout: Object.keys(rolloutSchema.shape),
  ssh: Object.keys(sshSchema.shape),
  secrets: Object.keys(secretsSchema.shape),
};

/** What each field holds, for "must be …" and "add …" messages. `*` matches any one name. */
export const FIELD_DOCS: Record<string, { expects: string; example: string }> = {
  azure: { expects: "a map of Azure settings", example: "{ location: westus, ... }" },
  defaults: {
    expects: "a map of default claw settings",
    example: "{ vm_size: Standard_D4s_v5, model: xai/grok-4-1-fast-non-reasoning }",
  },
  claws: { expects: "a map from claw name to its settings", example: "{ alice: {} }" },
  rollout: { expects: "a map of rollout settings", example: '{ canary: 1, wave_size: "25%" }' },
  ssh: { expects: "a map of SSH settings", example: '{ admin_public_key: "ssh-ed25519 AAAA... you@host" }' },
  secrets: {
    expects: "a map saying where claws' secrets come from",
    example: "{ key_vault: kv-claws-westus }",
  },
  "secrets.key_vault": { expects: "a Key Vault name", example: "kv-claws-westus" },
  "azure.location": { expects: "an Azure region name", example: "westus" },
  "azure.resource_group_name": { expects: "a resource group name", example: "rg-claw-westus" },
  "azure.virtual_network_name": { expects: "a virtual network name", example: "rg-claw-westus-vnet" },
  "azure.subnet_name": { expects: "a subnet name", example: "default" },
  "azure.network_security_group_name": {
    expects: "a network security group name",
    example: "rg-claw-westus-nsg",
  },
  "azure.address_space": { expects: "a list of CIDR prefixes", example: "[10.0.0.0/16]" },
  "azure.address_space.*": { expects: "a CIDR prefix string", example: "10.0.0.0/16" },
  "azure.subnet_prefixes": { expects: "a list of CIDR prefixes", example: "[10.0.0.0/24]" },
  "azure.subnet_prefixes.*": { expects: "a CIDR prefix string", example: "10.0.0.0/24" },
  "azure.gallery_name": { expects: "a compute gallery name", example: "clawGalleryWest" },
  "azure.fleet_image_definition_name": { expects: "an image definition name", example: "claw-desktop-gpu" },
  "azure.fleet_image_version": { expects: 'a quoted gallery version or "latest"', example: '"1.0.0"' },
  "azure.image_definitions": {
    expects: "a map from image definition name to publisher/offer/sku",
    example: "{ claw-desktop-gpu: { publisher: claw, offer: claw-vm, sku: desktop-gpu } }",
  },
  "azure.image_definitions.*": {
    expects: "a map with publisher, offer and sku",
    example: "{ publisher: claw, offer: claw-vm, sku: desktop-gpu }",
  },
  "azure.image_definitions.*.publisher": { expects: "a string", example: "claw" },
  "azure.image_definitions.*.offer": { expects: "a string", example: "claw-vm" },
  "azure.image_definitions.*.sku": { expects: "a string", example: "desktop-gpu" },
  "azure.image_definitions.*.purchase_plan": {
    expects: "a map with name, publisher and product",
    example: "{ name: plan, publisher: pub, product: prod }",
  },
  "azure.image_definitions.*.purchase_plan.*": { expects: "a string", example: "planid" },
  "azure.hyper_v_generation": { expects: "V1 or V2", example: "V2" },
  "azure.trusted_launch_enabled": { expects: "true or false", example: "false" },
  "azure.nvme_enabled": { expects: "true or false", example: "true" },
  "azure.allow_claw_to_claw": { expects: "true or false", example: "false" },
  "azure.tags": { expects: "a map of tag names to string values", example: "{ project: openclawps }" },
  "azure.tags.*": { expects: "a string (quote numbers and booleans)", example: '"1234"' },
  "azure.replication_regions": { expects: "a list of Azure region names", example: "[westus, eastus]" },
  "azure.replication_regions.*": { expects: "an Azure region name", example: "westus" },
  "*.admin_username": { expects: "a Linux user name", example: "azureuser" },
  "*.vm_size": { expects: "an Azure VM size", example: "Standard_D4s_v5" },
  "*.data_disk_size_gb": { expects: "a whole number of GiB", example: "64" },
  "*.data_disk_sku": { expects: "a managed disk SKU", example: "Standard_LRS" },
  "*.image_version": { expects: 'a quoted gallery version or "latest"', example: '"1.0.0"' },
  "*.model": { expects: "a model id (provider/model)", example: "xai/grok-4-1-fast-non-reasoning" },
  "*.telegram_user_id": { expects: "a numeric Telegram user id", example: '"123456789"' },
  "*.enable_trusted_launch": { expects: "true or false", example: "false" },
  "*.schedule": {
    expects: "always-on or a map with hours and time_zone",
    example: '{ hours: "08:00-20:00", days: mon-fri, time_zone: Europe/Berlin }',
  },
  "*.parked_upgrade": { expects: "replace or defer", example: "replace" },
  "claws.*": { expects: "a map of settings that override defaults (or {} for none)", example: "{}" },
  "claws.*.retired": { expects: "true or false", example: "true" },
  "rollout.canary": { expects: "a count of claws or a list of claw names", example: "1" },
  "rollout.canary.*": { expects: "a claw name", example: "alice" },
  "rollout.wave_size": { expects: 'a count or a percent string like "25%"', example: '"25%"' },
  "rollout.max_unhealthy": { expects: 'a count or a percent string like "10%"', example: "0" },
  "rollout.pause_seconds": { expects: "a whole number of seconds", example: "60" },
  "rollout.rollback": { expects: "true or false", example: "true" },
  "rollout.snapshot_before_replace": { expects: "true or false", example: "true" },
  "rollout.snapshots_kept": { expects: "a whole number of snapshots per data disk", example: "3" },
  "rollout.verify": { expects: "true or false", example: "true" },
  "rollout.parallelism": { expects: "a whole number", example: "10" },
  "ssh.admin_public_key": {
    expects: "an OpenSSH public key line",
    example: '"ssh-ed25519 AAAA... you@host"',
  },
  "ssh.allowed_cidrs": { expects: "a list of CIDR prefixes", example: "[203.0.113.0/24]" },
  "ssh.allowed_cidrs.*": { expects: "a CIDR prefix string", example: "203.0.113.0/24" },
};

/** The FIELD_DOCS entry for a concrete path (claw names and list indexes match `*`). */
export function fieldDoc(
  path: readonly (string | number)[],
): { expects: string; example: string } | undefined {
  const parts = path.map(String);
  const candidates = [parts.join(".")];
  // defaults.X and claws.<name>.X share the settings docs.
  if (parts[0] === "defaults" && parts.length === 2) candidates.push(`*.${parts[1]}`);
  if (parts[0] === "claws" && parts.length === 3) candidates.push(`claws.*.${parts[2]}`, `*.${parts[2]}`);
  if (parts[0] === "claws" && parts.length === 2) candidates.push("claws.*");
  if (parts.length >= 2) candidates.push([...parts.slice(0, -1), "*"].join("."));
  if (parts[0] === "azure" && parts[1] === "image_definitions" && parts.length >= 3) {
    candidates.push(["azure", "image_definitions", "*", ...parts.slice(3)].join("."));
    if (parts.length === 5) candidates.push("azure.image_definitions.*.purchase_plan.*");
  }
  for (const c of candidates) if (FIELD_DOCS[c]) return FIELD_DOCS[c];
  return undefined;
}

/** KNOWN_KEYS entry for a concrete map path. */
export function knownKeysAt(path: readonly (string | number)[]): readonly string[] | undefined {
  const parts = path.map(String);
  if (parts[0] === "claws" && parts.length === 2) return KNOWN_KEYS["claws.*"];
  if (parts[0] === "azure" && parts[1] === "image_definitions" && parts.length === 3)
    return KNOWN_KEYS["azure.image_definitions.*"];
  if (parts[0] === "azure" && parts[1] === "image_definitions" && parts.length === 4) {
    return KNOWN_KEYS["azure.image_definitions.*.purchase_plan"];
  }
  return KNOWN_KEYS[parts.join(".")];
}
