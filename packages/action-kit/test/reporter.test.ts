// The Reporter every action core takes: the core-backed one writes what the runner reads (log
// lines, annotations, groups, outputs, masks, the step summary); the in-memory one records the
// same calls for tests of the cores.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { annotate, coreReporter, getSecret, maskSecret, type Reporter } from "../src/index.ts";
import { MemoryReporter, parseOutputFile, workflowCommands } from "../src/testing.ts";
import { captureStdoutAsync } from "./capture-stdout.ts";

/** One call of each kind, through a Reporter's methods passed on detached, as cores do. */
async function useEveryMethod(reporter: Reporter): Promise<void> {
  const { info, notice, warning, error, startGroup, endGroup, summary, setOutput, setSecret } = reporter;
  startGroup("Wave 1/1");
  info("::add-mask::from a claw");
  endGroup();
  warning("disk is small", { file: "claws.yaml", startLine: 3, title: "Disk" });
  error("claw-001 is unhealthy");
  notice("done");
  setOutput("plan-hash", "abc");
  setSecret("s3cret-value");
  await summary("## Plan\n");
}

afterEach(() => vi.unstubAllEnvs());

describe("coreReporter", () => {
  it("writes log lines, groups, annotations and masks as workflow commands, neutralising text in info", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reporter-"));
    const output = join(dir, "output");
    const summary = join(dir, "summary.md");
    writeFileSync(output, "");
    writeFileSync(summary, "");
    vi.stubEnv("GITHUB_OUTPUT", output);
    vi.stubEnv("GITHUB_STEP_SUMMARY", summary);
    const stdout = await captureStdoutAsync(() => useEveryMethod(coreReporter));
    expect(workflowCommands(stdout).map((c) => c.info)).toEqual([
      "group",
      "endgroup",
      "warning title=Disk,file=claws.yaml,line=3",
      "error",
      "notice",
      "add-mask",
    ]);
    expect(stdout).toContain("%3A:add-mask::from a claw");
    expect(parseOutputFile(readFileSync(output, "utf8"))).toEqual({ "plan-hash": "abc" });
    expect(readFileSync(summary, "utf8")).toBe("## Plan\n");
  });

  it("prints a value's add-mask command the moment it is first masked, and never again in the process", () => {
    // Values no other test masks: what this process has masked is remembered for good.
    const tag = randomUUID();
    const token = `tok-${tag}`;
    const key = `-----BEGIN KEY-----\nline-${tag}\n${token}\n-----END KEY-----\n`;
    const chunks: string[] = [];
    const spy = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((chunk) => chunks.push(String(chunk)) > 0);
    const masks = () => workflowCommands(chunks.join("")).filter((c) => c.command === "add-mask");
    try {
      maskSecret(token, coreReporter.setSecret);
      // Printed before maskSecret returned: nothing the caller prints next can show the value.
      expect(masks().map((c) => c.data)).toEqual([token]);
      maskSecret(token, coreReporter.setSecret);
      maskSecret(token);
      coreReporter.setSecret(token);
      vi.stubEnv("INPUT_API-TOKEN", token);
      expect(getSecret("api-token")).toBe(token);
      expect(masks().map((c) => c.data)).toEqual([token]);
      // A new value is printed at once, its lines too, but not the line masked already.
      maskSecret(key);
      expect(masks().map((c) => c.data)).toEqual([
        token,
        "-----BEGIN KEY-----%0Aline-" + tag + "%0A" + token + "%0A-----END KEY-----%0A",
        "-----BEGIN KEY-----",
        `line-${tag}`,
        "-----END KEY-----",
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it("leaves the job summary alone when the runner gives none", async () => {
    vi.stubEnv("GITHUB_STEP_SUMMARY", "");
    await expect(coreReporter.summary("## Plan\n")).resolves.toBeUndefined();
  });
});

describe("MemoryReporter", () => {
  it("records every call in order, neutralising info text as coreReporter prints it", async () => {
    const reporter = new MemoryReporter();
    await useEveryMethod(reporter);
    expect(reporter.log).toEqual([
      "[group] Wave 1/1",
      "%3A:add-mask::from a claw",
      "[endgroup]",
      "::warning::disk is small",
      "::error::claw-001 is unhealthy",
      "::notice::done",
    ]);
    expect(reporter.annotations[0]).toEqual({
      level: "warning",
      text: "disk is small",
      props: { file: "claws.yaml", startLine: 3, title: "Disk" },
    });
    expect(reporter.texts("error")).toEqual(["claw-001 is unhealthy"]);
    expect(reporter.outputs).toEqual({ "plan-hash": "abc" });
    expect(reporter.secrets).toEqual(["s3cret-value"]);
    expect(reporter.summaryText).toBe("## Plan\n");
  });

  it("receives annotate's annotations and maskSecret's masks, line by line", () => {
    const reporter = new MemoryReporter();
    const { omitted } = annotate(
      Array.from({ length: 12 }, (_, i) => ({
        file: "claws.yaml",
        line: i + 1,
        message: `p${i}`,
        severity: "error" as const,
      })),
      reporter,
    );
    expect(omitted).toBe(2);
    expect(reporter.texts("error")).toHaveLength(10);
    maskSecret("-----BEGIN KEY-----\nsecretline123\n", reporter.setSecret);
    expect(reporter.secrets).toEqual([
      "-----BEGIN KEY-----\nsecretline123\n",
      "-----BEGIN KEY-----",
      "secretline123",
    ]);
  });

  it("gets a one-line secret from maskSecret once, not once more as its only line", () => {
    const reporter = new MemoryReporter();
    maskSecret("xai-one-line-secret", reporter.setSecret);
    maskSecret("a\nrepeated\nrepeated\n", reporter.setSecret);
    expect(reporter.secrets).toEqual(["xai-one-line-secret", "a\nrepeated\nrepeated\n", "repeated"]);
  });
});
