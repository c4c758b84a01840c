// Verification of 1 claw against N, through the Run Command transport with its latency modelled:
// verifyClawsByRunCommand at its default parallelism, over a channel that answers as Azure does in
// time (an instance-view read, then the Run Command's PUT that lasts about 20 s: "The minimum time
// to run a script is about 20 seconds", https://learn.microsoft.com/azure/virtual-machines/linux/run-command#restrictions)
// with the compact report the real verify.sh prints in its sandbox. The verifier's own CPU per
// claw is measured in this process. Goal: N claws (a wave) cost about one claw's time (<= 1.2x).
import { execFileSync } from "node:child_process";
import { AZURE_LATENCY_MS } from "@openclawps/local-azure";
import { type RunCommandChannel, runCommandScript, verifyClawsByRunCommand } from "@openclawps/verify";
import { CLAW_SANDBOX_SCRIPT } from "../packages/verify/testing/sshd.ts";
import { printTable } from "./measure.ts";
import { TIME_SCALE } from "./rollout.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function modelledChannel(report: string): RunCommandChannel {
  return {
    async agentState() {
      await sleep(AZURE_LATENCY_MS.read * TIME_SCALE);
      return { power: "running", agentReady: true, agentStatus: "Ready" };
    },
    async run() {
      await sleep(AZURE_LATENCY_MS["runCommand.write"] * TIME_SCALE);
      return { ok: true, executionState: "Succeeded", exitCode: 0, output: report, error: "" };
    },
  };
}

export async function benchVerify(sizes: number[]): Promise<void> {
  // What the Run Command's script prints on a healthy claw: the report, then the boot state.
  const report = execFileSync(
    "bash",
    ["-c", runCommandScript(`bash ${CLAW_SANDBOX_SCRIPT} --json --compact`, false)],
    { encoding: "utf8" },
  );
  // Once unmeasured: the first call pays for loading and compiling the verifier.
  await verifyClawsByRunCommand(
    [
      {
        name: "warm-up",
        vm: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/warm-up",
      },
    ],
    modelledChannel(report),
    {
      timeoutSeconds: 60,
      readiness: { bootCheck: false },
    },
  );
  const rows: { n: number; wall: number; cpuPerClaw: number; healthy: number }[] = [];
  for (const n of sizes) {
    const targets = Array.from({ length: n }, (_, i) => ({
      name: `claw-${i + 1}`,
      vm: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/claw-${i + 1}`,
    }));
    const cpu = process.cpuUsage();
    const started = performance.now();
    const results = await verifyClawsByRunCommand(targets, modelledChannel(report), {
      timeoutSeconds: 60,
      readiness: { bootCheck: false },
    });
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    rows.push({
      n,
      wall,
      cpuPerClaw: (used.user + used.system) / 1000 / n,
      healthy: results.filter((r) => r.healthy).length,
    });
  }
  const one = rows.find((r) => r.n === 1)?.wall;
  console.log(
    `Verification through Run Command, its latency modelled (a 20 s Run Command x${TIME_SCALE}), default parallelism`,
  );
  printTable(
    ["claws", "wall s", "x one claw (goal <= 1.2)", "verifier CPU ms/claw", "healthy"],
    rows.map((r) => [
      String(r.n),
      r.wall.toFixed(2),
      one ? (r.wall / one).toFixed(2) : "",
      r.cpuPerClaw.toFixed(1),
      `${r.healthy}/${r.n}`,
    ]),
  );
}
