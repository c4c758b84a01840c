import { describe, expect, it } from "vitest";
import {
  compareGalleryVersions,
  imageVersionProblem,
  parseGalleryVersion,
  resolveImageVersion,
} from "../src/image-version.ts";
import { resolveFleet } from "../src/resolve.ts";
import { TAGS } from "../src/tags.ts";
import { seedManifestYaml } from "../src/testing.ts";
import { manifestOf, manifestText } from "./helpers.ts";

describe("resolveFleet", () => {
  const fleet = resolveFleet(
    manifestOf(
      manifestText({ 21: '  bob: { vm_size: Standard_D8s_v5, image_version: "1.1.0", retired: true }' }),
    ),
    "fleet/claws.yaml",
  );

  it("keeps manifest order and the manifest file", () => {
    expect(fleet.claws.map((c) => c.name)).toEqual(["alice", "bob"]);
    expect(fleet.manifestFile).toBe("fleet/claws.yaml");
  });

  it("merges defaults under each claw's overrides", () => {
    expect(fleet.claws[0]!.settings).toEqual({
      admin_username: "azureuser",
      vm_size: "Standard_D4s_v5",
      data_disk_size_gb: 32,
      data_disk_sku: "Standard_LRS",
      image_version: "1.0.0",
      model: "xai/grok-4-1-fast-non-reasoning",
      telegram_user_id: "",
      enable_trusted_launch: false,
    });
    expect(fleet.claws[1]!.settings).toMatchObject({ vm_size: "Standard_D8s_v5", image_version: "1.1.0" });
    expect(fleet.claws[1]!.retired).toBe(true);
    expect(fleet.claws[0]!.retired).toBe(false);
  });

  it("derives the seed's resource names", () => {
    expect(fleet.claws[0]!.names).toEqual({
      vm: "alice",
      nic: "alice-nic",
      keyVaultSecret: "claw-alice",
      publicIp: "alice-pip",
      dataDisk: "alice-data",
      computerName: "alice",
    });
  });

  it("tags every resource with the fleet tags and the claw's name", () => {
    expect(fleet.claws[1]!.tags).toEqual({ project: "openclawps", [TAGS.claw]: "bob" });
  });

  it("honours a per-claw image version, which the seed ignored", () => {
    const seed = resolveFleet(manifestOf(seedManifestYaml()), "claws.yaml");
    expect(seed.claws[0]!.settings.image_version).toBe("1.0.0");
    expect(fleet.claws[1]!.settings.image_version).toBe("1.1.0");
  });
});

describe("gallery versions", () => {
  it("parses Major.Minor.Patch within 32 bits", () => {
    expect(parseGalleryVersion("1.2.3")).toEqual([1, 2, 3]);
    expect(parseGalleryVersion("2147483647.0.0")).toEqual([2147483647, 0, 0]);
    for (const bad of [
      "2147483648.0.0",
      "1.2",
      "1.2.3.4",
      "v1.2.3",
      "01.2.3",
      "1.2.-3",
      " 1.2.3",
      "latest",
    ]) {
      expect(parseGalleryVersion(bad), bad).toBeUndefined();
    }
  });

  it("explains what is wrong with a version", () => {
    expect(imageVersionProblem("1.0.0")).toBeUndefined();
    expect(imageVersionProblem("latest")).toBeUndefined();
    expect(imageVersionProblem("LATEST")).toMatch(/lower case/);
    expect(imageVersionProblem("1.0")).toMatch(/three parts/);
  });

  it("orders versions numerically, not as text", () => {
    expect(compareGalleryVersions("1.10.0", "1.9.0")).toBe(1);
    expect(compareGalleryVersions("2.0.0", "10.0.0")).toBe(-1);
    expect(compareGalleryVersions("1.0.0", "1.0.0")).toBe(0);
  });

  it("resolves latest to the highest version and ignores malformed ones", () => {
    expect(resolveImageVersion("latest", ["1.9.0", "1.10.0", "garbage", "1.2.0"])).toBe("1.10.0");
    expect(resolveImageVersion("latest", [])).toBeUndefined();
  });

  it("resolves an explicit version only when the gallery has it", () => {
    expect(resolveImageVersion("1.1.0", ["1.0.0", "1.1.0"])).toBe("1.1.0");
    expect(resolveImageVersion("2.0.0", ["1.0.0", "1.1.0"])).toBeUndefined();
    expect(resolveImageVersion("nonsense", ["nonsense"])).toBeUndefined();
  });
});
