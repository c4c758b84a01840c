// The bundled action, run as the runner runs it (runBundledAction), against real OpenSSH
// servers on loopback (@openclawps/verify/testing). On the "claw" the command is the real
// vm-runtime verify.sh in a sandbox (CLAW_SANDBOX_SCRIPT); the server's port picks what to
// break: the command reads break-<port> from the test directory (sshd's SSH_CONNECTION names
// the server port). One test locates the claws through the local Azure (ARM over HTTPS, the
// real @azure clients in the bundle), whose public IPs are in 127.0.0.0/8.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BundledActionRun, runBundledAction, workflowCommands } from "@openclawps/action-kit/testing";
import { TAGS } from "@openclawps/fleet-model";
import { type LocalAzure, startLocalAzure } from "@openclawps/local-azure";
import type { ClawVerification } from "@openclawps/verify";
import {
  CLAW_SANDBOX_SCRIPT,
  currentUser,
  type KeyPair,
  keygen,
  type Sshd,
  startSshd,
} from "@openclawps/verify/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestYaml, seedImage } from "./manifest.ts";

const BUNDLE = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const runVerifyAction = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runBundledAction({ bundle: BUNDLE, inputs, env });

let dir: string;
let clientKey: KeyPair;
let otherKey: KeyPair;
let good: Sshd;
let broken: Sshd;
const servers: Sshd[] = [];
let command: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "verify-action-"));
  [clientKey, otherKey] = await Promise.all([keygen(dir, "client"), keygen(dir, "other")]);
  [good, broken] = (await Promise.all(
    ["good", "broken"].map(async (n) =>
      startSshd({ dir, hostKey: await keygen(dir, `host-${n}`), authorizedKeys: [clientKey.publicKey] }),
    ),
  )) as [Sshd, Sshd];
  servers.push(good, broken);
  writeFileSync(join(dir, `break-${broken.port}`), "gateway update");
  // \${SSH_CONNECTION##* } is expanded by the claw's shell: the server's port.
  command = `CLAW_FIXTURE_BREAK="$(cat ${dir}/break-\${SSH_CONNECTION##* } 2>/dev/null)" bash ${CLAW_SANDBOX_SCRIPT} --json`;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const target = (name: string, server: Sshd, fingerprint = server.hostKey.fingerprint) => ({
  name,
  host: server.address,
  port: server.port,
  hostKeyFingerprint: fingerprint,
});

function inputs(targets: object[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    transport: "ssh",
    "ssh-private-key": clientKey.privateKey,
    username: currentUser,
    targets: JSON.stringify(targets),
    timeout: "30s",
    parallelism: "4",
    command,
    "ready-command": "none",
    ...extra,
  };
}

function results(run: BundledActionRun): ClawVerification[] {
  return JSON.parse(run.outputs.results ?? "null") as ClawVerification[];
}

/**
 * Nothing the run wrote may contain the private key (or any line of it), apart from the
 * `::add-mask::` commands that register it with the runner (which the runner consumes).
 */
function expectNoKey(run: BundledActionRun): void {
  const stdout = run.stdout
    .split("\n")
    .filter((l) => !l.startsWith("::add-mask::"))
    .join("\n");
  const written = stdout + run.stderr + run.summary + JSON.stringify(run.outputs);
  for (const line of clientKey.privateKey.split("\n").filter((l) => l.length > 20)) {
    expect(written).not.toContain(line);
  }
}

