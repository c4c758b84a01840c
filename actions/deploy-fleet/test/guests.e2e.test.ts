// The whole chain on booting guests (local Azure's guest mode): the bundled action creates claws
// whose customData runs through real cloud-init, boot.sh on the data disk, the real install
// scripts, sshd with the pinned host key; verify.sh gates every wave, through Azure Run Command
// (the default: run by the guest's VM agent, no SSH rule in the NSG) or over SSH with the pinned
// host key (transport: ssh); a defective image is rolled back onto the same disk. Needs root and loop devices (skipped elsewhere with the
// reason; CI runs it as root).
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ComputeManagementClient } from "@azure/arm-compute";
import type { TokenCredential } from "@azure/core-auth";
import { type BundledActionRun, runBundledAction } from "@openclawps/action-kit/testing";
import { TAGS } from "@openclawps/fleet-model";
import { guestsUnavailableReason } from "@openclawps/local-azure";
import type { RolloutReport } from "@openclawps/rollout";
import type { ClawVerification } from "@openclawps/verify";
import { type KeyPair, keygen } from "@openclawps/verify/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canarySecrets, errorOf, type Fleet, GALLERY, IMAGE, RG, startFleet } from "./fleet-fixture.ts";

const reason = guestsUnavailableReason();
if (reason && process.env.CI && process.getuid?.() === 0) {
  throw new Error(`the guest chain must run in CI as root, but: ${reason}`);
}
if (reason) console.warn(`guest chain skipped: ${reason}`);

const run = promisify(execFile);
// The verify action's bundle (turbo.json: a package's tests wait for its dependencies' bundles).
const VERIFY_BUNDLE = resolve(import.meta.dirname, "../../verify/dist/index.js");
const report = (r: BundledActionRun): RolloutReport => JSON.parse(r.outputs.result ?? "null");
const CLAWS = ["claw-001", "claw-002"];
// A first boot takes about a minute on a loaded 2-core machine; verification waits for it.
const VERIFY_TIMEOUT = "900s";
const STEP_MS = 1_200_000;

function expectSucceeded(r: BundledActionRun): void {
  if (r.exitCode !== 0) throw new Error(`the action failed (${r.exitCode}):\n${errorOf(r)}\n${r.stderr}`);
}

