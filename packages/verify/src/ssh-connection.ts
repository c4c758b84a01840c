// One SSH connection to a claw with the host key pinned, and command execution on it.
// The host key is checked in the handshake, before authentication: a server that presents
// another key never sees our key or a command. ssh2 verifies the server's signature over the
// exchange hash with the presented key, so a matching fingerprint proves the server holds the
// private key recorded at creation.
import { sshFingerprint } from "@openclawps/fleet-model";
import ssh2, { type ClientErrorExtensions } from "ssh2";
import type { CommandOutcome } from "./verify-output.ts";

// ssh2 is CommonJS: its named exports are only reachable through the default export in ESM.
const { Client, utils } = ssh2;
type Client = InstanceType<typeof Client>;

/** A private key that parsed, with its passphrase. */
export interface PrivateKey {
  key: string | Buffer;
  passphrase?: string;
}

export interface ConnectParams {
  host: string;
  port: number;
  username: string;
  privateKey: PrivateKey;
  /** undefined: accept any key (allowUnpinned); the presented one is still reported. */
  pinnedFingerprint: string | undefined;
  /** TCP connect + handshake + authentication. */
  timeoutMs: number;
}

/** Why a connection attempt failed, and whether trying again can help. */
export class ConnectFailure extends Error {
  constructor(
    readonly kind: "host-key-mismatch" | "auth-failed" | "unreachable",
    message: string,
    readonly presentedHostKey?: string,
  ) {
    super(message);
    this.name = "ConnectFailure";
  }
}

export interface SshConnection {
  presentedHostKey: string;
  exec(command: string, timeoutMs: number): Promise<CommandOutcome>;
  close(): void;
  /** Set when the connection has dropped. */
  readonly closed: boolean;
}

/**
 * Parses the private key once, up front: a bad key is the caller's input error (the same for
 * every claw), not a claw failure. The message never contains the key.
 */
export function parsePrivateKey(key: string | Buffer, passphrase?: string): PrivateKey {
  const parsed = utils.parseKey(key, passphrase);
  if (parsed instanceof Error) {
    throw new InvalidPrivateKeyError(`The SSH private key cannot be used: ${parsed.message}`);
  }
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first?.isPrivateKey())
    throw new InvalidPrivateKeyError("The SSH private key is a public key, not a private key");
  return passphrase === undefined ? { key } : { key, passphrase };
}

export class InvalidPrivateKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPrivateKeyError";
  }
}

export function connect(params: ConnectParams): Promise<SshConnection> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let mismatch = false;
    let settled = false;
    let closed = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };

    client.on("ready", () =>
      settle(() =>
        resolve({
          presentedHostKey: presented ?? "",
          exec: (command, timeoutMs) => exec(client, command, timeoutMs),
          close: () => client.end(),
          get closed() {
            return closed;
          },
        }),
      ),
    );
    client.on("error", (err: Error & ClientErrorExtensions) => {
      client.end();
      settle(() => reject(classify(err, params, presented, mismatch)));
    });
    client.on("close", () => {
      closed = true;
      settle(() =>
        reject(
          new ConnectFailure("unreachable", "the connection closed during the SSH handshake", presented),
        ),
      );
    });

    client.connect({
      host: params.host,
      port: params.port,
      username: params.username,
      privateKey: params.privateKey.key,
      ...(params.privateKey.passphrase === undefined ? {} : { passphrase: params.privateKey.passphrase }),
      readyTimeout: params.timeoutMs,
      // Offer nothing but the key: no agent, no password, no keyboard-interactive.
      authHandler: ["publickey"],
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = sshFingerprint(key);
        if (params.pinnedFingerprint === undefined) return true;
        mismatch = presented !== params.pinnedFingerprint;
        return !mismatch;
      },
    });
  });
}

function classify(
  err: Error & ClientErrorExtensions,
  params: ConnectParams,
  presented: string | undefined,
  mismatch: boolean,
): ConnectFailure {
  if (mismatch) {
    return new ConnectFailure(
      "host-key-mismatch",
      `host key mismatch at ${params.host}:${params.port}: expected ${params.pinnedFingerprint}, presented ${presented}. ` +
        "The VM's host key differs from the one recorded at creation: possible MITM or the VM was recreated outside deploy-fleet. Not connecting.",
      presented,
    );
  }
  if (err.level === "client-authentication") {
    return new ConnectFailure(
      "auth-failed",
      `SSH authentication as ${params.username} was refused at ${params.host}:${params.port}: the claw does not accept this private key ` +
        "(the admin public key in claws.yaml must match the private key given to verify)",
      presented,
    );
  }
  const code = (err as { code?: string }).code;
  const what =
    code === "ECONNREFUSED"
      ? "connection refused"
      : code === "EHOSTUNREACH" || code === "ENETUNREACH"
        ? "host unreachable"
        : code === "ECONNRESET"
          ? "connection reset"
          : err.level === "client-timeout"
            ? "no SSH handshake in time"
            : err.message;
  return new ConnectFailure("unreachable", what, presented);
}

/** Output beyond this is dropped: verify.sh prints a few kilobytes; anything larger is garbage. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

function exec(client: Client, command: string, timeoutMs: number): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const onChannel: Parameters<Client["exec"]>[1] = (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // Ask the server to end the command, then drop the channel whatever it does.
        stream.signal("KILL");
        stream.close();
      }, timeoutMs);
      stream.on("data", (chunk: Buffer) => {
        if (outBytes < MAX_OUTPUT_BYTES) out.push(chunk);
        outBytes += chunk.length;
      });
      stream.stderr.on("data", (chunk: Buffer) => {
        if (errBytes < MAX_OUTPUT_BYTES) errOut.push(chunk);
        errBytes += chunk.length;
      });
      stream.on("close", (code: number | null | undefined, signal?: string) => {
        clearTimeout(timer);
        resolve({
          command,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(errOut).toString("utf8"),
          exitCode: timedOut || typeof code !== "number" ? null : code,
          ...(signal ? { signal } : {}),
          ...(timedOut ? { timedOut } : {}),
        });
      });
    };
    try {
      client.exec(command, onChannel);
    } catch (err) {
      // ssh2 throws "Not connected" synchronously once the socket is gone.
      reject(err);
    }
  });
}
