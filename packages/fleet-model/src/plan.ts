// planFleet: (desired fleet, observed fleet) → one action per claw, with a human reason.
// Pure: no I/O, no clock, no randomness; the same inputs in any list order give the same plan
// and the same hash.
import { canonicalHash } from "./canonical-json.ts";
import { compareGalleryVersions, isGalleryVersion, LATEST, resolveImageVersion } from "./image-version.ts";
import { parseParkedBy } from "./power-schedule.ts";
import type { SecretVersionChange } from "./secret-source.ts";
import { planSharedInfra } from "./shared-infra-plan.ts";
import { TAGS } from "./tags.ts";
import type {
  ActionKind,
  ClawPlan,
  DesiredClaw,
  DesiredFleet,
  FieldChange,
  ObservedDisk,
  ObservedFleet,
  ObservedNic,
  ObservedPublicIp,
  ObservedVm,
  Plan,
  PlanLease,
  RolloutPolicy,
  SharedChange,
  UnprovenClaw,
} from "./types.ts";

/** Actions that change Azure. */
export const ACTIONABLE: readonly ActionKind[] = [
  "create",
  "recover",
  "replace",
  "resize",
  "grow-disk",
  "retire",
];
/** Actions that run in health-gated waves (a running claw is taken down). */
export const GATED: readonly ActionKind[] = ["replace", "resize", "grow-disk"];

/** ARM provisioning states in which another operation is still running on the VM. */
const BUSY_STATES = new Set(["creating", "updating", "deleting", "migrating"]);

interface Owned {
  /** Name as the owner tag or resource name spells it (for orphans). */
  display: string;
  vms: ObservedVm[];
  disks: ObservedDisk[];
  nics: ObservedNic[];
  publicIps: ObservedPublicIp[];
  /** How orphan resources were recognised. */
  seedNamed: boolean;
}

const lower = (s: string) => s.toLowerCase();
const sameId = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && lower(a) === lower(b);
const lastSegment = (id: string) => id.split("/").filter(Boolean).pop() ?? id;

/**
 * Resources by name, then id, compared without case, each name lower-cased once (not at every
 * comparison of the sort) and an id only when two names tie, with the name's lower case alongside
 * for the lookups that follow.
 */
function byName<T extends { name: string; id: string }>(items: readonly T[]): { r: T; name: string }[] {
  const keyed = items.map((r) => ({ r, name: lower(r.name), id: undefined as string | undefined }));
  const idOf = (k: (typeof keyed)[number]) => (k.id ??= lower(k.r.id));
  // Never 0: equal names and ids keep the order the comparisons give them.
  keyed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : idOf(a) < idOf(b) ? -1 : 1));
  return keyed;
}

/** Tag value by name; Azure tag names are case-insensitive. */
export function tagValue(tags: Record<string, string> | undefined, name: string): string | undefined {
  if (!tags) return undefined;
  if (Object.hasOwn(tags, name)) return tags[name];
  const key = Object.keys(tags).find((k) => lower(k) === lower(name));
  return key === undefined ? undefined : tags[key];
}

/** Image version a VM runs: what its imageReference says, else what it was tagged with. */
export function vmImageVersion(vm: ObservedVm): string | undefined {
  return vm.imageVersion ?? tagValue(vm.tags, TAGS.imageVersion);
}

function sameVersion(a: string | undefined, b: string | undefined): boolean {
  // The same text is the same version, whether or not it is a gallery version.
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return isGalleryVersion(a) && isGalleryVersion(b) && compareGalleryVersions(a, b) === 0;
}

/**
 * Groups observed resources by the claw they belong to: the claw tag first (the controller
 * writes it on everything it creates), else the seed's names (`{claw}`, `{claw}-data`, ...)
 * for claws in the manifest. Untagged disks named `X-data` with no claw X in the manifest are
 * taken as a seed-deployed claw X that was removed from the manifest, together with untagged
 * `X`, `X-nic`, `X-pip`; other untagged resources (a jump box, say) are nobody's.
 */
