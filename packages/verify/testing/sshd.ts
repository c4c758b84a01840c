// Test support (import "@openclawps/verify/testing"; never bundled into an action): real
// OpenSSH servers for tests — Debian's /usr/sbin/sshd on a loopback address, a generated
// ed25519 host key, our authorized key, everything in a temporary directory, run as the
// current user — and a stand-in claw that runs the real verify.sh. Nothing here is mocked:
// the code under test speaks SSH to sshd.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sshFingerprintOfLine } from "@openclawps/fleet-model";

const run = promisify(execFile);
const SSHD = "/usr/sbin/sshd";

/**
 * A script that runs the real vm-runtime/lifecycle/verify.sh in a throwaway sandbox of a
 * healthy claw (arguments go to verify.sh; CLAW_FIXTURE_BREAK breaks things, see the script).
 */
export const CLAW_SANDBOX_SCRIPT = fileURLToPath(new URL("./claw-sandbox.sh", import.meta.url));

export interface KeyPair {
  privateKey: string;
  publicKey: string;
  fingerprint: string;
  privateKeyPath: string;
}

export async function keygen(dir: string, name: string): Promise<KeyPair> {
  const path = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  const publicKey = readFileSync(`${path}.pub`, "utf8").trim();
  return {
    privateKey: readFileSync(path, "utf8"),
    publicKey,
    fingerprint: sshFingerprintOfLine(publicKey),
    privateKeyPath: path,
  };
}

/** A free TCP port on a loopback address: bind port 0, read the port, close (sshd cannot bind port 0 itself). */
export function freePort(address = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, address, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface SshdOptions {
  dir: string;
  hostKey: KeyPair;
  authorizedKeys: string[];
  port?: number;
  /** Any address in 127.0.0.0/8 (Linux routes the whole block to loopback); default 127.0.0.1. */
  listenAddress?: string;
}

export interface Sshd {
  address: string;
  port: number;
  hostKey: KeyPair;
  process: ChildProcess;
  stop(): Promise<void>;
}

export const currentUser = userInfo().username;

/** Writes the config, validates it with `sshd -t`, starts `sshd -D -e` and waits until it accepts connections. */
export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  ensurePrivsepDir();
  const address = opts.listenAddress ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(address));
  const dir = join(opts.dir, `sshd-${address}-${port}`);
  mkdirSync(dir, { recursive: true });
  const authorizedKeys = join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, `${opts.authorizedKeys.join("\n")}\n`, { mode: 0o600 });
  const config = join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${address}`,
      `HostKey ${opts.hostKey.privateKeyPath}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      // Tests run as root in CI: allow it by key only.
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      // The temporary directory is not root-owned 0755 all the way up.
      "StrictModes no",
      "UsePAM no",
      "MaxStartups 100:30:200",
      "MaxSessions 50",
      "LogLevel ERROR",
      // Bash sources ~/.bashrc for a command sshd starts when it is a top-level shell (Debian
      // builds it with SSH_SOURCE_BASHRC): on machines whose root .bashrc runs `pyenv init`, every
      // session then serialises on pyenv's lock (6 parallel sessions: 6.3 s instead of 0.9 s).
      // SHLVL=1 makes the session's shell level 2, which skips it: the claw's own commands only.
      "SetEnv SHLVL=1",
      "",
    ].join("\n"),
  );
  await run(SSHD, ["-t", "-f", config]);
  const child = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(address, port))) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`sshd did not listen on ${port}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    port,
    hostKey: opts.hostKey,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, address);
  });
}

/** OpenSSH's privilege-separation directory; the openssh-server service creates it at start. */
function ensurePrivsepDir(): void {
  try {
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new Error(
      `sshd needs /run/sshd and it cannot be created (run the tests as root): ${(err as Error).message}`,
    );
  }
}
