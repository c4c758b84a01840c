// A fleet repository and a local Azure for the bundled action to work on: a claws.yaml in a
// temporary workspace, per-claw secrets whose values are unique canaries, and a gallery holding
// the image versions bake would have published.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ResourceManagementClient } from "@azure/arm-resources";
import type { TokenCredential } from "@azure/core-auth";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import { desiredImageDefinition } from "@openclawps/azure";
import { parseManifest, resolveFleet } from "@openclawps/fleet-model";
import {
  type LocalAzure,
  type LocalAzureOptions,
  startLocalAzure,
  trustCaInProcess,
} from "@openclawps/local-azure";
import { stringify } from "yaml";

const BUNDLE = resolve(import.meta.dirname, "../dist/index.js");

export const RG = "rg-claw-test";
export const GALLERY = "clawGalleryTest";
export const IMAGE = "claw-base";
export const ADMIN_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ+ukvkm5WWJA/AlEVgLgBPyQymcsgGijc3v8m1WmHRk fleet-admin@example.com";

export interface ManifestOptions {
  claws: Record<string, Record<string, unknown>>;
  imageVersion?: string;
  rollout?: Record<string, unknown>;
  /** Admin user's public key (default: a key nobody holds). */
  adminPublicKey?: string;
  /** `ssh.allowed_cidrs`; default [203.0.113.0/24]. */
  allowedCidrs?: string[];
  /** Leave `ssh.admin_public_key` out, as a seed-era manifest does. */
  noAdminKey?: boolean;
  /** The `secrets:` block (e.g. `{ key_vault: "kv-fleet" }`); absent: CLAW_SECRETS_JSON. */
  secrets?: Record<string, unknown>;
  /** More keys of the `azure:` block (e.g. `{ nvme_enabled: true }`). */
  azure?: Record<string, unknown>;
}

export function manifestYaml(o: ManifestOptions): string {
  return stringify({
    azure: {
      location: "westus",
      resource_group_name: RG,
      virtual_network_name: `${RG}-vnet`,
      subnet_name: "default",
      network_security_group_name: `${RG}-nsg`,
      address_space: ["10.0.0.0/16"],
      subnet_prefixes: ["10.0.0.0/22"],
      gallery_name: GALLERY,
      fleet_image_definition_name: IMAGE,
      image_definitions: { [IMAGE]: { publisher: "claw", offer: "claw-vm", sku: "base" } },
      tags: { project: "openclawps-test" },
      ...o.azure,
    },
    defaults: {
      vm_size: "Standard_D2s_v5",
      data_disk_size_gb: 32,
      image_version: o.imageVersion ?? "1.0.0",
      model: "xai/grok-4-1-fast-non-reasoning",
    },
    claws: o.claws,
    // Local guests do not answer SSH: verification is off through the policy, as a user whose
    // runners cannot reach the VMs would set it; claws are then reported unverified.
    rollout: {
      canary: 1,
      wave_size: 2,
      max_unhealthy: 0,
      pause_seconds: 0,
      verify: false,
      parallelism: 10,
      ...o.rollout,
    },
    ssh: {
      ...(o.noAdminKey ? {} : { admin_public_key: o.adminPublicKey ?? ADMIN_KEY }),
      allowed_cidrs: o.allowedCidrs ?? ["203.0.113.0/24"],
    },
    ...(o.secrets ? { secrets: o.secrets } : {}),
  });
}