function groupResources(
  desired: readonly Pick<DesiredClaw, "name" | "names">[],
  observed: ObservedFleet,
): Map<string, Owned> {
  const groups = new Map<string, Owned>();
  const group = (owner: string, display: string, seedNamed = false): Owned => {
    const key = lower(owner);
    let g = groups.get(key);
    if (!g) {
      g = { display, vms: [], disks: [], nics: [], publicIps: [], seedNamed };
      groups.set(key, g);
    } else if (display < g.display) g.display = display; // order-independent choice of spelling
    return g;
  };
  const resourceName = {
    vms: (d: Pick<DesiredClaw, "names">) => d.names.vm,
    disks: (d: Pick<DesiredClaw, "names">) => d.names.dataDisk,
    nics: (d: Pick<DesiredClaw, "names">) => d.names.nic,
    publicIps: (d: Pick<DesiredClaw, "names">) => d.names.publicIp,
  };
  type Kind = keyof typeof resourceName;
  // The claws by the name of their resource of one kind, built for the first resource of that kind
  // without a claw tag: a fleet the controller deployed has none (but OS disks).
  const names: Partial<Record<Kind, Map<string, string>>> = {};
  const ownerByName = (kind: Kind) =>
    (names[kind] ??= new Map(desired.map((d) => [lower(resourceName[kind](d)), d.name])));
  const unowned: Record<Kind, { name: string; id: string; tags: Record<string, string> }[]> = {
    vms: [],
    disks: [],
    nics: [],
    publicIps: [],
  };
  const place = <T extends { name: string; id: string; tags: Record<string, string> }>(
    kind: Kind,
    items: T[],
  ) => {
    for (const { r, name } of byName(items)) {
      const tag = tagValue(r.tags, TAGS.claw);
      if (tag !== undefined && tag !== "") {
        (group(tag, tag)[kind] as T[]).push(r);
        continue;
      }
      const byNameOwner = ownerByName(kind).get(name);
      if (byNameOwner !== undefined) (group(byNameOwner, byNameOwner)[kind] as T[]).push(r);
      else unowned[kind].push(r);
    }
  };
  place("vms", observed.vms);
  place("disks", observed.disks);
  place("nics", observed.nics);
  place("publicIps", observed.publicIps);
  // Seed claws no longer in the manifest: recognised by their data disk.
  const seedOwners = new Set<string>();
  for (const disk of unowned.disks) {
    const m = /^(.+)-data$/i.exec(disk.name);
    if (!m) continue;
    group(m[1]!, m[1]!, true).disks.push(disk as ObservedDisk);
    seedOwners.add(lower(m[1]!));
  }
  const attach = <T extends { name: string }>(kind: Exclude<Kind, "disks">, suffix: string) => {
    for (const r of unowned[kind]) {
      const base = suffix ? r.name.slice(0, -suffix.length) : r.name;
      if ((!suffix || lower(r.name).endsWith(suffix)) && seedOwners.has(lower(base)))
        (groups.get(lower(base))![kind] as unknown as T[]).push(r as unknown as T);
    }
  };
  attach("vms", "");
  attach("nics", "-nic");
  attach("publicIps", "-pip");
  return groups;
}

/**
 * Each claw's VMs and data disks as the plan matches them (by claw tag, else seed name), keyed by
 * claw name: what the power schedule and the status view read, so they agree with the plan.
 */
export function clawResourcesOf(
  claws: readonly Pick<DesiredClaw, "name" | "names">[],
  observed: ObservedFleet,
): Map<string, { vms: ObservedVm[]; disks: ObservedDisk[] }> {
  const groups = groupResources(claws, observed);
  return new Map(
    claws.map((c) => {
      const g = groups.get(lower(c.name)) ?? EMPTY;
      return [c.name, { vms: g.vms, disks: g.disks }];
    }),
  );
}

/**
 * Claws (live ones) whose VM carries a config hash other than the desired one: those whose legacy
 * (v1) hash deploy-fleet computes, so that a VM deployed before the v2 hash with an unchanged
 * config is planned as unchanged (DesiredClaw.legacyConfigHash).
 */
