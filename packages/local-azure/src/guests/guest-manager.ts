// Guests: a running Linux userland per running VM, driven by the VM's power state in ARM.
//
// A guest is a process tree in its own mount, pid, uts, ipc and network namespaces
// (guest/enter.sh builds its root and hands over to guest/image/.../init.py, the guest's pid 1):
// the host's userland read-only under the image layer of the VM's gallery image version
// (guest/build-image.sh) under a per-VM writable layer (the OS disk), the VM's data disk at
// LUN 0 as a loop device, cloud-init fed the VM's customData through a NoCloud seed, sshd and
// the claw's units through a systemctl stand-in. The host reaches the guest's sshd at the VM's
// public IP port 22 through a TCP forwarder (Azure's public IP NAT) over a veth pair.
//
// The guest reaches what a VM reaches on Azure without a route out: the instance metadata
// service at 169.254.169.254:80 and the Key Vault data plane at https://{vault}.vault.localhost:PORT
// (curl resolves *.localhost to the loopback). A relay in the guest's network namespace (outside
// its pid namespace, so the guest cannot see or stop it) listens on both and carries each
// connection over the veth to a host-side listener on the link's host address that admits the
// guest's own address only: the metadata service answers as the VM whose link the connection
// came in on, so a guest cannot pose as another VM (IMDS identifies the VM by where the request
// comes from, never by what it says). The image layer trusts the local Azure's CA, so TLS is
// verified end to end with the local Azure's certificate, as a VM verifies Key Vault's.
//
// Every host-side resource (network namespace, veth, loop device, processes) is recorded in the
// instance directory, so a later instance removes what a crashed one left behind.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { GuestSpec } from "./spec.ts";

const execFileAsync = promisify(execFile);

/** Tag on a gallery image version whose image layer is built defective (value: what breaks). */
export const DEFECT_TAG = "local-azure-defect";
export const DEFECTS = ["xrdp"] as const;

const GUEST_DIR = fileURLToPath(new URL("../../guest/", import.meta.url));
const LINK_RELAY = join(GUEST_DIR, "link-relay.mjs");
/** The instance metadata service's address, on every VM's link. */
export const IMDS_ADDRESS = "169.254.169.254";
const DEFAULT_VERSIONS_ENV = fileURLToPath(
  new URL("../../../../vm-runtime/install/versions.env", import.meta.url),
);
const DEFAULT_BASE = "/var/tmp/local-azure-guests";
const GIB = 1024 ** 3;

export interface GuestOptions {
  /** Where instance directories live (default /var/tmp/local-azure-guests). */
  baseDir?: string;
  /** Pinned versions the image layers' offline repositories hold (default: vm-runtime's). */
  versionsEnv?: string;
}

/** What the local Azure serves its guests on their link (see the header). */
export interface GuestServices {
  /** The CA that signs the local Azure's certificates: every image layer trusts it. */
  caCertPem: string;
  /**
   * Serves the instance metadata service as the VM `key`, listening on `host` (any port) and
   * admitting connections from `peer` only.
   */
  imds(key: string, host: string, peer: string): Promise<Server>;
  /** The host port of the local Azure's HTTPS endpoint (Key Vault URLs carry it); undefined before it listens. */
  httpsPort(): number | undefined;
}

interface Record_ {
  unsharePid?: number;
  netns: string;
  hostIf: string;
  loop?: string;
}

interface Running {
  spec: GuestSpec;
  n: number;
  record: Record_;
  proc: ChildProcess;
  exited: Promise<void>;
  forwarder?: Server;
  /** Host-side listeners of the guest's link services (metadata service, Key Vault). */
  linkServers: Server[];
  guestAddr: string;
}

export interface GuestScriptRequest {
  /** The Run Command's name (a directory of the handler's download area). */
  name: string;
  script: string;
  /** Parameters and protected parameters, as environment variables. */
  env: [string, string][];
  runAsUser?: string;
  timeoutSeconds: number;
  /** Aborting ends the script (a deleted or replaced Run Command). */
  signal?: AbortSignal;
}

