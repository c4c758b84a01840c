// Runs a fleet repository's workflow the way GitHub composes it: the caller's jobs call our
// reusable workflows (`uses: openclawps/actions/.github/workflows/X.yml@v1` → this checkout's
// .github/workflows/X.yml), their jobs run in `needs` order, `if:`/`with:`/`env:`/outputs are
// evaluated with GitHub's own evaluator, our actions run from their bundles (dist/index.js) as
// the runner starts them, `run:` steps run with bash. Not a general runner: exactly what our
// workflows use; anything else fails with its file and line.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Job, ReusableWorkflowJob, WorkflowJob } from "@actions/workflow-parser/model/workflow-template";
import type { BasicExpressionToken } from "@actions/workflow-parser/templates/tokens/basic-expression-token";
import type { MappingToken } from "@actions/workflow-parser/templates/tokens/mapping-token";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { inputVariable, parseOutputFile } from "@openclawps/action-kit/testing";
import { parse as parseYaml } from "yaml";
import {
  asString,
  at,
  evaluateExpression,
  evaluateToken,
  RehearsalError,
  type Scope,
  truthy,
  type Value,
} from "./expressions.ts";
import { CHECKOUT_PIN, type LoadedWorkflow, loadWorkflow, mappingGet, rawSteps } from "./workflow.ts";

export type JobResult = "success" | "failure" | "skipped";

export interface StepRecord {
  name: string;
  outcome: "success" | "failure" | "skipped";
  outputs: Record<string, string>;
  log: string;
}

export interface JobRecord {
  /** Job ids from the caller down, e.g. `deploy/deploy/apply`. */
  path: string;
  result: JobResult;
  outputs: Record<string, string>;
  /** The job summary (every step's GITHUB_STEP_SUMMARY, in order). */
  summary: string;
  /** The job log: every step's stdout and stderr. */
  log: string;
  steps: StepRecord[];
  runsOn?: Value;
  timeoutMinutes?: number;
  environment?: string;
  /** Approval of `environment`: given, refused, or not asked. */
  approval?: "given" | "refused";
  concurrency?: { group: string; cancelInProgress: boolean };
  /** Why it was skipped or failed without running a step. */
  note?: string;
}

export interface RunRecord {
  event: string;
  sha: string;
  /** Leaf jobs (those with steps) in the order they ran. */
  jobs: JobRecord[];
  /** Outputs of the caller's jobs (a reusable workflow's `on.workflow_call.outputs`). */
  callerJobs: Record<string, { result: JobResult; outputs: Record<string, string> }>;
  job(path: string): JobRecord;
  /** `deploy/bake/bake=success deploy/deploy/plan=success ...` */
  line(): string;
}

export interface RunRequest {
  event: "push" | "workflow_dispatch" | "schedule" | "pull_request";
  /** The fleet repository commit `actions/checkout` checks out. */
  sha: string;
  /** workflow_dispatch inputs, by name. */
  inputs?: Record<string, string | boolean>;
  /**
   * The decision on each job that names an `environment` (a reviewer approving or rejecting the
   * deployment). Default: approved.
   */
  approve?: (environment: string, jobPath: string) => boolean;
  /** Crash a step: SIGKILL it once its output matches `when` (a lost runner: no clean-up runs). */
  crash?: { job: string; when: RegExp };
  runAttempt?: number;
  /** The fleet repository's workflow to run (default: the host's callerWorkflow). */
  workflow?: string;
}

/** What a checkout, the runner image's Packer or an action run needs from the world around the runner. */
export interface RunnerHost {
  /** This repository (the reusable workflows and the action bundles). */
  actionsRoot: string;
  /** Fleet repository workflow, relative to its root, e.g. `.github/workflows/fleet.yml`. */
  callerWorkflow: string;
  repository: string;
  secrets: Record<string, string>;
  /** Environment every step sees besides the GITHUB_* variables (the local Azure's endpoints). */
  stepEnv: Record<string, string>;
  /** Copies the fleet repository at `sha` into `dir` (actions/checkout). */
  checkout(sha: string, dir: string): void;
  /** The directory holding the stand-in `packer` (the one GitHub's runner image ships), on every job's PATH. */
  packerBin: string;
  /** Where jobs get their workspace and temporary files. */
  scratch: string;
  /**
   * Input defaults that replace action.yml's for the rehearsal only (the runner applies action.yml
   * defaults for inputs a workflow does not pass).
   */
  actionInputDefaults?: Record<string, Record<string, string>>;
  /** Called as a job starts its steps (the OIDC subject depends on the job's environment). */
  onJobStart?(job: { path: string; environment?: string }): void;
}

