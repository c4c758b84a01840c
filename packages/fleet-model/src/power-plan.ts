// powerActions: (fleet, observed, now) → park / start / unmark / nothing per claw, each with a
// reason. Pure, like planFleet. The schedule never starts a VM it did not park (its owner stopped
// it), never touches a VM a rollout stopped or one with an operation in flight; the power action
// checks the rollout lease before it acts on any of this.
//
// The park mark (TAGS.parkedBy) is written before the deallocate and removed after the start, so a
// run that dies between the two leaves a running VM with a mark. Such a mark is stale: left there,
// a later stop by the VM's owner would read as the schedule's park, and the schedule would start
// the VM against the owner's will. Every run removes it (unmark) unless it parks the VM anyway.
import { clawResourcesOf, tagValue } from "./plan.ts";
import {
  localTimeText,
  nextScheduledStart,
  type PowerSchedule,
  parseParkedBy,
  parseSchedule,
  scheduledToRun,
  scheduleText,
} from "./power-schedule.ts";
import { TAGS } from "./tags.ts";
import type { ObservedFleet, ObservedVm, ResolvedClaw } from "./types.ts";

export type PowerMode = "schedule" | "park" | "resume";

export interface PowerRequest {
  /** schedule: what the manifest's schedules say now; park / resume: the named claws, now. */
  mode: PowerMode;
  /** park / resume: the claws to act on (manifest names). */
  claws?: readonly string[];
}

export interface ClawPower {
  claw: string;
  /** unmark: the VM runs with a park mark a run that died left; the mark is removed. */
  action: "park" | "start" | "unmark" | "none";
  reason: string;
  /** The claw's VM, when it has exactly one. */
  vm?: string;
  schedule: string;
  /** park: hours until the schedule starts the VM again (VM-hours this park saves); absent: not known. */
  hoursSaved?: number;
}

export interface PowerPlan {
  mode: PowerMode;
  /** ISO time the plan was made for. */
  at: string;
  claws: ClawPower[];
  /** Sum of hoursSaved over the parks. */
  hoursSaved: number;
  /** Names the request gave that the manifest does not have (park / resume). */
  unknownClaws: string[];
}

const BUSY = new Set(["creating", "updating", "deleting", "migrating"]);
const STOPPED = new Set(["stopped", "stopping", "deallocated", "deallocating"]);

/** The claw's schedule (absent: always-on). */
export function clawSchedule(claw: Pick<ResolvedClaw, "settings">): PowerSchedule {
  return parseSchedule(claw.settings.schedule);
}

export function powerActions(
  claws: readonly Pick<ResolvedClaw, "name" | "names" | "settings" | "retired">[],
  observed: ObservedFleet,
  now: Date,
  request: PowerRequest = { mode: "schedule" },
): PowerPlan {
  const active = claws.filter((c) => !c.retired);
  const named = new Set((request.claws ?? []).map((n) => n.toLowerCase()));
  const unknownClaws = (request.claws ?? []).filter(
    (n) => !active.some((c) => c.name.toLowerCase() === n.toLowerCase()),
  );
  const resources = clawResourcesOf(active, observed);
  const out: ClawPower[] = [];
  for (const claw of active) {
    if (request.mode !== "schedule" && !named.has(claw.name.toLowerCase())) continue;
    const schedule = clawSchedule(claw);
    const vms = resources.get(claw.name)?.vms ?? [];
    const base = { claw: claw.name, schedule: scheduleText(schedule) };
    const none = (reason: string, vm?: ObservedVm): ClawPower => ({
      ...base,
      ...(vm ? { vm: vm.name } : {}),
      action: "none",
      reason,
    });
    if (vms.length === 0) {
      out.push(none("no VM (a deploy creates or recovers it)"));
      continue;
    }
    if (vms.length > 1) {
      out.push(
        none(
          `${vms.length} VMs belong to this claw (${vms.map((v) => v.name).join(", ")}); the plan blocks it`,
        ),
      );
      continue;
    }
    const vm = vms[0]!;
    out.push({ ...decide(vm, schedule, now, request.mode), ...base, vm: vm.name });
  }
  return {
    mode: request.mode,
    at: now.toISOString(),
    claws: out,
    hoursSaved: round2(out.reduce((sum, c) => sum + (c.action === "park" ? (c.hoursSaved ?? 0) : 0), 0)),
    unknownClaws,
  };
}

function decide(
  vm: ObservedVm,
  schedule: PowerSchedule,
  now: Date,
  mode: PowerMode,
): Pick<ClawPower, "action" | "reason" | "hoursSaved"> {
  const none = (reason: string) => ({ action: "none" as const, reason });
  if (BUSY.has(vm.provisioningState.toLowerCase()))
    return none(`VM ${vm.name} is ${vm.provisioningState}: an operation is changing it`);
  const rollout = tagValue(vm.tags, TAGS.stoppedBy);
  if (rollout)
    return none(`rollout ${rollout} stopped it to change it; that rollout (or the next apply) starts it`);
  if (vm.powerState === "unknown") return none(`VM ${vm.name} reports no power state`);
  const running = vm.powerState === "running" || vm.powerState === "starting";
  const parked = parseParkedBy(tagValue(vm.tags, TAGS.parkedBy));
  const next = nextScheduledStart(schedule, now);
  const saved = next ? { hoursSaved: round2((next.getTime() - now.getTime()) / 3_600_000) } : {};
  const where =
    schedule.kind === "hours"
      ? ` (${schedule.text}; it is ${localTimeText(now, schedule.timeZone)} there)`
      : "";

  const unmark = (why: string) =>
    parked
      ? {
          action: "unmark" as const,
          reason: `${why}; it carries the park mark of ${parked.by === "schedule" ? "the schedule" : "an operator"} from ${parked.at}, left by a park or resume that did not finish: the mark is removed`,
        }
      : none(why);

  if (mode === "park") {
    if (!running) return none(`already ${vm.powerState}`);
    return {
      action: "park",
      reason: `parked on request${next ? `; its schedule would start it at ${next.toISOString()}` : "; it stays parked until resumed"}`,
      ...saved,
    };
  }
  if (mode === "resume") {
    if (running) return unmark(`already ${vm.powerState}`);
    return { action: "start", reason: `started on request (it was ${vm.powerState})` };
  }
  const wanted = scheduledToRun(schedule, now);
  if (running) {
    if (wanted) return unmark(schedule.kind === "always-on" ? "always on" : `running in its hours${where}`);
    return { action: "park", reason: `outside its hours${where}`, ...saved };
  }
  if (!STOPPED.has(vm.powerState)) return none(`VM ${vm.name} is ${vm.powerState}`);
  if (parked?.by === "operator")
    return none(`parked by an operator at ${parked.at}; it stays parked until resumed (mode: resume)`);
  if (parked?.by !== "schedule")
    return none(
      `${vm.powerState} by its owner, not by the schedule: left alone (start it by hand or with mode: resume)`,
    );
  if (wanted)
    return {
      action: "start",
      reason:
        schedule.kind === "always-on"
          ? "no schedule parks it any more (always-on)"
          : `its hours began${where}`,
    };
  return none(`parked by the schedule until ${next?.toISOString() ?? "its next start"}${where}`);
}

const round2 = (n: number) => Math.round(n * 100) / 100;
