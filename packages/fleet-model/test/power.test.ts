import { describe, expect, it } from "vitest";
import { parseManifest } from "../src/manifest.ts";
import { ACTIONABLE, planFleet } from "../src/plan.ts";
import { powerActions } from "../src/power-plan.ts";
import { formatParkedBy, nextScheduledStart, parseSchedule, scheduledToRun } from "../src/power-schedule.ts";
import { resolveFleet } from "../src/resolve.ts";
import { TAGS } from "../src/tags.ts";
import { desiredOf, manifestOf, manifestText } from "./helpers.ts";
import { disk, observed, vm } from "./observed.ts";

const BERLIN_OFFICE = parseSchedule({ hours: "08:00-20:00", days: "mon-fri", time_zone: "Europe/Berlin" });
const at = (iso: string) => new Date(iso);

describe("schedules in claws.yaml", () => {
  const problems = (edits: Record<string, string | null>) =>
    parseManifest(manifestText(edits), "claws.yaml").problems.filter((p) => p.severity === "error");

  it("accepts a schedule in defaults and always-on for one claw", () => {
    const m = manifestOf(
      manifestText({
        "+18":
          '  schedule: { hours: "08:00-20:00", days: mon-fri, time_zone: Europe/Berlin }\n  parked_upgrade: defer',
        20: "  alice: { schedule: always-on }",
      }),
    );
    const fleet = resolveFleet(m, "claws.yaml");
    expect(fleet.claws.find((c) => c.name === "alice")?.settings.schedule).toBe("always-on");
    expect(fleet.claws.find((c) => c.name === "bob")?.settings).toMatchObject({
      schedule: { hours: "08:00-20:00", days: "mon-fri", time_zone: "Europe/Berlin" },
      parked_upgrade: "defer",
    });
  });

  it("points at the line of a misspelt time zone, with a suggestion", () => {
    const [p, ...rest] = problems({ "+18": '  schedule: { hours: "08:00-20:00", time_zone: Europe/Berln }' });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      line: 19,
      path: "defaults.schedule.time_zone",
      fix: "did you mean Europe/Berlin?",
    });
    expect(p?.message).toContain('"Europe/Berln" is not an IANA time zone');
  });

  it("refuses hours that are not a range, a range of no length, unknown days and keys, with their lines", () => {
    const found = problems({
      21: '  bob: { schedule: { hours: "8-20", time_zone: UTC } }',
      "+21": '  carol: { schedule: { hours: "09:00-09:00", days: [mon, funday], time_zone: UTC, tz: UTC } }',
    });
    expect(found.map((p) => [p.line, p.path])).toEqual([
      [21, "claws.bob.schedule.hours"],
      [22, "claws.carol.schedule.hours"],
      [22, "claws.carol.schedule.days"],
      [22, "claws.carol.schedule.tz"],
    ]);
    expect(found[1]?.fix).toContain("always-on");
    expect(found[3]?.fix).toBe("schedule takes hours, days, time_zone");
  });

  it("refuses a schedule without a time zone and a misspelt always-on", () => {
    const found = problems({
      20: '  alice: { schedule: { hours: "08:00-20:00" } }',
      21: "  bob: { schedule: always_on, parked_upgrade: later }",
    });
    expect(found.map((p) => [p.path, p.fix])).toEqual([
      ["claws.alice.schedule", "add time_zone: Europe/Berlin (an IANA time zone)"],
      ["claws.bob.schedule", 'did you mean "always-on"?'],
      ["claws.bob.parked_upgrade", undefined],
    ]);
  });
});

describe("scheduledToRun", () => {
  it("runs on weekdays inside the hours in the schedule's time zone", () => {
    // Wed 2 Dec 2026: Berlin is UTC+1.
    expect(scheduledToRun(BERLIN_OFFICE, at("2026-12-02T07:30:00Z"))).toBe(true); // 08:30
    expect(scheduledToRun(BERLIN_OFFICE, at("2026-12-02T06:59:00Z"))).toBe(false); // 07:59
    expect(scheduledToRun(BERLIN_OFFICE, at("2026-12-02T19:00:00Z"))).toBe(false); // 20:00
    expect(scheduledToRun(BERLIN_OFFICE, at("2026-12-05T10:00:00Z"))).toBe(false); // Saturday
  });

  it("runs past midnight into the next day for a window that wraps", () => {
    const night = parseSchedule({ hours: "22:00-06:00", days: "fri", time_zone: "UTC" });
    expect(scheduledToRun(night, at("2026-12-04T23:00:00Z"))).toBe(true); // Fri 23:00
    expect(scheduledToRun(night, at("2026-12-05T05:59:00Z"))).toBe(true); // Sat 05:59
    expect(scheduledToRun(night, at("2026-12-05T23:00:00Z"))).toBe(false); // Sat 23:00
    expect(scheduledToRun(night, at("2026-12-04T05:00:00Z"))).toBe(false); // Fri 05:00 (Thu not listed)
  });
});