const REF = /^openclawps\/actions\/\.github\/workflows\/([a-z0-9-]+\.yml)@v1$/;
const ACTION = /^openclawps\/actions\/([a-z0-9-]+)@v1$/;

export class Runner {
  private readonly held = new Map<string, string>();
  private runCounter = 0;
  private readonly cache = new Map<string, Promise<LoadedWorkflow>>();

  constructor(private readonly host: RunnerHost) {}

  private load(path: string, file: string): Promise<LoadedWorkflow> {
    let loaded = this.cache.get(path);
    if (!loaded) {
      loaded = loadWorkflow(path, file);
      this.cache.set(path, loaded);
    }
    return loaded;
  }

  async run(request: RunRequest): Promise<RunRecord> {
    const runId = String(1000 + ++this.runCounter);
    const dir = join(this.host.scratch, `run-${runId}`);
    mkdirSync(dir, { recursive: true });
    const callerDir = join(dir, "caller");
    this.host.checkout(request.sha, callerDir);
    const callerWorkflow = request.workflow ?? this.host.callerWorkflow;
    const caller = await loadWorkflow(join(callerDir, callerWorkflow), callerWorkflow);
    const events = caller.template.events;
    if (!(request.event in events))
      throw new RehearsalError(`${caller.file}: does not run on ${request.event}`);
    const dispatchInputs: Record<string, Value> = {};
    if (request.event === "workflow_dispatch") {
      const defs = events.workflow_dispatch?.inputs ?? {};
      for (const name of Object.keys(request.inputs ?? {}))
        if (!(name in defs))
          throw new RehearsalError(`${caller.file}: workflow_dispatch has no input '${name}'`);
      for (const [name, def] of Object.entries(defs)) {
        const given = request.inputs?.[name];
        const value = given ?? def.default ?? (def.type === "boolean" ? false : "");
        dispatchInputs[name] = def.type === "boolean" ? value === true || value === "true" : String(value);
      }
    }
    const github: Value = {
      event_name: request.event,
      repository: this.host.repository,
      repository_owner: this.host.repository.split("/")[0] ?? "",
      sha: request.sha,
      ref: "refs/heads/main",
      ref_name: "main",
      run_id: runId,
      run_attempt: String(request.runAttempt ?? 1),
      workflow: callerWorkflow,
      actor: "rehearsal",
      server_url: "https://github.com",
      event: request.event === "workflow_dispatch" ? { inputs: dispatchInputs as Value } : {},
    };
    const record: JobRecord[] = [];
    const ctx: RunContext = { request, runId, dir, github, jobs: record };
    const results = await this.runJobs(caller, [], {
      ctx,
      inputs: dispatchInputs,
      secrets: this.host.secrets,
    });
    const callerJobs: RunRecord["callerJobs"] = {};
    for (const [id, r] of results) callerJobs[id] = { result: r.result, outputs: r.outputs };
    return {
      event: request.event,
      sha: request.sha,
      jobs: record,
      callerJobs,
      job(path) {
        const found = record.find((j) => j.path === path);
        if (!found)
          throw new Error(`no job ${path} in this run (jobs: ${record.map((j) => j.path).join(", ")})`);
        return found;
      },
      line() {
        return record.map((j) => `${j.path}=${j.result}`).join(" ");
      },
    };
  }