describe.skipIf(reason !== undefined)("deploy-fleet on booting guests", () => {
  let fleet: Fleet;
  let key: KeyPair;
  let dir: string;
  let secrets = canarySecrets(CLAWS);
  const manifest = () => ({
    claws: Object.fromEntries(CLAWS.map((n) => [n, {}])),
    adminPublicKey: key.publicKey,
    // No SSH rule: the default transport (Run Command) needs no inbound port. (The local Azure
    // does not filter traffic by NSG, so the SSH steps below still reach the guests.)
    allowedCidrs: [],
    rollout: { verify: true, canary: 1, wave_size: 1 },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "guests-chain-"));
    key = await keygen(dir, "admin");
    fleet = await startFleet(manifest(), secrets.json, ["1.0.0", "1.1.0"], { guests: true });
    await fleet.azure.seedGalleryVersions(RG, GALLERY, IMAGE, ["1.2.0"], "westus", undefined, {
      defective: "xrdp",
    });
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const state = () => fleet.azure.state();
  const vm = (claw: string) => Object.values(state().virtualMachines).find((v) => v.name === claw)!;
  const disk = (claw: string) => Object.values(state().disks).find((d) => d.name === `${claw}-data`)!;
  const ipOf = (claw: string) => {
    const pip = Object.entries(state().publicIps).find(([id]) => id.toLowerCase().endsWith(`/${claw}-pip`));
    return pip![1];
  };

  /**
   * A command on the claw over real ssh, trusting only a host key whose fingerprint is the one
   * pinned in the VM's tag (the key itself comes from ssh-keyscan; ssh then refuses any other).
   */
  async function ssh(claw: string, command: string): Promise<string> {
    const ip = ipOf(claw);
    const pinned = vm(claw).tags[TAGS.hostKey];
    expect(pinned, `the ${TAGS.hostKey} tag of ${claw}`).toBeTruthy();
    const { stdout: scanned } = await run("ssh-keyscan", ["-T", "10", "-t", "ed25519", ip], {
      encoding: "utf8",
    });
    const line = scanned.split("\n").find((l) => l.startsWith(`${ip} ssh-ed25519 `));
    expect(line, `ssh-keyscan ${ip}`).toBeTruthy();
    const knownHosts = join(dir, `known_hosts-${claw}`);
    writeFileSync(knownHosts, `${line}\n`);
    const { stdout: fp } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", knownHosts], {
      encoding: "utf8",
    });
    expect(fp).toContain(pinned!.replace(/^SHA256:/, ""));
    const { stdout } = await run(
      "ssh",
      [
        ...["-i", key.privateKeyPath, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"],
        ...["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "ConnectTimeout=10", `azureuser@${ip}`],
        command,
      ],
      { encoding: "utf8" },
    );
    return stdout.trim();
  }
  const uuidOf = (claw: string) => ssh(claw, "sudo -n blkid -s UUID -o value /dev/disk/azure/scsi1/lun0");
  // The default settings: verification through Run Command, no SSH key given.
  const deploy = (inputs: Record<string, string>) =>
    fleet.deploy({ mode: "apply", verify: "true", "verify-timeout": VERIFY_TIMEOUT, ...inputs });
  const sshRules = () =>
    Object.values(state().resources)
      .filter((r) => r.type === "Microsoft.Network/networkSecurityGroups")
      .flatMap(
        (r) => (r.properties.securityRules as { properties?: { destinationPortRange?: string } }[]) ?? [],
      )
      .filter((rule) => rule.properties?.destinationPortRange === "22");

  it(
    "creates two claws and proves them healthy through Run Command, with no SSH rule in the NSG",
    async () => {
      const r = await deploy({});
      expectSucceeded(r);
      expect(sshRules()).toEqual([]);
      expect(r.stdout).toMatch(/verify — \/opt\/claw\/verify\.sh --json --compact through Run Command/);
      const result = report(r);
      expect(result.verification).toBe(true);
      expect(result.claws.map((c) => [c.claw, c.outcome, c.health])).toEqual([
        ["claw-001", "created", "healthy"],
        ["claw-002", "created", "healthy"],
      ]);
      for (const claw of CLAWS) expect(disk(claw).tags[TAGS.lastHealthyImage]).toBe("1.0.0");

      // The gateway stand-in's contract (what verify.sh's gateway.health relies on): the health
      // RPC succeeds with the token from .env and fails with any other; /healthz answers anyone.
      const asUser = (env: string) =>
        `cd /home/azureuser && sudo -n -u azureuser env HOME=/home/azureuser ${env} openclaw health --json --timeout 5000`;
      const token = "$(sudo -n sed -n 's/^OPENCLAW_GATEWAY_TOKEN=//p' /mnt/claw-data/openclaw/.env)";
      const health = JSON.parse(await ssh("claw-001", asUser(`OPENCLAW_GATEWAY_TOKEN="${token}"`)));
      expect(health.ok).toBe(true);
      await expect(ssh("claw-001", asUser("OPENCLAW_GATEWAY_TOKEN=not-the-token"))).rejects.toThrow(/401/);
      expect(
        await ssh("claw-001", "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18789/healthz"),
      ).toBe("200");

      // boot.sh recorded the boot completed (what verification waits for) only once the services
      // were up, and started Sunshine once the display answered. The scripts it ran came through
      // customData without their comment lines (the shebang is the only line with a leading #).
      for (const claw of CLAWS) {
        const lines = (await ssh(claw, "sudo -n cat /var/log/claw/boot.log")).split("\n");
        const at = (text: string) => lines.findIndex((l) => l.includes(text));
        expect(at("started lightdm.service"), claw).toBeGreaterThan(-1);
        expect(at("display :0 answers"), claw).toBeGreaterThan(at("started lightdm.service"));
        expect(at("started claw-sunshine@azureuser.service"), claw).toBeGreaterThan(at("display :0 answers"));
        expect(at("services up"), claw).toBeGreaterThan(at("started openclaw-gateway@azureuser.service"));
        expect(at("boot completed"), claw).toBeGreaterThan(at("services up"));
        expect(await ssh(claw, "grep -c '^[[:space:]]*#' /opt/claw/boot.sh /opt/claw/verify.sh")).toBe(
          "/opt/claw/boot.sh:1\n/opt/claw/verify.sh:1",
        );
      }
      // verify.sh read the VM's size from the metadata service at 169.254.169.254 (the guest's link).
      const gpu = JSON.parse(
        await ssh("claw-001", "sudo -n /opt/claw/verify.sh --json | grep '\"gpu.present\"'"),
      );
      expect(gpu).toMatchObject({ status: "warn", detail: "Standard_D2s_v5 has no GPU: not checked" });
    },
    STEP_MS,
  );

  it(
    "moves both claws to a new image with a rotated secret, proven over SSH with pinned host keys (transport: ssh)",
    async () => {
      const uuids = await Promise.all(CLAWS.map(uuidOf));
      secrets = canarySecrets(CLAWS);
      const rotated = JSON.parse(secrets.json) as Record<string, Record<string, string>>;
      const r = await fleet.deploy({
        mode: "apply",
        verify: "true",
        transport: "ssh",
        "ssh-private-key": key.privateKey,
        "verify-timeout": VERIFY_TIMEOUT,
        "image-version": "1.1.0",
        "secrets-json": secrets.json,
      });
      expectSucceeded(r);
      expect(report(r).claws.map((c) => [c.claw, c.health])).toEqual([
        ["claw-001", "healthy"],
        ["claw-002", "healthy"],
      ]);
      for (const [i, claw] of CLAWS.entries()) {
        expect(vm(claw).imageReferenceId?.split("/").pop()).toBe("1.1.0");
        expect(await uuidOf(claw)).toBe(uuids[i]);
        const env = await ssh(claw, "sudo -n cat /mnt/claw-data/openclaw/.env");
        expect(env).toContain(`XAI_API_KEY=${rotated[claw]!.xai_api_key}`);
      }
    },
    STEP_MS,
  );

  it(
    "rolls a defective image, found through Run Command, back onto the same disk, halts, and leaves the other claw alone",
    async () => {
      const uuid = await uuidOf("claw-001");
      const untouched = vm("claw-002");
      const r = await deploy({ "image-version": "1.2.0", "secrets-json": secrets.json });
      expect(r.exitCode).toBe(1);
      const result = report(r);
      expect(result.claws.map((c) => [c.claw, c.outcome])).toEqual([
        ["claw-001", "rolled-back"],
        ["claw-002", "skipped"],
      ]);
      // Failed for a named check of verify.sh: the defective image's xrdp does not start.
      expect(JSON.stringify(result.claws[0])).toMatch(/services\.xrdp/);
      expect(errorOf(r)).toContain("Rollout halted: canary claw-001 failed");
      expect(vm("claw-001").imageReferenceId?.split("/").pop()).toBe("1.1.0");
      expect(await uuidOf("claw-001")).toBe(uuid);
      expect(vm("claw-002")).toEqual(untouched);
    },
    STEP_MS,
  );
  it(
    "the verify action reports each claw healthy (Run Command, then SSH), and refuses a claw whose host key differs from its tag",
    async () => {
      const verifyAction = (
        inputs: Record<string, string> = { transport: "ssh", "ssh-private-key": key.privateKey },
      ) =>
        runBundledAction({
          bundle: VERIFY_BUNDLE,
          inputs: { manifest: "claws.yaml", timeout: "10m", ...inputs },
          env: { ...fleet.azure.env(), GITHUB_WORKSPACE: fleet.workspace },
        });
      const results = (r: BundledActionRun): ClawVerification[] => JSON.parse(r.outputs.results ?? "[]");

      // The default: Run Command, no key.
      const byRunCommand = await verifyAction({});
      expectSucceeded(byRunCommand);
      expect(results(byRunCommand).map((c) => [c.name, c.healthy])).toEqual([
        ["claw-001", true],
        ["claw-002", true],
      ]);
      const good = await verifyAction();
      expectSucceeded(good);
      expect(results(good).map((c) => [c.name, c.healthy])).toEqual([
        ["claw-001", true],
        ["claw-002", true],
      ]);
      expect(good.summary).toContain("claw-001");
      expect(results(good)[0]!.checks.some((c) => c.id === "gateway.health" && c.status === "pass")).toBe(
        true,
      );

      // Another key's fingerprint in claw-002's tag: the guest presents the key from its
      // customData, which no longer matches what ARM says, so it is refused before sign-in.
      const compute = new ComputeManagementClient(
        fleet.azure.staticCredential() as TokenCredential,
        fleet.azure.subscriptionId,
        { endpoint: fleet.azure.armEndpoint },
      );
      const pinned = vm("claw-002").tags[TAGS.hostKey]!;
      const other = await keygen(dir, "other-host");
      const otherFingerprint = other.fingerprint;
      expect(otherFingerprint).not.toBe(pinned);
      await compute.virtualMachines.beginUpdateAndWait(
        RG,
        "claw-002",
        { tags: { ...vm("claw-002").tags, [TAGS.hostKey]: otherFingerprint } },
        { updateIntervalInMs: 0 },
      );
      const refused = await verifyAction();
      expect(refused.exitCode).toBe(1);
      const [first, second] = results(refused);
      expect(first).toMatchObject({ name: "claw-001", healthy: true });
      expect(second).toMatchObject({ name: "claw-002", healthy: false, reason: "host-key-mismatch" });
      await compute.virtualMachines.beginUpdateAndWait(
        RG,
        "claw-002",
        { tags: { ...vm("claw-002").tags, [TAGS.hostKey]: pinned } },
        { updateIntervalInMs: 0 },
      );
    },
    STEP_MS,
  );

  it(
    "fails gateway.health on a claw whose gateway runs with another token than its .env",
    async () => {
      // The gateway read its token when it started; .env now says another one (as after a
      // rotation the gateway never picked up). verify.sh asks the gateway with .env's token.
      await ssh(
        "claw-002",
        "sudo -n sed -i 's/^OPENCLAW_GATEWAY_TOKEN=.*/OPENCLAW_GATEWAY_TOKEN=rotated-but-not-restarted/' /mnt/claw-data/openclaw/.env",
      );
      const out = await ssh("claw-002", "sudo -n /opt/claw/verify.sh --json || true");
      const checks = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { id?: string; status?: string; detail?: string });
      const gateway = checks.find((c) => c.id === "gateway.health");
      expect(gateway?.status).toBe("fail");
      expect(gateway?.detail).toMatch(/refused/);
      expect(out).not.toContain("rotated-but-not-restarted");
      // Everything else on the claw is still fine: the one broken thing is named.
      expect(checks.filter((c) => c.status === "fail").map((c) => c.id)).toEqual(["gateway.health"]);
    },
    STEP_MS,
  );
});
