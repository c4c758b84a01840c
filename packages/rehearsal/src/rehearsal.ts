// A fleet repository (a real git repository: each push is a commit) and an empty local Azure
// subscription, with the fleet's workflow run through the Runner for each event.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type LocalAzure, startLocalAzure } from "@openclawps/local-azure";
import { Runner, type RunRecord, type RunRequest } from "./runner.ts";

export const ACTIONS_ROOT = resolve(import.meta.dirname, "../../..");
/** The Packer GitHub's ubuntu-24.04 runner image ships (its release notes: "Packer 1.14.x"). */
const RUNNER_IMAGE_PACKER = "1.14.0";
const PACKER_TEMPLATE = resolve(import.meta.dirname, "../packer/build.pkr.hcl");
const PUBLISH_SCRIPT = resolve(import.meta.dirname, "../packer/publish-version.mjs");
export const REPOSITORY = "openclawps/example-fleet";
const ENVIRONMENT = "production";
/** The power workflow's environment (power.yml's default), which the power identity is federated to. */
const POWER_ENVIRONMENT = "fleet-power";
export const POWER_WORKFLOW = ".github/workflows/power.yml";
export const VERIFY_WORKFLOW = ".github/workflows/verify.yml";

export interface RehearsalOptions {
  /** Where the fleet repository, runs and the stand-in Packer live (default: a new temp dir). */
  scratch?: string;
  /** Passed to the local Azure (e.g. a time scale). */
  timeScale?: number;
  /** Boot a guest for every running VM (local Azure's guest mode), so claws can be verified. */
  guests?: boolean;
}

/** The fleet repository: a git repository whose commits the runs check out. */
export class FleetRepo {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.git("init", "-q", "-b", "main");
  }

  private git(...args: string[]): string {
    return execFileSync("git", args, {
      cwd: this.dir,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Fleet Operator",
        GIT_AUTHOR_EMAIL: "operator@example.com",
        GIT_COMMITTER_NAME: "Fleet Operator",
        GIT_COMMITTER_EMAIL: "operator@example.com",
      },
    }).trim();
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), "utf8");
  }

  /** Writes (or, for null, deletes) files and commits them; returns the commit. */
  commit(files: Record<string, string | null>, message: string): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  /** actions/checkout: the tree at `sha` in `dest` (no .git, as a shallow checkout's files). */
  checkout(sha: string, dest: string): void {
    mkdirSync(dest, { recursive: true });
    const archive = join(dest, "..", `.checkout-${sha.slice(0, 12)}.tar`);
    this.git("archive", "-o", archive, sha);
    execFileSync("tar", ["-xf", archive, "-C", dest]);
    rmSync(archive, { force: true });
  }
}

/**
 * The rehearsal's `packer`, the one GitHub's ubuntu-24.04 runner image ships (Packer 1.14): the
 * real Packer for everything but the cloud build. `version` answers as the runner image's Packer
 * (the template's required_version is checked against it; the real Packer here may be older,
 * and only ever runs the null-builder template, which needs nothing newer). `init` would
 * download the azure plugin: skipped. `build` runs the real Packer on packer/build.pkr.hcl (the
 * null builder, publishing the version itself) beside the template's own variables.pkr.hcl,
 * because the azure-arm build needs Azure.
 */
