// What the bake tells the workflow through the action's Reporter: outputs, the job summary, and
// on failure Packer's own error as annotations.
import { annotate, mdTable, type Reporter } from "@openclawps/action-kit";
import { formatDuration } from "@openclawps/fleet-model";
import type { BakeOutcome, PackerBuildFailure } from "./bake.ts";

export function setBakeOutputs(outcome: BakeOutcome, reporter: Reporter): void {
  reporter.setOutput("image-version", outcome.imageVersion);
  reporter.setOutput("image-id", outcome.imageId);
  reporter.setOutput("skipped", String(outcome.status === "skipped"));
  reporter.setOutput("content-hash", outcome.contentHash);
}

export function outcomeMarkdown(outcome: BakeOutcome, galleryLabel: string): string {
  const result = outcome.status === "skipped" ? "⏭️ skipped: the baseline has not changed" : "✅ built";
  const rows = [
    ["Image version", outcome.imageVersion],
    ["Image id", outcome.imageId],
    ["Content hash", outcome.contentHash],
    ["Duration", formatDuration(outcome.durationMs)],
    ["Gallery", galleryLabel],
    ...(outcome.packerVersion ? [["Packer", outcome.packerVersion]] : []),
  ];
  return `## Bake baseline image\n\n${outcome.reason}\n\n${mdTable(["Result", result], rows)}\n${inputsMarkdown(outcome.files)}`;
}

export function failureMarkdown(failure: PackerBuildFailure, galleryLabel: string): string {
  const rows = [
    ["Image version", failure.imageVersion],
    ["Content hash", failure.contentHash],
    ["Duration", formatDuration(failure.durationMs)],
    ["Gallery", galleryLabel],
  ];
  const fence = "```";
  return (
    `## Bake baseline image\n\nPacker exited with ${failure.exitCode}. Its error:\n\n` +
    `${fence}text\n${failure.messages.join("\n").replaceAll(fence, "'''")}\n${fence}\n\n${mdTable(["Result", "❌ failed"], rows)}`
  );
}

function inputsMarkdown(files: string[]): string {
  if (files.length === 0) return "";
  return `\n<details><summary>${files.length} files in the content hash</summary>\n\n${files.map((f) => `- \`${f}\``).join("\n")}\n\n</details>\n`;
}

export async function reportOutcome(
  outcome: BakeOutcome,
  galleryLabel: string,
  reporter: Reporter,
): Promise<void> {
  setBakeOutputs(outcome, reporter);
  reporter.info(
    outcome.status === "skipped"
      ? `Skipped: ${outcome.reason} Image version ${outcome.imageVersion}.`
      : `Baked image version ${outcome.imageVersion} (${outcome.imageId}) in ${formatDuration(outcome.durationMs)}.`,
  );
  await reporter.summary(outcomeMarkdown(outcome, galleryLabel));
}

export async function reportFailure(
  failure: PackerBuildFailure,
  galleryLabel: string,
  reporter: Reporter,
): Promise<void> {
  reporter.setOutput("content-hash", failure.contentHash);
  reporter.setOutput("skipped", "false");
  annotate(failure.findings, reporter);
  await reporter.summary(failureMarkdown(failure, galleryLabel));
}
