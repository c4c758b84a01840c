// Verifies claws through Azure's managed Run Command instead of SSH: no inbound port, the
// channel authenticated by ARM, verify.sh run as root by the VM agent. Same judgement as the SSH
// transport (verify-output.ts), same results (ClawVerification), same progress events.
//
// Readiness = the VM running + its agent Ready (read from the instance view, cheap) + boot.sh
// finished this boot. Run Command costs ~20 s per script and keeps only the last 4,096 bytes of
// output, so the boot wait runs inside the one script that then runs `verify.sh --json
// --compact`, and the boot state comes last, where the cut never reaches it.
import pLimit from "p-limit";
import { clawResult } from "./claw-result.ts";
import type { ClawVerification, VerifyPhase, VerifyProgress } from "./types.ts";
import { DEFAULT_COMMAND_TIMEOUT_SECONDS, DEFAULT_PARALLELISM } from "./verify-claws.ts";
import { type CommandOutcome, countStatuses, parseVerifyOutput } from "./verify-output.ts";

/** verify.sh in the form whose whole report fits Run Command's 4,096 bytes of output. */
export const RUN_COMMAND_VERIFY_COMMAND = "/opt/claw/verify.sh --json --compact";
/** Bytes of stdout Azure keeps from a Run Command (the end). */
export const RUN_COMMAND_OUTPUT_LIMIT = 4096;
const BOOT_LINE = "claw-boot-state:";

/** A claw reached through ARM: its name and its VM (resource id or name). */
export interface RunCommandTarget {
  name: string;
  vm: string;
}

export interface AgentState {
  /** PowerState: `running`, `deallocated`, ...; undefined when not reported. */
  power: string | undefined;
  agentReady: boolean;
  /** The agent's status in words, for the not-ready message. */
  agentStatus: string;
}

export type RunCommandResult =
  | {
      ok: true;
      executionState: "Succeeded" | "Failed" | "TimedOut" | "Canceled" | "Unknown";
      exitCode?: number;
      output: string;
      error: string;
    }
  | { ok: false; kind: "vm-not-running" | "agent-not-ready" | "arm-error"; message: string };

/**
 * The seam to ARM (`runCommandChannel` in @openclawps/azure implements it). One Run Command per
 * VM at a time: verifyClawsByRunCommand never runs two on the same claw.
 */
export interface RunCommandChannel {
  agentState(target: RunCommandTarget): Promise<AgentState>;
  run(target: RunCommandTarget, script: string, timeoutSeconds: number): Promise<RunCommandResult>;
}

