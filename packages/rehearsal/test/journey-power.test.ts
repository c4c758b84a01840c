// Power schedules in the operator's journey: the fleet repository's power workflow
// (examples/fleet/.github/workflows/power.yml → power.yml → the status action's bundle) on a clock
// the rehearsal advances, against the local Azure the first push deployed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Journey } from "../src/journey.ts";
import { Rehearsal } from "../src/rehearsal.ts";
import { hasPacker } from "./packer.ts";

let rehearsal: Rehearsal;
let journey: Journey;

beforeAll(async () => {
  rehearsal = await Rehearsal.start();
  journey = new Journey(
    rehearsal,
    { verify: false },
    Rehearsal.exampleFile("examples/fleet/claws.yaml"),
    Rehearsal.exampleFile("examples/fleet/.github/workflows/fleet.yml"),
    Rehearsal.exampleFile("examples/fleet/.github/workflows/power.yml"),
  );
});
afterAll(async () => rehearsal?.stop());

const power = () =>
  Object.fromEntries(
    Object.values(rehearsal.azure.state().virtualMachines).map((vm) => [vm.name, vm.powerState]),
  );

describe.skipIf(!hasPacker).sequential("power schedules in the operator's journey", () => {
  it("parks and resumes the right claws as the clock advances, leaving hand-stopped and mid-rollout claws alone; the status matches the local Azure", async () => {
    expect((await journey.firstPush()).problems).toEqual([]);
    const step = await journey.powerSchedule();
    expect(step.problems, step.line).toEqual([]);
    const [held, night, morning, status] = step.runs.slice(1).map((r) => r.job("power/power"));

    // A rollout holds the lease: nothing changes, and the summary says why.
    expect(held!.outputs.parked).toBe("[]");
    expect(held!.log).toContain("Another rollout (run gh-901-1) holds the lease");
    // Friday 21:00 in Berlin: alice is parked; dave is always on; carol (her owner's) and bob
    // (a rollout's) stay as they were.
    expect(JSON.parse(night!.outputs.parked!)).toEqual(["alice"]);
    // Monday 08:30: the schedule starts only what it parked.
    expect(JSON.parse(morning!.outputs.started!)).toEqual(["alice"]);
    expect(power()).toEqual({ alice: "running", bob: "deallocated", carol: "deallocated", dave: "running" });

    const rows = JSON.parse(status!.outputs.status!).claws as {
      claw: string;
      power: string;
      schedule: string;
    }[];
    const live = rows.filter((r) => r.power !== "none");
    expect(Object.fromEntries(live.map((r) => [r.claw, r.power]))).toEqual(power());
    expect(rows.find((r) => r.claw === "dave")?.schedule).toBe("always-on");
    expect(rows.find((r) => r.claw === "alice")?.schedule).toBe("08:00-20:00 mon-fri Europe/Berlin");
  });
});
