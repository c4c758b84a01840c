// The fleet's status, one row per claw of the manifest: power state and since when, images,
// last rollout, disk and snapshots, schedule, pending drift. Pure: built from one observation
// (list calls only) and the manifest.
import { mdTable } from "@openclawps/action-kit";
import {
  type ActionKind,
  clawResourcesOf,
  clawSchedule,
  type ObservedFleet,
  type ObservedSnapshot,
  type PowerState,
  parseParkedBy,
  planFleet,
  type ResolvedFleet,
  scheduleText,
  TAGS,
  tagValue,
  vmImageVersion,
} from "@openclawps/fleet-model";

export interface ClawStatus {
  claw: string;
  vm?: string;
  /** "none": the claw has no VM. */
  power: PowerState | "none";
  /** ISO time the power state has held since (at the latest); absent: unknown. */
  since?: string;
  /** Where `since` comes from: the park mark, or the VM's last completed operation. */
  sinceSource?: "parked" | "last-operation";
  /** Who parked the VM, when the schedule or an operator did. */
  parkedBy?: "schedule" | "operator";
  imageVersion?: string;
  /** The image the data disk last passed verification with. */
  lastHealthyImage?: string;
  lastRolloutId?: string;
  diskGb?: number;
  snapshots: number;
  schedule: string;
  /** What a deploy would do to the claw now (noop: nothing). */
  drift: ActionKind;
  driftReason: string;
  retired: boolean;
}

/**
 * Pending drift comes from the plan with each VM's own config hash: status holds no secrets, so
 * it cannot render cloud-init; a changed cloud-init shows in deploy-fleet's plan (drift.yml).
 */
export function fleetStatus(
  fleet: ResolvedFleet,
  observed: ObservedFleet,
  snapshots: ReadonlyMap<string, readonly ObservedSnapshot[]>,
): ClawStatus[] {
  const resources = clawResourcesOf(fleet.claws, observed);
  const desired = {
    ...fleet,
    claws: fleet.claws.map((c) => {
      const vms = resources.get(c.name)?.vms ?? [];
      return { ...c, configHash: (vms.length === 1 && tagValue(vms[0]!.tags, TAGS.configHash)) || "" };
    }),
  };
  const plan = planFleet(desired, observed);
  return fleet.claws.map((claw): ClawStatus => {
    const { vms, disks } = resources.get(claw.name) ?? { vms: [], disks: [] };
    const vm = vms.length === 1 ? vms[0] : undefined;
    const disk = disks.length === 1 ? disks[0] : undefined;
    const p = plan.claws.find((c) => c.claw === claw.name);
    const parked = vm ? parseParkedBy(tagValue(vm.tags, TAGS.parkedBy)) : undefined;
    const stopped = vm !== undefined && vm.powerState !== "running" && vm.powerState !== "starting";
    const since =
      parked && stopped
        ? { since: parked.at, sinceSource: "parked" as const }
        : vm?.lastOperationAt
          ? { since: vm.lastOperationAt, sinceSource: "last-operation" as const }
          : {};
    const image = vm ? vmImageVersion(vm) : undefined;
    const lastHealthy = disk ? tagValue(disk.tags, TAGS.lastHealthyImage) : undefined;
    const rollout =
      (vm && tagValue(vm.tags, TAGS.rolloutId)) || (disk && tagValue(disk.tags, TAGS.rolloutId));
    return {
      claw: claw.name,
      ...(vm ? { vm: vm.name } : {}),
      power: vm ? vm.powerState : "none",
      ...since,
      ...(parked && stopped ? { parkedBy: parked.by } : {}),
      ...(image ? { imageVersion: image } : {}),
      ...(lastHealthy ? { lastHealthyImage: lastHealthy } : {}),
      ...(rollout ? { lastRolloutId: rollout } : {}),
      ...(disk ? { diskGb: disk.sizeGb } : {}),
      snapshots: disk ? (snapshots.get(disk.id.toLowerCase())?.length ?? 0) : 0,
      schedule: scheduleText(clawSchedule(claw)),
      drift: p?.action ?? "noop",
      driftReason: p?.reason ?? "",
      retired: claw.retired,
    };
  });
}

const HEADER = [
  "claw",
  "power",
  "since",
  "image",
  "last healthy",
  "last rollout",
  "disk",
  "snapshots",
  "schedule",
  "pending drift",
];

/** The per-claw Markdown table (cells escaped; Azure's values are text like any other). */
export function statusMarkdown(rows: readonly ClawStatus[]): string {
  return mdTable(
    HEADER,
    rows.map((r) => [
      r.claw + (r.retired ? " (retired)" : ""),
      r.power +
        (r.parkedBy ? ` (parked by ${r.parkedBy === "schedule" ? "the schedule" : "an operator"})` : ""),
      r.since ? `${r.since}${r.sinceSource === "last-operation" ? " (last operation)" : ""}` : "unknown",
      r.imageVersion ?? "—",
      r.lastHealthyImage ?? "—",
      r.lastRolloutId ?? "—",
      r.diskGb === undefined ? "none" : `${r.diskGb} GiB`,
      String(r.snapshots),
      r.schedule,
      r.drift === "noop" ? "none" : `${r.drift}: ${r.driftReason}`,
    ]),
  );
}
