// What plan mode publishes: the plan as JSON (compact: no desired-state internals), the claws it
// changes, and the waves apply would run.
import {
  ACTIONABLE,
  type ActionKind,
  type ClawPlan,
  type Plan,
  type PlanLease,
  planNeedsApply,
  type SharedChange,
  type UnprovenClaw,
  type Wave,
} from "@openclawps/fleet-model";

export interface PlanJson {
  hash: string;
  claws: {
    claw: string;
    action: ActionKind;
    reason: string;
    from?: string;
    to?: string;
    gated: boolean;
    changes: ClawPlan["changes"];
  }[];
  waves: Wave[];
  /** Shared-infrastructure changes apply makes first. */
  shared: Omit<SharedChange, "value">[];
  /** Unchanged claws apply verifies. */
  unproven: UnprovenClaw[];
  lease?: PlanLease;
  applyNeeded: boolean;
}

export function planJson(plan: Plan, waves: Wave[]): PlanJson {
  return {
    hash: plan.hash,
    claws: plan.claws.map((c) => ({
      claw: c.claw,
      action: c.action,
      reason: c.reason,
      from: c.currentImageVersion,
      to: c.targetImageVersion,
      gated: c.gated,
      changes: c.changes,
    })),
    waves,
    shared: plan.shared.map(({ kind, name, action, detail }) => ({ kind, name, action, detail })),
    unproven: plan.unproven,
    ...(plan.lease ? { lease: plan.lease } : {}),
    applyNeeded: planNeedsApply(plan),
  };
}

/** Claws whose resources the plan changes (retirements included). */
export function changingClaws(plan: Plan): string[] {
  return plan.claws.filter((c) => ACTIONABLE.includes(c.action)).map((c) => c.claw);
}

/** Markdown list of the waves apply would run, in order. */
export function wavesMarkdown(waves: Wave[], verify: boolean): string {
  if (waves.length === 0) return "";
  const label = {
    ungated: "creates, recoveries, retirements (not health-gated)",
    canary: "canary",
    wave: "wave",
  };
  let md = "\n**Rollout order**\n\n";
  waves.forEach((w, i) => {
    md += `${i + 1}. ${label[w.kind]}: ${w.claws.join(", ")}\n`;
  });
  md += verify
    ? "\nEach wave is verified (verify.sh on every changed claw) before the next one starts.\n"
    : "\n> [!WARNING]\n> Verification is off (`rollout.verify: false`): changed claws will be reported **unverified**.\n";
  return md;
}
