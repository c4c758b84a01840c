// Request-body checks every resource provider shares.
import { ArmError, invalidParameter } from "../arm-error.ts";

// Tag limits: 50 tags per resource, names up to 512 characters (128 on storage), values up to 256.
// https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
const MAX_TAGS = 50;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;

/**
 * A time as Compute writes it in a resource (a disk's or snapshot's timeCreated, a VM's, an
 * instance view status's time): ISO 8601 with seven fractional digits and an explicit offset, as
 * .NET's round-trip format writes it; e.g. "timeCreated": "2016-12-28T04:41:35.079872+00:00" in
 * the disk example of https://learn.microsoft.com/rest/api/compute/disks/get. Not JavaScript's
 * "...35.079Z": a client that hands ARM's string on as if it were `Date#toISOString()` shows here
 * as it would against Azure. The digits below the millisecond come from the process's
 * high-resolution clock.
 */
export function computeTime(ms: number): string {
  const belowMs = Math.floor((performance.now() % 1) * 10_000);
  return `${new Date(Math.floor(ms)).toISOString().slice(0, -1)}${String(belowMs).padStart(4, "0")}+00:00`;
}

/** Reads `tags` from a body; undefined when absent. Throws ARM's errors for invalid tags. */
export function readTags(body: Record<string, unknown> | undefined): Record<string, string> | undefined {
  const tags = body?.tags;
  if (tags === undefined || tags === null) return undefined;
  if (typeof tags !== "object" || Array.isArray(tags))
    throw new ArmError(400, "InvalidTag", "The tags must be a JSON object of strings.");
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length > MAX_TAGS) {
    throw new ArmError(400, "InvalidTag", `The number of tags exceeds the maximum of ${MAX_TAGS}.`, "tags");
  }
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (typeof value !== "string")
      throw new ArmError(400, "InvalidTag", `The value of tag '${name}' must be a string.`, "tags");
    if (name.length > MAX_TAG_NAME || /[<>%&\\?/]/.test(name)) {
      throw new ArmError(
        400,
        "InvalidTagNameCharacters",
        `The tag names '${name}' have reserved characters '<,>,%,&,\\,?,/' or control characters.`,
        "tags",
      );
    }
    if (value.length > MAX_TAG_VALUE) {
      throw new ArmError(
        400,
        "InvalidTag",
        `The tag value for '${name}' exceeds the maximum length of ${MAX_TAG_VALUE}.`,
        "tags",
      );
    }
    out[name] = value;
  }
  return out;
}

export function requireLocation(body: Record<string, unknown> | undefined): string {
  const location = body?.location;
  if (typeof location !== "string" || location === "") {
    throw new ArmError(400, "LocationRequired", "The location property is required for this definition.");
  }
  return location.toLowerCase().replace(/\s+/g, "");
}

/** When updating, ARM refuses to move a resource to another region. */
export function requireSameLocation(existing: { location?: string; id: string }, location: string): void {
  if (existing.location && existing.location.toLowerCase() !== location.toLowerCase()) {
    throw new ArmError(
      409,
      "InvalidResourceLocation",
      `The resource '${existing.id.split("/").pop()}' already exists in location '${existing.location}' in resource group. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
    );
  }
}

export function properties(body: Record<string, unknown> | undefined): Record<string, unknown> {
  const p = body?.properties;
  if (p === undefined || p === null) return {};
  if (typeof p !== "object" || Array.isArray(p))
    throw invalidParameter("The 'properties' value must be an object.", "properties");
  return p as Record<string, unknown>;
}

export function obj(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function idOf(value: unknown): string | undefined {
  const o = obj(value);
  return typeof o?.id === "string" ? o.id : undefined;
}

/** Splits `/subscriptions/.../resourceGroups/rg/providers/Ns/type/name` into rg and names for messages. */
export function describeId(id: string): { resourceGroup: string; typeAndName: string } {
  const parts = id.split("/");
  const rgIndex = parts.findIndex((p) => p.toLowerCase() === "resourcegroups");
  const provIndex = parts.findIndex((p) => p.toLowerCase() === "providers");
  const resourceGroup = rgIndex >= 0 ? (parts[rgIndex + 1] ?? "") : "";
  const typeAndName = provIndex >= 0 ? parts.slice(provIndex + 1).join("/") : id;
  return { resourceGroup, typeAndName };
}