describe("nextScheduledStart", () => {
  it("finds Monday morning from Friday evening", () => {
    expect(nextScheduledStart(BERLIN_OFFICE, at("2026-12-04T20:00:00Z"))?.toISOString()).toBe(
      "2026-12-07T07:00:00.000Z",
    );
  });

  it("accounts for a change to daylight saving time in between", () => {
    // New York moves from UTC-5 to UTC-4 at 2 a.m. on Sunday 14 March 2027.
    const daily = parseSchedule({ hours: "08:00-20:00", time_zone: "America/New_York" });
    expect(nextScheduledStart(daily, at("2027-03-14T03:00:00Z"))?.toISOString()).toBe(
      "2027-03-14T12:00:00.000Z",
    );
  });
});

describe("powerActions", () => {
  const fleetOf = (claws: string) =>
    resolveFleet(
      manifestOf(
        manifestText({
          "+18": '  schedule: { hours: "08:00-20:00", days: mon-fri, time_zone: Europe/Berlin }',
          20: null,
          21: null,
          "+19": claws,
        }),
      ),
      "claws.yaml",
    ).claws;
  const claws = fleetOf(
    [
      "  working: {}",
      "  parked: {}",
      "  handstopped: {}",
      "  midchange: {}",
      "  updating: {}",
      "  operator: {}",
      "  always: { schedule: always-on }",
      "  wasparked: { schedule: always-on }",
      "  novm: {}",
    ].join("\n"),
  );
  const parkedTag = (by: "schedule" | "operator") => ({
    [TAGS.parkedBy]: formatParkedBy({ by, at: "2026-12-01T19:00:00.000Z" }),
  });
  const azure = observed({
    vms: [
      vm("working"),
      vm("parked", { power: "deallocated", tags: parkedTag("schedule") }),
      vm("handstopped", { power: "deallocated" }),
      vm("midchange", { power: "deallocated", tags: { [TAGS.stoppedBy]: "run-7" } }),
      vm("updating", { provisioningState: "Updating" }),
      vm("operator", { power: "deallocated", tags: parkedTag("operator") }),
      vm("always"),
      vm("wasparked", { power: "deallocated", tags: parkedTag("schedule") }),
    ],
    disks: [
      "working",
      "parked",
      "handstopped",
      "midchange",
      "updating",
      "operator",
      "always",
      "wasparked",
    ].map((n) => disk(`${n}-data`)),
  });
  const actions = (plan: ReturnType<typeof powerActions>) =>
    Object.fromEntries(plan.claws.map((c) => [c.claw, c.action]));

  it("parks running claws after hours and counts the VM-hours until Monday's start", () => {
    // Friday 21:00 in Berlin.
    const plan = powerActions(claws, azure, at("2026-12-04T20:00:00Z"));
    expect(actions(plan)).toEqual({
      working: "park",
      parked: "none",
      handstopped: "none",
      midchange: "none",
      updating: "none",
      operator: "none",
      always: "none",
      wasparked: "start",
      novm: "none",
    });
    const working = plan.claws.find((c) => c.claw === "working")!;
    expect(working.reason).toBe(
      "outside its hours (08:00-20:00 mon-fri Europe/Berlin; it is Fri 21:00 there)",
    );
    expect(working.hoursSaved).toBe(59);
    expect(plan.hoursSaved).toBe(59);
  });

  it("starts in the morning only what the schedule parked: the hand-stopped and mid-rollout VMs stay off", () => {
    // Monday 08:30 in Berlin.
    const plan = powerActions(claws, azure, at("2026-12-07T07:30:00Z"));
    expect(actions(plan)).toMatchObject({
      working: "none",
      parked: "start",
      handstopped: "none",
      midchange: "none",
    });
    const why = Object.fromEntries(plan.claws.map((c) => [c.claw, c.reason]));
    expect(why.handstopped).toContain("by its owner, not by the schedule: left alone");
    expect(why.midchange).toContain("rollout run-7 stopped it");
    expect(why.updating).toContain("is Updating");
    expect(why.operator).toContain("parked by an operator");
    expect(plan.hoursSaved).toBe(0);
  });

  it("parks and resumes named claws on request, whatever their schedule, and names unknown claws", () => {
    const now = at("2026-12-02T10:00:00Z");
    const park = powerActions(claws, azure, now, { mode: "park", claws: ["always", "parked", "nobody"] });
    expect(park.claws.map((c) => [c.claw, c.action])).toEqual([
      ["parked", "none"],
      ["always", "park"],
    ]);
    expect(park.unknownClaws).toEqual(["nobody"]);
    // An always-on claw parked by hand has no scheduled start: the saving is not known.
    expect(park.claws[1]?.hoursSaved).toBeUndefined();
    const resume = powerActions(claws, azure, now, {
      mode: "resume",
      claws: ["handstopped", "midchange", "working"],
    });
    expect(resume.claws.map((c) => [c.claw, c.action])).toEqual([
      ["working", "none"],
      ["handstopped", "start"],
      ["midchange", "none"],
    ]);
  });

  describe("a park mark a run that died left on a running VM", () => {
    const claws = fleetOf(["  stale: {}", "  staleop: { schedule: always-on }", "  clean: {}"].join("\n"));
    const mark = (by: "schedule" | "operator") => ({
      [TAGS.parkedBy]: formatParkedBy({ by, at: "2026-12-04T20:00:00.000Z" }),
    });
    const azure = observed({
      vms: [vm("stale", { tags: mark("schedule") }), vm("staleop", { tags: mark("operator") }), vm("clean")],
      disks: ["stale", "staleop", "clean"].map((n) => disk(`${n}-data`)),
    });
    const actions = (plan: ReturnType<typeof powerActions>) =>
      Object.fromEntries(plan.claws.map((c) => [c.claw, c.action]));

    it("is removed by the next run in the claw's hours, so a later stop by its owner is not taken for a park", () => {
      // Monday 08:30 in Berlin.
      const plan = powerActions(claws, azure, at("2026-12-07T07:30:00Z"));
      expect(actions(plan)).toEqual({ stale: "unmark", staleop: "unmark", clean: "none" });
      expect(plan.claws[0]!.reason).toBe(
        "running in its hours (08:00-20:00 mon-fri Europe/Berlin; it is Mon 08:30 there); it carries the park mark of the schedule from 2026-12-04T20:00:00.000Z, left by a park or resume that did not finish: the mark is removed",
      );
      expect(plan.hoursSaved).toBe(0);
    });

    it("is replaced by the park a run outside the claw's hours does, and removed by a resume", () => {
      // Friday 22:00 in Berlin.
      expect(actions(powerActions(claws, azure, at("2026-12-04T21:00:00Z")))).toEqual({
        stale: "park",
        staleop: "unmark",
        clean: "park",
      });
      const resume = powerActions(claws, azure, at("2026-12-07T07:30:00Z"), {
        mode: "resume",
        claws: ["stale"],
      });
      expect(actions(resume)).toEqual({ stale: "unmark" });
    });
  });
});

