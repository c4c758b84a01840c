import { describe, expect, it } from "vitest";
import {
  diskControllerFor,
  type ImageDefinitionFacts,
  type SizeCapabilities,
  vmCreateProblems,
} from "../src/vm-compatibility.ts";

const size = (over: Partial<SizeCapabilities> = {}): SizeCapabilities => ({
  name: "Standard_D2s_v5",
  premiumIO: true,
  hyperVGenerations: ["V1", "V2"],
  diskControllerTypes: [],
  restrictions: [],
  ...over,
});
const image = (over: Partial<ImageDefinitionFacts> = {}): ImageDefinitionFacts => ({
  name: "claw-desktop",
  hyperVGeneration: "V2",
  ...over,
});
const request = { vmSize: "Standard_D2s_v5", trustedLaunch: false, diskSkus: ["Standard_LRS"] };
const PLAN = { name: "planid125", publisher: "amdinc1746636494855", product: "nvv5_v710_linux_rocm_image" };
const codes = (...args: Parameters<typeof vmCreateProblems>) => vmCreateProblems(...args).map((p) => p.code);

describe("vmCreateProblems", () => {
  it("finds nothing wrong with a VM its image and size can take", () => {
    expect(vmCreateProblems(request, image(), size(), "westus")).toEqual([]);
    expect(
      vmCreateProblems(
        { ...request, trustedLaunch: true },
        image({ securityType: "TrustedLaunchSupported" }),
        size(),
        "westus",
      ),
    ).toEqual([]);
  });

  it("names a size the location does not offer, and one restricted for the subscription", () => {
    expect(vmCreateProblems(request, image(), "not-offered", "westus")).toEqual([
      expect.objectContaining({
        code: "SkuNotAvailable",
        cause: "VM size Standard_D2s_v5 is not offered in westus",
      }),
    ]);
    expect(
      codes(request, image(), size({ restrictions: ["NotAvailableForSubscription"] }), "westus"),
    ).toEqual(["SkuNotAvailable"]);
  });

  it("refuses a generation the size cannot boot", () => {
    const [p] = vmCreateProblems(request, image(), size({ hyperVGenerations: ["V1"] }), "westus");
    expect(p).toMatchObject({
      code: "BadRequest",
      cause: expect.stringContaining("cannot boot Hyper-V generation V2"),
    });
  });

  it("refuses Trusted Launch without the image's SecurityType, and a standard VM from a TrustedLaunch-only image", () => {
    expect(codes({ ...request, trustedLaunch: true }, image(), size(), "westus")).toEqual(["BadRequest"]);
    const [p] = vmCreateProblems(request, image({ securityType: "TrustedLaunch" }), size(), "westus");
    expect(p).toMatchObject({ fix: "set enable_trusted_launch: true for the claw" });
  });

  it("refuses an NVMe-only size for an image tagged SCSI only, not for one tagged for both", () => {
    const nvme = size({ diskControllerTypes: ["NVMe"] });
    expect(codes(request, image(), nvme, "westus")).toEqual(["InvalidParameter"]);
    expect(codes(request, image({ diskControllerTypes: ["SCSI", "NVMe"] }), nvme, "westus")).toEqual([]);
  });

  it("refuses a VM whose purchase plan differs from the image definition's, either way", () => {
    expect(codes(request, image({ purchasePlan: PLAN }), size(), "westus")).toEqual([
      "VMMarketplaceInvalidInput",
    ]);
    expect(
      codes(
        { ...request, plan: { ...PLAN, name: "other" } },
        image({ purchasePlan: PLAN }),
        size(),
        "westus",
      ),
    ).toEqual(["VMMarketplaceInvalidInput"]);
    expect(codes({ ...request, plan: PLAN }, image(), size(), "westus")).toEqual([
      "VMMarketplaceInvalidInput",
    ]);
    expect(
      codes(
        { ...request, plan: { ...PLAN, name: "PLANID125" } },
        image({ purchasePlan: PLAN }),
        size(),
        "westus",
      ),
    ).toEqual([]);
  });

  it("refuses a premium disk on a size without premium storage", () => {
    const [p] = vmCreateProblems(
      { ...request, diskSkus: ["Premium_LRS"] },
      image(),
      size({ premiumIO: false }),
      "westus",
    );
    expect(p).toMatchObject({
      code: "InvalidParameter",
      cause: expect.stringContaining("does not support premium storage"),
    });
  });

  it("checks only the image definition when the sizes could not be read", () => {
    expect(
      codes({ ...request, trustedLaunch: true, diskSkus: ["Premium_LRS"] }, image(), "unknown", "westus"),
    ).toEqual(["BadRequest"]);
  });
});

describe("diskControllerFor", () => {
  const nvmeOnly = size({ name: "Standard_D2ads_v6", diskControllerTypes: ["NVMe"] });
  const both = size({ diskControllerTypes: ["SCSI", "NVMe"] });
  const nvmeImage = image({ diskControllerTypes: ["SCSI", "NVMe"] });

  it("asks for NVMe only for a size without SCSI on an image that declares NVMe", () => {
    expect(diskControllerFor(nvmeOnly, nvmeImage)).toBe("NVMe");
    expect(diskControllerFor(nvmeOnly, image())).toBeUndefined();
    expect(diskControllerFor(both, nvmeImage)).toBeUndefined();
    expect(diskControllerFor(size(), nvmeImage)).toBeUndefined();
    expect(diskControllerFor("unknown", nvmeImage)).toBeUndefined();
  });

  it("asks for SCSI back when a VM on NVMe moves to a size without NVMe", () => {
    expect(diskControllerFor(size(), nvmeImage, "NVMe")).toBe("SCSI");
    expect(diskControllerFor(both, nvmeImage, "NVMe")).toBeUndefined();
    expect(diskControllerFor(size(), nvmeImage, "SCSI")).toBeUndefined();
  });
});
