// verifyClawsByRunCommand with a channel that stands in for ARM (no Azure here; the path through
// the real SDK and the local Azure is in @openclawps/azure's run-command test and deploy-fleet's
// guests e2e test). The channel runs the script the transport builds with the real bash, the
// REAL verify.sh in its sandbox (testing/claw-sandbox.sh), and cuts the output to its last
// 4,096 bytes as Azure does.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { MAX_PARALLELISM } from "@openclawps/fleet-model";
import { describe, expect, it } from "vitest";
import {
  type AgentState,
  type RunCommandChannel,
  type RunCommandResult,
  runCommandScript,
  verifyClawsByRunCommand,
} from "../src/index.ts";
import { CLAW_SANDBOX_SCRIPT } from "../testing/sshd.ts";

const run = promisify(execFile);
const tail = (s: string) => {
  const b = Buffer.from(s);
  return b.length <= 4096 ? s : b.subarray(b.length - 4096).toString();
};

function bashChannel(
  states: Record<string, AgentState[]> = {},
  env: Record<string, string> = {},
): RunCommandChannel & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    async agentState(t) {
      const list = states[t.name];
      return (
        (list && list.length > 1 ? list.shift() : list?.[0]) ?? {
          power: "running",
          agentReady: true,
          agentStatus: "Ready",
        }
      );
    },
    async run(_t, script, timeoutSeconds): Promise<RunCommandResult> {
      scripts.push(script);
      try {
        const { stdout, stderr } = await run("bash", ["-c", script], {
          timeout: timeoutSeconds * 1000,
          // Each of verify.sh's checks gets a minute: on a loaded 2-core machine its default 10 s can
          // pass while a check's process waits for a core (the deadline itself is tested in bats).
          env: { ...process.env, CLAW_CHECK_TIMEOUT: "60", ...env },
        });
        return {
          ok: true,
          executionState: "Succeeded",
          exitCode: 0,
          output: tail(stdout),
          error: tail(stderr),
        };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return {
          ok: true,
          executionState: "Failed",
          exitCode: typeof e.code === "number" ? e.code : 1,
          output: tail(e.stdout ?? ""),
          error: tail(e.stderr ?? ""),
        };
      }
    },
  };
}

const COMPACT = `bash ${CLAW_SANDBOX_SCRIPT} --json --compact`;
const noSleep = async () => {};