describe("the verify action with explicit targets", () => {
  it("verifies healthy claws: outputs, a summary row per claw, no annotations", async () => {
    const run = await runVerifyAction(inputs([target("alice", good), target("bob", good)]));
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.outputs.healthy ?? "")).toEqual(["alice", "bob"]);
    expect(JSON.parse(run.outputs.unhealthy ?? "")).toEqual([]);
    const [alice] = results(run);
    expect(alice).toMatchObject({
      name: "alice",
      healthy: true,
      failed: 0,
      presentedHostKey: good.hostKey.fingerprint,
    });
    expect(alice?.checks.length).toBeGreaterThanOrEqual(30);
    expect(run.summary).toContain("## Claw verification");
    expect(run.summary).toContain("**2 of 2 claw(s) healthy**");
    expect(run.summary).toMatch(/^\| alice \| ✅ healthy \| \d+ \| 0 \| 0 \| [\d.hms]+ \|$/m);
    expect(run.summary).not.toContain("<details>");
    expect(run.annotations).toEqual([]);
    expectNoKey(run);
  });

  it("fails the step for an unhealthy claw, with an error annotation and a collapsible detail", async () => {
    const run = await runVerifyAction(inputs([target("alice", good), target("bob", broken)]));
    expect(run.exitCode).toBe(1);
    expect(JSON.parse(run.outputs.unhealthy ?? "")).toEqual(["bob"]);
    const clawAnnotations = run.annotations.filter((a) => a.startsWith("::error title=Claw"));
    expect(clawAnnotations).toHaveLength(1);
    expect(clawAnnotations[0]).toMatch(
      /^::error title=Claw bob is unhealthy::2 check\(s\) failed: updates\.applied \(not applied: 002-second\.sh\); gateway\.health \(unreachable: openclaw health could not connect/,
    );
    expect(run.annotations.at(-1)).toBe(
      "::error::1 of 2 claw(s) unhealthy: bob. See the annotations and the job summary.",
    );
    expect(run.summary).toContain("| bob | ❌ 2 check(s) failed |");
    expect(run.summary).toContain("<details><summary><b>bob</b>: 2 check(s) failed</summary>");
    expect(run.summary).toMatch(
      /\| ❌ \| Gateway answers an authenticated health request \(gateway\.health\) \| unreachable: openclaw health could not connect to the gateway: Error: connect ECONNREFUSED/,
    );
    expect(results(run).find((r) => r.name === "bob")?.reason).toBe("checks-failed");
    expectNoKey(run);
  });

  it("with report-only, reports the unhealthy claw without failing the step", async () => {
    const run = await runVerifyAction(inputs([target("bob", broken)], { "report-only": "true" }));
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.outputs.unhealthy ?? "")).toEqual(["bob"]);
    expect(run.annotations.filter((a) => a.startsWith("::error title=Claw bob"))).toHaveLength(1);
    expect(run.stdout).toContain(
      "1 of 1 claw(s) unhealthy: bob. report-only is set: the step does not fail.",
    );
  });

  it("refuses a claw whose host key differs from the recorded one, and says so", async () => {
    const run = await runVerifyAction(inputs([target("carol", good, otherKey.fingerprint)]));
    expect(run.exitCode).toBe(1);
    const [carol] = results(run);
    expect(carol).toMatchObject({ healthy: false, reason: "host-key-mismatch", checks: [] });
    expect(run.annotations[0]).toContain("possible MITM or the VM was recreated outside deploy-fleet");
    expect(run.annotations[0]).toContain(
      `expected ${otherKey.fingerprint}, presented ${good.hostKey.fingerprint}`,
    );
    expect(run.summary).toContain("| carol | ❌ host key mismatch | – | – | – | – |");
  });

  it("annotates at most 10 unhealthy claws and aggregates the rest in the summary", async () => {
    const many = Array.from({ length: 12 }, (_, i) =>
      target(`claw-${String(i + 1).padStart(2, "0")}`, good, otherKey.fingerprint),
    );
    const run = await runVerifyAction(inputs(many));
    expect(run.exitCode).toBe(1);
    expect(run.annotations.filter((a) => a.startsWith("::error title=Claw"))).toHaveLength(10);
    expect(run.summary).toContain("**0 of 12 claw(s) healthy**");
    expect(run.summary.match(/^\| claw-\d\d \|/gm)).toHaveLength(12);
    expect(run.summary.match(/<details>/g)).toHaveLength(12);
    expect(run.summary).toContain(
      "2 unhealthy claw(s) have no annotation (GitHub shows at most 10 error annotations per step)",
    );
    expect(JSON.parse(run.outputs.unhealthy ?? "")).toHaveLength(12);
  });

  it("verifies only the claws named in the claws input", async () => {
    const run = await runVerifyAction(
      inputs([target("alice", good), target("bob", broken)], { claws: "alice" }),
    );
    expect(run.exitCode).toBe(0);
    expect(results(run).map((r) => r.name)).toEqual(["alice"]);
  });
});

/** Every workflow-command form the runner obeys, on every kind of line break (see untrusted()). */
const HOSTILE =
  "x\n::add-mask::hunter2\r::error title=PWNED::obeyed\r\n  ::stop-commands::pwned\n##[set-output name=a]b";

/**
 * The commands in a run's stdout that came from HOSTILE rather than from the action (which writes
 * only annotations and the masks of its private key): nothing else may be obeyed.
 */
function foreignCommands(run: BundledActionRun) {
  return workflowCommands(run.stdout).filter((c) =>
    c.command === "add-mask"
      ? c.data.includes("hunter2")
      : !["error", "warning", "notice"].includes(c.command) || c.info.includes("PWNED"),
  );
}

/**
 * A server that speaks just enough of the SSH transport (RFC 4253 §4.2, §6, §11.1) to send a
 * DISCONNECT with a description of its choosing before any key exchange — what a hostile peer
 * at a claw's address can send before its host key is checked. OpenSSH's sshd cannot be made
 * to send chosen text, hence this stand-in.
 */
