// verifyClaws against real OpenSSH servers (test/sshd.ts) on 127.0.0.1.
// What runs on the "claw" is chosen per test through `options.command`:
// - testing/claw-sandbox.sh runs the REAL vm-runtime/lifecycle/verify.sh in a throwaway
//   sandbox with stubbed system commands (healthy, or with things broken on purpose);
// - small inline shell commands stand in for a missing script or garbage output;
// - the 20-claw test replays a file recorded from the real verify.sh, to keep 20 concurrent
//   sessions cheap on a shared machine.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ClawVerification,
  checkPrivateKey,
  InvalidPrivateKeyError,
  type VerifyOptions,
  type VerifyProgress,
  type VerifyTarget,
  verifyClaws,
} from "../src/index.ts";
import {
  currentUser,
  CLAW_SANDBOX_SCRIPT as FIXTURE,
  freePort,
  type KeyPair,
  keygen,
  type Sshd,
  startSshd,
} from "../testing/sshd.ts";

const SANDBOX_COMMAND = `bash ${FIXTURE} --json`;

let dir: string;
let clientKey: KeyPair;
let strangerKey: KeyPair;
let main: Sshd;
const servers: Sshd[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "verify-ssh-"));
  [clientKey, strangerKey] = await Promise.all([keygen(dir, "client"), keygen(dir, "stranger")]);
  main = await startSshd({
    dir,
    hostKey: await keygen(dir, "host-main"),
    authorizedKeys: [clientKey.publicKey],
  });
  servers.push(main);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function targetOf(name: string, server: Sshd, fingerprint = server.hostKey.fingerprint): VerifyTarget {
  return { name, host: "127.0.0.1", port: server.port, hostKeyFingerprint: fingerprint };
}

function options(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
  return {
    username: currentUser,
    privateKey: clientKey.privateKey,
    // Generous: under a loaded shared machine, sshd's forks and verify.sh's 30-odd checks can take
    // tens of seconds; the tests that exercise the deadline set their own.
    timeoutSeconds: 120,
    command: SANDBOX_COMMAND,
    readiness: { bootCheck: false, initialDelayMs: 100, maxDelayMs: 400 },
    ...overrides,
  };
}

async function verifyOne(target: VerifyTarget, opts: VerifyOptions): Promise<ClawVerification> {
  const [result] = await verifyClaws([target], opts);
  if (!result) throw new Error("no result");
  return result;
}

function recorder() {
  const events: VerifyProgress[] = [];
  return {
    events,
    onProgress: (e: VerifyProgress) => events.push(e),
    count: (phase: string) => events.filter((e) => e.phase === phase).length,
  };
}

