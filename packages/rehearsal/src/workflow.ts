// Loads a workflow file with GitHub's own parser: the schema check and the converted template
// (jobs, needs, `if:` with GitHub's implicit success(), steps), plus the raw token tree for the
// keys the converted template leaves out (a step's `with`, a job's `timeout-minutes`).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import {
  convertWorkflowTemplate,
  isMapping,
  isSequence,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from "@actions/workflow-parser";
import type { MappingToken } from "@actions/workflow-parser/templates/tokens/mapping-token";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/template-token";
import { at, keyOf, RehearsalError } from "./expressions.ts";

export interface LoadedWorkflow {
  /** Path relative to its repository, for messages: `.github/workflows/deploy.yml`. */
  file: string;
  template: WorkflowTemplate;
  /** Raw job mappings by job id. */
  rawJobs: Map<string, MappingToken>;
  /** `on.workflow_call.outputs` as raw tokens (name → value token). */
  callOutputs: Map<string, TemplateToken>;
}

/** The keys the rehearsal implements; any other key fails loudly with its line. */
const WORKFLOW_KEYS = new Set(["name", "on", "permissions", "jobs"]);
const JOB_KEYS = new Set([
  "name",
  "needs",
  "if",
  "runs-on",
  "environment",
  "concurrency",
  "timeout-minutes",
  "outputs",
  "steps",
  "permissions",
  "env",
]);
const CALL_JOB_KEYS = new Set(["name", "needs", "if", "uses", "with", "secrets", "permissions"]);
/** The steps the rehearsal runs or stands in for (runner.ts); any other `uses:` fails at load. */
/** actions/checkout as the workflows pin it (v5.0.0, node24): the rehearsal's stand-in answers it. */
export const CHECKOUT_PIN = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8";
// Packer needs no step: GitHub's ubuntu-24.04 runner image ships it, and the rehearsal puts its
// stand-in packer on every job's PATH the same way (runner.ts).

export const KNOWN_USES = [new RegExp(`^${CHECKOUT_PIN}$`), /^openclawps\/actions\/[a-z0-9-]+@v1$/];
const STEP_KEYS = new Set(["id", "name", "if", "uses", "with", "run", "env", "shell"]);

export function mappingGet(map: MappingToken, key: string): TemplateToken | undefined {
  for (const pair of map) if (isString(pair.key) && pair.key.value === key) return pair.value;
  return undefined;
}

function isString(t: TemplateToken): t is TemplateToken & { value: string } {
  return t.templateTokenType === 0;
}

function checkKeys(map: MappingToken, allowed: Set<string>, file: string, what: string): void {
  for (const pair of map) {
    const key = keyOf(pair.key, file);
    if (!allowed.has(key))
      throw new RehearsalError(
        `${at(file, pair.key)}: ${what} key '${key}' is not supported by the rehearsal`,
      );
  }
}

export async function loadWorkflow(path: string, file = basename(path)): Promise<LoadedWorkflow> {
  const content = readFileSync(path, "utf8");
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (!parsed.value || errors.length)
    throw new RehearsalError(`${file}: ${errors.map((e) => e.message).join("; ") || "empty workflow"}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const converted = parsed.context.errors.getErrors();
  if (converted.length) throw new RehearsalError(converted.map((e) => e.message).join("; "));

  const root = parsed.value;
  if (!isMapping(root)) throw new RehearsalError(`${file}: not a mapping`);
  checkKeys(root, WORKFLOW_KEYS, file, "workflow");
  const rawJobs = new Map<string, MappingToken>();
  const jobs = mappingGet(root, "jobs");
  if (jobs && isMapping(jobs)) {
    for (const pair of jobs) {
      const id = keyOf(pair.key, file);
      const job = pair.value;
      if (!isMapping(job)) throw new RehearsalError(`${at(file, job)}: job '${id}' is not a mapping`);
      const isCall = mappingGet(job, "uses") !== undefined;
      checkKeys(job, isCall ? CALL_JOB_KEYS : JOB_KEYS, file, isCall ? "reusable-workflow job" : "job");
      const steps = mappingGet(job, "steps");
      if (steps && isSequence(steps)) {
        for (let i = 0; i < steps.count; i++) {
          const step = steps.get(i);
          if (!isMapping(step)) continue;
          checkKeys(step, STEP_KEYS, file, "step");
          const uses = mappingGet(step, "uses");
          if (uses && !(isString(uses) && KNOWN_USES.some((re) => re.test(uses.value))))
            throw new RehearsalError(
              `${at(file, uses)}: step uses '${isString(uses) ? uses.value : "an expression"}', which the rehearsal does not know`,
            );
        }
      }
      rawJobs.set(id, job);
    }
  }
  const callOutputs = new Map<string, TemplateToken>();
  const on = mappingGet(root, "on");
  const call = on && isMapping(on) ? mappingGet(on, "workflow_call") : undefined;
  const outputs = call && isMapping(call) ? mappingGet(call, "outputs") : undefined;
  if (outputs && isMapping(outputs)) {
    for (const pair of outputs) {
      const value = isMapping(pair.value) ? mappingGet(pair.value, "value") : undefined;
      if (!value) throw new RehearsalError(`${at(file, pair.value)}: output without value`);
      callOutputs.set(keyOf(pair.key, file), value);
    }
  }
  return { file, template, rawJobs, callOutputs };
}

/** The raw step mappings of a job, in order. */
export function rawSteps(job: MappingToken, file: string): MappingToken[] {
  const steps = mappingGet(job, "steps");
  if (!steps) return [];
  if (!isSequence(steps)) throw new RehearsalError(`${at(file, steps)}: steps is not a sequence`);
  const out: MappingToken[] = [];
  for (let i = 0; i < steps.count; i++) {
    const step = steps.get(i);
    if (!isMapping(step)) throw new RehearsalError(`${at(file, step)}: a step is not a mapping`);
    out.push(step);
  }
  return out;
}
