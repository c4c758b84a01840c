// Microsoft.Compute galleries (Azure Compute Gallery): galleries, image definitions, image versions.
// https://learn.microsoft.com/rest/api/compute/galleries
// https://learn.microsoft.com/rest/api/compute/gallery-image-versions
//
// LRO habits: PUT answers 201 (new) / 200 (update) with `Azure-AsyncOperation` and the body in
// provisioningState Creating/Updating; DELETE answers 202 with `Location` + `Azure-AsyncOperation`.
import type { Arm, Reply, ResourceRequest, ResourceType } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter } from "../arm-error.ts";
import type { StoredResource } from "../world.ts";
import { obj, properties, readTags, requireLocation } from "./common.ts";

export const GALLERY = "Microsoft.Compute/galleries";
export const GALLERY_IMAGE = "Microsoft.Compute/galleries/images";
export const GALLERY_IMAGE_VERSION = "Microsoft.Compute/galleries/images/versions";

// Gallery names: alphanumerics, underscores and periods, 1-80, not starting or ending with . or _
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules#microsoftcompute
const GALLERY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9])?$/;
// Image version names are Major(int32).Minor(int32).Patch(int32).
// https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#image-versions
const VERSION_NAME = /^(\d+)\.(\d+)\.(\d+)$/;
const INT32_MAX = 2 ** 31 - 1;

/** Required-parameter error in the Compute RP's wording. */
export function missing(name: string): ArmError {
  return invalidParameter(`Required parameter '${name}' is missing (null).`, name);
}

function write(
  arm: Arm,
  req: ResourceRequest,
  resource: StoredResource,
  existing: StoredResource | undefined,
  kind: "gallery.write" | "imageVersion.create",
): Reply {
  resource.properties.provisioningState = existing ? "Updating" : "Creating";
  arm.upsert(resource);
  return arm.accept(req, {
    kind,
    completion: "provision",
    resourceId: resource.id,
    location: resource.location ?? "westus",
    status: existing ? 200 : 201,
    body: stripHidden(resource),
    headers: "async",
  });
}

function remove(
  arm: Arm,
  req: ResourceRequest,
  existing: StoredResource,
  kind: "gallery.delete" | "imageVersion.delete",
): Reply {
  existing.properties.provisioningState = "Deleting";
  return arm.accept(req, {
    kind,
    completion: "delete",
    resourceId: existing.id,
    location: existing.location ?? "westus",
    status: 202,
    headers: "both",
  });
}

/** Tags and a few mutable properties; synchronous 200 with the updated resource. */
function patchResource(req: ResourceRequest, existing: StoredResource, mutable: string[]): Reply {
  const tags = readTags(req.body);
  if (tags !== undefined) existing.tags = tags;
  const props = properties(req.body);
  for (const [k, v] of Object.entries(props)) {
    if (!mutable.includes(k)) continue;
    const current = obj(existing.properties[k]);
    const update = obj(v);
    existing.properties[k] = current && update ? { ...current, ...update } : v;
  }
  return { status: 200, body: stripHidden(existing) };
}

function galleries(arm: Arm): ResourceType {
  return {
    type: GALLERY,
    sdkName: "galleries",
    put(req, existing) {
      if (!GALLERY_NAME.test(req.name)) {
        throw invalidParameter(
          `The gallery name '${req.name}' is invalid. The name can contain only alphanumerics, underscores and periods, and cannot start or end with an underscore or a period.`,
          "galleryName",
        );
      }
      const location = requireLocation(req.body);
      const props = properties(req.body);
      const gallery: StoredResource = {
        id: req.id,
        name: req.name,
        type: GALLERY,
        location,
        properties: {
          ...props,
          identifier: {
            uniqueName:
              (obj(existing?.properties.identifier)?.uniqueName as string | undefined) ??
              `${arm.subscriptionId}-${req.name.toUpperCase()}`,
          },
        },
      };
      const tags = readTags(req.body);
      if (tags !== undefined) gallery.tags = tags;
      return write(arm, req, gallery, existing, "gallery.write");
    },
    patch: (req, existing) => patchResource(req, existing, ["description"]),
    delete(req, existing) {
      if (arm.children(existing.id, GALLERY_IMAGE).length > 0) {
        // https://learn.microsoft.com/azure/virtual-machines/shared-image-galleries#deleting
        throw new ArmError(
          409,
          "CannotDeleteResource",
          `Can not delete resource before nested resources are deleted.`,
        );
      }
      return remove(arm, req, existing, "gallery.delete");
    },
  };
}

