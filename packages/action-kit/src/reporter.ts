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
 * The Reporter of a running action: action-kit's `log` (whose `info` neutralises workflow
 * commands), the job summary when the runner gives one (GITHUB_STEP_SUMMARY), outputs and masks.
 */
export const coreReporter: Reporter = {
  ...log,
  summary: async (markdown) => {
    if (process.env.GITHUB_STEP_SUMMARY) await core.appendSummary(markdown);
  },
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: (value) => core.setSecret(value),
};
