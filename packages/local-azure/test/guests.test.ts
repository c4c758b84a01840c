// Guest mode: VMs created through the real SDK boot real guests (cloud-init, sshd, a data disk
// on a loop device). Needs root and loop devices; elsewhere the suite is skipped with the reason.
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanLeftovers } from "../src/guests/guest-manager.ts";
import { guestsUnavailableReason } from "../src/guests/host-check.ts";
import {
  type Clients,
  createClawNetwork,
  createFleetBase,
  LOCATION,
  NOW,
  startWithClients,
} from "./harness.ts";

const reason = guestsUnavailableReason();
if (reason && process.env.CI && process.getuid?.() === 0) {
  throw new Error(`guest tests must run in CI as root, but: ${reason}`);
}
if (reason) console.warn(`guest tests skipped: ${reason}`);

const RG = "guests-rg";
// Asynchronous on purpose: the public IP forwarder runs in this process's event loop.
const run = promisify(execFile);
const BOOT_MS = Number(process.env.GUEST_BOOT_MS ?? 240_000);

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

describe.skipIf(reason !== undefined)("guest mode", () => {
  let c: Clients;
  let dir: string;
  let base: Awaited<ReturnType<typeof createFleetBase>>;
  let hostPub: string;
  let userKey: string;
  let ip: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "guests-test-"));
    for (const k of ["host", "user"])
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", k, "-f", join(dir, k)]);
    hostPub = readFileSync(join(dir, "host.pub"), "utf8").trim();
    userKey = join(dir, "user");
    c = await startWithClients({ guests: true });
    base = await createFleetBase(c, RG, ["1.0.0"]);
  }, 120_000);

  afterAll(async () => {
    await c?.azure.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** Runs a command over real ssh, trusting only the host key from customData. */
  async function ssh(command: string): Promise<string> {
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `${ip} ${hostPub.split(" ").slice(0, 2).join(" ")}\n`);
    const { stdout } = await run(
      "ssh",
      [
        "-i",
        userKey,
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${knownHosts}`,
        "-o",
        "ConnectTimeout=5",
        `azureuser@${ip}`,
        command,
      ],
      { encoding: "utf8" },
    );
    return stdout;
  }

  async function waitForSsh(check: string): Promise<string> {
    const deadline = Date.now() + BOOT_MS;
    let last = "";
    while (Date.now() < deadline) {
      try {
        return await ssh(check);
      } catch (err) {
        last = String((err as { stderr?: string }).stderr ?? err);
      }
      await sleep(2000);
    }
    const status = c.azure.guestStatus(RG, "g1");
    const console =
      status && existsSync(status.console) ? readFileSync(status.console, "utf8").slice(-4000) : "";
    throw new Error(`no answer over ssh at ${ip} within ${BOOT_MS} ms: ${last}\nguest console:\n${console}`);
  }

  it(
    "boots a VM created through the SDK: cloud-init runs its customData, sshd serves its host key",
    async () => {
      const { pip, nic } = await createClawNetwork(c, RG, "g1", base.subnetId);
      ip = pip.ipAddress!;
      const disk = await c.compute.disks.createOrUpdate(
        RG,
        "g1-data",
        { location: LOCATION, creationData: { createOption: "Empty" }, diskSizeGB: 4 },
        NOW,
      );
      const indent = (s: string) => s.replace(/^/gm, "    ");
      const cloudConfig = [
        "#cloud-config",
        "users:",
        "  - name: azureuser",
        "    shell: /bin/bash",
        "    sudo: ALL=(ALL) NOPASSWD:ALL",
        "    lock_passwd: true",
        `    ssh_authorized_keys: ["${readFileSync(`${userKey}.pub`, "utf8").trim()}"]`,
        "ssh_deletekeys: true",
        "ssh_keys:",
        "  ed25519_private: |",
        indent(readFileSync(join(dir, "host"), "utf8").trim()),
        `  ed25519_public: "${hostPub}"`,
        "write_files:",
        "  - path: /etc/guest-test/marker",
        "    content: written by cloud-init",
        "runcmd:",
        // Format the blank data disk once; mount it by UUID on every run of this script.
        "  - [sh, -c, 'blkid /dev/disk/azure/scsi1/lun0 || mkfs.ext4 -q /dev/disk/azure/scsi1/lun0']",
        "",
      ].join("\n");
      await c.compute.virtualMachines.beginCreateOrUpdateAndWait(
        RG,
        "g1",
        {
          location: LOCATION,
          hardwareProfile: { vmSize: "Standard_D2s_v5" },
          storageProfile: {
            imageReference: { id: base.imageId("1.0.0") },
            osDisk: { createOption: "FromImage", deleteOption: "Delete" },
            dataDisks: [{ lun: 0, createOption: "Attach", managedDisk: { id: disk.id! } }],
          },
          osProfile: {
            computerName: "g1",
            adminUsername: "azureuser",
            // gzip'd, as the fleet sends it: cloud-init gunzips user data.
            customData: gzipSync(cloudConfig).toString("base64"),
          },
          networkProfile: { networkInterfaces: [{ id: nic.id!, primary: true }] },
        },
        NOW,
      );

      const marker = await waitForSsh("cat /etc/guest-test/marker");
      expect(marker.trim()).toBe("written by cloud-init");
      // The only host key offered is the one from customData (ssh-keyscan sees every type).
      const { stdout: scanned } = await run("ssh-keyscan", ["-T", "5", ip], { encoding: "utf8" });
      const keys = scanned
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split(" ").slice(1, 3).join(" "));
      expect(keys).toEqual([hostPub.split(" ").slice(0, 2).join(" ")]);
      expect((await ssh("hostname")).trim()).toBe("g1");
      expect((await ssh("sudo -n id -u")).trim()).toBe("0");
      // sshd answers before the boot finishes (as on Azure); the guest's init then reports it done.
      const deadline = Date.now() + BOOT_MS;
      while (c.azure.guestStatus(RG, "g1")?.state !== "running" && Date.now() < deadline) await sleep(1000);
      expect(c.azure.guestStatus(RG, "g1")?.state).toBe("running");
    },
    BOOT_MS + 60_000,
  );

  it("runs a Run Command's script in the guest as root: output, exit status, parameters, the 4 KB tail, the timeout", async () => {
    const vmAgent = await c.compute.virtualMachines.instanceView(RG, "g1");
    expect(vmAgent.vmAgent?.statuses?.[0]?.displayStatus).toBe("Ready");
    const run = async (name: string, body: Record<string, unknown>) => {
      await c.compute.virtualMachineRunCommands.createOrUpdate(
        RG,
        "g1",
        name,
        { location: LOCATION, timeoutInSeconds: 60, ...body },
        NOW,
      );
      return (
        await c.compute.virtualMachineRunCommands.getByVirtualMachine(RG, "g1", name, {
          expand: "instanceView",
        })
      ).instanceView!;
    };
    const ok = await run("who", {
      source: {
        script: 'id -u; hostname; cat /etc/guest-test/marker; echo; echo "$GREETING"; echo oops >&2; exit 3',
      },
      parameters: [{ name: "GREETING", value: "hello" }],
    });
    expect(ok.output).toBe("0\ng1\nwritten by cloud-init\nhello\n");
    expect(ok.error).toBe("oops\n");
    expect(ok.exitCode).toBe(3);
    expect(ok.executionState).toBe("Failed");
    expect(ok.startTime).toBeTruthy();

    const long = await run("long", {
      source: { script: "head -c 6000 /dev/zero | tr '\\0' a; echo; echo END" },
    });
    expect(long.executionState).toBe("Succeeded");
    expect(Buffer.byteLength(long.output!)).toBe(4096);
    expect(long.output!.endsWith("a\nEND\n")).toBe(true);

    const slow = await run("slow", {
      source: { script: "echo started; sleep 30; echo never" },
      timeoutInSeconds: 2,
    });
    expect(slow.executionState).toBe("TimedOut");
    expect(slow.output).toBe("started\n");
    await c.compute.virtualMachineRunCommands.delete(RG, "g1", "slow", NOW);
  }, 120_000);

  it(
    "deallocate stops the guest; start boots it again on the same data disk; delete keeps the disk",
    async () => {
      const uuid = async () =>
        (await waitForSsh("sudo -n blkid -s UUID -o value /dev/disk/azure/scsi1/lun0")).trim();
      const before = await uuid();
      expect(before).toMatch(/^[0-9a-f-]{36}$/);
      const status = c.azure.guestStatus(RG, "g1")!;
      const bootLog = () => readFileSync(status.console, "utf8").split("guest-init: booting").length - 1;
      expect(bootLog()).toBe(1);

      await c.compute.virtualMachines.beginDeallocateAndWait(RG, "g1", NOW);
      await c.azure.guests!.settled();
      expect(c.azure.guestStatus(RG, "g1")?.state).toBe("stopped");
      await expect(ssh("true")).rejects.toThrow();
      // The OS disk stays with a deallocated VM.
      expect(
        readFileSync(join(status.osDisk, "fs", "var", "lib", "cloud", "data", "instance-id"), "utf8").trim(),
      ).toBe((await c.compute.virtualMachines.get(RG, "g1")).vmId);

      await c.compute.virtualMachines.beginStartAndWait(RG, "g1", NOW);
      expect(await uuid()).toBe(before);
      expect(bootLog()).toBe(2);
      // cloud-init saw the same instance: runcmd (per instance) did not run again, the marker stays.
      expect((await ssh("cat /etc/guest-test/marker")).trim()).toBe("written by cloud-init");

      await c.compute.virtualMachines.beginDeleteAndWait(RG, "g1", NOW);
      await c.azure.guests!.settled();
      expect(existsSync(status.osDisk)).toBe(false);
      const disk = await c.compute.disks.get(RG, "g1-data");
      expect(disk.diskState).toBe("Unattached");
      const file = c.azure.guests!.diskFile(disk.uniqueId!);
      expect(execFileSync("blkid", ["-s", "UUID", "-o", "value", file], { encoding: "utf8" }).trim()).toBe(
        before,
      );
    },
    2 * BOOT_MS + 60_000,
  );
});

describe.skipIf(reason !== undefined)("guest mode after a crash", () => {
  it(
    "removes what a killed instance left behind: processes, network namespace, loop device, files",
    async () => {
      const base = mkdtempSync(join(tmpdir(), "guests-crash-"));
      // One process (node with the tsx loader, not the tsx CLI, which would leave its child
      // running when killed): its death is the crash.
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "fixtures/guest-then-crash.ts"), base],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const dir = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) resolve(out.trim());
        });
        child.once("exit", (code) => reject(new Error(`the fixture exited (${code}) before its guest ran`)));
      });
      const tag = dir.split("/").pop()!;
      const netns = async () =>
        (await run("ip", ["netns", "list"])).stdout.split("\n").filter((l) => l.startsWith(`lzg-${tag}-`));
      const loops = async () =>
        (await run("losetup", ["-l", "-n", "-O", "BACK-FILE"])).stdout
          .split("\n")
          .filter((l) => l.includes(dir));
      expect(await netns()).toHaveLength(1);
      expect(await loops()).toHaveLength(1);
      const pids = (await run("ip", ["netns", "pids", (await netns())[0]!.split(" ")[0]!])).stdout
        .trim()
        .split(/\s+/);
      expect(pids.length).toBeGreaterThan(0);

      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      // The guest outlived its local-azure (nothing stopped it)...
      expect(await netns()).toHaveLength(1);
      // ...until the next instance starts and sweeps.
      cleanLeftovers(base);
      expect(await netns()).toEqual([]);
      expect(await loops()).toEqual([]);
      expect(existsSync(dir)).toBe(false);
      // Killed: gone, or a zombie until the host's init reaps it.
      const running = (pid: string) => {
        try {
          return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
        } catch {
          return false;
        }
      };
      expect(pids.filter(running)).toEqual([]);
      rmSync(base, { recursive: true, force: true });
    },
    BOOT_MS,
  );
});