function galleryImages(arm: Arm): ResourceType {
  return {
    type: GALLERY_IMAGE,
    sdkName: "galleryImages",
    put(req, existing) {
      const location = requireLocation(req.body);
      const props = properties(req.body);
      if (props.osType === undefined) throw missing("galleryImage.properties.osType");
      if (props.osState === undefined) throw missing("galleryImage.properties.osState");
      const identifier = obj(props.identifier);
      if (!identifier?.publisher || !identifier.offer || !identifier.sku)
        throw missing("galleryImage.properties.identifier");
      if (existing) {
        const before = obj(existing.properties.identifier);
        if (
          before &&
          (before.publisher !== identifier.publisher ||
            before.offer !== identifier.offer ||
            before.sku !== identifier.sku)
        ) {
          throw new ArmError(
            409,
            "PropertyChangeNotAllowed",
            "Changing property 'galleryImage.properties.identifier' is not allowed.",
            "galleryImage.properties.identifier",
          );
        }
      }
      const image: StoredResource = {
        id: req.id,
        name: req.name,
        type: GALLERY_IMAGE,
        location,
        properties: { hyperVGeneration: "V1", architecture: "x64", ...props },
      };
      const tags = readTags(req.body);
      if (tags !== undefined) image.tags = tags;
      return write(arm, req, image, existing, "gallery.write");
    },
    patch: (req, existing) =>
      patchResource(req, existing, ["description", "endOfLifeDate", "recommended", "disallowed"]),
    delete(req, existing) {
      if (arm.children(existing.id, GALLERY_IMAGE_VERSION).length > 0) {
        throw new ArmError(
          409,
          "CannotDeleteResource",
          "Can not delete resource before nested resources are deleted.",
        );
      }
      return remove(arm, req, existing, "gallery.delete");
    },
  };
}

export function validateVersionName(name: string): void {
  const m = VERSION_NAME.exec(name);
  if (!m || m.slice(1).some((p) => Number(p) > INT32_MAX)) {
    throw invalidParameter(
      `The gallery image version name '${name}' is invalid. The version name must follow Major(int32).Minor(int32).Patch(int32) format, e.g. 1.0.0, 2018.12.1 etc.`,
      "galleryImageVersionName",
    );
  }
}

function galleryImageVersions(arm: Arm): ResourceType {
  return {
    type: GALLERY_IMAGE_VERSION,
    sdkName: "galleryImageVersions",
    put(req, existing) {
      validateVersionName(req.name);
      const location = requireLocation(req.body);
      const version = buildVersion(arm, req.id, req.name, location, properties(req.body), existing);
      const tags = readTags(req.body);
      if (tags !== undefined) version.tags = tags;
      return write(arm, req, version, existing, "imageVersion.create");
    },
    patch: (req, existing) => patchResource(req, existing, ["publishingProfile", "safetyProfile"]),
    delete: (req, existing) => remove(arm, req, existing, "imageVersion.delete"),
  };
}

export function buildVersion(
  _arm: Arm,
  id: string,
  name: string,
  location: string,
  props: Record<string, unknown>,
  existing: StoredResource | undefined,
): StoredResource {
  const publishing = obj(props.publishingProfile) ?? {};
  const storage = obj(props.storageProfile) ?? {};
  const osDiskImage = obj(storage.osDiskImage) ?? {};
  return {
    id,
    name,
    type: GALLERY_IMAGE_VERSION,
    location,
    properties: {
      ...props,
      publishingProfile: {
        targetRegions: [{ name: location, regionalReplicaCount: 1, storageAccountType: "Standard_LRS" }],
        replicaCount: 1,
        excludeFromLatest: false,
        storageAccountType: "Standard_LRS",
        ...publishing,
        publishedDate:
          (obj(existing?.properties.publishingProfile)?.publishedDate as string | undefined) ??
          new Date().toISOString(),
      },
      storageProfile: {
        ...storage,
        osDiskImage: { sizeInGB: 30, hostCaching: "ReadWrite", ...osDiskImage },
      },
      safetyProfile: { allowDeletionOfReplicatedLocations: true, ...(obj(props.safetyProfile) ?? {}) },
    },
  };
}

/** Highest version not excluded from latest (what `latest` resolves to). */
export function latestVersion(arm: Arm, imageId: string): StoredResource | undefined {
  const candidates = arm
    .children(imageId, GALLERY_IMAGE_VERSION)
    .filter((v) => v.properties.provisioningState !== "Deleting")
    .filter((v) => obj(v.properties.publishingProfile)?.excludeFromLatest !== true);
  const parse = (n: string) => n.split(".").map(Number) as [number, number, number];
  candidates.sort((a, b) => {
    const [a1, a2, a3] = parse(a.name);
    const [b1, b2, b3] = parse(b.name);
    return a1 - b1 || a2 - b2 || a3 - b3;
  });
  return candidates[candidates.length - 1];
}

export function registerGallery(arm: Arm): void {
  arm.register(galleries(arm));
  arm.register(galleryImages(arm));
  arm.register(galleryImageVersions(arm));
}
