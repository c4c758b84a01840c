// Running a script on a claw's VM through Azure's managed Run Command: an authenticated ARM
// channel to the VM agent, so no inbound port is needed. The verify transport in
// @openclawps/verify builds on this; ARM calls stay in this package.
//
// Facts this relies on (cite before changing):
// - The VM agent runs the script as root by default; its stdout and stderr come back in the run
//   command's instance view, each cut to the last 4,096 bytes
//   (https://learn.microsoft.com/azure/virtual-machines/linux/run-command#restrictions,
//   https://learn.microsoft.com/azure/virtual-machines/linux/run-command-managed).
// - Managed Run Commands run in parallel across VMs; we keep one per VM at a time under one
//   fixed name (a PUT to that name replaces the previous one), so nothing accumulates on a VM
//   and a crashed run leaves at most that one resource, replaced by the next verification.
// - It needs the VM running ("Cannot modify extensions in the VM when the VM is not running",
//   409 OperationNotAllowed) and the agent Ready (otherwise the operation fails with
//   VMAgentStatusCommunicationError); the VM instance view's `vmAgent` says which.
// - Latency: about 20 seconds at least per script ("The minimum time to run a script is about
//   20 seconds"), so readiness waits on the instance view (a read) and the boot wait happens
//   inside the one script instead of one Run Command per poll.
// - RBAC: Microsoft.Compute/virtualMachines/runCommands/write|read|delete — code execution as
//   root on every VM in scope.
import { azureErrorCode, describeAzureError } from "./azure-error.ts";
import type { AzureContext } from "./connect.ts";

/** The one Run Command name this project uses on a VM. */
export const VERIFY_RUN_COMMAND_NAME = "openclawps-verify";

export interface VmAgentState {
  /** `running`, `deallocated`, `stopped`, ... (PowerState/<x>); undefined when not reported. */
  power: string | undefined;
  /** The VM agent reports Ready. */
  agentReady: boolean;
  /** The agent's own words when it is not ready ("Not Ready: VM status blob ..."). */
  agentStatus: string;
}

export type RunCommandExecution = "Succeeded" | "Failed" | "TimedOut" | "Canceled" | "Unknown";

export interface RunCommandOutcome {
  executionState: RunCommandExecution;
  /** Absent when the script was killed or never ran. */
  exitCode?: number;
  /** The last 4,096 bytes of stdout. */
  output: string;
  /** The last 4,096 bytes of stderr. */
  error: string;
}

/** Why a Run Command could not run at all (as opposed to a script that ran and failed). */
export class RunCommandUnavailable extends Error {
  constructor(
    readonly kind: "vm-not-running" | "agent-not-ready" | "arm-error",
    message: string,
  ) {
    super(message);
    this.name = "RunCommandUnavailable";
  }
}

function vmNameOf(vmId: string): string {
  return vmId.split("/").pop() ?? vmId;
}

/**
 * Power and agent state of a VM, from its instance view (one read). A GET with
 * `$expand=instanceView` needs only virtualMachines/read; the instanceView endpoint would need
 * virtualMachines/instanceView/read as well.
 */
export async function vmAgentState(ctx: AzureContext, vmName: string): Promise<VmAgentState> {
  const view =
    (await ctx.compute.virtualMachines.get(ctx.resourceGroup, vmName, { expand: "instanceView" }))
      .instanceView ?? {};
  const power = view.statuses
    ?.find((s) => s.code?.startsWith("PowerState/"))
    ?.code?.slice("PowerState/".length);
  const status = view.vmAgent?.statuses?.[0];
  const agentReady = status?.displayStatus === "Ready";
  const agentStatus = status
    ? `${status.displayStatus ?? "unknown"}${status.message ? `: ${status.message}` : ""}`
    : "no VM agent status reported";
  return { power, agentReady, agentStatus };
}

export interface RunScriptOptions {
  /** How long the script may run on the VM. */
  timeoutSeconds: number;
  /** Run Command name on the VM (default VERIFY_RUN_COMMAND_NAME). */
  name?: string;
  clientId?: string;
}

/**
 * Runs a script as root on a VM through managed Run Command, waits for it, reads its outcome
 * and deletes the Run Command. Throws RunCommandUnavailable when it could not run.
 */
