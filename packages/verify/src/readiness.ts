// Waiting for a claw to be ready instead of sleeping a fixed time (the seed slept 120 s):
// TCP connect and SSH handshake with the pinned host key, then "boot.sh completed during this
// boot", retried with exponential backoff until a deadline. Refusals that waiting cannot fix
// (a different host key, a refused private key) end the wait at once. Even on a VM's first
// boot the pinned key is the only one sshd ever presents: cloud-init writes the host keys
// (ssh module) and the admin's authorized key in its network stage, which runs before
// sshd.service (https://docs.cloud-init.io/en/latest/explanation/boot.html).
import { ConnectFailure, type ConnectParams, connect, type SshConnection } from "./ssh-connection.ts";
import type { ReadinessOptions, VerifyPhase } from "./types.ts";

/**
 * Prints `ready` when boot.sh recorded completion for the current boot, `boot-failed` when it
 * recorded a failure for it, `booting` otherwise. Both records are world-readable
 * (/var/lib/claw/boot-completed holds the boot id; boot-failed the boot id, then the reason),
 * so no sudo is needed.
 */
export const DEFAULT_BOOT_CHECK =
  "b=$(cat /proc/sys/kernel/random/boot_id); " +
  'if [ "$(cat /var/lib/claw/boot-completed 2>/dev/null)" = "$b" ]; then echo ready; ' +
  'elif [ "$(head -n 1 /var/lib/claw/boot-failed 2>/dev/null)" = "$b" ]; then echo boot-failed; ' +
  "else echo booting; fi";

export type BootState = "ready" | "boot-failed" | "booting";

export interface Ready {
  connection: SshConnection;
  /** "booting": SSH answered but the deadline passed before boot.sh finished. */
  boot: BootState;
  /** Set when boot reached "ready". */
  readyAtMs?: number;
}

/** SSH never answered within the deadline. */
export class NotReadyError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
    this.name = "NotReadyError";
  }
}

export interface ReadinessContext {
  connect: Omit<ConnectParams, "timeoutMs">;
  options: ReadinessOptions;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  report: (phase: VerifyPhase, message: string, attempt: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitUntilReady(ctx: ReadinessContext): Promise<Ready> {
  const now = ctx.now ?? Date.now;
  const sleep = ctx.sleep ?? defaultSleep;
  const initialDelay = ctx.options.initialDelayMs ?? 1000;
  const maxDelay = ctx.options.maxDelayMs ?? 15_000;
  const factor = ctx.options.factor ?? 2;
  const attemptTimeout = ctx.options.attemptTimeoutMs ?? 10_000;
  const bootCheck = ctx.options.bootCheck === undefined ? DEFAULT_BOOT_CHECK : ctx.options.bootCheck;

  let delay = initialDelay;
  let attempt = 0;
  let connection: SshConnection | undefined;
  let problem = "";
  for (;;) {
    if (!connection) {
      attempt++;
      ctx.report(
        "connecting",
        `connecting to ${ctx.connect.host}:${ctx.connect.port} (attempt ${attempt})`,
        attempt,
      );
      try {
        // Never less than a second, so a last attempt at the deadline can still succeed.
        const timeoutMs = Math.max(1000, Math.min(attemptTimeout, ctx.deadline - now()));
        connection = await connect({ ...ctx.connect, timeoutMs });
      } catch (err) {
        if (!(err instanceof ConnectFailure) || err.kind !== "unreachable") throw err;
        problem = err.message;
      }
    }
    if (connection) {
      if (bootCheck === false) return { connection, boot: "ready", readyAtMs: now() };
      try {
        const out = await connection.exec(bootCheck, attemptTimeout);
        const state = out.stdout.trim().split(/\s+/).pop();
        if (state === "ready") return { connection, boot: "ready", readyAtMs: now() };
        if (state === "boot-failed") return { connection, boot: "boot-failed" };
        problem = "SSH is up; boot.sh has not completed yet";
      } catch {
        problem = "the connection dropped while checking the boot";
      }
      if (connection.closed) {
        connection.close();
        connection = undefined;
      }
    }
    const remaining = ctx.deadline - now();
    if (remaining <= 0) {
      if (connection) return { connection, boot: "booting" };
      throw new NotReadyError(problem || "no answer", attempt);
    }
    const wait = Math.min(delay, remaining);
    ctx.report(
      connection ? "booting" : "not-ready",
      `${problem}; next check in ${Math.ceil(wait / 1000)}s`,
      attempt,
    );
    await sleep(wait);
    delay = Math.min(delay * factor, maxDelay);
  }
}
