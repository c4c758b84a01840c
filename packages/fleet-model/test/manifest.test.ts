import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_MANIFEST_BYTES, parseManifest } from "../src/manifest.ts";
import { seedManifestYaml } from "../src/testing.ts";
import type { Problem } from "../src/types.ts";
import { manifestText, rsaKeyLine, sshKeyLine } from "./helpers.ts";

const only = (text: string | Uint8Array, severity: Problem["severity"] = "error") =>
  parseManifest(text, "claws.yaml").problems.filter((p) => p.severity === severity);

describe("the seed-era manifest from the design", () => {
  it("parses with no problems at all", () => {
    const r = parseManifest(seedManifestYaml(), "fleet/claws.yaml");
    expect(r.problems).toEqual([]);
    expect(r.manifest).toBeDefined();
  });

  it("is the one validate's seed fixture repository holds (so neither copy drifts)", () => {
    const path = new URL("../../../actions/validate/test/fixtures/seed/fleet/claws.yaml", import.meta.url);
    const withoutComments = readFileSync(path, "utf8").replace(/^#.*\n/gm, "");
    expect(withoutComments).toBe(seedManifestYaml());
  });

  it("gets the rollout and ssh defaults it never mentions", () => {
    const m = parseManifest(seedManifestYaml(), "claws.yaml").manifest!;
    expect(m.rollout).toEqual({
      canary: 1,
      wave_size: "25%",
      max_unhealthy: 0,
      pause_seconds: 0,
      rollback: true,
      snapshot_before_replace: true,
      snapshots_kept: 3,
      verify: true,
      parallelism: 10,
    });
    expect(m.ssh).toEqual({ allowed_cidrs: [] });
    expect(m.claws).toEqual({ "chad-claw": {} });
    expect(m.defaults.image_version).toBe("1.0.0");
    expect(m.azure.image_definitions["claw-desktop-gpu"]?.purchase_plan?.product).toBe(
      "nvv5_v710_linux_rocm_image",
    );
  });
});

describe("the example fleet", () => {
  it("parses with no problems", () => {
    const path = new URL("../../../examples/fleet/claws.yaml", import.meta.url);
    const r = parseManifest(readFileSync(path), "examples/fleet/claws.yaml");
    expect(r.problems).toEqual([]);
    const m = r.manifest!;
    expect(Object.keys(m.claws).length).toBeGreaterThanOrEqual(4);
    // One source of truth for the image: the manifest follows the gallery, so a bake rolls out.
    expect(m.defaults.image_version).toBe("latest");
    expect(Object.values(m.claws).every((c) => c.image_version === undefined)).toBe(true);
    expect(Object.values(m.claws).some((c) => c.retired === true)).toBe(true);
  });
});

describe("defaults filled in", () => {
  it("takes the default image version from azure.fleet_image_version when defaults has none", () => {
    const m = parseManifest(manifestText({ 17: null, "+10": '  fleet_image_version: "1.1.0"' }), "c.yaml")
      .manifest!;
    expect(m.defaults.image_version).toBe("1.1.0");
  });

  it("uses latest when no image version is given anywhere", () => {
    const m = parseManifest(manifestText({ 17: null }), "c.yaml").manifest!;
    expect(m.defaults.image_version).toBe("latest");
  });

  it("fills the optional defaults", () => {
    const m = parseManifest(manifestText(), "c.yaml").manifest!;
    expect(m.defaults).toMatchObject({
      admin_username: "azureuser",
      data_disk_sku: "Standard_LRS",
      telegram_user_id: "",
      enable_trusted_launch: false,
    });
    expect(m.azure.hyper_v_generation).toBe("V2");
    expect(m.azure.trusted_launch_enabled).toBe(false);
  });

  it("accepts a bare numeric Telegram user id and keeps it as a string", () => {
    const m = parseManifest(manifestText({ "+18": "  telegram_user_id: 123456789" }), "c.yaml").manifest!;
    expect(m.defaults.telegram_user_id).toBe("123456789");
  });

  it("reads a claw written with nothing after it as having no overrides", () => {
    const m = parseManifest(manifestText({ 20: "  alice:" }), "c.yaml").manifest!;
    expect(m.claws.alice).toEqual({});
  });

  it("selects Key Vault secrets with secrets.key_vault, and CLAW_SECRETS_JSON without the block", () => {
    const withVault = parseManifest(
      manifestText({ "+27": "secrets:\n  key_vault: kv-claws-westus" }),
      "c.yaml",
    );
    expect(withVault.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(withVault.manifest?.secrets).toEqual({ key_vault: "kv-claws-westus" });
    expect(parseManifest(manifestText(), "c.yaml").manifest?.secrets).toEqual({});
    expect(parseManifest(manifestText({ "+27": "secrets:" }), "c.yaml").manifest?.secrets).toEqual({});
  });

  it("treats empty rollout: and ssh: blocks as their defaults", () => {
    const r = parseManifest(manifestText({ 23: null, 24: null }), "c.yaml");
    expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(r.manifest?.rollout.wave_size).toBe("25%");
  });

  it("follows YAML anchors and merge keys", () => {
    const r = parseManifest(
      manifestText({
        20: "  alice: &big { vm_size: Standard_D16s_v5, data_disk_size_gb: 256 }",
        21: "  bob: { <<: *big, model: openai/gpt-5 }",
      }),
      "c.yaml",
    );
    expect(r.problems).toEqual([]);
    expect(r.manifest?.claws.bob).toEqual({
      vm_size: "Standard_D16s_v5",
      data_disk_size_gb: 256,
      model: "openai/gpt-5",
    });
  });
});

interface Case {
  name: string;
  edits?: Record<string, string | null>;
  text?: string;
  line: number;
  column: number;
  path: string;
  message: RegExp;
  fix?: RegExp;
  severity?: Problem["severity"];
}

// Every validation rule, each with the exact place it must point at. Line numbers refer to
// BASE_LINES in helpers.ts; columns are 1-based.
const CASES: Case[] = [
  // ---- unknown, missing, mistyped keys
  {
    name: "a misspelt azure key gets a did-you-mean",
    edits: { "+13": "  locaton: eastus" },
    line: 14,
    column: 3,
    path: "azure.locaton",
    message: /"locaton" is not a key of azure; did you mean "location"\?/,
    fix: /rename it to location/,
  },
  {
    name: "an unknown top-level key lists the allowed keys",
    edits: { "+27": "verion: 2" },
    line: 28,
    column: 1,
    path: "verion",
    message: /"verion" is not a key of the top level$/,
    fix: /keys allowed here: azure, defaults, claws, rollout, ssh/,
  },
  {
    name: "a default setting written at the top level says where it belongs",
    edits: { "+27": "vm_size: Standard_D4s_v5" },
    line: 28,
    column: 1,
    path: "vm_size",
    message: /"vm_size" is not a key of the top level/,
    fix: /move it under defaults:/,
  },
  {
    name: "a per-claw override of an unknown field is refused",
    edits: { 21: "  bob: { vm_size: Standard_D8s_v5, colour: blue }" },
    line: 21,
    column: 36,
    path: "claws.bob.colour",
    message: /"colour" is not a key of claws\.bob/,
    fix: /admin_username, vm_size, .*retired/,
  },
  {
    name: "a fleet-wide setting cannot be overridden per claw",
    edits: { 20: "  alice: { location: eastus }" },
    line: 20,
    column: 12,
    path: "claws.alice.location",
    message: /"location" is not a key of claws\.alice/,
    fix: /azure\.location applies to the whole fleet/,
  },
  {
    name: "retire instead of retired gets a did-you-mean",
    edits: { 20: "  alice: { retire: true }" },
    line: 20,
    column: 12,
    path: "claws.alice.retire",
    message: /did you mean "retired"\?/,
  },
  {
    name: "retired under defaults says it is per claw",
    edits: { "+18": "  retired: true" },
    line: 19,
    column: 3,
    path: "defaults.retired",
    message: /"retired" is not a key of defaults/,
    fix: /retired is set per claw/,
  },
  {
    name: "a missing required key points at its parent",
    edits: { 2: null },
    line: 1,
    column: 1,
    path: "azure.location",
    message: /^azure\.location is missing: an Azure region name is required here$/,
    fix: /add `location: westus` under azure:/,
  },
  {
    name: "a missing default vm_size points at defaults:",
    edits: { 15: null },
    line: 14,
    column: 1,
    path: "defaults.vm_size",
    message: /defaults\.vm_size is missing/,
  },
  {
    name: "a missing top-level block points at the document start",
    text: "azure: {}\nclaws: {}\n",
    line: 1,
    column: 1,
    path: "defaults",
    message: /^defaults is missing/,
  },
  {
    name: "a number where a string version is needed says to quote it",
    edits: { 17: "  image_version: 1.10" },
    line: 17,
    column: 18,
    path: "defaults.image_version",
    message: /must be a quoted gallery version or "latest", not the number 1\.10/,
    fix: /quote it: image_version: "1\.10"/,
  },
  {
    name: "a quoted disk size is a type error",
    edits: { 18: '  data_disk_size_gb: "32"' },
    line: 18,
    column: 22,
    path: "defaults.data_disk_size_gb",
    message: /must be a whole number of GiB, not a string/,
  },
  {
    name: "a list where a map is expected is a type error",
    edits: { 19: "claws: [alice, bob]", 20: null, 21: null },
    line: 19,
    column: 1,
    path: "claws",
    message: /claws must be a map from claw name to its settings, not a list/,
  },
  {
    name: "retired must be a boolean (YAML 1.2 reads yes as a string)",
    edits: { 20: "  alice: { retired: yes }" },
    line: 20,
    column: 21,
    path: "claws.alice.retired",
    message: /must be true or false, not a string/,
  },
  {
    name: "an unquoted numeric tag value must be quoted",
    edits: { 13: "  tags: { project: openclawps, cost: 1234 }" },
    line: 13,
    column: 38,
    path: "azure.tags.cost",
    message: /must be a string/,
    fix: /quote it: cost: "1234"/,
  },
  // ---- Azure names
  {
    name: "a region written as a display name is refused",
    edits: { 2: "  location: West US" },
    line: 2,
    column: 13,
    path: "azure.location",
    message: /"West US" is not an Azure region name/,
    fix: /"westus"/,
  },
  {
    name: "a gallery name with a hyphen is refused",
    edits: { 9: "  gallery_name: claw-gallery" },
    line: 9,
    column: 17,
    path: "azure.gallery_name",
    message: /not a valid Azure gallery name: it contains "-"/,
  },
  {
    name: "a one-character virtual network name is too short",
    edits: { 4: "  virtual_network_name: v" },
    line: 4,
    column: 25,
    path: "azure.virtual_network_name",
    message: /virtual network name: it must be at least 2 characters/,
  },
  {
    name: "a resource group name ending in a period is refused",
    edits: { 3: "  resource_group_name: rg-claw." },
    line: 3,
    column: 24,
    path: "azure.resource_group_name",
    message: /resource group name: it must end with anything but a period/,
  },
  {
    name: "a claw name with an underscore is not a valid host name",
    edits: { 20: "  alice_1: {}" },
    line: 20,
    column: 3,
    path: "claws.alice_1",
    message: /claw name "alice_1" gives an invalid Linux computer \(host\) name "alice_1": it contains "_"/,
  },
  {
    name: "a claw name ending in a period is also an invalid VM name",
    edits: { 20: "  alice.: {}" },
    line: 20,
    column: 3,
    path: "claws.alice.",
    message: /Linux computer \(host\) name "alice\.".*\(also an invalid VM name\)/,
  },
  {
    name: "a claw name longer than 64 characters is refused",
    edits: { 20: `  ${"a".repeat(65)}: {}` },
    line: 20,
    column: 3,
    path: `claws.${"a".repeat(65)}`,
    message: /it is 65 characters; the limit is 64/,
  },
  {
    name: "a claw name of digits only is refused",
    edits: { 20: '  "1234": {}' },
    line: 20,
    column: 3,
    path: "claws.1234",
    message: /can't be digits only/,
  },
  {
    name: "claw names that differ only in case collide",
    edits: { "+21": "  Alice: {}" },
    line: 22,
    column: 3,
    path: "claws.Alice",
    message: /"Alice" is the same as "alice" \(line 20\) except for case/,
  },
  {
    name: "a duplicate claw key is a YAML error at the second key",
    edits: { "+21": "  alice: { vm_size: Standard_D2s_v5 }" },
    line: 22,
    column: 3,
    path: "",
    message: /^YAML: the key 'alice' appears twice in the same mapping$/,
  },
  // ---- image versions
  {
    name: "a two-part gallery version is refused",
    edits: { 17: '  image_version: "1.0"' },
    line: 17,
    column: 18,
    path: "defaults.image_version",
    message: /"1\.0" is not an image version: a gallery version has three parts/,
  },
  {
    name: "a version part beyond 32 bits is refused",
    edits: { 17: '  image_version: "1.0.2147483648"' },
    line: 17,
    column: 18,
    path: "defaults.image_version",
    message: /at most 2147483647/,
  },
  {
    name: "a version with leading zeros is refused",
    edits: { 17: '  image_version: "1.01.0"' },
    line: 17,
    column: 18,
    path: "defaults.image_version",
    message: /leading zeros/,
  },
  {
    name: "Latest must be lower case",
    edits: { 17: "  image_version: Latest" },
    line: 17,
    column: 18,
    path: "defaults.image_version",
    message: /write "latest" in lower case/,
  },
  {
    name: "a per-claw image version is checked too",
    edits: { 20: '  alice: { image_version: "v2" }' },
    line: 20,
    column: 27,
    path: "claws.alice.image_version",
    message: /"v2" is not an image version/,
  },
  {
    name: "azure.fleet_image_version is checked too",
    edits: { "+10": '  fleet_image_version: "1.0.0-beta"' },
    line: 11,
    column: 24,
    path: "azure.fleet_image_version",
    message: /"1\.0\.0-beta" is not an image version/,
  },
  {
    name: "an image version that shadows azure.fleet_image_version is a warning",
    edits: { "+10": '  fleet_image_version: "1.1.0"' },
    line: 18,
    column: 18,
    path: "defaults.image_version",
    message: /"1\.0\.0" overrides azure\.fleet_image_version "1\.1\.0"/,
    severity: "warning",
  },
  {
    name: "the fleet image definition must be described under image_definitions",
    edits: { 10: "  fleet_image_definition_name: claw-dekstop" },
    line: 10,
    column: 32,
    path: "azure.fleet_image_definition_name",
    message: /"claw-dekstop" is not described under azure\.image_definitions \(it has "claw-desktop"\)/,
    fix: /did you mean "claw-desktop"\?/,
  },
  {
    name: "an image definition without a sku is missing a key",
    edits: { 12: "    claw-desktop: { publisher: claw, offer: claw-vm }" },
    line: 12,
    column: 5,
    path: "azure.image_definitions.claw-desktop.sku",
    message: /azure\.image_definitions\.claw-desktop\.sku is missing/,
  },
  // ---- disks and VM settings
  {
    name: "a data disk below 4 GiB is refused",
    edits: { 18: "  data_disk_size_gb: 2" },
    line: 18,
    column: 22,
    path: "defaults.data_disk_size_gb",
    message: /2 GiB is outside Azure's managed disk limits \(4 to 32767 GiB\)/,
  },
  {
    name: "a data disk above 32767 GiB is refused",
    edits: { 21: "  bob: { data_disk_size_gb: 40000 }" },
    line: 21,
    column: 29,
    path: "claws.bob.data_disk_size_gb",
    message: /40000 GiB is outside/,
  },
  {
    name: "a fractional disk size is refused",
    edits: { 18: "  data_disk_size_gb: 32.5" },
    line: 18,
    column: 22,
    path: "defaults.data_disk_size_gb",
    message: /32\.5 is not a whole number of GiB/,
  },
  {
    name: "a zonal-only disk SKU is refused with the reason",
    edits: { "+18": "  data_disk_sku: UltraSSD_LRS" },
    line: 19,
    column: 18,
    path: "defaults.data_disk_sku",
    message: /UltraSSD_LRS disks can only attach to VMs in an availability zone/,
  },
  {
    name: "a disk SKU in the wrong case gets a did-you-mean",
    edits: { "+18": "  data_disk_sku: standardssd_lrs" },
    line: 19,
    column: 18,
    path: "defaults.data_disk_sku",
    message: /"standardssd_lrs" is not one of/,
    fix: /did you mean "StandardSSD_LRS"\?/,
  },
  {
    name: "a VM size must look like Standard_*",
    edits: { 15: "  vm_size: D4s_v5" },
    line: 15,
    column: 12,
    path: "defaults.vm_size",
    message: /"D4s_v5" is not an Azure VM size/,
  },
  {
    name: "a per-claw VM size is checked too",
    edits: { 21: "  bob: { vm_size: Standard D8s }" },
    line: 21,
    column: 19,
    path: "claws.bob.vm_size",
    message: /"Standard D8s" is not an Azure VM size/,
  },
  {
    name: "root is not allowed as the admin user",
    edits: { "+18": "  admin_username: root" },
    line: 19,
    column: 19,
    path: "defaults.admin_username",
    message: /"root" is a user name Azure refuses/,
  },
  {
    name: "an admin user name with capitals is not a Linux user name",
    edits: { "+18": "  admin_username: Claw" },
    line: 19,
    column: 19,
    path: "defaults.admin_username",
    message: /"Claw" is not a Linux user name/,
  },
  {
    name: "a model without a provider is refused",
    edits: { 16: "  model: grok" },
    line: 16,
    column: 10,
    path: "defaults.model",
    message: /"grok" is not a model id/,
  },
  {
    name: "a Telegram user id must be numeric",
    edits: { "+18": "  telegram_user_id: '@alice'" },
    line: 19,
    column: 21,
    path: "defaults.telegram_user_id",
    message: /"@alice" is not a Telegram user id/,
  },
  {
    name: "hyper_v_generation in lower case gets a did-you-mean",
    edits: { "+12": "  hyper_v_generation: v2" },
    line: 13,
    column: 23,
    path: "azure.hyper_v_generation",
    message: /"v2" is not one of "V1", "V2"/,
    fix: /did you mean "V2"\?/,
  },
  {
    name: "trusted launch on a Generation 1 image is refused",
    edits: {
      "+12": "  hyper_v_generation: V1\n  trusted_launch_enabled: true",
      "+18": "  enable_trusted_launch: true",
    },
    line: 21,
    column: 26,
    path: "defaults.enable_trusted_launch",
    message: /trusted launch needs a Generation 2 image/,
  },
  {
    name: "the NVMe disk controller on a Generation 1 image is refused",
    edits: { "+12": "  hyper_v_generation: V1\n  nvme_enabled: true" },
    line: 14,
    column: 17,
    path: "azure.nvme_enabled",
    message: /the NVMe disk controller needs a Generation 2 image/,
  },
  {
    name: "trusted launch VMs need an image definition that supports it",
    edits: { 20: "  alice: { enable_trusted_launch: true }" },
    line: 20,
    column: 35,
    path: "claws.alice.enable_trusted_launch",
    message: /need an image definition that supports trusted launch/,
  },
  // ---- network
  {
    name: "an address space that is not a CIDR is refused",
    edits: { 7: "  address_space: [10.0.0.0/33]" },
    line: 7,
    column: 19,
    path: "azure.address_space.0",
    message: /"10\.0\.0\.0\/33" is not a CIDR prefix/,
  },
  {
    name: "a prefix with host bits set gets the network address as the fix",
    edits: { 7: "  address_space: [10.0.0.1/16]" },
    line: 7,
    column: 19,
    path: "azure.address_space.0",
    message: /has host bits set/,
    fix: /"10\.0\.0\.0\/16"/,
  },
  {
    name: "a subnet outside the address space is refused",
    edits: { 8: "  subnet_prefixes: [10.0.0.0/24, 10.1.0.0/24]" },
    line: 8,
    column: 34,
    path: "azure.subnet_prefixes.1",
    message:
      /azure\.subnet_prefixes\[1\]: subnet prefix "10\.1\.0\.0\/24" is not inside the virtual network's address space \(10\.0\.0\.0\/16\)/,
  },
  {
    name: "a subnet smaller than /29 is refused",
    edits: { 8: "  subnet_prefixes: [10.0.0.0/30]" },
    line: 8,
    column: 21,
    path: "azure.subnet_prefixes.0",
    message: /Azure IPv4 subnets must be between \/2 and \/29/,
  },
  {
    name: "an empty address space is refused",
    edits: { 7: "  address_space: []" },
    line: 7,
    column: 3,
    path: "azure.address_space",
    message: /needs at least one CIDR prefix/,
  },
  {
    name: "a tag using the controller's prefix is refused",
    edits: { 13: "  tags: { openclawps.claw: mine }" },
    line: 13,
    column: 11,
    path: "azure.tags.openclawps.claw",
    message: /reserved for the controller's own tags/,
  },
  // ---- rollout
  {
    name: "a wave size of 0% is refused",
    edits: { 24: '  wave_size: "0%"' },
    line: 24,
    column: 14,
    path: "rollout.wave_size",
    message: /"0%" is not a count or a percent from 1% to 100%/,
  },
  {
    name: "a wave size above 100% is refused",
    edits: { 24: '  wave_size: "150%"' },
    line: 24,
    column: 14,
    path: "rollout.wave_size",
    message: /"150%" is not a count or a percent/,
  },
  {
    name: "a wave size of 0 is refused",
    edits: { 24: "  wave_size: 0" },
    line: 24,
    column: 14,
    path: "rollout.wave_size",
    message: /0 is not a whole number from 1/,
  },
  {
    name: "a boolean wave size is a type error",
    edits: { 24: "  wave_size: true" },
    line: 24,
    column: 14,
    path: "rollout.wave_size",
    message: /rollout\.wave_size must be a count or a percent string like "25%", not the boolean true/,
  },
  {
    name: "a negative canary count is refused",
    edits: { 23: "  canary: -1" },
    line: 23,
    column: 11,
    path: "rollout.canary",
    message: /-1 is not a whole number from 0/,
  },
  {
    name: "a canary name that is not a claw gets a did-you-mean",
    edits: { 23: "  canary: [alcie]" },
    line: 23,
    column: 12,
    path: "rollout.canary.0",
    message: /rollout\.canary\[0\]: "alcie" is not a claw in this manifest/,
    fix: /did you mean "alice"\?/,
  },
  {
    name: "a canary listed twice is refused",
    edits: { 23: "  canary: [alice, alice]" },
    line: 23,
    column: 19,
    path: "rollout.canary.1",
    message: /"alice" is listed twice/,
  },
  {
    name: "a retired canary is refused",
    edits: { 23: "  canary: [bob]", 21: "  bob: { retired: true }" },
    line: 23,
    column: 12,
    path: "rollout.canary.0",
    message: /"bob" is retired/,
  },
  {
    name: "a max_unhealthy that is not a count or percent is refused",
    edits: { "+24": "  max_unhealthy: some" },
    line: 25,
    column: 18,
    path: "rollout.max_unhealthy",
    message: /"some" is not a count or a percent from 0% to 100%/,
  },
  {
    name: "a pause longer than a GitHub job can run is refused",
    edits: { "+24": "  pause_seconds: 99999" },
    line: 25,
    column: 18,
    path: "rollout.pause_seconds",
    message: /99999 is not a whole number from 0 to 21600/,
  },
  {
    name: "a parallelism of 0 is refused",
    edits: { "+24": "  parallelism: 0" },
    line: 25,
    column: 16,
    path: "rollout.parallelism",
    message: /0 is not a whole number from 1 to 50/,
  },
  {
    name: "keeping no snapshot, or more than the limit, is refused",
    edits: { "+24": "  snapshots_kept: 0" },
    line: 25,
    column: 19,
    path: "rollout.snapshots_kept",
    message: /0 is not a whole number from 1 to 100/,
  },
  {
    name: "verify off with rollback on is a warning",
    edits: { "+24": "  verify: false" },
    line: 25,
    column: 11,
    path: "rollout.verify",
    message: /rollback never happens/,
    severity: "warning",
  },
  // ---- ssh
  {
    name: "an ECDSA admin key is refused: Azure takes RSA and ed25519 only",
    edits: {
      26: `  admin_public_key: "${sshKeyLine("ecdsa-sha2-nistp256", Buffer.from("nistp256"), Buffer.alloc(65, 4))}"`,
    },
    line: 26,
    column: 21,
    path: "ssh.admin_public_key",
    message: /Azure accepts only ssh-ed25519 and ssh-rsa keys, not ecdsa-sha2-nistp256/,
  },
  {
    name: "a short RSA admin key is refused",
    edits: { 26: `  admin_public_key: "${rsaKeyLine(1024)}"` },
    line: 26,
    column: 21,
    path: "ssh.admin_public_key",
    message: /the RSA key has 1024 bits; Azure requires at least 2048/,
  },
  {
    name: "a truncated ed25519 key is refused",
    edits: { 26: '  admin_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"' },
    line: 26,
    column: 21,
    path: "ssh.admin_public_key",
    message: /not an ssh-ed25519 public key/,
  },
  {
    name: "an allowed source that is not an address is refused",
    edits: { 27: "  allowed_cidrs: [office]" },
    line: 27,
    column: 19,
    path: "ssh.allowed_cidrs.0",
    message: /"office" is not an IP address or CIDR prefix/,
  },
  {
    name: "SSH open to the internet is a warning",
    edits: { 27: "  allowed_cidrs: [0.0.0.0/0]" },
    line: 27,
    column: 19,
    path: "ssh.allowed_cidrs.0",
    message: /opens SSH \(port 22\) to the whole internet/,
    severity: "warning",
  },
  {
    name: "an SSH source inside the claws' subnet is refused: the rule between claws denies it first",
    edits: { 27: "  allowed_cidrs: [203.0.113.0/24, 10.0.0.5]" },
    line: 27,
    column: 35,
    path: "ssh.allowed_cidrs.1",
    message: /"10\.0\.0\.5" lies in the claws' subnet 10\.0\.0\.0\/24.*SSH from there never reaches a claw/,
    fix: /another subnet.*azure\.allow_claw_to_claw: true/,
  },
  {
    name: "an SSH source that covers the claws' subnet is a warning: it admits no claw",
    edits: { 27: "  allowed_cidrs: [10.0.0.0/8]" },
    line: 27,
    column: 19,
    path: "ssh.allowed_cidrs.0",
    message:
      /"10\.0\.0\.0\/8" covers the claws' subnet 10\.0\.0\.0\/24: SSH gets in from its addresses outside that subnet only/,
    severity: "warning",
  },
  {
    name: "SSH open to a prefix wider than /8 is a warning",
    edits: { 27: "  allowed_cidrs: [203.0.113.0/24, 64.0.0.0/3]" },
    line: 27,
    column: 35,
    path: "ssh.allowed_cidrs.1",
    message: /"64\.0\.0\.0\/3" opens SSH \(port 22\) to a \/3, wider than a \/8/,
    severity: "warning",
  },
  {
    name: "an ssh block without an admin key is a warning",
    edits: { 26: null },
    line: 25,
    column: 1,
    path: "ssh",
    message: /no admin_public_key; deploy-fleet needs an admin key/,
    severity: "warning",
  },
  {
    name: "an empty claws map is a warning",
    edits: { 19: "claws: {}", 20: null, 21: null, 23: "  canary: 0" },
    line: 19,
    column: 1,
    path: "claws",
    message: /the fleet has no claws/,
    severity: "warning",
  },
  // ---- secrets
  {
    name: "a Key Vault name Azure refuses is an error at its value",
    edits: { "+27": "secrets:\n  key_vault: kv--claws" },
    line: 29,
    column: 14,
    path: "secrets.key_vault",
    message: /not a valid Azure Key Vault name: it can't contain consecutive hyphens/,
  },
  {
    name: "a Key Vault name longer than 24 characters is refused",
    edits: { "+27": "secrets:\n  key_vault: kv-claws-westus-production" },
    line: 29,
    column: 14,
    path: "secrets.key_vault",
    message: /the limit is 24/,
  },
  {
    name: "an unknown key under secrets suggests key_vault",
    edits: { "+27": "secrets:\n  keyvault: kv-claws" },
    line: 29,
    column: 3,
    path: "secrets.keyvault",
    message: /did you mean "key_vault"\?/,
  },
];

describe("validation rules", () => {
  it.each(CASES)("$name", (c) => {
    const source = c.text ?? manifestText(c.edits);
    const r = parseManifest(source, "fleet/claws.yaml");
    const severity = c.severity ?? "error";
    const hit = r.problems.find((p) => p.path === c.path && c.message.test(p.message));
    expect(
      hit,
      `problems were:\n${r.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}`).join("\n")}`,
    ).toBeDefined();
    expect(hit).toMatchObject({ file: "fleet/claws.yaml", line: c.line, column: c.column, severity });
    if (c.fix) expect(hit!.fix).toMatch(c.fix);
    expect(hit!.endLine).toBeGreaterThanOrEqual(hit!.line);
    // An error keeps the manifest from being used; a warning does not.
    if (severity === "error") expect(r.manifest).toBeUndefined();
    else expect(r.manifest).toBeDefined();
  });

  it("accepts a 2048-bit RSA admin key", () => {
    expect(only(manifestText({ 26: `  admin_public_key: "${rsaKeyLine(2048)}"` }))).toEqual([]);
  });

  it("refuses a pasted private key without echoing it", () => {
    const secret = "b3BlbnNzaC1rZXktdjEAAAAACANARYSECRET";
    const text = manifestText({
      26: `  admin_public_key: "-----BEGIN OPENSSH PRIVATE KEY-----\\n${secret}\\n-----END OPENSSH PRIVATE KEY-----"`,
    });
    const problems = only(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/this is a private key/);
    expect(JSON.stringify(problems)).not.toContain(secret);
  });

  it("points the end of a problem at the end of the offending value", () => {
    const [p] = only(manifestText({ 15: "  vm_size: Standard D4" }));
    expect(p).toMatchObject({ line: 15, column: 12, endLine: 15, endColumn: 22 });
  });

  it("reports every problem of a broken manifest at once, in source order", () => {
    const text = manifestText({
      2: "  location: West US",
      "+10": '  fleet_image_version: "1.0"',
      15: "  vm_size: D4",
      "+18": "  vmsize: Standard_D4s_v5",
      20: "  alice_x: {}",
      24: '  wave_size: "0%"',
      27: "  allowed_cidrs: [10.0.0.0/8, nope]",
    });
    const problems = only(text);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      "2:13 azure.location",
      "11:24 azure.fleet_image_version",
      "16:12 defaults.vm_size",
      "20:3 defaults.vmsize",
      "22:3 claws.alice_x",
      "26:14 rollout.wave_size",
      "29:31 ssh.allowed_cidrs.1",
    ]);
    expect(problems.every((p) => p.file === "claws.yaml")).toBe(true);
  });
});

describe("files that are not manifests", () => {
  const first = (source: string | Uint8Array) => {
    const r = parseManifest(source, "claws.yaml");
    expect(r.manifest).toBeUndefined();
    expect(r.problems.length).toBeGreaterThan(0);
    return r.problems[0]!;
  };

  it.each(["", "\n\n", "# only a comment\n", "---\n"])("reports an empty file (%j) at 1:1", (text) => {
    expect(first(text)).toMatchObject({ line: 1, column: 1, message: "the manifest is empty" });
  });

  it("reports a top-level list", () => {
    expect(first("- azure\n- claws\n")).toMatchObject({
      line: 1,
      column: 1,
      message: expect.stringMatching(/must be a map .* not a list/),
    });
  });

  it("reports a top-level scalar", () => {
    expect(first("hello\n")).toMatchObject({
      line: 1,
      column: 1,
      message: expect.stringMatching(/not a single value/),
    });
  });

  it("reports a YAML syntax error at its place and nothing that follows from it", () => {
    const r = parseManifest(manifestText({ 7: "  address_space: [10.0.0.0/16" }), "claws.yaml");
    expect(r.problems.length).toBeGreaterThanOrEqual(1);
    expect(r.problems[0]).toMatchObject({ severity: "error", message: expect.stringMatching(/^YAML: /) });
    expect(r.problems[0]!.line).toBeGreaterThanOrEqual(7);
    expect(r.problems.some((p) => p.path !== "")).toBe(false);
  });

  it("reports tab indentation with the fix", () => {
    const p = first("azure:\n\tlocation: westus\n");
    expect(p).toMatchObject({ line: 2, column: 1, fix: "indent with spaces" });
  });

  it("reports a second YAML document", () => {
    const p = first(`${manifestText()}---\nazure: {}\n`);
    expect(p.message).toMatch(/more than one YAML document/);
    expect(p.fix).toMatch(/remove the extra ---/);
  });

  it("reports bytes that are not UTF-8 at their line and column", () => {
    const bytes = Buffer.concat([
      Buffer.from("azure:\n  location: we"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("stus\n"),
    ]);
    expect(first(bytes)).toMatchObject({
      line: 2,
      column: 15,
      message: expect.stringMatching(/not valid UTF-8 \(byte 0xff/),
    });
  });

  it("reports a truncated UTF-8 sequence at the end", () => {
    expect(first(Buffer.from([0x61, 0x3a, 0x20, 0xe2, 0x82]))).toMatchObject({ line: 1, column: 4 });
  });

  it("reports UTF-16 with the fix to save as UTF-8", () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("azure:", "utf16le")]);
    expect(first(bytes)).toMatchObject({
      message: "the manifest is UTF-16 encoded",
      fix: "save the file as UTF-8",
    });
  });

  it("accepts a UTF-8 byte-order mark", () => {
    const r = parseManifest(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(manifestText())]),
      "claws.yaml",
    );
    expect(r.problems).toEqual([]);
  });

  it("refuses input over the size limit before parsing it", () => {
    const huge = `# ${"x".repeat(MAX_MANIFEST_BYTES)}\n`;
    expect(first(huge)).toMatchObject({
      line: 1,
      column: 1,
      message: expect.stringMatching(/is \d+ bytes; the limit is 1048576 bytes/),
    });
  });

  it("reports YAML nested too deeply for the parser", () => {
    const p = first(`a: ${"[".repeat(20_000)}${"]".repeat(20_000)}\n`);
    expect(p.message).toMatch(/nested too deeply|nests more than/);
  });

  it("reports YAML nested deeper than any manifest", () => {
    const p = first(`azure: ${"[".repeat(40)}${"]".repeat(40)}\n`);
    expect(p).toMatchObject({ line: 1, message: "the YAML nests more than 32 levels deep" });
  });

  it("refuses an alias expansion bomb", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(", ")}]`);
    }
    expect(first(`${lines.join("\n")}\n`).message).toMatch(/expands too many aliases/);
  });

  it("never throws, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = parseManifest(bytes, "claws.yaml");
        return r.problems.every((p) => p.line >= 1 && p.column >= 1);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on a damaged manifest, and reports every problem with a position", () => {
    const text = manifestText();
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.nat(40), fc.string({ maxLength: 6 }), (at, len, insert) => {
        const damaged = text.slice(0, at) + insert + text.slice(at + len);
        const r = parseManifest(damaged, "claws.yaml");
        for (const p of r.problems) {
          if (!(p.line >= 1 && p.column >= 1 && p.message.length > 0 && p.file === "claws.yaml"))
            return false;
        }
        return r.manifest !== undefined || r.problems.some((p) => p.severity === "error");
      }),
      { numRuns: 400 },
    );
  });
});

describe("locate", () => {
  const r = parseManifest(manifestText({ "+21": "  c-d: { vm_size: Standard_D2s_v5 }" }), "claws.yaml");

  it("finds a scalar value", () => {
    expect(r.locate("claws.bob.vm_size")).toEqual({ line: 21, column: 19, endLine: 21, endColumn: 33 });
  });

  it("finds a claw by its key", () => {
    expect(r.locate("claws.alice")).toMatchObject({ line: 20, column: 3 });
  });

  it("finds a list item by index", () => {
    expect(r.locate("azure.subnet_prefixes.0")).toMatchObject({ line: 8, column: 21 });
  });

  it("falls back to the nearest existing parent for a path that is not written", () => {
    expect(r.locate("claws.alice.data_disk_size_gb")).toMatchObject({ line: 20, column: 3 });
    expect(r.locate("nothing.here")).toMatchObject({ line: 1, column: 1 });
  });

  it("finds keys in a manifest with key errors too", () => {
    const bad = parseManifest(manifestText({ 15: "  vm_size: nope" }), "claws.yaml");
    expect(bad.manifest).toBeUndefined();
    expect(bad.locate("defaults.model")).toMatchObject({ line: 16, column: 10 });
  });
});