export function clawsWithOtherConfigHash(desired: DesiredFleet, observed: ObservedFleet): Set<string> {
  // The VM's claw as groupResources finds it: its claw tag, else its name (one pass, no grouping).
  const live = desired.claws.filter((c) => !c.retired);
  const byClaw = new Map(live.map((c) => [lower(c.name), c]));
  const byVmName = new Map(live.map((c) => [lower(c.names.vm), c]));
  const claws = new Set<string>();
  for (const vm of observed.vms) {
    const hash = tagValue(vm.tags, TAGS.configHash);
    if (hash === undefined) continue;
    const tag = tagValue(vm.tags, TAGS.claw);
    const claw = tag !== undefined && tag !== "" ? byClaw.get(lower(tag)) : byVmName.get(lower(vm.name));
    if (claw && hash !== claw.configHash) claws.add(claw.name);
  }
  return claws;
}

const EMPTY: Owned = { display: "", vms: [], disks: [], nics: [], publicIps: [], seedNamed: false };

function presentList(g: Owned, vm: ObservedVm | undefined, disk: ObservedDisk | undefined): string | null {
  const parts = [
    vm && "vm",
    g.nics.length > 0 && "nic",
    g.publicIps.length > 0 && "pip",
    disk && "disk",
  ].filter(Boolean);
  return parts.length ? parts.join("+") : null;
}

function resourcesOf(g: Owned): ClawPlan["resources"] | undefined {
  const r: NonNullable<ClawPlan["resources"]> = {};
  if (g.vms.length === 1) r.vm = g.vms[0]!.id;
  if (g.disks.length === 1) r.dataDisk = g.disks[0]!.id;
  if (g.nics.length) r.nics = g.nics.map((n) => n.id);
  if (g.publicIps.length) r.publicIps = g.publicIps.map((p) => p.id);
  return Object.keys(r).length ? r : undefined;
}

function planRetired(d: DesiredClaw, g: Owned): ClawPlan {
  const base = { claw: d.name, desired: d, gated: false, changes: [] as FieldChange[] };
  const vm = g.vms[0];
  const disk = g.disks[0];
  const current = vm ? vmImageVersion(vm) : disk ? tagValue(disk.tags, TAGS.lastImage) : undefined;
  const withCurrent = (p: ClawPlan): ClawPlan =>
    current !== undefined ? { ...p, currentImageVersion: current } : p;
  if (g.vms.length > 1) {
    return withCurrent({
      ...base,
      action: "blocked",
      reason: `retired, but ${g.vms.length} VMs belong to it (${g.vms.map((v) => v.name).join(", ")}); delete the extra VM by hand (keep its data disk)`,
    });
  }
  if (vm || g.nics.length || g.publicIps.length) {
    const what = [
      vm && `VM ${vm.name}`,
      ...g.nics.map((n) => `NIC ${n.name}`),
      ...g.publicIps.map((p) => `public IP ${p.name}`),
    ]
      .filter(Boolean)
      .join(", ");
    return withCurrent({
      ...base,
      action: "retire",
      reason: `retired: delete ${what}; ${disk ? `keep data disk ${disk.name}` : "no data disk to keep"}`,
      changes: [{ field: "exists", from: presentList(g, vm, disk), to: disk ? "disk" : null }],
    });
  }
  return withCurrent({
    ...base,
    action: "noop",
    reason: disk ? `retired; data disk ${disk.name} kept` : "retired; nothing left in Azure",
  });
}

/**
 * Where a failed verification returns the claw: the disk's last healthy image when it is not the
 * target, else the image it runs (or last ran) when that is not the target.
 */
function rollbackImage(
  lastHealthy: string | undefined,
  current: string | undefined,
  target: string,
): string | undefined {
  if (lastHealthy !== undefined && !sameVersion(lastHealthy, target)) return lastHealthy;
  if (current !== undefined && !sameVersion(current, target)) return current;
  return undefined;
}

