// Verifies claws over SSH, several at a time: wait until each is ready, run verify.sh, read
// its JSON. Used by the verify action and by deploy-fleet's wave gate, so both judge a claw
// the same way.
import { MAX_PARALLELISM } from "@openclawps/fleet-model";
import pLimit from "p-limit";
import { clawResult } from "./claw-result.ts";
import { NotReadyError, waitUntilReady } from "./readiness.ts";
import { ConnectFailure, parsePrivateKey, type SshConnection } from "./ssh-connection.ts";
import type { ClawVerification, VerifyOptions, VerifyPhase, VerifyTarget } from "./types.ts";
import { type CommandOutcome, countStatuses, parseVerifyOutput } from "./verify-output.ts";

/** What deploy-fleet stages: verify.sh at /opt/claw, run as root (it reads root-only files). */
export const DEFAULT_VERIFY_COMMAND = "sudo -n /opt/claw/verify.sh --json";
/** Claws verified at once: as many as the manifest lets a rollout change at once (one rule). */
export const DEFAULT_PARALLELISM = MAX_PARALLELISM;
export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 300;

/**
 * Verifies every target and resolves with one result per target, in the targets' order.
 * Never rejects for a claw's failure (that is a result); throws only for bad options
 * (InvalidPrivateKeyError for a key that cannot be used, Error for programmer errors).
 */
export async function verifyClaws(
  targets: VerifyTarget[],
  options: VerifyOptions,
): Promise<ClawVerification[]> {
  if (!options.username) throw new Error("verifyClaws: username is required");
  if (!(options.timeoutSeconds >= 0)) throw new Error("verifyClaws: timeoutSeconds must be a number >= 0");
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw new Error(`verifyClaws: claw ${t.name} is listed twice`);
    names.add(t.name);
  }
  const privateKey = parsePrivateKey(options.privateKey, options.passphrase);
  const limit = pLimit(Math.max(1, options.parallelism ?? DEFAULT_PARALLELISM));
  return Promise.all(targets.map((target) => limit(() => verifyClaw(target, options, privateKey))));
}

async function verifyClaw(
  target: VerifyTarget,
  options: VerifyOptions,
  privateKey: ReturnType<typeof parsePrivateKey>,
): Promise<ClawVerification> {
  const startedAt = Date.now();
  let attempts = 0;
  const report = (phase: VerifyPhase, message: string, attempt = attempts) => {
    attempts = attempt;
    options.onProgress?.({ claw: target.name, phase, message, elapsedMs: Date.now() - startedAt, attempt });
  };
  const { finish, unhealthy } = clawResult(
    { name: target.name, host: target.host, port: target.port },
    startedAt,
    report,
  );

  if (!target.host) return unhealthy("not-ready", "the claw has no address to connect to (no public IP)");
  const pinned = target.hostKeyFingerprint?.trim() || undefined;
  if (!pinned && !options.allowUnpinned) {
    return unhealthy(
      "unpinned-host-key",
      "no host-key fingerprint is recorded for this claw, so its identity cannot be checked: not connecting. " +
        "VMs created by deploy-fleet carry one (tag openclawps.host-key-sha256); replace this VM with deploy-fleet to pin its key.",
    );
  }

  let ready: Awaited<ReturnType<typeof waitUntilReady>>;
  try {
    ready = await waitUntilReady({
      connect: {
        host: target.host,
        port: target.port,
        username: target.username || options.username,
        privateKey,
        pinnedFingerprint: pinned,
      },
      options: options.readiness ?? {},
      deadline: startedAt + options.timeoutSeconds * 1000,
      report,
    });
  } catch (err) {
    if (err instanceof ConnectFailure) {
      return unhealthy(err.kind === "host-key-mismatch" ? "host-key-mismatch" : "auth-failed", err.message, {
        ...(err.presentedHostKey ? { presentedHostKey: err.presentedHostKey } : {}),
      });
    }
    if (err instanceof NotReadyError) {
      return unhealthy(
        "not-ready",
        `SSH at ${target.host}:${target.port} did not answer within ${options.timeoutSeconds}s (${err.attempts} attempt(s); last: ${err.message})`,
      );
    }
    throw err;
  }

  const { connection, boot } = ready;
  const timeToReadyMs = ready.readyAtMs === undefined ? undefined : ready.readyAtMs - startedAt;
  report(
    "ready",
    boot === "ready"
      ? "ready"
      : `SSH is up but boot.sh ${boot === "boot-failed" ? "failed" : "has not completed"}`,
  );
  const command = options.command ?? DEFAULT_VERIFY_COMMAND;
  report("running", command);
  let outcome: CommandOutcome;
  try {
    outcome = await connection.exec(
      command,
      (options.commandTimeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS) * 1000,
    );
  } catch (err) {
    return unhealthy(
      "connection-lost",
      `the connection broke while running \`${command}\`: ${(err as Error).message}`,
      {
        presentedHostKey: connection.presentedHostKey,
        ...(timeToReadyMs === undefined ? {} : { timeToReadyMs }),
      },
    );
  } finally {
    closeQuietly(connection);
  }

  const parsed = parseVerifyOutput(outcome);
  const counts = countStatuses(parsed.checks);
  const bootProblem =
    boot === "ready"
      ? undefined
      : boot === "boot-failed"
        ? "boot.sh stopped with an error during this boot (see the boot.completed check)"
        : `boot.sh had not completed ${options.timeoutSeconds}s after verification started`;
  const healthy = !parsed.problem && !bootProblem && counts.failed === 0;
  const reason =
    parsed.problem?.reason ??
    (bootProblem ? "boot-not-finished" : counts.failed > 0 ? "checks-failed" : undefined);
  const error = parsed.problem?.message ?? bootProblem;
  return finish({
    healthy,
    checks: parsed.checks,
    ...counts,
    ...(timeToReadyMs === undefined ? {} : { timeToReadyMs }),
    presentedHostKey: connection.presentedHostKey,
    ...(outcome.exitCode === null ? {} : { exitCode: outcome.exitCode }),
    ...(reason ? { reason } : {}),
    ...(error ? { error } : {}),
  });
}

function closeQuietly(connection: SshConnection): void {
  try {
    connection.close();
  } catch {
    // Already gone: nothing to release.
  }
}