export interface GuestScriptResult {
  /** null when killed (timeout, or the guest shut down). */
  exitCode: number | null;
  /** The end of the output (at most the last MiB); Run Command's own cut is the caller's. */
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Keeps the last MiB of a stream. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > 1024 * 1024 && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export interface GuestStatus {
  state: "booting" | "running" | "stopped";
  /** Host path of the OS disk (the per-VM layer); files under fs/ are the guest's /var, /home, ... */
  osDisk: string;
  /** Boot log of the guest (cloud-init's and the init's output). */
  console: string;
  /** Host pid of the guest's init (its /proc/PID/root is the guest's root). */
  pid?: number;
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function quiet(cmd: string, args: string[]): void {
  try {
    sh(cmd, args);
  } catch {
    // best effort: the resource is already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function netnsPids(netns: string): number[] {
  try {
    return sh("ip", ["netns", "pids", netns]).trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Loop devices backed by files under DIR. */
function loopsUnder(dir: string): string[] {
  let out = "";
  try {
    out = sh("losetup", ["-l", "-n", "-O", "NAME,BACK-FILE"]);
  } catch {
    return [];
  }
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/, 2))
    .filter(([name, file]) => name && file?.startsWith(`${dir}/`))
    .map(([name]) => name!);
}

function removeRecorded(rec: Record_): void {
  if (rec.unsharePid && cmdline(rec.unsharePid).includes("unshare")) {
    for (const c of childrenOf(rec.unsharePid)) quiet("kill", ["-KILL", String(c)]);
    quiet("kill", ["-KILL", String(rec.unsharePid)]);
  }
  for (const pid of netnsPids(rec.netns)) quiet("kill", ["-KILL", String(pid)]);
  quiet("ip", ["netns", "del", rec.netns]);
  quiet("ip", ["link", "del", rec.hostIf]);
  if (rec.loop) quiet("losetup", ["-d", rec.loop]);
}

/** Removes what instances whose process is gone left behind under BASE. */
export function cleanLeftovers(base: string): void {
  if (!existsSync(base)) return;
  for (const tag of readdirSync(base)) {
    const dir = join(base, tag);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, "owner"), "utf8").trim());
    } catch {
      // no owner file: a half-created instance
    }
    if (owner && alive(owner)) continue;
    const recDir = join(dir, "guests");
    if (existsSync(recDir)) {
      for (const f of readdirSync(recDir)) {
        try {
          removeRecorded(JSON.parse(readFileSync(join(recDir, f), "utf8")) as Record_);
        } catch {
          // unreadable record: the loop and netns sweeps below still run
        }
      }
    }
    for (const loop of loopsUnder(dir)) quiet("losetup", ["-d", loop]);
    try {
      for (const ns of sh("ip", ["netns", "list"]).split("\n")) {
        const name = ns.split(" ")[0];
        if (name?.startsWith(`lzg-${tag}-`)) removeRecorded({ netns: name, hostIf: "" });
      }
    } catch {
      // no netns support: nothing was created
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A connection handler that pipes each connection to host:port. */
function relayTo(host: string, port: number): (client: Socket) => void {
  return (client) => {
    const upstream = connect(port, host);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  };
}

/** A TCP listener on host:port (0: any); with `only`, connections from any other address are dropped. */
function listen(
  onConnection: (s: Socket) => void,
  host: string,
  port: number,
  only?: string,
): Promise<Server> {
  const server = createServer((s) => {
    if (only !== undefined && s.remoteAddress !== only) s.destroy();
    else onConnection(s);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
    () => undefined,
  );
}

/**
 * Starts guest/link-relay.mjs in NETNS (listen=target pairs) and waits until it listens. It lives
 * in the network namespace only: removing the namespace's processes (removeRecorded) ends it.
 */
async function startRelay(netns: string, pairs: string[]): Promise<void> {
  const relay = spawn("ip", ["netns", "exec", netns, process.execPath, LINK_RELAY, ...pairs], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  relay.unref();
  let err = "";
  relay.stderr?.on("data", (b: Buffer) => {
    err += b.toString("utf8");
  });
  await new Promise<void>((resolve, reject) => {
    relay.stdout?.once("data", () => resolve());
    relay.once("exit", (code) => reject(new Error(`the link relay exited (${code}): ${err.trim()}`)));
  });
  relay.stdout?.destroy();
  relay.stderr?.destroy();
}

/** Adds the CA to the image layer's system trust store (what update-ca-certificates would write). */
function trustCa(image: string, caCertPem: string): void {
  const bundle = "etc/ssl/certs/ca-certificates.crt";
  let system = "";
  try {
    system = readFileSync(join("/", bundle), "utf8");
  } catch {
    // no system bundle on the host: the local Azure's CA alone
  }
  mkdirSync(join(image, "etc/ssl/certs"), { recursive: true });
  writeFileSync(join(image, bundle), `${system}${system.endsWith("\n") || !system ? "" : "\n"}${caCertPem}`);
  mkdirSync(join(image, "usr/local/share/ca-certificates"), { recursive: true });
  writeFileSync(join(image, "usr/local/share/ca-certificates/local-azure.crt"), caCertPem);
}

export class GuestManager {
  readonly dir: string;
  readonly tag: string;
  private readonly versionsEnv: string;
  private readonly images = new Map<string, Promise<string>>();
  private readonly running = new Map<string, Running>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly diskOwner = new Map<string, string>();
  private counter = 0;
  /** One line per guest event or failure (also on stderr for failures). */
  readonly log: string[] = [];

  constructor(
    opts: GuestOptions = {},
    private readonly services?: GuestServices,
  ) {
    const base = opts.baseDir ?? DEFAULT_BASE;
    mkdirSync(base, { recursive: true });
    cleanLeftovers(base);
    this.tag = randomBytes(3).toString("hex");
    this.dir = join(base, this.tag);
    mkdirSync(join(this.dir, "guests"), { recursive: true });
    writeFileSync(join(this.dir, "owner"), `${process.pid}\n`);
    this.versionsEnv = opts.versionsEnv ?? DEFAULT_VERSIONS_ENV;
  }

  private note(line: string, failure = false): void {
    this.log.push(line);
    if (failure) process.stderr.write(`local-azure guests: ${line}\n`);
  }

  private enqueue(key: string, step: () => Promise<void>): void {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(step).catch((err: unknown) => {
      this.note(`${key}: ${(err as Error).message}`, true);
    });
    this.queues.set(key, next);
  }

  /** Resolves when every power change asked for so far has been carried out. */
  async settled(): Promise<void> {
    let before: Promise<void>[];
    do {
      before = [...this.queues.values()];
      await Promise.all(before);
    } while (before.length !== this.queues.size || [...this.queues.values()].some((p, i) => p !== before[i]));
  }

  vmRunning(spec: GuestSpec): void {
    this.enqueue(spec.key, () => this.boot(spec));
  }

  vmStopped(key: string): void {
    this.enqueue(key, () => this.shutdown(key));
  }

  vmRestarted(spec: GuestSpec): void {
    this.enqueue(spec.key, async () => {
      await this.shutdown(spec.key);
      await this.boot(spec);
    });
  }

  vmDeleted(key: string, name: string, vmId: string): void {
    this.enqueue(key, async () => {
      await this.shutdown(key);
      rmSync(this.osDiskDir(name, vmId), { recursive: true, force: true });
    });
  }

  /** Builds (once) the image layer of a gallery image version. */
  image(versionId: string, tags: Record<string, string>): Promise<string> {
    const defect = tags[DEFECT_TAG] ?? "";
    const key = `${versionId}|${defect}`;
    let p = this.images.get(key);
    if (!p) {
      const out = join(this.dir, "images", `${this.images.size + 1}`);
      p = execFileAsync("bash", [join(GUEST_DIR, "build-image.sh"), out, this.versionsEnv, defect]).then(
        () => {
          if (this.services) trustCa(out, this.services.caCertPem);
          return out;
        },
      );
      this.images.set(key, p);
    }
    return p;
  }

  osDiskDir(name: string, vmId: string): string {
    return join(this.dir, "os-disks", `${name}-${vmId}`);
  }

  diskFile(uniqueId: string): string {
    return join(this.dir, "disks", `${uniqueId}.img`);
  }

  status(key: string, name: string, vmId: string): GuestStatus {
    const os = this.osDiskDir(name, vmId);
    const r = this.running.get(key.toLowerCase());
    const pid = r?.proc.pid ? childrenOf(r.proc.pid)[0] : undefined;
    let state: GuestStatus["state"] = "stopped";
    if (r) state = pid && existsSync(`/proc/${pid}/root/run/local-azure-booted`) ? "running" : "booting";
    return { state, osDisk: os, console: join(os, "console.log"), ...(pid ? { pid } : {}) };
  }

  /** The guest's VM agent is up (see guest/image/.../init.py): Run Commands can run. */
  agentReady(key: string): boolean {
    const pid = this.initPid(key);
    return pid !== undefined && existsSync(`/proc/${pid}/root/run/local-azure-agent-ready`);
  }

  /** The guest is booting or running (its agent may still come up). */
  isUp(key: string): boolean {
    return this.running.has(key.toLowerCase());
  }

  private initPid(key: string): number | undefined {
    const r = this.running.get(key.toLowerCase());
    return r?.proc.pid ? childrenOf(r.proc.pid)[0] : undefined;
  }

  /**
   * Runs a Run Command's script inside the guest as the Linux agent's run-command handler does:
   * the script saved under /var/lib/waagent/run-command-handler/download/NAME/SEQ/ and run by
   * bash as root (or runAsUser), parameters as environment variables, killed at the timeout.
   * Rejects when the agent is not ready.
   */
  async runScript(key: string, req: GuestScriptRequest): Promise<GuestScriptResult> {
    const r = this.running.get(key.toLowerCase());
    const pid = this.initPid(key);
    if (!r || pid === undefined || !this.agentReady(key)) throw new Error("the VM agent is not ready");
    const seq = ++this.counter;
    const guestDir = `/var/lib/waagent/run-command-handler/download/${req.name}/${seq}`;
    const hostDir = join(this.osDiskDir(r.spec.name, r.spec.vmId), "fs", guestDir);
    mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(hostDir, "script.sh"), req.script, { mode: 0o700 });
    const env = [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      `HOME=${req.runAsUser ? `/home/${req.runAsUser}` : "/root"}`,
      "LANG=C.UTF-8",
      ...req.env.map(([k, v]) => `${k}=${v}`),
    ];
    const runAs = req.runAsUser ? ["runuser", "-u", req.runAsUser, "--"] : [];
    const proc = spawn(
      "nsenter",
      [
        "-t",
        String(pid),
        "-m",
        "-u",
        "-i",
        "-n",
        "-p",
        "-r",
        "-w",
        "--",
        ...runAs,
        "/usr/bin/env",
        "-i",
        ...env,
        "/bin/bash",
        `${guestDir}/script.sh`,
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    const out = new TailBuffer();
    const err = new TailBuffer();
    proc.stdout?.on("data", (b: Buffer) => out.push(b));
    proc.stderr?.on("data", (b: Buffer) => err.push(b));
    let timedOut = false;
    const kill = () => {
      try {
        process.kill(-proc.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, req.timeoutSeconds * 1000);
    req.signal?.addEventListener("abort", kill, { once: true });
    const exitCode = await new Promise<number | null>((resolve) => {
      proc.once("error", () => resolve(null));
      proc.once("close", (code) => resolve(code));
    });
    clearTimeout(timer);
    this.note(`${r.spec.name}: run command ${req.name} ${timedOut ? "timed out" : `exited ${exitCode}`}`);
    return { exitCode, stdout: out.text(), stderr: err.text(), timedOut };
  }

  private pickSubnet(): { host: string; guest: string } {
    const used = (() => {
      try {
        return sh("ip", ["-o", "-4", "addr", "show"]);
      } catch {
        return "";
      }
    })();
    for (let tries = 0; tries < 1000; tries++) {
      const i = 1 + Math.floor(Math.random() * 16_382);
      const base = `10.213.${Math.floor((i * 4) / 256)}.${(i * 4) % 256}`;
      const parts = base.split(".").map(Number);
      const host = `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! + 1}`;
      const guest = `${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]! + 2}`;
      if (!used.includes(` ${host}/`) && !used.includes(` ${guest}/`)) return { host, guest };
    }
    throw new Error("no free /30 in 10.213.0.0/16 for the guest's link");
  }

  private async boot(spec: GuestSpec): Promise<void> {
    if (this.running.has(spec.key)) return;
    if (!spec.imageVersionId) {
      this.note(`${spec.name}: not a gallery image: no guest boots (the VM stays a record)`);
      return;
    }
    const image = await this.image(spec.imageVersionId, spec.imageTags);
    const os = this.osDiskDir(spec.name, spec.vmId);
    const seed = join(os, "fs", "var", "lib", "cloud", "seed", "nocloud");
    mkdirSync(seed, { recursive: true });
    // cloud-init reads the exact customData bytes (gzip'd user data is gunzipped by cloud-init).
    writeFileSync(join(seed, "user-data"), spec.customData ? Buffer.from(spec.customData, "base64") : "");
    writeFileSync(
      join(seed, "meta-data"),
      `instance-id: ${spec.vmId}\nlocal-hostname: ${spec.computerName}\n`,
    );

    let loop: string | undefined;
    if (spec.dataDisk) {
      // ARM detached the disk from its previous VM before attaching it here; that guest may
      // still be shutting down: wait for it rather than attach one disk to two guests.
      const owner = this.diskOwner.get(spec.dataDisk.key);
      if (owner && owner !== spec.key) await this.queues.get(owner);
      const still = this.diskOwner.get(spec.dataDisk.key);
      if (still && still !== spec.key)
        throw new Error(`data disk ${spec.dataDisk.name} is still attached to another guest (${still})`);
      const file = this.diskFile(spec.dataDisk.uniqueId);
      mkdirSync(join(this.dir, "disks"), { recursive: true });
      // An empty managed disk reads as zeros: a sparse file of the disk's size.
      if (!existsSync(file)) closeSync(openSync(file, "w"));
      if (statSync(file).size < spec.dataDisk.sizeGB * GIB) truncateSync(file, spec.dataDisk.sizeGB * GIB);
      loop = sh("losetup", ["--find", "--show", file]).trim();
      this.diskOwner.set(spec.dataDisk.key, spec.key);
    }

    const n = ++this.counter;
    const record: Record_ = {
      netns: `lzg-${this.tag}-${n}`,
      hostIf: `lz${this.tag}${n}`,
      ...(loop ? { loop } : {}),
    };
    const recordFile = join(this.dir, "guests", `${n}.json`);
    writeFileSync(recordFile, JSON.stringify(record));
    const net = this.pickSubnet();
    sh("ip", ["netns", "add", record.netns]);
    sh("ip", ["link", "add", record.hostIf, "type", "veth", "peer", "name", "eth0", "netns", record.netns]);
    sh("ip", ["addr", "add", `${net.host}/30`, "dev", record.hostIf]);
    sh("ip", ["link", "set", record.hostIf, "up"]);
    let linkServers: Server[] = [];
    try {
      if (this.services) linkServers = await this.serveLink(spec, record, net);
    } catch (err) {
      removeRecorded(record);
      rmSync(recordFile, { force: true });
      if (spec.dataDisk) this.diskOwner.delete(spec.dataDisk.key);
      throw err;
    }

    const root = join(os, "root");
    mkdirSync(root, { recursive: true });
    const consoleFd = openSync(join(os, "console.log"), "a");
    const proc = spawn(
      "ip",
      [
        "netns",
        "exec",
        record.netns,
        "unshare",
        "--pid",
        "--fork",
        "--mount",
        "--uts",
        "--ipc",
        "--propagation",
        "private",
        "--kill-child=SIGKILL",
        "bash",
        join(GUEST_DIR, "enter.sh"),
      ],
      {
        stdio: ["ignore", consoleFd, consoleFd],
        detached: true,
        env: {
          PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          GUEST_ROOT: root,
          GUEST_OS_DISK: os,
          GUEST_IMAGE: image,
          GUEST_LOOP: loop ?? "",
          GUEST_HOSTNAME: spec.computerName,
          GUEST_ADDR: `${net.guest}/30`,
          GUEST_BOOT_ID: randomUUID(),
        },
      },
    );
    closeSync(consoleFd);
    proc.unref();
    record.unsharePid = proc.pid;
    writeFileSync(recordFile, JSON.stringify(record));
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const r: Running = { spec, n, record, proc, exited, linkServers, guestAddr: net.guest };
    this.running.set(spec.key, r);
    this.note(`${spec.name}: booting (console: ${join(os, "console.log")})`);
    if (spec.publicIp) {
      // The VM's public IP port 22 → the guest's sshd (Azure's public IP NAT).
      r.forwarder = await listen(relayTo(net.guest, 22), spec.publicIp, 22).catch((err: Error) => {
        this.note(`${spec.name}: cannot listen on ${spec.publicIp}:22: ${err.message}`, true);
        return undefined;
      });
    }
  }

  /**
   * The metadata service and the Key Vault data plane on the guest's link (see the header): the
   * host-side listeners on the link's host address, admitting the guest's address only, then the
   * relay in the guest's network namespace, ready before the guest boots.
   */
  private async serveLink(
    spec: GuestSpec,
    record: Record_,
    net: { host: string; guest: string },
  ): Promise<Server[]> {
    const services = this.services!;
    const port = services.httpsPort();
    if (port === undefined)
      throw new Error("the local Azure is not listening yet: no Key Vault for the guest");
    sh("ip", ["-n", record.netns, "link", "set", "lo", "up"]);
    sh("ip", ["-n", record.netns, "addr", "add", `${IMDS_ADDRESS}/32`, "dev", "lo"]);
    const servers: Server[] = [];
    try {
      servers.push(await services.imds(spec.key, net.host, net.guest));
      servers.push(await listen(relayTo("127.0.0.1", port), net.host, 0, net.guest));
      const [imds, vault] = servers.map((s) => (s.address() as AddressInfo).port);
      await startRelay(record.netns, [
        `${IMDS_ADDRESS}:80=${net.host}:${imds}`,
        `127.0.0.1:${port}=${net.host}:${vault}`,
      ]);
    } catch (err) {
      await closeAll(servers);
      throw err;
    }
    return servers;
  }

  private async shutdown(key: string): Promise<void> {
    const r = this.running.get(key);
    if (!r) return;
    this.running.delete(key);
    await closeAll([...(r.forwarder ? [r.forwarder] : []), ...r.linkServers]);
    const pid1 = r.proc.pid ? childrenOf(r.proc.pid)[0] : undefined;
    if (pid1) quiet("kill", ["-TERM", String(pid1)]);
    // The guest's init stops its units and exits; past the grace period, everything is killed.
    const graceful = await Promise.race([
      r.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 30_000).unref()),
    ]);
    if (!graceful) {
      for (const pid of netnsPids(r.record.netns)) quiet("kill", ["-KILL", String(pid)]);
      if (r.proc.pid) quiet("kill", ["-KILL", String(r.proc.pid)]);
      await r.exited;
    }
    removeRecorded({
      netns: r.record.netns,
      hostIf: r.record.hostIf,
      ...(r.record.loop ? { loop: r.record.loop } : {}),
    });
    rmSync(join(this.dir, "guests", `${r.n}.json`), { force: true });
    if (r.spec.dataDisk) this.diskOwner.delete(r.spec.dataDisk.key);
    this.note(`${r.spec.name}: shut down${graceful ? "" : " (killed after the grace period)"}`);
  }

  /** Shuts every guest down, detaches every loop device, removes the instance directory. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
    await Promise.all([...this.running.keys()].map((k) => this.shutdown(k)));
    for (const loop of loopsUnder(this.dir)) quiet("losetup", ["-d", loop]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
