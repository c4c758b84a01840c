// One rollout per fleet: a lease recorded as a tag on the fleet's resource group,
// "runId;expiresAtIso". The reusable workflow's concurrency group is the first guard; this one
// also holds across workflows, repositories and hand-run jobs that share the resource group.
import { TAGS } from "@openclawps/fleet-model";
import type { FleetLease } from "@openclawps/rollout";
import { getIfExists } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import { mergeTags, type Tags } from "./resource-tags.ts";

export interface LeaseHolder {
  runId: string;
  expiresAt: Date;
}

export function parseLease(value: string | undefined): LeaseHolder | undefined {
  if (!value) return undefined;
  const [runId, iso] = value.split(";");
  const expiresAt = new Date(iso ?? "");
  if (!runId || Number.isNaN(expiresAt.getTime())) return undefined;
  return { runId, expiresAt };
}

export function formatLease(holder: LeaseHolder): string {
  return `${holder.runId};${holder.expiresAt.toISOString()}`;
}

/**
 * How to clear a lease, in the words of the reusable workflows: their `force-unlock` input reaches
 * the deploy-fleet input of the same name. A cancelled run is the usual source of a stale lease:
 * the runner sends SIGINT, then kills the job about 10 s later, while a VM replace takes minutes.
 */
export const FORCE_UNLOCK_HOW =
  "run the deploy workflow again with its input `force-unlock: true` (workflow_dispatch, or `with: { force-unlock: true }` " +
  "where you call deploy.yml or pipeline.yml; the deploy-fleet action's input of the same name); with nothing else to do, " +
  "that run only clears the lease";

/** The lease is held by another run; the message says by whom, until when, and how to clear it. */
export class LeaseHeldError extends Error {
  constructor(
    readonly resourceGroup: string,
    readonly holder: LeaseHolder,
    readonly stale: boolean,
  ) {
    super(
      stale
        ? `Resource group ${resourceGroup} carries a stale rollout lease from run ${holder.runId} (expired ${holder.expiresAt.toISOString()}): ` +
            `that run ended without releasing it (a cancelled or timed-out job is killed before it can). If no rollout is running for this fleet, ${FORCE_UNLOCK_HOW}.`
        : `Another rollout (run ${holder.runId}) holds the lease on resource group ${resourceGroup} until ${holder.expiresAt.toISOString()}. ` +
            `Wait for it to finish. If that run is dead (cancelled, timed out, crashed job), ${FORCE_UNLOCK_HOW}.`,
    );
    this.name = "LeaseHeldError";
  }
}

export class LeaseLostError extends Error {
  constructor(resourceGroup: string, runId: string, holder: LeaseHolder | undefined) {
    super(
      `Run ${runId} no longer holds the rollout lease on resource group ${resourceGroup}` +
        (holder
          ? ` (run ${holder.runId} holds it until ${holder.expiresAt.toISOString()})`
          : " (it was cleared)") +
        ": another run took it over with force-unlock. Stopping so two rollouts do not touch the fleet at once.",
    );
    this.name = "LeaseLostError";
  }
}

export interface AzureFleetLeaseOptions {
  /** Create the resource group with these when it does not exist yet (first apply of a fleet). */
  createResourceGroup?: { location: string; tags: Tags };
  /** Clock, for tests. */
  now?: () => Date;
}

export class AzureFleetLease implements FleetLease {
  private readonly now: () => Date;

  constructor(
    private readonly ctx: AzureContext,
    private readonly opts: AzureFleetLeaseOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Current holder, if any (expired or not). */
  async holder(): Promise<LeaseHolder | undefined> {
    const rg = await getIfExists(this.ctx.resources.resourceGroups.get(this.ctx.resourceGroup));
    return parseLease(rg?.tags?.[TAGS.lease]);
  }

  async acquire(runId: string, ttlSeconds: number, force: boolean): Promise<void> {
    assertRunId(runId);
    const rgName = this.ctx.resourceGroup;
    const rg = await getIfExists(this.ctx.resources.resourceGroups.get(rgName));
    const lease = formatLease({ runId, expiresAt: this.expiry(ttlSeconds) });
    if (!rg) {
      const create = this.opts.createResourceGroup;
      if (!create)
        throw new Error(`resource group ${rgName} does not exist and no createResourceGroup was given`);
      await this.ctx.resources.resourceGroups.createOrUpdate(rgName, {
        location: create.location,
        tags: mergeTags(create.tags, { [TAGS.lease]: lease }),
      });
    } else {
      const held = parseLease(rg.tags?.[TAGS.lease]);
      if (held && held.runId !== runId && !force) {
        throw new LeaseHeldError(rgName, held, held.expiresAt.getTime() <= this.now().getTime());
      }
      await this.write(rg.tags, lease);
    }
    // Two runs that read "free" at the same moment both write; the last write wins and the
    // other sees it here. (ARM offers no conditional write on resource group tags.)
    const after = await this.holder();
    if (after?.runId !== runId) {
      throw new LeaseHeldError(rgName, after ?? { runId: "unknown", expiresAt: this.now() }, false);
    }
  }

  async renew(runId: string, ttlSeconds: number): Promise<void> {
    const rg = await this.ctx.resources.resourceGroups.get(this.ctx.resourceGroup);
    const held = parseLease(rg.tags?.[TAGS.lease]);
    if (held?.runId !== runId) throw new LeaseLostError(this.ctx.resourceGroup, runId, held);
    await this.write(rg.tags, formatLease({ runId, expiresAt: this.expiry(ttlSeconds) }));
  }

  async release(runId: string): Promise<void> {
    const rg = await getIfExists(this.ctx.resources.resourceGroups.get(this.ctx.resourceGroup));
    const held = parseLease(rg?.tags?.[TAGS.lease]);
    if (!rg || held?.runId !== runId) return;
    await this.write(rg.tags, undefined);
  }

  private expiry(ttlSeconds: number): Date {
    if (!(ttlSeconds > 0)) throw new Error(`lease ttlSeconds must be positive, got ${ttlSeconds}`);
    return new Date(this.now().getTime() + ttlSeconds * 1000);
  }

  private async write(current: Tags | undefined, lease: string | undefined): Promise<void> {
    // PATCH replaces the whole tag set: merge so azure.tags and others' tags stay.
    await this.ctx.resources.resourceGroups.update(this.ctx.resourceGroup, {
      tags: mergeTags(current, { [TAGS.lease]: lease }),
    });
  }
}

function assertRunId(runId: string): void {
  // Azure tag values may hold up to 256 characters; ";" separates the expiry.
  if (!runId || runId.includes(";") || runId.length > 200) throw new Error(`invalid lease run id '${runId}'`);
}