function hostileSshServer(description: string): Promise<{ port: number; close(): void }> {
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.write("SSH-2.0-OpenSSH_9.6\r\n");
    socket.once("data", () => {
      const text = Buffer.from(description, "utf8");
      const payload = Buffer.alloc(1 + 4 + 4 + text.length + 4);
      payload.writeUInt8(1, 0); // SSH_MSG_DISCONNECT
      payload.writeUInt32BE(2, 1); // SSH_DISCONNECT_PROTOCOL_ERROR
      payload.writeUInt32BE(text.length, 5);
      text.copy(payload, 9);
      payload.writeUInt32BE(0, 9 + text.length); // language tag ""
      let padding = 8 - ((4 + 1 + payload.length) % 8);
      if (padding < 4) padding += 8;
      const packet = Buffer.alloc(4 + 1 + payload.length + padding);
      packet.writeUInt32BE(1 + payload.length + padding, 0);
      packet.writeUInt8(padding, 4);
      payload.copy(packet, 5);
      socket.end(packet);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        close: () => server.close(),
      });
    }),
  );
}

describe("the verify action with a hostile claw or peer", () => {
  it("logs a claw's hostile verify.sh detail and check name without obeying a workflow command in them", async () => {
    const line = (o: object) => `printf '%s\\n' ${shellQuote(JSON.stringify(o))}`;
    const hostileCommand = [
      line({ id: `x.${HOSTILE}`, group: "x", status: "fail", label: `label ${HOSTILE}`, detail: HOSTILE }),
      line({ passed: 0, failed: 1, warnings: 0, healthy: false }),
      `printf '%s\\n' ${shellQuote(HOSTILE)} >&2`,
      "exit 1",
    ].join("; ");
    const run = await runVerifyAction(inputs([target("alice", good)], { command: hostileCommand }));
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("hunter2"); // the detail did reach the log
    expect(foreignCommands(run)).toEqual([]);
    expect(run.annotations.length).toBe(2); // the claw's and the failed step's
  });

  it("logs an SSH server's hostile DISCONNECT description without obeying a workflow command in it", async () => {
    const peer = await hostileSshServer(HOSTILE);
    try {
      const run = await runVerifyAction(
        inputs(
          [
            {
              name: "alice",
              host: "127.0.0.1",
              port: peer.port,
              hostKeyFingerprint: good.hostKey.fingerprint,
            },
          ],
          {
            timeout: "5s",
          },
        ),
      );
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain("hunter2"); // the description did reach the log
      expect(foreignCommands(run)).toEqual([]);
    } finally {
      peer.close();
    }
  });
});

describe("the verify action's input errors", () => {
  const expectUserError = (run: BundledActionRun, message: string) => {
    expect(run.exitCode).toBe(1);
    expect(run.annotations).toHaveLength(1);
    expect(run.annotations[0]).toContain(message);
    // A user error is reported without a stack trace (workflow commands encode newlines as %0A).
    expect(run.stdout).not.toMatch(/(^|%0A)\s+at \S/);
  };

  it("rejects targets that are not JSON", async () => {
    const run = await runVerifyAction({ ...inputs([]), targets: "[{name: alice}]" });
    expectUserError(run, "::error::Input 'targets' is not valid JSON");
  });

  it("rejects a target without a host-key fingerprint, naming the entry", async () => {
    const run = await runVerifyAction(inputs([{ name: "alice", host: "127.0.0.1", port: good.port }]));
    expectUserError(
      run,
      "Input 'targets': targets[0] (alice).hostKeyFingerprint must be the claw's SSH host-key fingerprint",
    );
  });

  it("requires the private key, and rejects one that cannot be used without echoing it", async () => {
    expectUserError(
      await runVerifyAction({ ...inputs([target("alice", good)]), "ssh-private-key": "" }),
      "Input 'ssh-private-key' is required with transport ssh",
    );
    const bogus =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0\n-----END OPENSSH PRIVATE KEY-----";
    const run = await runVerifyAction({ ...inputs([target("alice", good)]), "ssh-private-key": bogus });
    expectUserError(run, "Input 'ssh-private-key': The SSH private key cannot be used");
    expect(run.stdout.replace(/^::add-mask::.*$/gm, "")).not.toContain(
      "bm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0",
    );
  });

  it("rejects a claws filter naming an unknown claw", async () => {
    const run = await runVerifyAction(inputs([target("alice", good)], { claws: "alice, zed" }));
    expectUserError(run, "Input 'claws' names zed, not in the targets input.");
  });
});