describe("verifyClaws over SSH", () => {
  it("reports a healthy claw: the real verify.sh runs over SSH and every check is parsed", async () => {
    const result = await verifyOne(targetOf("alice", main), options());
    expect(result).toMatchObject({ name: "alice", healthy: true, failed: 0, warnings: 0, exitCode: 0 });
    expect(result.reason).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(result.checks.length).toBeGreaterThanOrEqual(30);
    expect(result.passed).toBe(result.checks.length);
    expect(result.checks.map((c) => c.id)).toContain("gateway.health");
    expect(result.timeToReadyMs).toBeGreaterThanOrEqual(0);
    expect(result.presentedHostKey).toBe(main.hostKey.fingerprint);
  });

  it("reports failing checks by id, and the claw as unhealthy", async () => {
    const result = await verifyOne(
      targetOf("bob", main),
      options({ command: `CLAW_FIXTURE_BREAK='gateway update' ${SANDBOX_COMMAND}` }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "checks-failed", failed: 2, exitCode: 1 });
    expect(result.error).toBeUndefined();
    expect(result.checks.filter((c) => c.status === "fail").map((c) => c.id)).toEqual([
      "updates.applied",
      "gateway.health",
    ]);
    expect(result.checks.find((c) => c.id === "updates.applied")?.detail).toBe("not applied: 002-second.sh");
  });

  it("tolerates a banner on stdout and chatter on stderr", async () => {
    const result = await verifyOne(
      targetOf("carol", main),
      options({ command: `CLAW_FIXTURE_BREAK=noise ${SANDBOX_COMMAND}` }),
    );
    expect(result.healthy).toBe(true);
    expect(result.passed).toBeGreaterThanOrEqual(30);
  });

  it("refuses a host key other than the recorded one, once, without running anything", async () => {
    const ran = join(dir, "ran-on-impostor");
    const progress = recorder();
    const recorded = strangerKey.fingerprint;
    const result = await verifyOne(
      targetOf("dave", main, recorded),
      options({ command: `touch ${ran}; ${SANDBOX_COMMAND}`, onProgress: progress.onProgress }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "host-key-mismatch", checks: [] });
    expect(result.presentedHostKey).toBe(main.hostKey.fingerprint);
    expect(result.error).toContain(`expected ${recorded}, presented ${main.hostKey.fingerprint}`);
    expect(result.error).toContain(
      "the VM's host key differs from the one recorded at creation: possible MITM or the VM was recreated outside deploy-fleet".replace(
        /^t/,
        "T",
      ),
    );
    expect(progress.count("connecting")).toBe(1);
    expect(existsSync(ran)).toBe(false);
  });

  it("refuses a claw with no recorded host key without connecting, unless allowUnpinned is set", async () => {
    const progress = recorder();
    const unpinned: VerifyTarget = { name: "erin", host: "127.0.0.1", port: main.port };
    const refused = await verifyOne(unpinned, options({ onProgress: progress.onProgress }));
    expect(refused).toMatchObject({ healthy: false, reason: "unpinned-host-key" });
    expect(refused.error).toContain("no host-key fingerprint is recorded");
    expect(progress.count("connecting")).toBe(0);

    const allowed = await verifyOne(unpinned, options({ allowUnpinned: true }));
    expect(allowed.healthy).toBe(true);
    expect(allowed.presentedHostKey).toBe(main.hostKey.fingerprint);
  });

  it("fails authentication with a key the claw does not accept, once, with a clear message", async () => {
    const progress = recorder();
    const result = await verifyOne(
      targetOf("frank", main),
      options({ privateKey: strangerKey.privateKey, onProgress: progress.onProgress }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "auth-failed" });
    expect(result.error).toContain(`SSH authentication as ${currentUser} was refused`);
    expect(result.error).not.toContain(strangerKey.privateKey.split("\n")[1]);
    expect(progress.count("connecting")).toBe(1);
  });

  it("rejects an unusable private key before connecting anywhere, without echoing it", async () => {
    const bogus = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n";
    const progress = recorder();
    const attempt = verifyClaws(
      [targetOf("gina", main)],
      options({ privateKey: bogus, onProgress: progress.onProgress }),
    );
    await expect(attempt).rejects.toBeInstanceOf(InvalidPrivateKeyError);
    await expect(attempt).rejects.not.toThrow(/bm90IGEga2V5/);
    expect(progress.events).toEqual([]);
    // The same check, on its own, for callers that validate inputs before doing anything.
    expect(() => checkPrivateKey(bogus)).toThrow(InvalidPrivateKeyError);
    expect(() => checkPrivateKey(clientKey.publicKey)).toThrow(InvalidPrivateKeyError);
    expect(() => checkPrivateKey(clientKey.privateKey)).not.toThrow();
  });

  it("waits for an SSH server that starts late, with backoff, then verifies the claw", async () => {
    const port = await freePort();
    const hostKey = await keygen(dir, "host-late");
    const progress = recorder();
    let starting: Promise<Sshd> | undefined;
    const result = await verifyOne(
      { name: "hank", host: "127.0.0.1", port, hostKeyFingerprint: hostKey.fingerprint },
      options({
        onProgress: (e) => {
          progress.onProgress(e);
          // Start the server only after two refused attempts: readiness must have retried.
          if (e.phase === "not-ready" && progress.count("not-ready") === 2) {
            starting = startSshd({ dir, hostKey, authorizedKeys: [clientKey.publicKey], port });
            starting.then((s) => servers.push(s));
          }
        },
      }),
    );
    await starting;
    expect(result.healthy).toBe(true);
    expect(progress.count("connecting")).toBeGreaterThanOrEqual(3);
    expect(progress.events.find((e) => e.phase === "not-ready")?.message).toMatch(
      /^connection refused; next check in \d+s$/,
    );
    expect(result.timeToReadyMs).toBeGreaterThan(0);
  });

  it("waits until boot.sh has completed before running verify", async () => {
    const state = join(dir, "boot-state-ivy");
    const progress = recorder();
    const result = await verifyOne(
      targetOf("ivy", main),
      options({
        readiness: {
          bootCheck: `cat ${state} 2>/dev/null || echo booting`,
          initialDelayMs: 100,
          maxDelayMs: 300,
        },
        onProgress: (e) => {
          progress.onProgress(e);
          if (e.phase === "booting" && progress.count("booting") === 2) writeFileSync(state, "ready\n");
        },
      }),
    );
    expect({ healthy: result.healthy, error: result.error }).toEqual({ healthy: true, error: undefined });
    expect(progress.count("booting")).toBeGreaterThanOrEqual(2);
    // One connection served every boot check.
    expect(progress.count("connecting")).toBe(1);
    expect(result.timeToReadyMs).toBeGreaterThan(0);
  });

  it("runs verify anyway when boot has not finished by the deadline, and calls the claw unhealthy", async () => {
    const result = await verifyOne(
      targetOf("jack", main),
      options({
        timeoutSeconds: 1,
        readiness: { bootCheck: "echo booting", initialDelayMs: 100, maxDelayMs: 200 },
      }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "boot-not-finished", failed: 0 });
    expect(result.error).toBe("boot.sh had not completed 1s after verification started");
    expect(result.checks.length).toBeGreaterThanOrEqual(30);
    expect(result.timeToReadyMs).toBeUndefined();
  });

  it("stops waiting when boot.sh recorded a failure for this boot", async () => {
    const progress = recorder();
    const result = await verifyOne(
      targetOf("kate", main),
      options({ readiness: { bootCheck: "echo boot-failed" }, onProgress: progress.onProgress }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "boot-not-finished" });
    expect(result.error).toContain("boot.sh stopped with an error during this boot");
    expect(progress.count("booting")).toBe(0);
  });

  it("gives up at the deadline when nothing ever answers, with the last error", async () => {
    const port = await freePort();
    const result = await verifyOne(
      { name: "liam", host: "127.0.0.1", port, hostKeyFingerprint: main.hostKey.fingerprint },
      options({ timeoutSeconds: 1 }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "not-ready", checks: [] });
    expect(result.error).toMatch(
      new RegExp(
        `^SSH at 127\\.0\\.0\\.1:${port} did not answer within 1s \\(\\d+ attempt\\(s\\); last: connection refused\\)$`,
      ),
    );
  });

  it("reports a missing verify script as such", async () => {
    const result = await verifyOne(
      targetOf("mia", main),
      options({ command: "/opt/claw-missing/verify.sh --json" }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "script-missing", exitCode: 127 });
    expect(result.error).toContain("`/opt/claw-missing/verify.sh --json` is not on the claw (exit 127");
  });

  it("reports garbage output with what was printed", async () => {
    const result = await verifyOne(
      targetOf("noah", main),
      options({ command: "echo 'Segmentation fault (core dumped)'" }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "bad-output", exitCode: 0, checks: [] });
    expect(result.error).toContain("stdout began with: Segmentation fault (core dumped)");
  });

  it("does not trust output cut short before the summary line", async () => {
    const result = await verifyOne(
      targetOf("olga", main),
      options({ command: `${SANDBOX_COMMAND} | head -n 5` }),
    );
    expect(result).toMatchObject({ healthy: false, reason: "bad-output" });
    expect(result.checks).toHaveLength(5);
    expect(result.error).toContain("stopped after 5 check(s) without its summary line");
  });

  it("verifies 20 claws on several SSH servers in parallel, never more at once than asked", async () => {
    const extra = await Promise.all(
      [1, 2, 3].map(async (i) =>
        startSshd({
          dir,
          hostKey: await keygen(dir, `host-fleet-${i}`),
          authorizedKeys: [clientKey.publicKey],
        }),
      ),
    );
    servers.push(...extra);
    const fleet = [main, ...extra];
    const recorded = join(dir, "recorded-verify.jsonl");
    writeFileSync(recorded, execFileSync("bash", [FIXTURE, "--json"], { encoding: "utf8" }));

    const targets = Array.from({ length: 20 }, (_, i) =>
      targetOf(`claw-${String(i + 1).padStart(2, "0")}`, fleet[i % 4] as Sshd),
    );
    const inFlight = new Set<string>();
    let maxInFlight = 0;
    const results = await verifyClaws(
      targets,
      options({
        command: `cat ${recorded}`,
        parallelism: 6,
        onProgress: (e) => {
          if (e.phase === "connecting") inFlight.add(e.claw);
          if (e.phase === "done") inFlight.delete(e.claw);
          maxInFlight = Math.max(maxInFlight, inFlight.size);
        },
      }),
    );
    expect(results.map((r) => r.name)).toEqual(targets.map((t) => t.name));
    expect(results.filter((r) => !r.healthy).map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    expect(new Set(results.map((r) => r.port)).size).toBe(4);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(6);
  });
});
