import { afterEach, describe, expect, it } from "vitest";
import {
  annotate,
  type Finding,
  findingsMarkdown,
  fitSummary,
  getBoolean,
  getChoice,
  getDuration,
  getInteger,
  getSecret,
  listFindings,
  mdTable,
  parseDuration,
  STEP_SUMMARY_LIMIT_BYTES,
  UserError,
} from "../src/index.ts";
import { captureStdout } from "./capture-stdout.ts";

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith("INPUT_")) delete process.env[k];
});

describe("annotate", () => {
  const finding = (i: number, severity: Finding["severity"]): Finding => ({
    file: "claws.yaml",
    line: i + 1,
    column: 3,
    endColumn: 9,
    message: `problem ${i}`,
    severity,
  });

  it("emits at most ten annotations of each severity and counts the rest as omitted", () => {
    const findings = [
      ...Array.from({ length: 14 }, (_, i) => finding(i, "error")),
      ...Array.from({ length: 3 }, (_, i) => finding(i, "warning")),
    ];
    let result = { shown: 0, omitted: 0 };
    const out = captureStdout(() => {
      result = annotate(findings);
    });
    expect(out.match(/^::error /gm)).toHaveLength(10);
    expect(out.match(/^::warning /gm)).toHaveLength(3);
    expect(result).toEqual({ shown: 13, omitted: 4 });
  });

  it("writes file, line and column properties GitHub understands", () => {
    const out = captureStdout(() =>
      annotate([{ ...finding(4, "error"), title: "claws.yaml", fix: "use 1.2.3" }]),
    );
    expect(out).toBe(
      "::error title=claws.yaml,file=claws.yaml,line=5,endLine=5,col=3,endColumn=9::problem 4%0AFix: use 1.2.3\n",
    );
  });

  it("drops columns from a multi-line range", () => {
    const out = captureStdout(() => annotate([{ ...finding(0, "warning"), endLine: 4 }]));
    expect(out).toBe("::warning file=claws.yaml,line=1,endLine=4::problem 0\n");
  });
});

describe("findingsMarkdown", () => {
  it("groups findings by file and escapes table cells", () => {
    const md = findingsMarkdown([
      { file: "b.sh", line: 2, message: "a | b", severity: "warning" },
      { file: "a.yaml", line: 1, column: 1, message: "bad", fix: "good", severity: "error" },
    ]);
    expect(md.indexOf("`a.yaml`")).toBeLessThan(md.indexOf("`b.sh`"));
    expect(md).toContain("| ❌ | 1:1 | bad | good |");
    expect(md).toContain("a \\| b");
  });

  it("says so when there is nothing to report", () => {
    expect(findingsMarkdown([])).toBe("No problems found.\n");
  });
});

describe("inputs", () => {
  it("parses durations in seconds, minutes and hours", () => {
    expect(parseDuration("90")).toBe(90);
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("ten minutes")).toBeUndefined();
    expect(parseDuration("5m junk")).toBeUndefined();
  });

  it("refuses a duration longer than Node's timers can wait, or than the caller allows", () => {
    process.env.INPUT_PAUSE = "999999h";
    expect(() => getDuration("pause", 0)).toThrow(
      /Input 'pause' is 999999h; the longest it may be is 596h31m23s/,
    );
    process.env.INPUT_PAUSE = "7h";
    expect(() => getDuration("pause", 0, 6 * 3600)).toThrow(/at most 6h/);
    process.env.INPUT_PAUSE = "6h";
    expect(getDuration("pause", 0, 6 * 3600)).toBe(6 * 3600);
  });

  it("lists findings up to a byte budget and counts the ones left out", () => {
    const findings = Array.from({ length: 5000 }, (_, i) => ({
      file: "claws.yaml",
      line: i + 1,
      message: `problem ${i} ${"x".repeat(200)}`,
      severity: "error" as const,
    }));
    const all = listFindings(findings.slice(0, 10));
    expect(all.unlisted).toBe(0);
    expect(all.markdown).not.toContain("not listed");
    const cut = listFindings(findings, 64 * 1024);
    expect(Buffer.byteLength(cut.markdown)).toBeLessThanOrEqual(64 * 1024);
    expect(cut.unlisted).toBeGreaterThan(4000);
    expect(cut.markdown).toContain(`${cut.unlisted} of 5000 problems are not listed here`);
    expect(cut.markdown).toContain("problem 0 ");
    const full = listFindings(findings);
    expect(Buffer.byteLength(full.markdown)).toBeLessThan(STEP_SUMMARY_LIMIT_BYTES);
  });

  it("fits a long summary part under a byte budget at a line end, saying how much was cut", () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `| claw-${i} | create | new claw é |`).join("\n");
    expect(fitSummary("short\n")).toBe("short\n");
    const fitted = fitSummary(rows, 100_000);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(100_000);
    expect(fitted).toMatch(
      /\| claw-\d+ \| create \| new claw é \|\n\n> \[!NOTE\]\n> \d+ more lines \(\d+ bytes\) are not shown/,
    );
  });

  it("names the input and the accepted values when a value is wrong", () => {
    process.env.INPUT_MODE = "aply";
    expect(() => getChoice("mode", ["plan", "apply"] as const, "plan")).toThrow(
      new UserError("Input 'mode' must be one of plan, apply (got 'aply')."),
    );
    process.env.INPUT_TIMEOUT = "soon";
    expect(() => getDuration("timeout", 60)).toThrow(/Input 'timeout' must be a duration/);
    process.env.INPUT_PARALLELISM = "0";
    expect(() => getInteger("parallelism", { fallback: 4, min: 1, max: 64 })).toThrow(
      "Input 'parallelism' must be an integer between 1 and 64 (got '0').",
    );
    process.env["INPUT_DRY-RUN"] = "maybe";
    expect(() => getBoolean("dry-run", false)).toThrow(
      "Input 'dry-run' must be true or false (got 'maybe').",
    );
  });

  it("falls back to defaults for empty inputs", () => {
    expect(getBoolean("dry-run", true)).toBe(true);
    expect(getInteger("parallelism", { fallback: 4 })).toBe(4);
  });

  it("masks a secret input before returning it", () => {
    process.env["INPUT_SSH-PRIVATE-KEY"] = "-----BEGIN KEY-----\nsecretline123\n-----END KEY-----\n";
    const out = captureStdout(() => {
      expect(getSecret("ssh-private-key")).toContain("secretline123");
    });
    expect(out).toContain("::add-mask::secretline123");
  });
});

describe("mdTable", () => {
  it("renders a header, a separator and escaped rows", () => {
    expect(mdTable(["a", "b"], [["1", "x|y"]])).toBe("| a | b |\n|---|---|\n| 1 | x\\|y |\n");
  });
});
