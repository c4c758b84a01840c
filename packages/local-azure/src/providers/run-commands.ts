// Microsoft.Compute/virtualMachines/runCommands — managed Run Command: a script the VM agent
// runs in the guest, as root unless told otherwise, its result in the resource's instance view.
// https://learn.microsoft.com/rest/api/compute/virtual-machine-run-commands/create-or-update
// https://learn.microsoft.com/azure/virtual-machines/linux/run-command-managed
//
// What is modelled:
// - PUT (201 new / 200 update, `Azure-AsyncOperation`): the operation ends when the script has
//   ended (`asyncExecution: true`: at once, the script keeps running); the SDK's poller then GETs
//   the resource. A script that exits non-zero or times out does not fail the operation
//   (`treatFailureAsDeploymentFailure` is stored, not acted on): its outcome is in
//   `properties.instanceView` (GET with `$expand=instanceView`): executionState
//   Pending/Running/Succeeded/Failed/TimedOut/Canceled, exitCode, output, error, startTime,
//   endTime. `protectedParameters` are never returned.
// - Output and error keep their last 4,096 bytes ("Output is limited to the last 4,096 bytes",
//   https://learn.microsoft.com/azure/virtual-machines/linux/run-command#restrictions).
// - Parameters reach a Linux script as environment variables.
// - A VM that is not running: 409 OperationNotAllowed "Cannot modify extensions in the VM when
//   the VM is not running." (Run Commands are delivered as extensions; ARM's answer for them,
//   quoted in hashicorp/terraform-provider-azurerm#477 and microsoft/AzureTRE#2138), for PUT and
//   DELETE alike.
// - A VM whose agent is not ready: the PUT is accepted; the operation fails with
//   VMAgentStatusCommunicationError ("VM 'x' has not reported status for VM agent or
//   extensions...", https://learn.microsoft.com/troubleshoot/azure/virtual-machines/linux/linux-azure-guest-agent).
//   In guest mode a booting guest's agent comes up after cloud-init's network stage and the
//   script then runs; without guests no VM has an agent, so every Run Command fails that way.
// - DELETE ends a script still running ("If the script execution is still in progress,
//   execution will be terminated").
import type { Arm, Reply, ResourceRequest, ResourceType } from "../arm.ts";
import { stripHidden } from "../arm.ts";
import { ArmError, invalidParameter } from "../arm-error.ts";
import type { GuestScriptRequest, GuestScriptResult } from "../guests/guest-manager.ts";
import type { OperationRecord, StoredResource } from "../world.ts";
import { obj, properties, requireLocation } from "./common.ts";

export const RUN_COMMAND = "Microsoft.Compute/virtualMachines/runCommands";
/** Bytes of output and of error a Run Command's instance view keeps (the end of each). */
export const RUN_COMMAND_OUTPUT_LIMIT = 4096;
/** Without timeoutInSeconds a script may run 90 minutes (Run Command's documented maximum). */
const DEFAULT_TIMEOUT_SECONDS = 90 * 60;
/** How long a Run Command waits, in guest mode, for a booting guest's agent (wall clock). */
const AGENT_WAIT_MS = 10 * 60_000;

/** The VM agent of each VM: guest mode provides one; without guests there is none. */
export interface VmAgents {
  /** The VM's agent reports Ready. */
  ready(vm: StoredResource): boolean;
  /** The VM's guest is up or booting, so its agent may still become ready. */
  starting(vm: StoredResource): boolean;
  run(vm: StoredResource, req: GuestScriptRequest & { signal: AbortSignal }): Promise<GuestScriptResult>;
}

type ExecutionState = "Pending" | "Running" | "Succeeded" | "Failed" | "TimedOut" | "Canceled" | "Unknown";

function hidden(r: StoredResource): Record<string, unknown> {
  r.hidden ??= {};
  return r.hidden;
}

/** The last `limit` bytes of a text, as Run Command keeps them. */
export function tailBytes(text: string, limit = RUN_COMMAND_OUTPUT_LIMIT): string {
  const b = Buffer.from(text, "utf8");
  return b.length <= limit ? text : b.subarray(b.length - limit).toString("utf8");
}

function notRunning(): ArmError {
  return new ArmError(
    409,
    "OperationNotAllowed",
    "Cannot modify extensions in the VM when the VM is not running.",
  );
}