/** The gallery's versions as every claw's plan reads them, each requested version resolved once per plan. */
interface Gallery {
  versions: string[];
  /** resolveImageVersion(requested, versions). */
  resolve(requested: string): string | undefined;
  /** Why `requested` cannot be had, for a blocked claw. */
  missing(requested: string): string;
}

function galleryOf(versions: string[]): Gallery {
  const resolved = new Map<string, string | undefined>();
  let listed: string | undefined;
  return {
    versions,
    resolve(requested) {
      if (!resolved.has(requested)) resolved.set(requested, resolveImageVersion(requested, versions));
      return resolved.get(requested);
    },
    missing(requested) {
      if (requested === LATEST) return "the gallery image definition has no versions yet (bake one first)";
      listed ??= versions.length
        ? ` (it has ${[...versions].sort(compareLoose).join(", ")})`
        : " (it has no versions yet)";
      return `image version ${requested} is not in the gallery${listed}`;
    },
  };
}

function planActive(
  d: DesiredClaw,
  g: Owned,
  gallery: Gallery,
  rollout?: { rollback: boolean; verify: boolean },
): ClawPlan {
  const requested = d.settings.image_version;
  const desiredSize = d.settings.data_disk_size_gb;
  const vm = g.vms[0];
  const disk = g.disks[0];
  const diskLastImage = disk ? tagValue(disk.tags, TAGS.lastImage) : undefined;
  // A VM whose provisioning failed (an upgrade's create that did not complete) may never have run
  // its image on the disk, and the adapter does not tag the disk from it: the image the disk last
  // ran is the claw's current one, and the one a rollback returns to.
  const vmFailed = vm !== undefined && lower(vm.provisioningState) === "failed";
  const current = vm && !(vmFailed && diskLastImage !== undefined) ? vmImageVersion(vm) : diskLastImage;
  const base = { claw: d.name, desired: d, gated: false, changes: [] as FieldChange[] };
  const withCurrent = (p: ClawPlan): ClawPlan =>
    current !== undefined ? { ...p, currentImageVersion: current } : p;
  const blocked = (reason: string, changes: FieldChange[] = []): ClawPlan =>
    withCurrent({ ...base, action: "blocked", reason, changes });
  const available = gallery.resolve(requested);
  const missingImage = () => gallery.missing(requested);

  if (g.vms.length > 1)
    return blocked(
      `${g.vms.length} VMs belong to this claw (${g.vms.map((v) => v.name).join(", ")}); delete the extra one by hand (its data disk detaches, never delete a data disk)`,
    );
  if (g.disks.length > 1)
    return blocked(
      `${g.disks.length} data disks belong to this claw (${g.disks.map((x) => x.name).join(", ")}); the controller will not guess which one holds its state`,
    );
  if (vm && BUSY_STATES.has(lower(vm.provisioningState)))
    return blocked(`VM ${vm.name} is ${vm.provisioningState}; plan again when that operation finishes`);
  if (disk?.managedBy && !sameId(disk.managedBy, vm?.id)) {
    return blocked(
      `data disk ${disk.name} is attached to VM ${lastSegment(disk.managedBy)}, which is not this claw's VM; detach it there first`,
    );
  }
  if (disk && disk.sizeGb > desiredSize) {
    return blocked(
      `data disk ${disk.name} is ${disk.sizeGb} GiB and the manifest asks for ${desiredSize} GiB; Azure cannot shrink a disk (set data_disk_size_gb: ${disk.sizeGb} or more)`,
      [{ field: "dataDiskSizeGb", from: disk.sizeGb, to: desiredSize }],
    );
  }
  if (vm && !disk) {
    return blocked(
      `VM ${vm.name} exists but data disk ${d.names.dataDisk} does not; the controller will not guess where this claw's state is`,
    );
  }
  const grow: FieldChange | undefined =
    disk && disk.sizeGb < desiredSize
      ? { field: "dataDiskSizeGb", from: disk.sizeGb, to: desiredSize }
      : undefined;
  const growText = grow ? `; grow data disk ${grow.from} → ${grow.to} GiB` : "";

  if (!vm) {
    if (!available) return blocked(`cannot ${disk ? "recover" : "create"}: ${missingImage()}`);
    const target = { targetImageVersion: available };
    if (!disk) {
      return {
        ...base,
        ...target,
        action: "create",
        reason: `new claw: create VM, NIC, public IP and a ${desiredSize} GiB data disk on image ${available}`,
        changes: [{ field: "exists", from: presentList(g, vm, disk), to: "vm+nic+pip+disk" }],
      };
    }
    const lastHealthy = tagValue(disk.tags, TAGS.lastHealthyImage);
    const rollbackTo = rollbackImage(lastHealthy, current, available);
    return withCurrent({
      ...base,
      ...target,
      ...(rollbackTo !== undefined ? { rollbackImageVersion: rollbackTo } : {}),
      action: "recover",
      reason: `VM missing, data disk ${disk.name} exists: recreate the VM around it on image ${available}${growText}`,
      changes: [
        { field: "exists", from: presentList(g, vm, disk), to: "vm+nic+pip+disk" },
        ...(grow ? [grow] : []),
      ],
    });
  }
  // VM and disk both exist.
  if (!disk) throw new Error("unreachable: VM without disk handled above");
  // The version to run: the resolved request; when the gallery no longer has an explicitly
  // pinned version the VM already runs, or has no versions at all for `latest`, the VM's own.
  const target =
    available ??
    (requested !== LATEST && sameVersion(current, requested)
      ? current
      : requested === LATEST && gallery.versions.length === 0
        ? current
        : undefined);
  const changes: FieldChange[] = [];
  const replaceWhy: string[] = [];
  if (target === undefined) return blocked(missingImage());
  if (!sameVersion(current, target)) {
    changes.push({ field: "imageVersion", from: current ?? null, to: target });
    replaceWhy.push(`image ${current ?? "unknown"} → ${target}`);
  }
  const vmHash = tagValue(vm.tags, TAGS.configHash);
  if (vmHash === undefined) {
    changes.push({ field: "configHash", from: null, to: d.configHash });
    replaceWhy.push("adopting a VM without a config-hash tag (deployed by the seed or by hand)");
  } else if (vmHash !== d.configHash && vmHash !== d.legacyConfigHash) {
    // A VM deployed before the v2 hash carries the v1 hash of the same config: unchanged.
    changes.push({ field: "configHash", from: vmHash, to: d.configHash });
    replaceWhy.push("cloud-init config changed");
  }
  if (lower(vm.provisioningState) === "failed") replaceWhy.push("VM is in provisioning state Failed");
  const attachment = vm.dataDisks.find((x) => sameId(x.diskId, disk.id));
  if (!attachment && !sameId(disk.managedBy, vm.id))
    replaceWhy.push(`data disk ${disk.name} is not attached to the VM`);
  else if (attachment && attachment.lun !== 0)
    replaceWhy.push(`data disk ${disk.name} is at LUN ${attachment.lun}, not 0`);
  const resize: FieldChange | undefined =
    lower(vm.vmSize) !== lower(d.settings.vm_size)
      ? { field: "vmSize", from: vm.vmSize, to: d.settings.vm_size }
      : undefined;
  const resizeText = resize ? `; size ${resize.from} → ${resize.to}` : "";
  if (resize) changes.push(resize);
  if (grow) changes.push(grow);
  const rollbackTo = rollbackImage(tagValue(disk.tags, TAGS.lastHealthyImage), current, target);
  const withTarget = {
    ...base,
    targetImageVersion: target,
    changes,
    ...(rollbackTo !== undefined ? { rollbackImageVersion: rollbackTo } : {}),
  };

  const running = vm.powerState === "running" || vm.powerState === "starting";
  const stoppedBy = tagValue(vm.tags, TAGS.stoppedBy);
  // A claw the power schedule (or an operator) parked: its change waits, or runs and the claw is
  // parked again once verified (parked_upgrade). Not a VM its owner stopped.
  const parked = !running && !stoppedBy ? parseParkedBy(tagValue(vm.tags, TAGS.parkedBy)) : undefined;
  const parkedBy = parked?.by === "schedule" ? "the schedule" : "an operator";
  if (parked && d.settings.parked_upgrade === "defer" && (replaceWhy.length > 0 || resize || grow)) {
    const what = [
      ...replaceWhy,
      ...(resize ? [`size ${resize.from} → ${resize.to}`] : []),
      ...(grow ? [`grow data disk ${grow.from} → ${grow.to} GiB`] : []),
    ];
    return withCurrent({
      ...withTarget,
      action: "deferred",
      reason: `deferred while parked by ${parkedBy} (parked_upgrade: defer): ${what.join("; ")}`,
    });
  }
  const thenPark = parked ? "; then parked again" : "";
  if (replaceWhy.length > 0) {
    // A new VM needs its image in the gallery, even when it is the version the VM runs now.
    if (!available) return blocked(`cannot replace (${replaceWhy.join("; ")}): ${missingImage()}`, changes);
    const policy = rollout ?? { rollback: false, verify: false };
    if (
      rollbackTo !== undefined &&
      policy.rollback &&
      policy.verify &&
      gallery.resolve(rollbackTo) === undefined
    ) {
      // Without it a failed verification would leave the claw on the new image: a gated replace
      // must keep its way back.
      return blocked(
        `cannot replace safely (${replaceWhy.join("; ")}): the image to roll back to, ${rollbackTo}, is no longer in the gallery; ` +
          `publish ${rollbackTo} again, or set rollout.rollback: false to replace without a way back`,
        changes,
      );
    }
    // Azure starts every VM it creates; the adapter deallocates the new one again when its owner
    // had stopped the old one, and it stays unverified until it runs.
    const ownerStopped = parked
      ? ""
      : !running && !stoppedBy
        ? `; the VM stays ${vm.powerState} as its owner left it`
        : "";
    if (parked)
      return withCurrent({
        ...withTarget,
        action: "replace",
        gated: true,
        reason: `replace then park: new VM on the same disk: ${replaceWhy.join("; ")}${resizeText}${growText}; verified, then parked again`,
      });
    return withCurrent({
      ...withTarget,
      action: "replace",
      gated: true,
      reason: `new VM on the same disk: ${replaceWhy.join("; ")}${resizeText}${growText}${ownerStopped}`,
    });
  }
  if (resize)
    return withCurrent({
      ...withTarget,
      action: "resize",
      gated: true,
      reason: `resize VM ${resize.from} → ${resize.to}${growText}${thenPark}`,
    });
  if (grow)
    return withCurrent({
      ...withTarget,
      action: "grow-disk",
      gated: true,
      reason: `grow data disk ${grow.from} → ${grow.to} GiB${thenPark}`,
    });
  if (!running && stoppedBy) {
    // A rollout stopped it to resize it or grow its disk and was interrupted before starting it
    // again: finishing that change is a resize to the size it already has (start, then verify).
    return withCurrent({
      ...withTarget,
      action: "resize",
      gated: true,
      reason: `start the VM: rollout ${stoppedBy} stopped it to change it and did not start it again`,
    });
  }
  if (running && stoppedBy) {
    // Running again (started by hand, or the rollout's untag step failed): the mark must go, or a
    // later plan would start the VM after its owner stops it. ensureRunning drops it.
    return withCurrent({
      ...withTarget,
      action: "resize",
      gated: true,
      reason: `clear the mark of rollout ${stoppedBy}: the VM it stopped runs again`,
    });
  }
  const power = running ? "" : `; VM is ${vm.powerState} (deploy does not start it)`;
  return withCurrent({
    ...withTarget,
    action: "noop",
    reason: `up to date on image ${target ?? "unknown"}${power}`,
  });
}

