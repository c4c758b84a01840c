// The CLI as a user runs it: the server in its own process, its environment handed to other
// processes, which trust the CA through NODE_EXTRA_CA_CERTS.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const launcher = fileURLToPath(new URL("../bin/local-azure.js", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/resource-groups.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "local-azure-cli-"));
// Run the TypeScript source: the test must not depend on a stale build.
const cliEnv = { ...process.env, LOCAL_AZURE_FROM_SOURCE: "1" };
const started: ChildProcess[] = [];

afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `local-azure start ...` and resolves with its export lines once it is listening. */
async function startCli(
  args: string[],
): Promise<{ child: ChildProcess; env: Record<string, string>; envOut: string; stdout: string }> {
  const envOut = join(dir, `env-${started.length}.sh`);
  const child = spawn(process.execPath, [launcher, "start", ...args, "--env-out", envOut], {
    env: cliEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let stdout = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`local-azure exited with ${code}: ${stderr}`)));
  });
  const env: Record<string, string> = {};
  for (const line of stdout.trim().split("\n")) {
    const m = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (!m) throw new Error(`not an export line: ${line}`);
    env[m[1]!] = m[2]!;
  }
  return { child, env, envOut, stdout };
}

function stopCli(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

/** Runs the fixture client in a fresh process whose only link to the server is `env`. */
async function resourceGroups(env: Record<string, string>, ...args: string[]): Promise<string[]> {
  const { stderr } = await run(process.execPath, [fixture, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return JSON.parse(stderr.trim().split("\n").at(-1)!) as string[];
}

describe("local-azure start", () => {
  it("prints the environment another process needs to use the stand-in, and writes it to --env-out", async () => {
    const { child, env, envOut, stdout } = await startCli([]);
    expect(Object.keys(env).sort()).toEqual([
      "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
      "ACTIONS_ID_TOKEN_REQUEST_URL",
      "AZURE_ARM_ENDPOINT",
      "AZURE_AUTHORITY_HOST",
      "AZURE_CLIENT_ID",
      "AZURE_SUBSCRIPTION_ID",
      "AZURE_TENANT_ID",
      "NODE_EXTRA_CA_CERTS",
    ]);
    expect(env.ACTIONS_ID_TOKEN_REQUEST_URL).toContain("?");
    expect(readFileSync(env.NODE_EXTRA_CA_CERTS!, "utf8")).toContain("BEGIN CERTIFICATE");
    expect(readFileSync(envOut, "utf8")).toBe(stdout);
    expect(await resourceGroups(env, "create", "rg-one")).toEqual(["rg-one"]);
    expect(await stopCli(child)).toBe(0);
    // Stopping removes the CA file it wrote.
    expect(existsSync(env.NODE_EXTRA_CA_CERTS!)).toBe(false);
  });

  it("shares one world between successive servers through --state", async () => {
    const state = join(dir, "world.json");
    const first = await startCli(["--state", state, "--time-scale", "0.001"]);
    expect(await resourceGroups(first.env, "create", "rg-kept")).toEqual(["rg-kept"]);
    await stopCli(first.child);
    const second = await startCli(["--state", state]);
    expect(await resourceGroups(second.env)).toEqual(["rg-kept"]);
    await stopCli(second.child);
  });

  it("refuses an unknown command with its usage and exit code 2", async () => {
    const result = await run(process.execPath, [launcher, "stop"], { env: cliEnv }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("expected the command 'start'");
    expect(result.stderr).toContain("Usage: local-azure start");
  });

  it("refuses a bad number with a message naming the option", async () => {
    const result = await run(process.execPath, [launcher, "start", "--port", "many"], { env: cliEnv }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--port must be a non-negative number, got 'many'");
  });
});