function agentError(vmName: string): { code: string; message: string } {
  return {
    code: "VMAgentStatusCommunicationError",
    message: `VM '${vmName}' has not reported status for VM agent or extensions. Verify that the OS is up and healthy, the VM has a running VM agent, and that it can establish outbound connections to Azure storage. Please refer to https://aka.ms/vmextensionlinuxtroubleshoot for additional VM agent troubleshooting information.`,
  };
}

function nameValues(value: unknown, field: string): [string, string][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameter(`${field} must be a list of {name, value}.`, field);
  return value.map((p, i) => {
    const o = obj(p);
    if (typeof o?.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name))
      throw invalidParameter(`${field}[${i}].name must be a parameter name.`, `${field}[${i}].name`);
    return [o.name, String(o.value ?? "")];
  });
}

export function runCommands(
  arm: Arm,
  agents: VmAgents | undefined,
  powerOf: (vm: StoredResource) => string,
): ResourceType {
  // Scripts in flight, by lower-cased run command id: DELETE and a new PUT end them.
  const inFlight = new Map<string, AbortController>();

  const requireRunningVm = (req: ResourceRequest): StoredResource => {
    const vm = arm.find(req.parentId!)!;
    const state = vm.properties.provisioningState;
    if (state === "Deleting" || state === "Creating") {
      throw new ArmError(
        409,
        "OperationNotAllowed",
        `Operation on VM '${vm.name}' is not allowed because the VM is ${state === "Deleting" ? "being deleted" : "being created"}.`,
      );
    }
    if (powerOf(vm) !== "running") throw notRunning();
    return vm;
  };

  const execute = (vm: StoredResource, rc: StoredResource, op: OperationRecord, async: boolean): void => {
    const key = rc.id.toLowerCase();
    inFlight.get(key)?.abort();
    const abort = new AbortController();
    inFlight.set(key, abort);
    const h = hidden(rc);
    const view = (state: ExecutionState, extra: Record<string, unknown> = {}) => {
      h.instanceView = {
        executionState: state,
        executionMessage: "",
        output: "",
        error: "",
        statuses: [],
        ...extra,
      };
    };
    view("Pending");
    const finishOp = (failWith?: { code: string; message: string }) => {
      if (async) return;
      const live = arm.world.operations[op.id];
      if (live?.status !== "InProgress") return;
      if (failWith) live.failWith = failWith;
      live.readyAt = Date.now();
    };
    const props = rc.properties;
    const source = obj(props.source) ?? {};
    const timeoutSeconds =
      Number(props.timeoutInSeconds) > 0 ? Number(props.timeoutInSeconds) : DEFAULT_TIMEOUT_SECONDS;
    const env = [
      ...nameValues(props.parameters, "parameters"),
      ...((h.protectedParameters as [string, string][] | undefined) ?? []),
    ];
    const run = async () => {
      if (!agents?.ready(vm)) {
        const deadline = Date.now() + AGENT_WAIT_MS;
        while (agents?.starting(vm) && !agents.ready(vm) && Date.now() < deadline && !abort.signal.aborted)
          await new Promise((r) => setTimeout(r, 500));
        if (!agents?.ready(vm)) {
          if (abort.signal.aborted) return;
          const err = agentError(vm.name);
          view("Unknown", { executionMessage: err.message });
          finishOp(err);
          return;
        }
      }
      const startTime = new Date().toISOString();
      view("Running", { startTime });
      const result = await agents.run(vm, {
        name: rc.name,
        script: String(source.script ?? ""),
        env,
        ...(typeof props.runAsUser === "string" && props.runAsUser ? { runAsUser: props.runAsUser } : {}),
        timeoutSeconds,
        signal: abort.signal,
      });
      if (inFlight.get(key) !== abort) return; // replaced by a newer PUT
      inFlight.delete(key);
      const state: ExecutionState = abort.signal.aborted
        ? "Canceled"
        : result.timedOut
          ? "TimedOut"
          : result.exitCode === 0
            ? "Succeeded"
            : "Failed";
      view(state, {
        executionMessage:
          state === "TimedOut"
            ? `Execution timed out after ${timeoutSeconds} seconds.`
            : state === "Canceled"
              ? "Execution was canceled."
              : "Execution completed",
        ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
        output: tailBytes(result.stdout),
        error: tailBytes(result.stderr),
        startTime,
        endTime: new Date().toISOString(),
      });
      finishOp();
    };
    run().catch((err: unknown) => {
      view("Failed", { executionMessage: (err as Error).message, endTime: new Date().toISOString() });
      finishOp({ code: "VMExtensionProvisioningError", message: (err as Error).message });
    });
  };

  return {
    type: RUN_COMMAND,
    sdkName: "virtualMachineRunCommands",
    put(req, existing): Reply {
      const location = requireLocation(req.body);
      const vm = requireRunningVm(req);
      const props = properties(req.body);
      const source = obj(props.source);
      const given = ["script", "scriptUri", "commandId"].filter(
        (k) => source?.[k] !== undefined && source[k] !== "",
      );
      if (given.length !== 1) {
        throw invalidParameter(
          "Exactly one of source.script, source.scriptUri and source.commandId must be given.",
          "properties.source",
        );
      }
      if (given[0] !== "script") {
        throw invalidParameter(
          `source.${given[0]} is not supported by this stand-in: pass the script inline (source.script).`,
          `properties.source.${given[0]}`,
        );
      }
      if (
        props.timeoutInSeconds !== undefined &&
        !(Number.isInteger(props.timeoutInSeconds) && Number(props.timeoutInSeconds) >= 0)
      )
        throw invalidParameter(
          "timeoutInSeconds must be a whole number of seconds.",
          "properties.timeoutInSeconds",
        );
      nameValues(props.parameters, "parameters");
      const protectedParameters = nameValues(props.protectedParameters, "protectedParameters");
      const { protectedParameters: _p, runAsPassword: _pw, instanceView: _iv, ...stored } = props;
      const rc: StoredResource = {
        id: req.id,
        name: req.name,
        type: RUN_COMMAND,
        location,
        properties: {
          asyncExecution: false,
          timeoutInSeconds: 0,
          treatFailureAsDeploymentFailure: false,
          ...stored,
          provisioningState: existing ? "Updating" : "Creating",
        },
        hidden: { protectedParameters },
      };
      if (req.body?.tags !== undefined) rc.tags = req.body.tags as Record<string, string>;
      arm.upsert(rc);
      const async = props.asyncExecution === true;
      const reply = arm.accept(req, {
        kind: "runCommand.write",
        completion: "provision",
        resourceId: rc.id,
        location,
        status: existing ? 200 : 201,
        body: stripHidden(rc),
        headers: "async",
        // A synchronous Run Command's operation ends when its script does (or its agent fails).
        pending: !async,
        onAccepted: (op) => execute(vm, rc, op, async),
      });
      return reply;
    },
    delete(req, existing): Reply {
      requireRunningVm(req);
      inFlight.get(existing.id.toLowerCase())?.abort();
      inFlight.delete(existing.id.toLowerCase());
      existing.properties.provisioningState = "Deleting";
      return arm.accept(req, {
        kind: "runCommand.delete",
        completion: "delete",
        resourceId: existing.id,
        location: existing.location ?? "westus",
        status: 202,
        headers: "both",
      });
    },
    view(r, query) {
      const v = stripHidden(r);
      const expand = (query?.get("$expand") ?? "").toLowerCase();
      if (expand.includes("instanceview") && r.hidden?.instanceView)
        (v.properties as Record<string, unknown>).instanceView = structuredClone(r.hidden.instanceView);
      return v;
    },
  };
}

/** The VM agent as the VM's instance view reports it (absent for a deallocated VM). */
export function vmAgentView(ready: boolean): Record<string, unknown> {
  const time = new Date().toISOString();
  // Shape of `instanceView.vmAgent` (https://learn.microsoft.com/rest/api/compute/virtual-machines/instance-view).
  return ready
    ? {
        vmAgentVersion: "2.10.0.8",
        statuses: [
          {
            code: "ProvisioningState/succeeded",
            level: "Info",
            displayStatus: "Ready",
            message: "Guest Agent is running",
            time,
          },
        ],
        extensionHandlers: [],
      }
    : {
        vmAgentVersion: "Unknown",
        statuses: [
          {
            code: "ProvisioningState/Unavailable",
            level: "Warning",
            displayStatus: "Not Ready",
            message: "VM status blob is found but not yet populated.",
            time,
          },
        ],
      };
}
