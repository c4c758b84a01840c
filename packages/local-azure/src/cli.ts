// `local-azure start`: runs the stand-in until interrupted and prints the environment a client
// process needs as shell `export` lines (also written to --env-out when given; not `--env-file`,
// which Node itself claims anywhere on its command line).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startLocalAzure } from "./local-azure.ts";

const USAGE = `Usage: local-azure start [options]

Runs a local HTTPS stand-in for Azure Resource Manager, Microsoft Entra and the GitHub OIDC issuer,
and prints the environment a client needs as shell export lines.

Options:
  --state <file>          persist the world to this JSON file (loaded at start, written on change)
  --port <n>              port on 127.0.0.1 (default: a free one)
  --time-scale <x>        multiply Azure's operation durations by x (default 0: instant)
  --page-size <n>         items per page in list answers (default 100)
  --throttle              enforce ARM's throttling limits
  --guests                boot a guest for every running VM (root; see README "Guest mode");
                          when this machine cannot, says why and keeps VMs as records
  --subject <sub>         federated credential subject (repeatable; default
                          repo:openclawps/example-fleet:environment:production)
  --env-out <file>        also write the export lines to this file (for the shell's source)
  -h, --help              show this help`;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function fail(message: string): never {
  process.stderr.write(`local-azure: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got '${value}'`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        state: { type: "string" },
        port: { type: "string" },
        "time-scale": { type: "string" },
        "page-size": { type: "string" },
        throttle: { type: "boolean" },
        guests: { type: "boolean" },
        subject: { type: "string", multiple: true },
        "env-out": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals[0] !== "start" || positionals.length > 1) fail("expected the command 'start'");
  const port = number("port", values.port);
  const timeScale = number("time-scale", values["time-scale"]);
  const pageSize = number("page-size", values["page-size"]);
  if (pageSize === 0) fail("--page-size must be at least 1");

  const azure = await startLocalAzure({
    ...(values.state ? { stateFile: values.state } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(timeScale !== undefined ? { timeScale } : {}),
    ...(pageSize !== undefined ? { pageSize } : {}),
    ...(values.throttle ? { throttling: true } : {}),
    ...(values.subject ? { federatedSubjects: values.subject } : {}),
    ...(values.guests ? { guests: true } : {}),
  });
  if (azure.guestsUnavailableReason)
    process.stderr.write(`local-azure: guest mode is off: ${azure.guestsUnavailableReason}\n`);
  else if (azure.guests)
    process.stderr.write(`local-azure: guest mode on (guests under ${azure.guests.dir})\n`);
  const lines = Object.entries(azure.env()).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  const text = `${lines.join("\n")}\n`;
  if (values["env-out"]) writeFileSync(values["env-out"], text);
  process.stdout.write(text);
  process.stderr.write(`local-azure: listening on ${azure.armEndpoint} (Ctrl-C to stop)\n`);

  const stop = async () => {
    await azure.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}