  /** Runs a workflow's jobs in `needs` order; returns each job's result and outputs. */
  private async runJobs(
    wf: LoadedWorkflow,
    prefix: string[],
    call: CallScope,
  ): Promise<Map<string, { result: JobResult; outputs: Record<string, string> }>> {
    const done = new Map<string, { result: JobResult; outputs: Record<string, string> }>();
    const pending = [...wf.template.jobs];
    while (pending.length) {
      const index = pending.findIndex((j) => (j.needs ?? []).every((n) => done.has(n.value)));
      if (index < 0)
        throw new RehearsalError(`${wf.file}: the needs of ${pending.map((j) => j.id.value)} never complete`);
      const [job] = pending.splice(index, 1) as [WorkflowJob];
      const id = job.id.value;
      const path = [...prefix, id];
      const needs: Record<string, Value> = {};
      const ancestors = new Set<string>();
      const visit = (j: WorkflowJob) => {
        for (const n of j.needs ?? []) {
          ancestors.add(n.value);
          const parent = wf.template.jobs.find((x) => x.id.value === n.value);
          if (parent) visit(parent);
        }
      };
      visit(job);
      for (const n of job.needs ?? []) {
        const r = done.get(n.value)!;
        needs[n.value] = { result: r.result, outputs: r.outputs };
      }
      const results = [...ancestors].map((a) => done.get(a)!.result);
      const status = {
        success: results.every((r) => r === "success"),
        failure: results.some((r) => r === "failure"),
      };
      const scope: Scope = { contexts: this.contexts(call, { needs }), status };
      const run = truthy(evaluateExpression(job.if.expression, scope, at(wf.file, job.if)));
      if (!run) {
        // A skipped call runs none of the called workflow's jobs: GitHub shows the caller's job only.
        call.ctx.jobs.push(skipped(path.join("/")));
        done.set(id, { result: "skipped", outputs: {} });
        continue;
      }
      const outcome =
        job.type === "reusableWorkflowJob"
          ? await this.runCall(wf, job as ReusableWorkflowJob, path, call, needs)
          : await this.runJob(wf, job as Job, path, call, needs);
      done.set(id, outcome);
    }
    return done;
  }

  private contexts(call: CallScope, extra: Record<string, Value>): Record<string, Value> {
    return {
      github: call.ctx.github,
      inputs: call.inputs,
      secrets: call.secrets,
      vars: {},
      ...extra,
    };
  }