function writePackerStandIn(bin: string): void {
  let real: string;
  try {
    real = execFileSync("bash", ["-c", "command -v packer"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "packer is not on PATH: the rehearsal runs the real Packer (Debian: apt-get install packer)",
    );
  }
  mkdirSync(bin, { recursive: true });
  const script = `#!/usr/bin/env bash
set -euo pipefail
case "\${1:-}" in
  version)
    echo "Packer v${RUNNER_IMAGE_PACKER}"
    echo "rehearsal: the runner image's Packer; builds run $('${real}' version | head -n 1) on the null-builder template"
    ;;
  init)
    echo "rehearsal: packer init skipped (the stand-in template needs no plugin)"
    ;;
  build)
    template_dir="\${!#}"
    stage="$(mktemp -d)"
    trap 'rm -rf "$stage"' EXIT
    cp '${PACKER_TEMPLATE}' "$stage/build.pkr.hcl"
    cp "$template_dir/variables.pkr.hcl" "$stage/variables.pkr.hcl"
    '${real}' "\${@:1:$#-1}" "$stage"
    ;;
  *)
    exec '${real}' "$@"
    ;;
esac
`;
  writeFileSync(join(bin, "packer"), script);
  chmodSync(join(bin, "packer"), 0o755);
}

export class Rehearsal {
  private constructor(
    readonly azure: LocalAzure,
    readonly fleet: FleetRepo,
    readonly runner: Runner,
    readonly scratch: string,
    readonly secrets: Record<string, string>,
    private readonly ownsScratch: boolean,
    private readonly inputDefaults: Record<string, Record<string, string>>,
  ) {}

  /**
   * The rehearsal's clock for power schedules: the time the status action evaluates schedules at
   * (its `at` input, which the fleet's workflow does not pass; undefined: the real time).
   */
  setClock(at: Date | undefined): void {
    const status = this.inputDefaults.status ?? {};
    if (at) status.at = at.toISOString();
    else delete status.at;
    this.inputDefaults.status = status;
  }

  /** The fleet repository's power workflow: its cron (schedule) or a manual park / resume. */
  power(inputs?: Record<string, string>): Promise<RunRecord> {
    return this.runner.run({
      event: inputs ? "workflow_dispatch" : "schedule",
      sha: this.fleet.head(),
      workflow: POWER_WORKFLOW,
      ...(inputs ? { inputs } : {}),
    });
  }

  /** The fleet repository's on-demand verify workflow (a manual run), for the named claws or all. */
  verify(claws = ""): Promise<RunRecord> {
    return this.runner.run({
      event: "workflow_dispatch",
      sha: this.fleet.head(),
      workflow: VERIFY_WORKFLOW,
      inputs: { claws },
    });
  }

  /** An empty subscription (no resource group, no gallery) and an empty fleet repository. */
  static async start(options: RehearsalOptions = {}): Promise<Rehearsal> {
    const ownsScratch = !options.scratch;
    const scratch = options.scratch ?? mkdtempSync(join(tmpdir(), "rehearsal-"));
    // What infra/azure/bootstrap-oidc.sh creates: a credential for jobs on main and one for
    // jobs in each environment, production and fleet-power (GitHub puts a different subject in each).
    const azure = await startLocalAzure({
      timeScale: options.timeScale ?? 0,
      ...(options.guests ? { guests: true } : {}),
      federatedSubjects: [
        `repo:${REPOSITORY}:ref:refs/heads/main`,
        `repo:${REPOSITORY}:environment:${ENVIRONMENT}`,
        `repo:${REPOSITORY}:environment:${POWER_ENVIRONMENT}`,
      ],
    });
    const fleet = new FleetRepo(join(scratch, "fleet"));
    const packerBin = join(scratch, "packer-bin");
    writePackerStandIn(packerBin);
    const keyFile = join(scratch, "admin_key");
    execFileSync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "fleet-admin@rehearsal",
      "-f",
      keyFile,
    ]);
    const secrets = {
      AZURE_CLIENT_ID: azure.clientId,
      // The local Azure has one app; which role applies is what a test restricts it to.
      AZURE_POWER_CLIENT_ID: azure.clientId,
      AZURE_TENANT_ID: azure.tenantId,
      AZURE_SUBSCRIPTION_ID: azure.subscriptionId,
      CLAW_SSH_PRIVATE_KEY: readFileSync(keyFile, "utf8"),
      CLAW_SECRETS_JSON: "{}",
    };
    const env = azure.env();
    const inputDefaults: Record<string, Record<string, string>> = {
      "deploy-fleet": { "poll-interval": "20ms" },
      status: { "poll-interval": "20ms" },
    };
    const runner = new Runner({
      actionsRoot: ACTIONS_ROOT,
      callerWorkflow: ".github/workflows/fleet.yml",
      repository: REPOSITORY,
      secrets,
      // Only the transport differs from GitHub: the endpoints of the local Azure, its CA, and
      // the runner's OIDC token service. The identity comes from the secrets, as in production.
      stepEnv: {
        NODE_EXTRA_CA_CERTS: env.NODE_EXTRA_CA_CERTS ?? "",
        ACTIONS_ID_TOKEN_REQUEST_URL: azure.idTokenRequestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: azure.idTokenRequestToken,
        AZURE_ARM_ENDPOINT: azure.armEndpoint,
        AZURE_AUTHORITY_HOST: azure.authorityHost,
        REHEARSAL_NODE: process.execPath,
        REHEARSAL_PUBLISH_SCRIPT: PUBLISH_SCRIPT,
      },
      checkout: (sha, dir) => fleet.checkout(sha, dir),
      packerBin,
      scratch: join(scratch, "runs"),
      // Local operations finish at the first poll; action.yml's 10 s between polls would only
      // make the rehearsal slow (a workflow that passes poll-interval still wins).
      actionInputDefaults: inputDefaults,
      onJobStart: ({ environment }) =>
        azure.setIdTokenClaims({
          sub: environment
            ? `repo:${REPOSITORY}:environment:${environment}`
            : `repo:${REPOSITORY}:ref:refs/heads/main`,
          repository: REPOSITORY,
          ...(environment ? { environment } : {}),
        }),
    });
    return new Rehearsal(azure, fleet, runner, scratch, secrets, ownsScratch, inputDefaults);
  }

  /** The public half of the admin key whose private half is the CLAW_SSH_PRIVATE_KEY secret. */
  adminPublicKey(): string {
    return readFileSync(join(this.scratch, "admin_key.pub"), "utf8").trim();
  }

  /** Commits the files and runs the fleet workflow for the push. */
  push(
    files: Record<string, string | null>,
    message: string,
    request: Partial<RunRequest> = {},
  ): Promise<RunRecord> {
    const sha = this.fleet.commit(files, message);
    return this.runner.run({ event: "push", sha, ...request });
  }

  /** A manual run (workflow_dispatch) at the head of main. */
  dispatch(inputs: Record<string, string | boolean>, request: Partial<RunRequest> = {}): Promise<RunRecord> {
    return this.runner.run({ event: "workflow_dispatch", sha: this.fleet.head(), inputs, ...request });
  }

  /** The scheduled drift check at the head of main. */
  drift(): Promise<RunRecord> {
    return this.runner.run({ event: "schedule", sha: this.fleet.head() });
  }

  /** Copies a file of this repository (e.g. the example fleet's workflow) into the fleet repo's commit. */
  static exampleFile(path: string): string {
    return readFileSync(join(ACTIONS_ROOT, path), "utf8");
  }

  async stop(): Promise<void> {
    await this.azure.stop();
    if (this.ownsScratch) rmSync(this.scratch, { recursive: true, force: true });
  }
}
