// Lease keeping: one rollout per fleet at a time. The lease is taken once there is work, renewed
// before every wave after the first and every third of its lifetime while a wave runs, and
// released at the end (also on failure). A renewal that fails halts the rollout rather than
// risk two runs rolling the same fleet.
import { formatDuration } from "@openclawps/fleet-model";
import type { RolloutLog } from "./log.ts";
import type { FleetLease } from "./operations.ts";
import { errorText } from "./rollout-state.ts";

export const DEFAULT_LEASE_TTL_SECONDS = 30 * 60;

/** Keeps the fleet lease of one run; every method does nothing when the rollout has no lease. */
export class LeaseKeeper {
  private heartbeat: NodeJS.Timeout | undefined;
  // The renewal in flight, awaited before the release: a renewal reads the lease and writes it
  // back, so one that finished after the release would write the released lease back.
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly lease: FleetLease | undefined,
    private readonly runId: string,
    private readonly ttlSeconds: number,
    private readonly log: RolloutLog,
    /** Called with the reason when a renewal fails: the rollout halts. */
    private readonly onLost: (reason: string) => void,
  ) {}

  async take(force: boolean): Promise<void> {
    if (!this.lease) return;
    await this.lease.acquire(this.runId, this.ttlSeconds, force);
    this.log.info(`Took the fleet lease for run ${this.runId} (${formatDuration(this.ttlSeconds * 1000)}).`);
  }

  /** Renews the lease every third of its lifetime until `stop()`. */
  keepAlive(): void {
    const lease = this.lease;
    if (!lease) return;
    this.heartbeat = setInterval(
      () => {
        this.renewing = lease
          .renew(this.runId, this.ttlSeconds)
          .catch((err) => this.onLost(renewalFailed(err)));
      },
      Math.max(1000, (this.ttlSeconds * 1000) / 3),
    );
    this.heartbeat.unref();
  }

  /** Renews the lease before a wave; false (and the rollout halted) when the renewal failed. */
  async renew(): Promise<boolean> {
    if (!this.lease) return true;
    try {
      await this.lease.renew(this.runId, this.ttlSeconds);
      return true;
    } catch (err) {
      this.onLost(renewalFailed(err));
      return false;
    }
  }

  /** Stops the renewals, waits for the one in flight, and releases the lease. */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.renewing;
    await this.release();
  }

  /** Releases the lease; a failure is a warning, since the lease expires by itself. */
  async release(): Promise<void> {
    if (!this.lease) return;
    try {
      await this.lease.release(this.runId);
    } catch (err) {
      this.log.warning(
        `Releasing the fleet lease failed: ${errorText(err)}. It expires by itself after ${formatDuration(this.ttlSeconds * 1000)}; ` +
          "the next run can also take it with force-unlock: true.",
      );
    }
  }
}

function renewalFailed(err: unknown): string {
  return `renewing the fleet lease failed: ${errorText(err)}`;
}
