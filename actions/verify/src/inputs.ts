// The verify action's inputs, read and checked up front: every mistake is a UserError naming
// the input and the fix, before any connection is made.
import {
  getBoolean,
  getChoice,
  getDuration,
  getInteger,
  getList,
  getSecret,
  getString,
  UserError,
} from "@openclawps/action-kit";
import { MAX_PARALLELISM } from "@openclawps/fleet-model";
import {
  DEFAULT_VERIFY_COMMAND,
  DEFAULT_VERIFY_TRANSPORT,
  RUN_COMMAND_VERIFY_COMMAND,
  VERIFY_TRANSPORTS,
  type VerifyTarget,
  type VerifyTransport,
} from "@openclawps/verify";

export interface VerifyInputs {
  /** How claws are reached: Azure Run Command (default) or SSH. */
  transport: VerifyTransport;
  manifest: string;
  /** Only these claws (empty: every claw that is not retired). */
  claws: string[];
  /** The admin's private key; empty with run-command (not needed). */
  privateKey: string;
  /** Admin user for targets without one; with a manifest, overrides its admin_username when set. */
  username: string;
  /** From the `targets` input: verify these without reading the manifest or Azure. */
  targets?: VerifyTarget[];
  timeoutSeconds: number;
  parallelism: number;
  reportOnly: boolean;
  command: string;
  /** undefined: the library's default boot check; false: none. */
  readyCommand?: string | false;
}

export const DEFAULT_TIMEOUT_SECONDS = 600;

export function getVerifyInputs(): VerifyInputs {
  const privateKey = getSecret("ssh-private-key");
  const transport = getChoice("transport", VERIFY_TRANSPORTS, DEFAULT_VERIFY_TRANSPORT);
  if (transport === "ssh" && !privateKey) {
    throw new UserError(
      "Input 'ssh-private-key' is required with transport ssh: verify signs in to each claw with the admin user's private key.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression for the user to copy
      "Pass `ssh-private-key: ${{ secrets.CLAW_SSH_PRIVATE_KEY }}` (the private half of ssh.admin_public_key in claws.yaml), or verify through Azure Run Command (`transport: run-command`, the default), which needs no key.",
    );
  }
  const rawTargets = getString("targets").trim();
  if (rawTargets && transport !== "ssh") {
    throw new UserError(
      "Input 'targets' lists SSH hosts, but transport is run-command, which finds each claw's VM in Azure from the manifest.",
      "Set `transport: ssh` to verify these hosts over SSH, or leave targets empty.",
    );
  }
  const readyCommand = getString("ready-command").trim();
  if (readyCommand && readyCommand !== "none" && transport !== "ssh") {
    throw new UserError(
      "Input 'ready-command' is a check run over SSH; with transport run-command the boot check runs inside the Run Command's script.",
      'Leave ready-command empty (or "none" to skip the boot wait), or set `transport: ssh`.',
    );
  }
  return {
    transport,
    manifest: getString("manifest", "claws.yaml"),
    claws: getList("claws"),
    privateKey,
    username: getString("username").trim(),
    ...(rawTargets ? { targets: parseTargets(rawTargets) } : {}),
    timeoutSeconds: getDuration("timeout", DEFAULT_TIMEOUT_SECONDS),
    parallelism: getInteger("parallelism", { fallback: MAX_PARALLELISM, min: 1, max: MAX_PARALLELISM }),
    reportOnly: getBoolean("report-only", false),
    command:
      getString("command").trim() ||
      (transport === "ssh" ? DEFAULT_VERIFY_COMMAND : RUN_COMMAND_VERIFY_COMMAND),
    ...(readyCommand ? { readyCommand: readyCommand === "none" ? false : readyCommand } : {}),
  };
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const TARGET_EXAMPLE = '[{"name":"alice","host":"20.1.2.3","port":22,"hostKeyFingerprint":"SHA256:..."}]';

/** The `targets` input: a JSON list of {name, host, port?, hostKeyFingerprint, username?}. */
export function parseTargets(raw: string): VerifyTarget[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UserError(
      `Input 'targets' is not valid JSON: ${(err as Error).message}.`,
      `Write it as ${TARGET_EXAMPLE}.`,
    );
  }
  if (!Array.isArray(value)) {
    throw new UserError("Input 'targets' must be a JSON list of claws.", `Write it as ${TARGET_EXAMPLE}.`);
  }
  const seen = new Set<string>();
  return value.map((item, i) => {
    const where = `targets[${i}]`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new UserError(
        `Input 'targets': ${where} is not an object.`,
        `Each entry looks like ${TARGET_EXAMPLE.slice(1, -1)}.`,
      );
    }
    const o = item as Record<string, unknown>;
    const known = new Set(["name", "host", "port", "hostKeyFingerprint", "username"]);
    const unknown = Object.keys(o).filter((k) => !known.has(k));
    if (unknown.length) {
      throw new UserError(
        `Input 'targets': ${where} has unknown field(s) ${unknown.join(", ")}.`,
        "The fields are name, host, port, hostKeyFingerprint and username.",
      );
    }
    if (typeof o.name !== "string" || !o.name.trim()) {
      throw new UserError(`Input 'targets': ${where}.name must be the claw's name.`);
    }
    const name = o.name.trim();
    const label = `${where} (${name})`;
    if (seen.has(name)) throw new UserError(`Input 'targets': ${label} lists claw ${name} a second time.`);
    seen.add(name);
    if (typeof o.host !== "string" || !o.host.trim()) {
      throw new UserError(`Input 'targets': ${label}.host must be the claw's IP address or host name.`);
    }
    const port = o.port ?? 22;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
      throw new UserError(
        `Input 'targets': ${label}.port must be a TCP port number (got ${JSON.stringify(o.port)}).`,
      );
    }
    if (typeof o.hostKeyFingerprint !== "string" || !FINGERPRINT.test(o.hostKeyFingerprint)) {
      throw new UserError(
        `Input 'targets': ${label}.hostKeyFingerprint must be the claw's SSH host-key fingerprint, "SHA256:" and 43 base64 characters` +
          `${o.hostKeyFingerprint === undefined ? "" : ` (got ${JSON.stringify(o.hostKeyFingerprint)})`}: verify does not connect to a host whose key it cannot check.`,
        "Take it from the VM's openclawps.host-key-sha256 tag, or from the VM's console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub.",
      );
    }
    if (o.username !== undefined && (typeof o.username !== "string" || !o.username.trim())) {
      throw new UserError(`Input 'targets': ${label}.username must be a user name when given.`);
    }
    return {
      name,
      host: o.host.trim(),
      port: port as number,
      hostKeyFingerprint: o.hostKeyFingerprint,
      ...(typeof o.username === "string" ? { username: o.username.trim() } : {}),
    };
  });
}