describe("verifyClawsByRunCommand", () => {
  it("proves a healthy claw from the real verify.sh's compact report", async () => {
    const [r] = await verifyClawsByRunCommand(
      [
        {
          name: "alice",
          vm: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/alice",
        },
      ],
      bashChannel(),
      {
        timeoutSeconds: 10,
        command: COMPACT,
        readiness: { bootCheck: false },
      },
    );
    expect(r).toMatchObject({ name: "alice", host: "alice", healthy: true, failed: 0, exitCode: 0 });
    expect(r!.passed).toBeGreaterThan(20);
  });

  it("verifies a wave of 50 claws all at once by default, so the wave costs one claw's time", async () => {
    // A channel that answers each Run Command once every claw's is in flight (or after 2 s).
    let inFlight = 0;
    let most = 0;
    let release: () => void = () => {};
    const allIn = new Promise<void>((r) => {
      release = r;
    });
    const channel: RunCommandChannel = {
      agentState: async () => ({ power: "running", agentReady: true, agentStatus: "Ready" }),
      async run() {
        inFlight++;
        most = Math.max(most, inFlight);
        if (inFlight === MAX_PARALLELISM) release();
        await Promise.race([allIn, new Promise((r) => setTimeout(r, 2000))]);
        inFlight--;
        return { ok: true, executionState: "Succeeded", exitCode: 0, output: "", error: "" };
      },
    };
    const wave = Array.from({ length: MAX_PARALLELISM }, (_, i) => ({
      name: `claw-${i}`,
      vm: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/claw-${i}`,
    }));
    const results = await verifyClawsByRunCommand(wave, channel, {
      timeoutSeconds: 10,
      readiness: { bootCheck: false },
    });
    expect(results).toHaveLength(MAX_PARALLELISM);
    expect(most).toBe(MAX_PARALLELISM);
  });

  it("reports failed checks with their details, as the SSH transport does", async () => {
    const [r] = await verifyClawsByRunCommand(
      [{ name: "bob", vm: "bob" }],
      bashChannel({}, { CLAW_FIXTURE_BREAK: "gateway update" }),
      { timeoutSeconds: 10, command: COMPACT, readiness: { bootCheck: false } },
    );
    expect(r).toMatchObject({ healthy: false, reason: "checks-failed", failed: 2 });
    expect(r!.checks.find((c) => c.id === "gateway.health")?.detail).toMatch(/unreachable/);
  });

  it("says the output was cut when the full report does not fit Run Command's 4,096 bytes", async () => {
    const [r] = await verifyClawsByRunCommand([{ name: "carol", vm: "carol" }], bashChannel(), {
      timeoutSeconds: 10,
      command: `for i in $(seq 60); do echo '{"id":"x.'$i'","group":"x","status":"pass","label":"a long label for check number '$i'","detail":""}'; done; echo '{"summary":true,"passed":60,"failed":0,"warnings":0}'`,
      readiness: { bootCheck: false },
    });
    expect(r).toMatchObject({ healthy: false, reason: "bad-output" });
    expect(r!.error).toMatch(/keeps only the last 4096 bytes/);
  });

  it("waits for the VM to run and its agent to be ready, then reports why it never was", async () => {
    const events: string[] = [];
    const channel = bashChannel({
      dave: [
        { power: "starting", agentReady: false, agentStatus: "no VM agent status reported" },
        { power: "running", agentReady: true, agentStatus: "Ready" },
      ],
      erin: [
        {
          power: "running",
          agentReady: false,
          agentStatus: "Not Ready: VM status blob is found but not yet populated.",
        },
      ],
      frank: [{ power: "deallocated", agentReady: false, agentStatus: "no VM agent status reported" }],
    });
    const results = await verifyClawsByRunCommand(
      [
        { name: "dave", vm: "dave" },
        { name: "erin", vm: "erin" },
        { name: "frank", vm: "frank" },
      ],
      channel,
      {
        timeoutSeconds: 0,
        command: COMPACT,
        readiness: { bootCheck: false },
        sleep: noSleep,
        onProgress: (e) => events.push(`${e.claw} ${e.phase}`),
      },
    );
    // dave: a zero timeout allows no second look, so not ready either; with time it is proven:
    expect(results.map((r) => r.reason)).toEqual(["not-ready", "not-ready", "not-ready"]);
    expect(results[1]!.error).toMatch(/the VM agent is not ready \(Not Ready: VM status blob/);
    expect(results[2]!.error).toMatch(/the VM is not running \(power state deallocated\)/);
    expect(channel.scripts).toEqual([]);

    const [later] = await verifyClawsByRunCommand(
      [{ name: "dave", vm: "dave" }],
      bashChannel({
        dave: [
          { power: "starting", agentReady: false, agentStatus: "x" },
          { power: "running", agentReady: true, agentStatus: "Ready" },
        ],
      }),
      { timeoutSeconds: 30, command: COMPACT, readiness: { bootCheck: false }, sleep: noSleep },
    );
    expect(later?.healthy).toBe(true);
    expect(events).toContain("erin done");
  });

  it("reports a Run Command the agent never ran as not ready, with Azure's words", async () => {
    const channel: RunCommandChannel = {
      agentState: async () => ({ power: "running", agentReady: true, agentStatus: "Ready" }),
      run: async () => ({
        ok: false,
        kind: "agent-not-ready",
        message: "the VM agent of gina did not run the command: VMAgentStatusCommunicationError",
      }),
    };
    const [r] = await verifyClawsByRunCommand([{ name: "gina", vm: "gina" }], channel, { timeoutSeconds: 5 });
    expect(r).toMatchObject({ healthy: false, reason: "not-ready" });
    expect(r!.error).toMatch(/VMAgentStatusCommunicationError/);
  });

  it("waits inside the VM for boot.sh and reports a boot that did not finish", async () => {
    const script = runCommandScript('echo \'{"summary":true,"passed":0,"failed":0,"warnings":0}\'', 0);
    expect(script).toContain("/var/lib/claw/boot-completed");
    expect(script.trimEnd().endsWith('exit "$rc"')).toBe(true);
    const [r] = await verifyClawsByRunCommand([{ name: "hal", vm: "hal" }], bashChannel(), {
      timeoutSeconds: 0,
      command: COMPACT,
    });
    // This machine's boot id is not in /var/lib/claw/boot-completed: the claw never finished booting.
    expect(r).toMatchObject({ healthy: false, reason: "boot-not-finished" });
  });
});
