// What an action's core tells the workflow, as one small interface: log lines, annotations,
// log groups, the job summary, outputs and secrets to mask. Cores take a Reporter (as
// Azure/bicep-deploy's execute(config, logger, outputSetter)), so their gates run in tests with
// the in-memory one (`@openclawps/action-kit/testing`'s MemoryReporter); main.ts passes
// `coreReporter`, the one implementation backed by workflow commands (workflow-commands.ts).

import { log } from "./untrusted.ts";
import * as core from "./workflow-commands.ts";

/** Where an annotation points: workflow-commands.ts's AnnotationProperties (as @actions/core's). */
export type AnnotationProps = core.AnnotationProperties;

export interface Reporter {
  /** A plain log line; text that did not come from this code is neutralised (untrusted). */
  info(text: string): void;
  notice(text: string, props?: AnnotationProps): void;
  warning(text: string, props?: AnnotationProps): void;
  error(text: string, props?: AnnotationProps): void;
  /** Opens a collapsible section of the log. */
  startGroup(title: string): void;
  endGroup(): void;
  /** Appends Markdown to the job summary. */
  summary(markdown: string): Promise<void>;
  setOutput(name: string, value: string): void;
  /** Masks a value in every later log line. */
  setSecret(value: string): void;
}

/**
 * Values this process has printed an add-mask command for. The runner adds each one to its
 * host-wide secret masker, which masks it in every later line of the job (actions/runner
 * src/Runner.Worker/ActionCommandManager.cs, AddMaskCommandExtension:
 * `HostContext.SecretMasker.AddValue(command.Data)`), so a second command for the same value
 * only lengthens the log: 1000 claws' two secrets each were 4004 add-mask lines, half repeats.
 */
const masked = new Set<string>();

/** The add-mask command for `value`, printed at once the first time, never again in this process. */
function maskOnce(value: string): void {
  if (masked.has(value)) return;
  masked.add(value);
  core.setSecret(value);
}

/**
 * The Reporter of a running action: action-kit's `log` (whose `info` neutralises workflow
 * commands), the job summary when the runner gives one (GITHUB_STEP_SUMMARY), outputs and masks
 * (each value's add-mask command printed once per process).
 */
export const coreReporter: Reporter = {
  ...log,
  summary: async (markdown) => {
    if (process.env.GITHUB_STEP_SUMMARY) await core.appendSummary(markdown);
  },
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: maskOnce,
};
