// A desired fleet built directly (not parsed from YAML), so these tests depend only on the
// shared types, with seed-style names: VM {claw}, {claw}-nic, {claw}-pip, {claw}-data.
import type { ClawSettings, DesiredClaw, DesiredFleet } from "@openclawps/fleet-model";

export const ADMIN_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm0Jc1bVfdmPvnP8Zx9T1I7n1r2N0p4qJmYVZ3a9p8Q admin@test";

export function settings(overrides: Partial<ClawSettings> = {}): ClawSettings {
  return {
    admin_username: "azureuser",
    vm_size: "Standard_B2s",
    data_disk_size_gb: 32,
    data_disk_sku: "Standard_LRS",
    image_version: "1.0.0",
    model: "xai/grok-4-1-fast-non-reasoning",
    telegram_user_id: "",
    enable_trusted_launch: false,
    ...overrides,
  };
}

export function claw(name: string, overrides: Partial<ClawSettings> = {}, configHash = "cfg-1"): DesiredClaw {
  return {
    name,
    settings: settings(overrides),
    retired: false,
    names: {
      vm: name,
      nic: `${name}-nic`,
      publicIp: `${name}-pip`,
      dataDisk: `${name}-data`,
      computerName: name,
      keyVaultSecret: `claw-${name}`,
    },
    tags: {},
    configHash,
  };
}

export function fleet(
  clawNames: string[],
  opts: { resourceGroup?: string; allowedCidrs?: string[] } = {},
): DesiredFleet {
  const rg = opts.resourceGroup ?? "rg-claw-test";
  return {
    manifestFile: "claws.yaml",
    secrets: {},
    azure: {
      location: "westus",
      resource_group_name: rg,
      virtual_network_name: `${rg}-vnet`,
      subnet_name: "default",
      network_security_group_name: `${rg}-nsg`,
      address_space: ["10.0.0.0/16"],
      subnet_prefixes: ["10.0.0.0/24"],
      gallery_name: "clawGalleryTest",
      fleet_image_definition_name: "claw-desktop",
      image_definitions: { "claw-desktop": { publisher: "claw", offer: "claw-vm", sku: "desktop" } },
      hyper_v_generation: "V2",
      trusted_launch_enabled: false,
      tags: { project: "openclawps" },
    },
    rollout: {
      canary: 1,
      wave_size: 2,
      max_unhealthy: 0,
      pause_seconds: 0,
      rollback: true,
      snapshot_before_replace: true,
      verify: false,
      parallelism: 4,
    },
    ssh: { admin_public_key: ADMIN_KEY, allowed_cidrs: opts.allowedCidrs ?? ["203.0.113.0/24"] },
    claws: clawNames.map((n) => claw(n)),
  };
}