export const clawNames = (n: number, prefix = "claw") =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(3, "0")}`);

/** Secrets per claw whose every value contains a unique canary, so a leak anywhere can be found. */
export function canarySecrets(names: string[]): { json: string; canaries: string[] } {
  const canaries: string[] = [];
  const sets: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const canary = () => {
      const c = `CANARY${randomBytes(9).toString("hex")}`;
      canaries.push(c);
      return c;
    };
    sets[name] = {
      telegram_bot_token: `7${String(randomBytes(4).readUInt32BE()).padStart(9, "0")}:AAH${canary()}xyzxyzxyzx`,
      xai_api_key: `xai-${canary()}`,
    };
  }
  return { json: JSON.stringify(sets), canaries };
}

export interface Fleet {
  azure: LocalAzure;
  /** Resource Manager clients on the local Azure, for setting up state the action must meet. */
  resources: ResourceManagementClient;
  compute: ComputeManagementClient;
  workspace: string;
  writeManifest(o: ManifestOptions): void;
  /** Runs the bundled action in the workspace against the local Azure. */
  deploy(
    inputs: Record<string, string>,
    extra?: { killWhenStdout?: string | RegExp; killAfterMs?: number },
  ): Promise<BundledActionRun>;
  stop(): Promise<void>;
}

/**
 * A local Azure with the fleet's gallery and image definition (as bake leaves them) holding
 * `versions`, and a workspace with the manifest. Nothing else exists: the resource group holds
 * only the gallery.
 */
export async function startFleet(
  manifest: ManifestOptions,
  secretsJson: string,
  versions = ["1.0.0", "1.1.0"],
  options: LocalAzureOptions = {},
): Promise<Fleet> {
  const azure = await startLocalAzure(options);
  const workspace = mkdtempSync(join(tmpdir(), "fleet-repo-"));
  const writeManifest = (o: ManifestOptions) => writeFileSync(join(workspace, "claws.yaml"), manifestYaml(o));
  writeManifest(manifest);

  // The image definition exactly as the manifest describes it, then the versions bake published.
  const parsed = parseManifest(manifestYaml(manifest), "claws.yaml");
  if (!parsed.manifest) throw new Error(`test manifest has problems: ${JSON.stringify(parsed.problems)}`);
  const fleet = resolveFleet(parsed.manifest, "claws.yaml");
  trustCaInProcess(azure.caCertPem);
  const compute = new ComputeManagementClient(
    azure.staticCredential() as TokenCredential,
    azure.subscriptionId,
    {
      endpoint: azure.armEndpoint,
    },
  );
  const resources = new ResourceManagementClient(
    azure.staticCredential() as TokenCredential,
    azure.subscriptionId,
    {
      endpoint: azure.armEndpoint,
    },
  );
  await resources.resourceGroups.createOrUpdate(RG, { location: "westus" });
  await compute.galleries.beginCreateOrUpdateAndWait(
    RG,
    GALLERY,
    { location: "westus" },
    { updateIntervalInMs: 0 },
  );
  await compute.galleryImages.beginCreateOrUpdateAndWait(RG, GALLERY, IMAGE, desiredImageDefinition(fleet), {
    updateIntervalInMs: 0,
  });
  await azure.seedGalleryVersions(RG, GALLERY, IMAGE, versions, "westus");

  return {
    azure,
    resources,
    compute,
    workspace,
    writeManifest,
    deploy: (inputs, extra = {}) =>
      runBundledAction({
        bundle: BUNDLE,
        inputs: { manifest: "claws.yaml", "secrets-json": secretsJson, "poll-interval": "20ms", ...inputs },
        env: { ...azure.env(), GITHUB_WORKSPACE: workspace, GITHUB_RUN_ID: "", GITHUB_RUN_ATTEMPT: "" },
        // The secret-leak test reads every file the run wrote.
        keepFiles: true,
        ...extra,
      }),
    stop: () => azure.stop(),
  };
}

/**
 * The vault as an operator creates it before the first deploy (`az keyvault create
 * --enable-rbac-authorization true`), with `secrets` set in it; deploy-fleet then adopts it.
 */
export async function createVault(
  fleet: Fleet,
  vault: string,
  secrets: Record<string, string>,
): Promise<void> {
  const id = `/subscriptions/${fleet.azure.subscriptionId}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/${vault}`;
  await fleet.resources.resources.beginCreateOrUpdateByIdAndWait(
    id,
    "2023-07-01",
    {
      location: "westus",
      properties: {
        tenantId: fleet.azure.tenantId,
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
      },
    },
    { updateIntervalInMs: 0 },
  );
  await fleet.azure.seedKeyVaultSecrets(RG, vault, secrets);
}

/** The step's error message (core.setFailed writes `::error::...`). */
export function errorOf(run: BundledActionRun): string {
  return run.stdout
    .split("\n")
    .filter((l) => l.startsWith("::error"))
    .map((l) =>
      l
        .replace(/^::error[^:]*::/, "")
        .replace(/%0A/g, "\n")
        .replace(/%0D/g, "\r")
        .replace(/%25/g, "%"),
    )
    .join("\n");
}
