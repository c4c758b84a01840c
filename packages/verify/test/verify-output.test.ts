import { describe, expect, it } from "vitest";
import { type CommandOutcome, parseVerifyOutput } from "../src/index.ts";

const pass = (id: string) =>
  JSON.stringify({ id, group: id.split(".")[0], status: "pass", label: id, detail: "" });
const fail = (id: string, detail: string) =>
  JSON.stringify({ id, group: id.split(".")[0], status: "fail", label: id, detail });
const summary = (passed: number, failed: number, warnings = 0) =>
  JSON.stringify({ summary: true, passed, failed, warnings });

function outcome(stdout: string[], over: Partial<CommandOutcome> = {}): CommandOutcome {
  return { command: "verify", stdout: stdout.join("\n"), stderr: "", exitCode: 0, ...over };
}

describe("parseVerifyOutput", () => {
  it("reads checks and the summary, skipping lines that are not verify results", () => {
    const parsed = parseVerifyOutput(
      outcome(
        ["Last login: yesterday", pass("disk.mounted"), "{not json", '{"id":1}', '["array"]', summary(1, 0)],
        {
          stderr: "sudo: unable to resolve host claw\n",
        },
      ),
    );
    expect(parsed.problem).toBeUndefined();
    expect(parsed.checks).toEqual([
      { id: "disk.mounted", group: "disk", status: "pass", label: "disk.mounted", detail: "" },
    ]);
    expect(parsed.summary).toEqual({ passed: 1, failed: 0, warnings: 0 });
  });

  it("keeps details with quotes and newlines intact", () => {
    const detail = 'said "no"\nsecond line\\';
    const parsed = parseVerifyOutput(
      outcome([fail("gateway.health", detail), summary(0, 1)], { exitCode: 1 }),
    );
    expect(parsed.problem).toBeUndefined();
    expect(parsed.checks[0]?.detail).toBe(detail);
  });

  it("accepts Windows line endings", () => {
    const parsed = parseVerifyOutput(outcome([pass("a.b"), summary(1, 0)].map((l) => `${l}\r`)));
    expect(parsed.problem).toBeUndefined();
    expect(parsed.checks).toHaveLength(1);
  });

  it("rejects a status outside pass, fail and warn", () => {
    const parsed = parseVerifyOutput(
      outcome([
        JSON.stringify({ id: "a.b", group: "a", status: "ok", label: "", detail: "" }),
        summary(0, 0),
      ]),
    );
    expect(parsed.checks).toEqual([]);
    expect(parsed.problem).toBeUndefined();
  });

  it("calls a missing script missing, from exit 127 or the shell's complaint", () => {
    expect(
      parseVerifyOutput(
        outcome([], { exitCode: 127, stderr: "bash: /opt/claw/verify.sh: No such file or directory" }),
      ).problem,
    ).toEqual({
      reason: "script-missing",
      message:
        "`verify` is not on the claw (exit 127: bash: /opt/claw/verify.sh: No such file or directory); the VM's /opt/claw payload is missing or incomplete",
    });
    expect(
      parseVerifyOutput(outcome([], { exitCode: 1, stderr: "sudo: /opt/claw/verify.sh: command not found" }))
        .problem?.reason,
    ).toBe("script-missing");
  });

  it("calls output without any result garbage, quoting the start of stdout and stderr", () => {
    expect(parseVerifyOutput(outcome(["hello", "world"], { exitCode: 3, stderr: "oops" })).problem).toEqual({
      reason: "bad-output",
      message: "`verify` printed no verify results (exit 3, stderr: oops); stdout began with: hello",
    });
    expect(parseVerifyOutput(outcome([])).problem?.message).toContain("stdout was empty");
  });

  it("does not trust checks without a summary, or a summary that disagrees with the checks", () => {
    expect(
      parseVerifyOutput(outcome([pass("a.b")], { exitCode: null, signal: "KILL" })).problem?.message,
    ).toBe("`verify` stopped after 1 check(s) without its summary line (exit KILL)");
    expect(parseVerifyOutput(outcome([pass("a.b"), summary(2, 0)])).problem?.reason).toBe("bad-output");
  });

  it("does not trust an exit status that contradicts the checks", () => {
    expect(parseVerifyOutput(outcome([pass("a.b"), summary(1, 0)], { exitCode: 2 })).problem).toEqual({
      reason: "command-failed",
      message: "`verify` exited 2 although no check failed",
    });
    expect(
      parseVerifyOutput(outcome([fail("a.b", "x"), summary(0, 1)], { exitCode: 0 })).problem?.reason,
    ).toBe("bad-output");
  });

  it("reports a command stopped for taking too long", () => {
    const parsed = parseVerifyOutput(
      outcome([pass("a.b"), summary(1, 0)], { exitCode: null, timedOut: true }),
    );
    expect(parsed.problem).toEqual({
      reason: "command-failed",
      message: "`verify` did not finish in time and was stopped",
    });
  });
});
