// FleetAzure on the real Azure SDK: one observation is observeFleet's lists plus one list of
// snapshots; the lease is deploy-fleet's; parking and starting are @openclawps/azure's.
import { UserError } from "@openclawps/action-kit";
import {
  type AzureContext,
  AzureFleetLease,
  clearParkMark,
  describeAzureError,
  isPowerRunId,
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
      described("Taking the fleet's rollout lease", async () => {
        try {
          await lease.acquire(runId, LEASE_SECONDS, false);
          return undefined;
        } catch (err) {
          // A power run that died (a park or start cut short) held it: nothing it left needs an
          // operator (the next plan clears its marks), so once expired the lease is taken over.
          // A rollout's stale lease is not: its claws may be mid-change (force-unlock).
          if (!(err instanceof LeaseHeldError && err.stale && isPowerRunId(err.holder.runId))) throw err;
          await lease.acquire(runId, LEASE_SECONDS, true);
          return `Took over the lease of power run ${err.holder.runId}, expired at ${err.holder.expiresAt.toISOString()}: that run ended without releasing it (a lost runner or a killed job); this run converges what it left.`;
        }
      }),
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
    unmark: async (vm) => {
      try {
        await clearParkMark(ctx, vm);
      } catch (err) {
        throw new Error(describeAzureError(err, hints));
      }
    },
  };
}