export interface RunCommandVerifyOptions {
  /** How long each claw may take to become ready (VM running, agent Ready, boot finished). */
  timeoutSeconds: number;
  /** How long verify.sh may run once the claw is ready (default 300). */
  commandTimeoutSeconds?: number;
  parallelism?: number;
  /** What to run as root; stdout must be verify.sh's JSON lines (default RUN_COMMAND_VERIFY_COMMAND). */
  command?: string;
  /** Backoff between instance-view reads while waiting for the agent, and whether to wait for boot. */
  readiness?: { initialDelayMs?: number; maxDelayMs?: number; factor?: number; bootCheck?: false };
  onProgress?: (event: VerifyProgress) => void;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The script Run Command runs: wait (inside the VM) until boot.sh completed this boot, or failed
 * it, or the wait is over; run the command; print the boot state last; exit with the command's
 * status.
 */
export function runCommandScript(command: string, bootWaitSeconds: number | false): string {
  const wait =
    bootWaitSeconds === false
      ? "state=ready"
      : [
          `end=$((SECONDS + ${Math.max(0, Math.floor(bootWaitSeconds))}))`,
          "b=$(cat /proc/sys/kernel/random/boot_id)",
          "state=booting",
          "while :; do",
          '  if [ "$(cat /var/lib/claw/boot-completed 2>/dev/null)" = "$b" ]; then state=ready; break; fi',
          '  if [ "$(head -n 1 /var/lib/claw/boot-failed 2>/dev/null)" = "$b" ]; then state=boot-failed; break; fi',
          '  [ "$SECONDS" -ge "$end" ] && break',
          "  sleep 2",
          "done",
        ].join("\n");
  return [wait, command, "rc=$?", `echo "${BOOT_LINE} $state"`, 'exit "$rc"', ""].join("\n");
}

export async function verifyClawsByRunCommand(
  targets: RunCommandTarget[],
  channel: RunCommandChannel,
  options: RunCommandVerifyOptions,
): Promise<ClawVerification[]> {
  if (!(options.timeoutSeconds >= 0))
    throw new Error("verifyClawsByRunCommand: timeoutSeconds must be a number >= 0");
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw new Error(`verifyClawsByRunCommand: claw ${t.name} is listed twice`);
    names.add(t.name);
  }
  const limit = pLimit(Math.max(1, options.parallelism ?? DEFAULT_PARALLELISM));
  return Promise.all(targets.map((t) => limit(() => verifyOne(t, channel, options))));
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function verifyOne(
  target: RunCommandTarget,
  channel: RunCommandChannel,
  options: RunCommandVerifyOptions,
): Promise<ClawVerification> {
  const startedAt = Date.now();
  const deadline = startedAt + options.timeoutSeconds * 1000;
  const sleep = options.sleep ?? defaultSleep;
  let attempts = 0;
  const report = (phase: VerifyPhase, message: string) =>
    options.onProgress?.({
      claw: target.name,
      phase,
      message,
      elapsedMs: Date.now() - startedAt,
      attempt: attempts,
    });
  const { finish, unhealthy } = clawResult(
    { name: target.name, host: target.vm.split("/").pop() ?? target.vm, port: 0 },
    startedAt,
    report,
  );

  // 1. The VM running and its agent Ready: instance-view reads with backoff, until the deadline.
  let delay = options.readiness?.initialDelayMs ?? 2000;
  const maxDelay = options.readiness?.maxDelayMs ?? 15_000;
  const factor = options.readiness?.factor ?? 2;
  let why = "";
  for (;;) {
    attempts++;
    report("connecting", `reading the VM agent's status (attempt ${attempts})`);
    try {
      const s = await channel.agentState(target);
      if (s.power === "running" && s.agentReady) break;
      why =
        s.power !== "running"
          ? `the VM is not running (power state ${s.power ?? "unknown"})`
          : `the VM agent is not ready (${s.agentStatus})`;
    } catch (err) {
      why = `reading the VM's instance view failed: ${(err as Error).message}`;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return unhealthy("not-ready", `${why}, still after ${options.timeoutSeconds}s (${attempts} check(s))`);
    }
    const wait = Math.min(delay, remaining);
    report("not-ready", `${why}; next check in ${Math.ceil(wait / 1000)}s`);
    await sleep(wait);
    delay = Math.min(delay * factor, maxDelay);
  }
  const agentReadyMs = Date.now() - startedAt;

  // 2. One Run Command: wait for boot inside the VM, then verify.sh.
  const command = options.command ?? RUN_COMMAND_VERIFY_COMMAND;
  const bootWait =
    options.readiness?.bootCheck === false ? false : Math.max(0, Math.floor((deadline - Date.now()) / 1000));
  const commandTimeout = options.commandTimeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_SECONDS;
  report("running", `${command} through Run Command${bootWait === false ? "" : " (after boot.sh finishes)"}`);
  const result = await channel.run(
    target,
    runCommandScript(command, bootWait),
    (bootWait || 0) + commandTimeout,
  );
  if (!result.ok) {
    return result.kind === "arm-error"
      ? unhealthy("command-failed", result.message)
      : unhealthy("not-ready", result.message);
  }

  const bootLine = result.output
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(BOOT_LINE));
  const boot = bootLine?.slice(BOOT_LINE.length).trim();
  const outcome: CommandOutcome = {
    command,
    stdout: result.output,
    stderr: result.error,
    exitCode: result.executionState === "TimedOut" || result.exitCode === undefined ? null : result.exitCode,
    ...(result.executionState === "TimedOut" ? { timedOut: true } : {}),
    ...(result.executionState === "Canceled" ? { signal: "canceled" } : {}),
  };
  const parsed = parseVerifyOutput(outcome);
  const counts = countStatuses(parsed.checks);
  const cut = Buffer.byteLength(result.output) >= RUN_COMMAND_OUTPUT_LIMIT;
  const problem = parsed.problem && {
    ...parsed.problem,
    message: cut
      ? `${parsed.problem.message} (Run Command keeps only the last ${RUN_COMMAND_OUTPUT_LIMIT} bytes of output, and this output reached it: the command must print a compact report, e.g. verify.sh --json --compact)`
      : parsed.problem.message,
  };
  const bootProblem =
    boot === "ready" || (bootWait === false && problem === undefined)
      ? undefined
      : boot === "boot-failed"
        ? "boot.sh stopped with an error during this boot (see the boot.completed check)"
        : boot === "booting"
          ? `boot.sh had not completed ${options.timeoutSeconds}s after verification started`
          : undefined;
  const healthy = !problem && !bootProblem && counts.failed === 0;
  const reason =
    problem?.reason ?? (bootProblem ? "boot-not-finished" : counts.failed > 0 ? "checks-failed" : undefined);
  const error = problem?.message ?? bootProblem;
  return finish({
    healthy,
    checks: parsed.checks,
    ...counts,
    ...(boot === "ready" ? { timeToReadyMs: Math.max(agentReadyMs, 0) } : {}),
    ...(outcome.exitCode === null ? {} : { exitCode: outcome.exitCode }),
    ...(reason ? { reason } : {}),
    ...(error ? { error } : {}),
  });
}