  /** A job that calls a reusable workflow: inputs and secrets checked against its `workflow_call`. */
  private async runCall(
    wf: LoadedWorkflow,
    job: ReusableWorkflowJob,
    path: string[],
    call: CallScope,
    needs: Record<string, Value>,
  ): Promise<{ result: JobResult; outputs: Record<string, string> }> {
    const ref = job.ref.value;
    const m = REF.exec(ref);
    if (!m)
      throw new RehearsalError(`${at(wf.file, job.ref)}: uses '${ref}', which the rehearsal does not know`);
    const file = `.github/workflows/${m[1]}`;
    const callee = await this.load(join(this.host.actionsRoot, file), file);
    const defs = callee.template.events.workflow_call;
    if (!defs) throw new RehearsalError(`${callee.file}: has no workflow_call trigger`);
    const scope: Scope = { contexts: this.contexts(call, { needs }) };
    const given = job["input-values"]
      ? (evaluateToken(job["input-values"], scope, wf.file) as Record<string, Value>)
      : {};
    const inputs: Record<string, Value> = {};
    for (const name of Object.keys(given))
      if (!defs.inputs?.[name])
        throw new RehearsalError(
          `${at(wf.file, job["input-values"])}: ${callee.file} has no input '${name}'`,
        );
    for (const [name, def] of Object.entries(defs.inputs ?? {})) {
      const value = name in given ? given[name] : undefined;
      if (value === undefined) {
        if (def.required)
          throw new RehearsalError(`${at(wf.file, job.ref)}: input '${name}' of ${callee.file} is required`);
        const d = def.default;
        const literal =
          typeof d === "object" && d !== null ? evaluateToken(d as TemplateToken, scope, callee.file) : d;
        inputs[name] = literal ?? (def.type === "boolean" ? false : "");
        continue;
      }
      // GitHub refuses a value of the wrong type for a typed input ("Unexpected value").
      if (def.type === "boolean" && typeof value !== "boolean")
        throw new RehearsalError(
          `${at(wf.file, job["input-values"])}: input '${name}' of ${callee.file} is a boolean, got ${JSON.stringify(value)}`,
        );
      inputs[name] = def.type === "string" ? asString(value) : value;
    }
    let secrets: Record<string, string>;
    if (job["inherit-secrets"]) secrets = { ...call.secrets };
    else {
      const values = job["secret-values"]
        ? (evaluateToken(job["secret-values"], scope, wf.file) as Record<string, Value>)
        : {};
      secrets = {};
      for (const [name, value] of Object.entries(values)) {
        if (!defs.secrets?.[name])
          throw new RehearsalError(
            `${at(wf.file, job["secret-values"])}: ${callee.file} has no secret '${name}'`,
          );
        secrets[name] = asString(value);
      }
    }
    for (const [name, def] of Object.entries(defs.secrets ?? {}))
      if (def.required && !secrets[name])
        throw new RehearsalError(`${at(wf.file, job.ref)}: secret '${name}' of ${callee.file} is required`);
    const done = await this.runJobs(callee, path, { ctx: call.ctx, inputs, secrets });
    const jobsContext: Record<string, Value> = {};
    for (const [id, r] of done) jobsContext[id] = { result: r.result, outputs: r.outputs };
    const outputs: Record<string, string> = {};
    const outScope: Scope = {
      contexts: { ...this.contexts({ ...call, inputs, secrets }, {}), jobs: jobsContext },
    };
    for (const [name, token] of callee.callOutputs)
      outputs[name] = asString(evaluateToken(token, outScope, callee.file));
    const results = [...done.values()].map((r) => r.result);
    return { result: results.includes("failure") ? "failure" : "success", outputs };
  }

  private async runJob(
    wf: LoadedWorkflow,
    job: Job,
    path: string[],
    call: CallScope,
    needs: Record<string, Value>,
  ): Promise<{ result: JobResult; outputs: Record<string, string> }> {
    const jobPath = path.join("/");
    const raw = wf.rawJobs.get(job.id.value)!;
    const scope: Scope = { contexts: this.contexts(call, { needs }) };
    const rec: JobRecord = { path: jobPath, result: "success", outputs: {}, summary: "", log: "", steps: [] };
    call.ctx.jobs.push(rec);
    if (job["runs-on"]) rec.runsOn = evaluateToken(job["runs-on"], scope, wf.file);
    if (!rec.runsOn) throw new RehearsalError(`${wf.file}: job '${job.id.value}' has no runs-on`);
    const timeout = mappingGet(raw, "timeout-minutes");
    if (timeout) rec.timeoutMinutes = Number(evaluateToken(timeout, scope, wf.file));
    if (job.concurrency) {
      const c = evaluateToken(job.concurrency, scope, wf.file);
      const group = typeof c === "string" ? c : asString((c as Record<string, Value>).group ?? "");
      const cancel =
        typeof c === "object" && c !== null && (c as Record<string, Value>)["cancel-in-progress"] === true;
      rec.concurrency = { group, cancelInProgress: cancel };
    }
    if (job.environment) {
      const e = evaluateToken(job.environment, scope, wf.file);
      rec.environment = typeof e === "string" ? e : asString((e as Record<string, Value>).name ?? "");
      const approved = call.ctx.request.approve?.(rec.environment, jobPath) ?? true;
      rec.approval = approved ? "given" : "refused";
      if (!approved) {
        rec.result = "failure";
        rec.note = `deployment to ${rec.environment} rejected`;
        return { result: "failure", outputs: {} };
      }
    }
    // Two runs in one concurrency group never overlap: a second would wait (GitHub queues it).
    // Runs here are sequential, so an overlap is a rehearsal misuse and fails loudly.
    if (rec.concurrency) {
      const holder = this.held.get(rec.concurrency.group);
      if (holder) throw new RehearsalError(`concurrency group ${rec.concurrency.group} is held by ${holder}`);
      this.held.set(rec.concurrency.group, `${call.ctx.runId}:${jobPath}`);
    }
    try {
      this.host.onJobStart?.({ path: jobPath, ...(rec.environment ? { environment: rec.environment } : {}) });
      await this.runSteps(wf, job, raw, rec, call, needs);
    } finally {
      if (rec.concurrency) this.held.delete(rec.concurrency.group);
    }
    return { result: rec.result, outputs: rec.outputs };
  }