describe("the verify action through Azure", () => {
  let azure: LocalAzure;

  beforeAll(async () => {
    azure = await startLocalAzure();
  });
  afterAll(async () => {
    await azure?.stop();
  });

  it("finds each claw's public IP and pinned host key through ARM, and reports a claw without a VM", async () => {
    const rg = "rg-verify-action";
    const hostKey = await keygen(dir, "host-arm");
    const imageId = await seedImage(azure, rg);
    // Public IPs are handed out in order from 127.10.0.1; skip a random stretch so that another
    // suite's stand-in VM on this machine is unlikely to hold the same address.
    const fillers = Array.from({ length: 1 + Math.floor(Math.random() * 100) }, (_, i) => `filler-${i}`);
    await azure.seedVirtualMachines(rg, fillers, { imageId, dataDiskSizeGB: 0 });
    await azure.seedVirtualMachines(rg, ["alice"], {
      imageId,
      dataDiskSizeGB: 0,
      tags: { [TAGS.claw]: "alice", [TAGS.hostKey]: hostKey.fingerprint },
    });
    const pipId = Object.keys(azure.state().publicIps).find((id) => id.endsWith("/alice-pip")) ?? "";
    const address = azure.state().publicIps[pipId] ?? "";
    expect(address).toMatch(/^127\./);
    // The claw answers SSH where Azure says it is: its public IP, port 22.
    await expectPortFree(address, 22);
    servers.push(
      await startSshd({
        dir,
        hostKey,
        authorizedKeys: [clientKey.publicKey],
        listenAddress: address,
        port: 22,
      }),
    );

    const workspace = mkdtempSync(join(dir, "repo-"));
    writeFileSync(join(workspace, "claws.yaml"), manifestYaml(rg, "  alice: {}\n  ghost: {}\n"));
    const run = await runVerifyAction(
      {
        transport: "ssh",
        "ssh-private-key": clientKey.privateKey,
        username: currentUser,
        timeout: "30s",
        command,
        "ready-command": "none",
      },
      { ...azure.env(), GITHUB_WORKSPACE: workspace },
    );
    expect(run.stderr, run.stdout).toBe("");
    expect(run.outputs.results, run.stdout).toBeDefined();
    expect(results(run).map((r) => [r.name, r.healthy, r.host, r.reason ?? ""])).toEqual([
      ["alice", true, address, ""],
      ["ghost", false, "", "not-ready"],
    ]);
    expect(results(run)[0]?.presentedHostKey).toBe(hostKey.fingerprint);
    expect(run.exitCode).toBe(1);
    // The annotation points at the claw's line in the manifest.
    expect(run.annotations, run.annotations.join("\n")).toContain(
      "::error title=Claw ghost is unhealthy,file=claws.yaml,line=27,endLine=27::no VM for this claw in resource group rg-verify-action",
    );
    expect(run.summary).toContain("Claws from claws.yaml, resource group rg-verify-action.");
    // Three list calls, whatever the fleet's size (no per-claw GETs).
    expect(
      azure.requestLog.filter(
        (e) => e.method === "GET" && /\/(virtualMachines|networkInterfaces|publicIPAddresses)\b/.test(e.path),
      ),
    ).toHaveLength(3);
  });

  it("verifies through Azure Run Command by default, with no SSH key, and says why a VM is not ready", async () => {
    const rg = "rg-verify-runcmd";
    const imageId = await seedImage(azure, rg);
    await azure.seedVirtualMachines(rg, ["alice"], {
      imageId,
      dataDiskSizeGB: 0,
      publicIp: false,
      tags: { [TAGS.claw]: "alice" },
    });
    const workspace = mkdtempSync(join(dir, "repo-"));
    writeFileSync(join(workspace, "claws.yaml"), manifestYaml(rg, "  alice: {}\n  ghost: {}\n"));
    const run = await runVerifyAction({ timeout: "1s" }, { ...azure.env(), GITHUB_WORKSPACE: workspace });
    expect(run.stderr, run.stdout).toBe("");
    expect(run.stdout).toContain("through Azure Run Command");
    // The local Azure without guests has no VM agent: the claw is not ready, and the result says why.
    expect(results(run).map((r) => [r.name, r.healthy, r.reason ?? ""])).toEqual([
      ["alice", false, "not-ready"],
      ["ghost", false, "not-ready"],
    ]);
    expect(results(run)[0]?.error).toMatch(/the VM agent is not ready \(Not Ready/);
    expect(run.exitCode).toBe(1);
  });
});

function expectPortFree(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err) =>
      reject(new Error(`${address}:${port} is taken (${err.message}); rerun the test`)),
    );
    server.listen(port, address, () => server.close(() => resolve()));
  });
}

/** POSIX single quotes: the text as one shell word. */
function shellQuote(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}
