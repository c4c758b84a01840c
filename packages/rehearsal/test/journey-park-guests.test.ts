// A parked claw on booting guests: deployed and proven healthy, parked by the power schedule on
// Friday night (its VM deallocated, its guest shut down), started by the schedule on Monday
// morning, then proven healthy again by the fleet's verify workflow (verify.sh in the guest through
// Run Command), on the same data disk with what was written to it before the park. The status
// table of the power workflow says what the local Azure holds at each point.
// Needs root, loop devices and packer; CI runs it as root (skipped elsewhere with the reason).
import { randomUUID } from "node:crypto";
import type { ComputeManagementClient } from "@azure/arm-compute";
import { describe, expect, it } from "vitest";
import { FRIDAY_NIGHT, MONDAY_MORNING } from "../src/journey.ts";
import { guestJourney } from "./guest-journey.ts";
import { guestJourneyUnavailable } from "./packer.ts";

const reason = guestJourneyUnavailable("the park and resume journey");
const CLAW = "alice";
const POLL = { updateIntervalInMs: 0 };
/** Where boot.sh mounts the data disk in the guest (vm-runtime's CLAW_DATA_MOUNT). */
const MARKER = "/mnt/claw-data/park-resume-marker";

interface Row {
  claw: string;
  power: string;
  since?: string;
  sinceSource?: string;
  parkedBy?: string;
}

/** Runs a script in the claw as root through Run Command (the operator's `az vm run-command`). */
async function runInClaw(compute: ComputeManagementClient, rg: string, name: string, script: string) {
  await compute.virtualMachineRunCommands.createOrUpdate(
    rg,
    CLAW,
    name,
    { location: "westus", timeoutInSeconds: 120, source: { script } },
    POLL,
  );
  const view = (
    await compute.virtualMachineRunCommands.getByVirtualMachine(rg, CLAW, name, { expand: "instanceView" })
  ).instanceView!;
  expect(view.exitCode, `${script}: ${view.error}`).toBe(0);
  return view.output ?? "";
}

describe.skipIf(reason !== undefined)("a parked claw on booting guests", () => {
  it("is parked and resumed by the schedule, then passes verification with its data disk intact; the status table says what Azure holds", async () => {
    await guestJourney(["power.yml", "verify.yml"], async (journey, rehearsal) => {
      journey.keepOnly([CLAW]);
      const rg = journey.resourceGroup();
      const { compute } = journey.azureClients();
      const ok = (step: { problems: string[]; line: string }) => expect(step.problems, step.line).toEqual([]);
      const rows = (step: { runs: { job(p: string): { outputs: Record<string, string> } }[] }) =>
        Object.fromEntries(
          (JSON.parse(step.runs[0]!.job("power/power").outputs.status!).claws as Row[]).map((r) => [
            r.claw,
            r,
          ]),
        );
      const azureVm = () =>
        Object.values(rehearsal.azure.state().virtualMachines).find((v) => v.name === CLAW)!;
      const guest = async () => {
        await rehearsal.azure.guests!.settled();
        return rehearsal.azure.guestStatus(rg, CLAW)!.state;
      };

      ok(await journey.firstPush());
      ok(await journey.schedulePush());
      // What the claw keeps on its data disk, written before the park.
      const marker = randomUUID();
      await runInClaw(compute, rg, "write-marker", `echo ${marker} > ${MARKER} && sync`);
      const diskBefore = await compute.disks.get(rg, `${CLAW}-data`);
      const vmBefore = await compute.virtualMachines.get(rg, CLAW);

      // Friday 21:00 in Berlin: the schedule parks the claw; Azure deallocates it, its guest stops.
      const night = await journey.scheduledRun("Friday night", FRIDAY_NIGHT);
      ok(night);
      expect(JSON.parse(night.runs[0]!.job("power/power").outputs.parked!)).toEqual([CLAW]);
      expect(azureVm().powerState).toBe("deallocated");
      expect(await guest()).toBe("stopped");
      // The status table after the park: deallocated since the park (the run's clock), by the schedule.
      expect(rows(night)[CLAW]).toMatchObject({
        power: "deallocated",
        since: FRIDAY_NIGHT.toISOString(),
        sinceSource: "parked",
        parkedBy: "schedule",
      });

      // Monday 08:30: the schedule starts it; the guest boots again.
      const morning = await journey.scheduledRun("Monday morning", MONDAY_MORNING);
      ok(morning);
      expect(JSON.parse(morning.runs[0]!.job("power/power").outputs.started!)).toEqual([CLAW]);
      expect(azureVm().powerState).toBe("running");
      expect(azureVm().tags["openclawps.parked-by"]).toBeUndefined();
      expect(await guest()).not.toBe("stopped");

      // The operator's verify workflow waits for the boot and runs verify.sh in the claw.
      const verify = await journey.verifyRun("verify after the resume", [CLAW]);
      ok(verify);
      const job = verify.runs[0]!.job("verify");
      expect(job.summary).toMatch(new RegExp(`${CLAW} \\|[^\\n]*✅ healthy`));
      expect(job.log).toContain("through Run Command");

      // The same disk (same unique id), still the VM's LUN 0, with what was written before the park.
      const diskAfter = await compute.disks.get(rg, `${CLAW}-data`);
      expect(diskAfter.uniqueId).toBe(diskBefore.uniqueId);
      expect(diskAfter.id).toBe(diskBefore.id);
      const vmAfter = await compute.virtualMachines.get(rg, CLAW);
      expect(vmAfter.vmId).toBe(vmBefore.vmId);
      expect(
        vmAfter.storageProfile?.dataDisks?.find((d) => d.lun === 0)?.managedDisk?.id?.toLowerCase(),
      ).toBe(diskBefore.id!.toLowerCase());
      expect((await runInClaw(compute, rg, "read-marker", `cat ${MARKER}`)).trim()).toBe(marker);

      // The status table: the power state the local Azure holds, since its last completed operation.
      const status = await journey.statusRun();
      ok(status);
      const view = await compute.virtualMachines.instanceView(rg, CLAW);
      const lastOperation = view.statuses?.find((s) => s.code?.startsWith("ProvisioningState/"))?.time;
      expect(rows(status)[CLAW]).toMatchObject({
        power: azureVm().powerState,
        since: new Date(lastOperation!).toISOString(),
        sinceSource: "last-operation",
      });
      expect(rows(status)[CLAW]!.parkedBy).toBeUndefined();
    });
  }, 2_400_000);
});