  private async runSteps(
    wf: LoadedWorkflow,
    job: Job,
    raw: MappingToken,
    rec: JobRecord,
    call: CallScope,
    needs: Record<string, Value>,
  ): Promise<void> {
    const jobDir = join(call.ctx.dir, rec.path.replaceAll("/", "__"));
    const workspace = join(jobDir, "workspace");
    const temp = join(jobDir, "temp");
    mkdirSync(workspace, { recursive: true });
    mkdirSync(temp, { recursive: true });
    const steps: Record<string, Value> = {};
    // GitHub's ubuntu-24.04 runner image ships Packer on PATH: so does every rehearsal job.
    const extraPath: string[] = [this.host.packerBin];
    let failed = false;
    const jobEnvScope: Scope = { contexts: this.contexts(call, { needs }) };
    const jobEnv = job.env ? (evaluateToken(job.env, jobEnvScope, wf.file) as Record<string, Value>) : {};
    const rawList = rawSteps(raw, wf.file);
    for (const [i, step] of job.steps.entries()) {
      const rawStep = rawList[i]!;
      const name = step.name ? asString(evaluateToken(step.name, jobEnvScope, wf.file)) : step.id;
      const scope: Scope = {
        contexts: this.contexts(call, {
          needs,
          steps,
          env: jobEnv,
          job: { status: failed ? "failure" : "success" },
        }),
        status: { success: !failed, failure: failed },
      };
      const cond = (step as { if?: BasicExpressionToken }).if;
      if (cond && !truthy(evaluateExpression(cond.expression, scope, at(wf.file, cond)))) {
        rec.steps.push({ name, outcome: "skipped", outputs: {}, log: "" });
        steps[step.id] = { outcome: "skipped", conclusion: "skipped", outputs: {} };
        continue;
      }
      const stepEnv = (step as { env?: MappingToken }).env
        ? (evaluateToken((step as { env: MappingToken }).env, scope, wf.file) as Record<string, Value>)
        : {};
      const withToken = mappingGet(rawStep, "with");
      const withValues = withToken ? (evaluateToken(withToken, scope, wf.file) as Record<string, Value>) : {};
      const outputFile = join(temp, `output-${i}`);
      const summaryFile = join(temp, `summary-${i}`);
      writeFileSync(outputFile, "");
      writeFileSync(summaryFile, "");
      const env: Record<string, string> = {
        PATH: [...extraPath, process.env.PATH ?? ""].join(":"),
        HOME: process.env.HOME ?? temp,
        ...this.host.stepEnv,
        CI: "true",
        GITHUB_ACTIONS: "true",
        GITHUB_EVENT_NAME: call.ctx.request.event,
        GITHUB_REPOSITORY: this.host.repository,
        GITHUB_SHA: call.ctx.request.sha,
        GITHUB_REF: "refs/heads/main",
        GITHUB_RUN_ID: call.ctx.runId,
        GITHUB_RUN_ATTEMPT: String(call.ctx.request.runAttempt ?? 1),
        GITHUB_JOB: job.id.value,
        GITHUB_WORKSPACE: workspace,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_TEMP: temp,
        RUNNER_OS: "Linux",
      };
      for (const [k, v] of Object.entries({ ...jobEnv, ...stepEnv })) env[k] = asString(v);

      let exit: number;
      let log = "";
      const uses = (step as { uses?: { value: string } }).uses?.value;
      const runToken = (step as { run?: TemplateToken }).run;
      const crash =
        call.ctx.request.crash && rec.path.endsWith(call.ctx.request.crash.job)
          ? call.ctx.request.crash.when
          : undefined;
      if (uses === CHECKOUT_PIN) {
        // The fleet repository at the run's commit, as actions/checkout leaves it.
        rmSync(workspace, { recursive: true, force: true });
        this.host.checkout(call.ctx.request.sha, workspace);
        exit = 0;
        log = `checked out ${call.ctx.request.sha}\n`;
      } else if (uses && ACTION.test(uses)) {
        const action = ACTION.exec(uses)![1]!;
        const actionDir = join(this.host.actionsRoot, "actions", action);
        const bundle = join(actionDir, "dist", "index.js");
        if (!existsSync(bundle))
          throw new RehearsalError(`${bundle} is missing: run \`npm run bundle\` first`);
        const meta = parseYaml(readFileSync(join(actionDir, "action.yml"), "utf8")) as {
          inputs?: Record<string, { default?: unknown }>;
        };
        const declared = meta.inputs ?? {};
        for (const key of Object.keys(withValues))
          if (!(key in declared))
            throw new RehearsalError(`${at(wf.file, withToken)}: ${uses} has no input '${key}'`);
        // The runner sets every declared input: the given value, else action.yml's default.
        const overrides = this.host.actionInputDefaults?.[action] ?? {};
        for (const [key, def] of Object.entries(declared)) {
          const value =
            key in withValues
              ? asString(withValues[key]!)
              : (overrides[key] ?? asString((def.default ?? "") as Value));
          env[inputVariable(key)] = value;
        }
        ({ exit, log } = await spawnStep(process.execPath, [bundle], env, workspace, crash));
      } else if (runToken && !uses) {
        const script = asString(evaluateToken(runToken, scope, wf.file));
        const shell = mappingGet(rawStep, "shell");
        if (shell && asString(evaluateToken(shell, scope, wf.file)) !== "bash")
          throw new RehearsalError(`${at(wf.file, shell)}: only shell: bash is supported`);
        const file = join(temp, `step-${i}.sh`);
        writeFileSync(file, script);
        // What `shell: bash` runs (GitHub's default shell on Linux runners when bash exists).
        ({ exit, log } = await spawnStep(
          "bash",
          ["--noprofile", "--norc", "-eo", "pipefail", file],
          env,
          workspace,
          crash,
        ));
      } else {
        throw new RehearsalError(
          `${at(wf.file, rawStep)}: step uses '${uses}', which the rehearsal does not know`,
        );
      }
      const outputs = parseOutputFile(readFileSync(outputFile, "utf8"), outputFile);
      const summary = readFileSync(summaryFile, "utf8");
      rec.summary += summary;
      rec.log += log;
      const outcome = exit === 0 ? "success" : "failure";
      if (outcome === "failure") failed = true;
      rec.steps.push({ name, outcome, outputs, log });
      steps[step.id] = { outcome, conclusion: outcome, outputs };
      appendFileSync(join(jobDir, "log.txt"), log);
    }
    rec.result = failed ? "failure" : "success";
    if (job.outputs) {
      const scope: Scope = { contexts: this.contexts(call, { needs, steps }) };
      const outs = evaluateToken(job.outputs, scope, wf.file) as Record<string, Value>;
      for (const [k, v] of Object.entries(outs)) rec.outputs[k] = asString(v);
    }
  }
}

interface RunContext {
  request: RunRequest;
  runId: string;
  dir: string;
  github: Value;
  jobs: JobRecord[];
}

interface CallScope {
  ctx: RunContext;
  inputs: Record<string, Value>;
  secrets: Record<string, string>;
}

function skipped(path: string): JobRecord {
  return { path, result: "skipped", outputs: {}, summary: "", log: "", steps: [] };
}

function spawnStep(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  crashWhen: RegExp | undefined,
): Promise<{ exit: number; log: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    const onData = (chunk: string) => {
      log += chunk;
      if (crashWhen?.test(log)) child.kill("SIGKILL");
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", onData);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ exit: code ?? 1, log: signal ? `${log}\n[rehearsal: step killed with ${signal}]\n` : log });
    });
  });
}
