// The vocabulary of claw verification: what a check is (one line of `verify.sh --json`),
// whom to verify, how, and what comes back.

export type CheckStatus = "pass" | "fail" | "warn";

/** One check as verify.sh --json prints it (vm-runtime/VERIFY.md). */
export interface Check {
  /** Stable id, `<group>.<name>`, e.g. `disk.mounted`, `services.xrdp`. */
  id: string;
  group: string;
  status: CheckStatus;
  /** What was checked, for people ("" when the script did not say). */
  label: string;
  /** Why it failed or warned; usually "" on a pass. */
  detail: string;
}

/** The last line of `verify.sh --json`. */
export interface VerifySummary {
  passed: number;
  failed: number;
  warnings: number;
}

/** A claw to verify: where its SSH server is and which host key it must present. */
export interface VerifyTarget {
  name: string;
  host: string;
  port: number;
  /**
   * OpenSSH SHA256 fingerprint ("SHA256:...", as `sshFingerprint` in @openclawps/fleet-model)
   * recorded when deploy-fleet created the VM. Without it the claw is refused unless
   * `allowUnpinned` is set.
   */
  hostKeyFingerprint?: string;
  /** Admin user on this claw when it differs from `VerifyOptions.username` (a per-claw admin_username). */
  username?: string;
}

export interface ReadinessOptions {
  /** First wait between attempts (default 1000 ms). */
  initialDelayMs?: number;
  /** Longest wait between attempts (default 15000 ms). */
  maxDelayMs?: number;
  /** Growth of the wait per attempt (default 2). */
  factor?: number;
  /** Limit for one TCP connect + SSH handshake + authentication (default 10000 ms). */
  attemptTimeoutMs?: number;
  /**
   * Shell command run over SSH (as the admin user, no sudo) to tell whether the claw finished
   * booting: it prints `ready` (boot.sh completed during this boot), `boot-failed` (boot.sh
   * stopped during this boot; waiting longer would not help) or anything else (still booting).
   * Default: DEFAULT_BOOT_CHECK. `false`: the claw is ready as soon as SSH answers.
   */
  bootCheck?: string | false;
}

export type VerifyPhase = "connecting" | "not-ready" | "booting" | "ready" | "running" | "done";

export interface VerifyProgress {
  claw: string;
  phase: VerifyPhase;
  /** One human line, e.g. "connection refused; next attempt in 4s". */
  message: string;
  /** Since this claw's verification started. */
  elapsedMs: number;
  /** Connection attempts so far. */
  attempt: number;
}

export interface VerifyOptions {
  /** Admin user on the VMs (the manifest's admin_username); a target's own `username` wins. */
  username: string;
  /** OpenSSH private key of the admin user (a secret: never logged, never in results). */
  privateKey: string | Buffer;
  passphrase?: string;
  /** How long to wait for each claw to become ready (SSH up with the pinned key, boot finished). */
  timeoutSeconds: number;
  /** How long verify.sh may run once the claw is ready (default 300). */
  commandTimeoutSeconds?: number;
  /** Claws verified at the same time (default 10). */
  parallelism?: number;
  /** What to run; its stdout must be verify.sh's JSON lines. Default DEFAULT_VERIFY_COMMAND. */
  command?: string;
  readiness?: ReadinessOptions;
  /**
   * Accept any host key from claws that have no recorded fingerprint. Off by default, and off
   * in the verify action: a claw created by deploy-fleet always has one. It exists for an
   * operator verifying VMs created before host keys were pinned (a seed-era fleet being
   * adopted) from a trusted network; the presented fingerprint is reported in
   * `presentedHostKey` so it can be recorded. A mismatch with a recorded fingerprint is
   * refused whatever this says.
   */
  allowUnpinned?: boolean;
  onProgress?: (event: VerifyProgress) => void;
}

export type VerifyFailureReason =
  /** No recorded host-key fingerprint and allowUnpinned not set: never connected. */
  | "unpinned-host-key"
  /** The server presented a different host key than the recorded one: never authenticated. */
  | "host-key-mismatch"
  /** The server refused the private key. */
  | "auth-failed"
  /** SSH never answered within the timeout (connection refused, timed out, unreachable). */
  | "not-ready"
  /** SSH answered but boot.sh had not completed (or stopped) by the deadline. */
  | "boot-not-finished"
  /** The verify command does not exist on the claw (exit 127, "No such file"). */
  | "script-missing"
  /** The command's output was not verify.sh's JSON lines (or disagreed with its summary). */
  | "bad-output"
  /** The command timed out, was killed, or exited non-zero without a failed check. */
  | "command-failed"
  /** The connection broke while checking. */
  | "connection-lost"
  /** verify.sh ran and at least one check failed. */
  | "checks-failed";

export interface ClawVerification {
  name: string;
  host: string;
  port: number;
  healthy: boolean;
  /** Every check verify.sh reported (empty when it never ran or printed nothing usable). */
  checks: Check[];
  passed: number;
  failed: number;
  warnings: number;
  /** From the start of this claw's verification until it was ready; absent when it never was. */
  timeToReadyMs?: number;
  /** Whole verification of this claw, readiness included. */
  durationMs: number;
  /** Fingerprint the server presented, once a handshake got that far. */
  presentedHostKey?: string;
  /** Exit status of the verify command, when it ran to the end. */
  exitCode?: number;
  /** Why the claw is unhealthy; absent when healthy. */
  reason?: VerifyFailureReason;
  /** A sentence for people when the reason is not (only) failed checks. */
  error?: string;
}