function compareLoose(a: string, b: string): number {
  if (isGalleryVersion(a) && isGalleryVersion(b)) return compareGalleryVersions(a, b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function planOrphan(g: Owned): ClawPlan {
  const vm = g.vms[0];
  const what = [
    ...g.vms.map((v) => `VM ${v.name}`),
    ...g.disks.map((x) => `disk ${x.name}`),
    ...g.nics.map((n) => `NIC ${n.name}`),
    ...g.publicIps.map((p) => `public IP ${p.name}`),
  ].join(", ");
  const how = g.seedNamed ? "named like a seed-deployed claw" : "tagged with this claw's name";
  const p: ClawPlan = {
    claw: g.display,
    action: "orphan",
    reason: `not in the manifest: ${what} (${how}) left untouched; add it back, or list it with retired: true to remove its VM`,
    changes: [],
    gated: false,
  };
  const current = vm
    ? vmImageVersion(vm)
    : g.disks[0]
      ? tagValue(g.disks[0].tags, TAGS.lastImage)
      : undefined;
  if (current !== undefined) p.currentImageVersion = current;
  return p;
}

/** The fields of a claw plan that decide what apply does: what the plan hash covers. */
function hashedFields(p: ClawPlan) {
  return {
    claw: p.claw,
    action: p.action,
    changes: p.changes,
    target: p.targetImageVersion,
    current: p.currentImageVersion,
    rollback: p.rollbackImageVersion,
    gated: p.gated,
    configHash: p.desired?.configHash,
    // What a new VM and disk are made with (a create's size, disk size and SKU appear in no
    // `changes` entry), so an approved plan cannot apply with other settings.
    settings: p.desired && !p.desired.retired ? p.desired.settings : undefined,
    // ARM ids come back in varying case (resourceGroups vs resourcegroups).
    resources: p.resources && {
      vm: p.resources.vm && lower(p.resources.vm),
      dataDisk: p.resources.dataDisk && lower(p.resources.dataDisk),
      nics: p.resources.nics?.map(lower).sort(),
      publicIps: p.resources.publicIps?.map(lower).sort(),
    },
  };
}

/** What the plan hash covers: every claw plan's decisive fields and everything else apply does. */
export interface HashedPlan {
  claws: ClawPlan[];
  secrets?: SecretVersionChange[];
  shared?: SharedChange[];
  unproven?: UnprovenClaw[];
  lease?: PlanLease;
  rollout?: RolloutPolicy;
}

/**
 * Stable sha256 hex over the claw plans' decisive fields (not the human reasons), the shared
 * changes, the unproven claws apply verifies and the lease apply clears, so a reviewer approves
 * every change apply makes.
 */
export function planHash(plan: HashedPlan): string {
  return canonicalHash("openclawps-plan-v3", {
    claws: plan.claws.map(hashedFields),
    shared: (plan.shared ?? []).map((c) => ({
      kind: c.kind,
      name: lower(c.name),
      action: c.action,
      value: c.value,
    })),
    unproven: (plan.unproven ?? []).map((u) => ({ claw: u.claw, image: u.imageVersion })),
    // Only a lease apply clears: a lease that expires between plan and apply must not change the hash.
    clearLease: plan.lease?.clear ? plan.lease.runId : undefined,
    // An apply with the snapshots, verification or canary turned off is not the apply reviewed.
    rollout: plan.rollout,
    // Key Vault: every claw's secret version against the one its VM loaded. A rotation is
    // loaded by apply (a refresh, or a new VM's first boot), so one made after the review
    // changes the hash and the approved plan is refused. Version ids only, never a value.
    secrets: plan.secrets?.map((c) => ({
      claw: c.claw,
      secret: c.secret,
      status: c.status,
      current: c.current,
      loaded: c.loaded,
    })),
  });
}

export interface PlanOptions {
  /** Apply takes over the recorded lease (the force-unlock input): the plan says so. */
  forceUnlock?: boolean;
  /** Key Vault fleets: each claw's secret version against the one its VM loaded (in the hash). */
  secrets?: SecretVersionChange[];
}

/**
 * Running claws the plan leaves unchanged whose data disk does not record their current image as
 * verified (the last-healthy-image tag a verified claw gets). A rollout that stopped after creating
 * a claw's new VM and before its wave was verified leaves exactly this behind; the next plan, seeing
 * a VM that matches the manifest, would otherwise never look at it again.
 */
export function unprovenClaws(claws: ClawPlan[], observed: ObservedFleet): UnprovenClaw[] {
  const vms = new Map(observed.vms.map((v) => [lower(v.id), v]));
  const disks = new Map(observed.disks.map((d) => [lower(d.id), d]));
  const unproven: UnprovenClaw[] = [];
  for (const c of claws) {
    if (c.action !== "noop" || !c.desired || c.desired.retired) continue;
    const vm = c.resources?.vm ? vms.get(lower(c.resources.vm)) : undefined;
    const disk = c.resources?.dataDisk ? disks.get(lower(c.resources.dataDisk)) : undefined;
    if (!vm || !disk || vm.powerState !== "running") continue;
    const imageVersion = vmImageVersion(vm);
    if (!imageVersion) continue;
    const lastHealthy = tagValue(disk.tags, TAGS.lastHealthyImage);
    if (lastHealthy !== imageVersion)
      unproven.push(
        lastHealthy === undefined
          ? { claw: c.claw, imageVersion }
          : { claw: c.claw, imageVersion, lastHealthy },
      );
  }
  return unproven;
}

/** Pure diff of desired against observed. */
export function planFleet(desired: DesiredFleet, observed: ObservedFleet, options: PlanOptions = {}): Plan {
  const seen = new Set<string>();
  const keys = desired.claws.map((d) => {
    const key = lower(d.name);
    if (seen.has(key)) throw new Error(`planFleet: claw ${d.name} appears twice in the desired fleet`);
    seen.add(key);
    return key;
  });
  const groups = groupResources(desired.claws, observed);
  const gallery = galleryOf(observed.imageVersions);
  const claws: ClawPlan[] = desired.claws.map((d, i) => {
    const g = groups.get(keys[i]!) ?? EMPTY;
    const p = d.retired ? planRetired(d, g) : planActive(d, g, gallery, desired.rollout);
    const resources = resourcesOf(g);
    return resources ? { ...p, resources } : p;
  });
  const orphans = [...groups.entries()]
    .filter(([key]) => !seen.has(key))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => {
      const p = planOrphan(g);
      const resources = resourcesOf(g);
      return resources ? { ...p, resources } : p;
    });
  const all = [...claws, ...orphans];
  const shared = observed.shared ? planSharedInfra(desired, observed.shared) : { changes: [], warnings: [] };
  const unproven = desired.rollout.verify ? unprovenClaws(all, observed) : [];
  const lease: PlanLease | undefined = observed.lease && {
    ...observed.lease,
    clear: options.forceUnlock === true,
  };
  const plan: Omit<Plan, "hash"> = {
    claws: all,
    shared: shared.changes,
    unproven,
    warnings: shared.warnings,
    ...(lease ? { lease } : {}),
    rollout: desired.rollout,
    ...(options.secrets ? { secrets: options.secrets } : {}),
  };
  return { hash: planHash(plan), ...plan };
}

/**
 * Whether applying the plan would do anything: a claw action, a shared-infrastructure change, an
 * unproven claw to verify, a lease to clear. What gates the apply job.
 */
export function planNeedsApply(plan: Plan): boolean {
  return (
    plan.claws.some((c) => ACTIONABLE.includes(c.action)) ||
    plan.shared.length > 0 ||
    plan.unproven.length > 0 ||
    plan.lease?.clear === true
  );
}

/**
 * Claws apply cannot bring to what the manifest asks, each with why and the fix: blocked claws
 * (an image version the gallery lacks, a disk held by another VM, a shrink, ...). Plan, apply and
 * drift fail naming them, so nobody reads a green run as a deployed fleet.
 */
export function planProblems(plan: Plan): { claw: string; reason: string }[] {
  return plan.claws.filter((c) => c.action === "blocked").map((c) => ({ claw: c.claw, reason: c.reason }));
}
