// One rollout per fleet: a lease recorded as a tag on the fleet's resource group,
// "runId;expiresAtIso". The reusable workflow's concurrency group is the first guard; this one
// also holds across workflows, repositories and hand-run jobs that share the resource group.
//
// Exclusive without a conditional write: resource group tags take no If-Match, and a tag PATCH of
// the resource group replaces the whole set, so "read, see it free, write it" lets two runs both
// hold it (A.get, B.get, A.update, A.get, B.update, B.get). Instead each run writes a claim of its
// own through the Tags API's Merge, which adds one tag without touching the others
// (https://learn.microsoft.com/rest/api/resources/tags/update-at-scope), then reads: it takes the
// lease only when no other live claim or holder is there, and withdraws its claim otherwise. Of two
// runs, the one that reads second always sees the other's claim (written before the first read),
// or the lease it became; so at most one takes it, and a tie leaves both refused, never both in.
import { createHash } from "node:crypto";
import { TAGS } from "@openclawps/fleet-model";
import type { FleetLease } from "@openclawps/rollout";
import { getIfExists } from "./arm-read.ts";
import type { AzureContext } from "./connect.ts";
import { type Tags, updateResourceGroupTags } from "./resource-tags.ts";

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
      // The first apply of a fleet: the group is made without the lease, which is then taken as
      // on any group (a PUT replaces the tags, so it must not carry one).
      const create = this.opts.createResourceGroup;
      if (!create)
        throw new Error(`resource group ${rgName} does not exist and no createResourceGroup was given`);
      await this.ctx.resources.resourceGroups.createOrUpdate(rgName, {
        location: create.location,
        tags: create.tags,
      });
    }
    const seen = parseLease(rg?.tags?.[TAGS.lease]);
    if (seen && seen.runId !== runId && !force) {
      throw new LeaseHeldError(rgName, seen, seen.expiresAt.getTime() <= this.now().getTime());
    }
    const claim = claimTag(runId);
    await this.tags("Merge", { [claim]: lease });
    const tags = (await this.ctx.resources.resourceGroups.get(rgName)).tags ?? {};
    const holder = parseLease(tags[TAGS.lease]);
    // Another run took the lease since the first read (force takes over only the one it saw).
    const taken =
      holder &&
      holder.runId !== runId &&
      (!force || holder.runId !== seen?.runId || holder.expiresAt.getTime() !== seen.expiresAt.getTime());
    const rival = Object.entries(tags)
      .filter(([k, v]) => k.startsWith(TAGS.leaseClaim) && k !== claim && liveClaim(v, this.now()))
      .map(([, v]) => parseLease(v))
      .find((c) => c && c.runId !== runId);
    if (taken || rival) {
      await this.tags("Delete", { [claim]: lease });
      const other = taken ? holder! : rival!;
      throw new LeaseHeldError(rgName, other, false);
    }
    // The lease is written before the claim goes, so another run always sees one of them. Claims
    // runs left behind when they died mid-acquire (expired) go with it: a resource takes 50 tags.
    await this.tags("Merge", { [TAGS.lease]: lease });
    const expired = Object.entries(tags).filter(
      ([k, v]) => k.startsWith(TAGS.leaseClaim) && k !== claim && !liveClaim(v, this.now()),
    );
    await this.tags("Delete", { [claim]: lease, ...Object.fromEntries(expired) });
  }

  async renew(runId: string, ttlSeconds: number): Promise<void> {
    const rg = await this.ctx.resources.resourceGroups.get(this.ctx.resourceGroup);
    const held = parseLease(rg.tags?.[TAGS.lease]);
    if (held?.runId !== runId) throw new LeaseLostError(this.ctx.resourceGroup, runId, held);
    await this.tags("Merge", { [TAGS.lease]: formatLease({ runId, expiresAt: this.expiry(ttlSeconds) }) });
  }

  async release(runId: string): Promise<void> {
    const rg = await getIfExists(this.ctx.resources.resourceGroups.get(this.ctx.resourceGroup));
    const value = rg?.tags?.[TAGS.lease];
    if (!rg || parseLease(value)?.runId !== runId) return;
    // Delete by name and value: a lease another run wrote since the read stays.
    await this.tags("Delete", { [TAGS.lease]: value! });
  }

  private expiry(ttlSeconds: number): Date {
    if (!(ttlSeconds > 0)) throw new Error(`lease ttlSeconds must be positive, got ${ttlSeconds}`);
    return new Date(this.now().getTime() + ttlSeconds * 1000);
  }

  private tags(operation: "Merge" | "Delete", tags: Tags): Promise<void> {
    return updateResourceGroupTags(this.ctx, operation, tags);
  }
}

function liveClaim(value: string, now: Date): boolean {
  const c = parseLease(value);
  return c !== undefined && c.expiresAt.getTime() > now.getTime();
}

/** The claim tag of a run: the run id hashed, as tag names may not carry every character it may. */
function claimTag(runId: string): string {
  return `${TAGS.leaseClaim}${createHash("sha256").update(runId).digest("hex").slice(0, 16)}`;
}

function assertRunId(runId: string): void {
  // Azure tag values may hold up to 256 characters; ";" separates the expiry.
  if (!runId || runId.includes(";") || runId.length > 200) throw new Error(`invalid lease run id '${runId}'`);
}