export async function runScriptOnVm(
  ctx: AzureContext,
  vmIdOrName: string,
  script: string,
  options: RunScriptOptions,
): Promise<RunCommandOutcome> {
  const vm = vmNameOf(vmIdOrName);
  const name = options.name ?? VERIFY_RUN_COMMAND_NAME;
  const rg = ctx.resourceGroup;
  const vmInfo = await ctx.compute.virtualMachines.get(rg, vm);
  try {
    await ctx.compute.virtualMachineRunCommands.createOrUpdate(
      rg,
      vm,
      name,
      {
        location: vmInfo.location ?? "",
        source: { script },
        timeoutInSeconds: Math.max(1, Math.ceil(options.timeoutSeconds)),
        asyncExecution: false,
      },
      // The operation lasts as long as the script; bound it (every ARM call has a timeout).
      { ...ctx.poll, abortSignal: AbortSignal.timeout((options.timeoutSeconds + 600) * 1000) },
    );
  } catch (err) {
    const reason = unavailable(err, vm, options.clientId);
    // A Run Command the agent never ran stays on the VM, Failed: remove it. Best effort: the
    // next run replaces the same name anyway (a VM that is not running refuses the delete).
    if (reason.kind !== "vm-not-running")
      await ctx.compute.virtualMachineRunCommands.delete(rg, vm, name, ctx.poll).catch(() => undefined);
    throw reason;
  }
  let view: Awaited<ReturnType<typeof ctx.compute.virtualMachineRunCommands.getByVirtualMachine>>;
  try {
    view = await ctx.compute.virtualMachineRunCommands.getByVirtualMachine(rg, vm, name, {
      expand: "instanceView",
    });
  } catch (err) {
    throw unavailable(err, vm, options.clientId);
  }
  // The output is read; the resource only holds a copy of it. A failed delete is harmless (the
  // next verification replaces the same name), so it does not turn a verdict into an error.
  await ctx.compute.virtualMachineRunCommands.delete(rg, vm, name, ctx.poll).catch(() => undefined);
  const iv = view.instanceView ?? {};
  const state = (iv.executionState ?? "Unknown") as RunCommandExecution;
  return {
    executionState: state,
    ...(typeof iv.exitCode === "number" && state !== "TimedOut" ? { exitCode: iv.exitCode } : {}),
    output: iv.output ?? "",
    error: iv.error ?? "",
  };
}

function unavailable(err: unknown, vm: string, clientId: string | undefined): RunCommandUnavailable {
  const code = azureErrorCode(err);
  const text = describeAzureError(err, clientId ? { clientId } : {});
  if (code === "VMAgentStatusCommunicationError")
    return new RunCommandUnavailable(
      "agent-not-ready",
      `the VM agent of ${vm} did not run the command: ${text}`,
    );
  if (code === "OperationNotAllowed" && /not running/i.test(text))
    return new RunCommandUnavailable("vm-not-running", `VM ${vm} is not running: ${text}`);
  return new RunCommandUnavailable("arm-error", `Run Command on ${vm} failed: ${text}`);
}

/**
 * The Run Command channel @openclawps/verify's `verifyClawsByRunCommand` takes (its
 * RunCommandChannel, matched by shape): agent state from the instance view, scripts through
 * runScriptOnVm. A claw's VM is named by its resource id or name.
 */
export function runCommandChannel(ctx: AzureContext, hints: { clientId?: string } = {}) {
  return {
    agentState: (target: { vm: string }) => vmAgentState(ctx, vmNameOf(target.vm)),
    async run(target: { vm: string }, script: string, timeoutSeconds: number) {
      try {
        const outcome = await runScriptOnVm(ctx, target.vm, script, {
          timeoutSeconds,
          ...(hints.clientId ? { clientId: hints.clientId } : {}),
        });
        return { ok: true as const, ...outcome };
      } catch (err) {
        if (err instanceof RunCommandUnavailable)
          return { ok: false as const, kind: err.kind, message: err.message };
        return {
          ok: false as const,
          kind: "arm-error" as const,
          message: `Run Command on ${vmNameOf(target.vm)} failed: ${describeAzureError(err, hints)}`,
        };
      }
    },
  };
}
