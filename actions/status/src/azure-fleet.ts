// FleetAzure on the real Azure SDK: one observation is observeFleet's lists plus one list of
// snapshots; the lease is deploy-fleet's; parking and starting are @openclawps/azure's.
import { UserError } from "@openclawps/action-kit";
import {
  type AzureContext,
  AzureFleetLease,
  describeAzureError,
  LeaseHeldError,
  observeFleet,
  observeSnapshots,
  parkVm,
  startParkedVm,
} from "@openclawps/azure";
import type { ResolvedFleet } from "@openclawps/fleet-model";
import { type FleetAzure, LeaseBusy } from "./status.ts";

/** How long the power run may hold the lease: a deallocate or start takes minutes. */
const LEASE_SECONDS = 20 * 60;

export function azureFleet(
  ctx: AzureContext,
  fleet: ResolvedFleet,
  hints: { clientId?: string },
): FleetAzure {
  const lease = new AzureFleetLease(ctx);
  const described = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof LeaseHeldError) throw new LeaseBusy(err.message);
      throw new UserError(`${what} failed: ${describeAzureError(err, hints)}`);
    }
  };
  return {
    observe: () =>
      described(`Reading the fleet in resource group ${ctx.resourceGroup}`, async () => {
        const [observed, snapshots] = await Promise.all([observeFleet(ctx, fleet), observeSnapshots(ctx)]);
        return { observed, snapshots };
      }),
    acquireLease: (runId) =>
      described("Taking the fleet's rollout lease", () => lease.acquire(runId, LEASE_SECONDS, false)),
    releaseLease: (runId) => described("Releasing the fleet's rollout lease", () => lease.release(runId)),
    // Errors of one claw are reported with that claw; describeAzureError gives the fix.
    park: async (vm, by) => {
      try {
        await parkVm(ctx, vm, by);
      } catch (err) {
        throw new Error(describeAzureError(err, hints));
      }
    },
    start: async (vm) => {
      try {
        await startParkedVm(ctx, vm);
      } catch (err) {
        throw new Error(describeAzureError(err, hints));
      }
    },
  };
}