describe("the plan of a parked claw's upgrade", () => {
  const planOf = (parkedUpgrade: string | null, tags: Record<string, string>) => {
    const text = manifestText({
      20: '  alice: { image_version: "1.1.0" }',
      ...(parkedUpgrade ? { "+18": `  parked_upgrade: ${parkedUpgrade}` } : {}),
    });
    const azure = observed({
      vms: [
        vm("alice", { image: "1.0.0", power: "deallocated", tags }),
        vm("bob", { image: "1.0.0", size: "Standard_D8s_v5" }),
      ],
      disks: [disk("alice-data"), disk("bob-data")],
    });
    return planFleet(desiredOf(text), azure).claws.find((c) => c.claw === "alice")!;
  };
  const parked = { [TAGS.parkedBy]: formatParkedBy({ by: "schedule", at: "2026-12-04T20:00:00.000Z" }) };

  it("is replace then park by default", () => {
    const p = planOf(null, parked);
    expect(p).toMatchObject({ action: "replace", gated: true, targetImageVersion: "1.1.0" });
    expect(p.reason).toBe(
      "replace then park: new VM on the same disk: image 1.0.0 → 1.1.0; verified, then parked again",
    );
  });

  it("is deferred with parked_upgrade: defer, and needs no apply", () => {
    const text = manifestText({
      20: '  alice: { image_version: "1.1.0" }',
      "+18": "  parked_upgrade: defer",
    });
    const azure = observed({
      vms: [
        vm("alice", { image: "1.0.0", power: "deallocated", tags: parked }),
        vm("bob", { size: "Standard_D8s_v5", image: "1.0.0" }),
      ],
      disks: [disk("alice-data"), disk("bob-data")],
    });
    const plan = planFleet(desiredOf(text), azure);
    const p = plan.claws.find((c) => c.claw === "alice")!;
    expect(p.action).toBe("deferred");
    expect(p.reason).toBe(
      "deferred while parked by the schedule (parked_upgrade: defer): image 1.0.0 → 1.1.0",
    );
    expect(plan.claws.filter((c) => ACTIONABLE.includes(c.action))).toEqual([]);
  });

  it("resizes a parked claw and parks it again, or defers the resize", () => {
    const text = (defer: boolean) =>
      manifestText({
        20: "  alice: { vm_size: Standard_D8s_v5 }",
        ...(defer ? { "+18": "  parked_upgrade: defer" } : {}),
      });
    const azure = observed({
      vms: [vm("alice", { image: "1.0.0", power: "deallocated", tags: parked })],
      disks: [disk("alice-data")],
    });
    const resize = planFleet(desiredOf(text(false)), azure).claws.find((c) => c.claw === "alice")!;
    expect(resize).toMatchObject({
      action: "resize",
      reason: "resize VM Standard_D4s_v5 → Standard_D8s_v5; then parked again",
    });
    const deferred = planFleet(desiredOf(text(true)), azure).claws.find((c) => c.claw === "alice")!;
    expect(deferred).toMatchObject({
      action: "deferred",
      reason:
        "deferred while parked by the schedule (parked_upgrade: defer): size Standard_D4s_v5 → Standard_D8s_v5",
    });
  });

  it("leaves a VM its owner stopped as before: replaced and left deallocated", () => {
    const p = planOf("defer", {});
    expect(p.action).toBe("replace");
    expect(p.reason).toContain("the VM stays deallocated as its owner left it");
  });
});
