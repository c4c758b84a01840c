import { describe, expect, it } from "vitest";
import {
  type Check,
  type ClawVerification,
  failureDetails,
  summaryMarkdown,
  toClawHealth,
  verdict,
  waveVerifier,
} from "../src/index.ts";

const check = (id: string, status: Check["status"], detail = ""): Check => ({
  id,
  group: id.split(".")[0] ?? "",
  status,
  label: `label of ${id}`,
  detail,
});

const healthy: ClawVerification = {
  name: "alice",
  host: "10.0.0.4",
  port: 22,
  healthy: true,
  checks: [check("disk.mounted", "pass"), check("gpu.present", "warn", "no GPU")],
  passed: 1,
  failed: 0,
  warnings: 1,
  timeToReadyMs: 83_400,
  durationMs: 90_000,
};

const failing: ClawVerification = {
  name: "bob",
  host: "10.0.0.5",
  port: 22,
  healthy: false,
  checks: [
    check("disk.mounted", "pass"),
    check("gateway.health", "fail", "HTTP 401 | rejected"),
    check("updates.applied", "fail", "not applied: 003-x.sh"),
  ],
  passed: 1,
  failed: 2,
  warnings: 0,
  timeToReadyMs: 12_000,
  durationMs: 15_000,
  reason: "checks-failed",
  presentedHostKey: "SHA256:abc",
};

const mismatch: ClawVerification = {
  name: "carol<x>",
  host: "10.0.0.6",
  port: 22,
  healthy: false,
  checks: [],
  passed: 0,
  failed: 0,
  warnings: 0,
  durationMs: 300,
  reason: "host-key-mismatch",
  error: "host key mismatch at 10.0.0.6:22: expected SHA256:a, presented SHA256:b.",
};

describe("verdict and toClawHealth", () => {
  it("summarises a healthy claw with its warnings and time to ready", () => {
    expect(toClawHealth(healthy)).toEqual({
      claw: "alice",
      healthy: true,
      detail: "1 check(s) passed, 1 warning(s), ready after 1m23s",
    });
  });

  it("names the failed checks of an unhealthy claw, at most three", () => {
    expect(verdict(failing)).toBe(
      "2 check(s) failed: gateway.health (HTTP 401 | rejected); updates.applied (not applied: 003-x.sh)",
    );
    const many = { ...failing, checks: ["a.1", "a.2", "a.3", "a.4", "a.5"].map((id) => check(id, "fail")) };
    expect(verdict(many)).toBe("5 check(s) failed: a.1; a.2; a.3; +2 more");
  });

  it("gives the error of a claw that was never checked", () => {
    expect(toClawHealth(mismatch)).toEqual({ claw: "carol<x>", healthy: false, detail: mismatch.error });
  });
});

describe("summaryMarkdown", () => {
  it("has a headline, one row per claw and a collapsible section per unhealthy claw only", () => {
    const md = summaryMarkdown([healthy, failing, mismatch]);
    expect(md.startsWith("**1 of 3 claw(s) healthy**\n\n")).toBe(true);
    expect(md).toContain("| Claw | Result | Passed | Failed | Warnings | Time to ready |");
    expect(md).toContain("| alice | ✅ healthy (warnings) | 1 | 0 | 1 | 1m23s |");
    expect(md).toContain("| bob | ❌ 2 check(s) failed | 1 | 2 | 0 | 12.0s |");
    expect(md).toContain("| carol&lt;x&gt; | ❌ host key mismatch | – | – | – | – |");
    expect(md.match(/<details>/g)).toHaveLength(2);
    expect(md).not.toContain("<b>alice</b>");
  });

  it("lists every check that did not pass in a failing claw's section, escaped for a table", () => {
    const section = failureDetails(failing);
    expect(section).toContain("<details><summary><b>bob</b>: 2 check(s) failed</summary>");
    expect(section).toContain("Host `10.0.0.5:22`, host key `SHA256:abc`");
    expect(section).toContain("| ❌ | label of gateway.health (gateway.health) | HTTP 401 \\| rejected |");
    expect(section).not.toContain("disk.mounted");
    expect(section.trimEnd().endsWith("</details>")).toBe(true);
  });

  it("escapes HTML in a claw's name in the section title", () => {
    expect(failureDetails(mismatch)).toContain("<summary><b>carol&lt;x&gt;</b>: host key mismatch</summary>");
  });

  it("says so when there is nothing to verify", () => {
    expect(summaryMarkdown([])).toBe("**0 of 0 claw(s) healthy**\n\n");
  });
});

describe("waveVerifier", () => {
  it("verifies the wave's claws and reports a claw without a VM as unhealthy", async () => {
    const asked: string[][] = [];
    const gate = waveVerifier(
      async (claws) =>
        claws
          .filter((c) => c !== "ghost")
          .map((name) => ({ name, host: "h", port: 22, hostKeyFingerprint: "SHA256:x" })),
      async (targets) => {
        asked.push(targets.map((t) => t.name));
        return targets.map((t) => (t.name === "bob" ? failing : { ...healthy, name: t.name }));
      },
    );
    expect(await gate(["alice", "ghost", "bob"])).toEqual([
      { claw: "alice", healthy: true, detail: "1 check(s) passed, 1 warning(s), ready after 1m23s" },
      { claw: "ghost", healthy: false, detail: "no VM found for this claw" },
      { claw: "bob", healthy: false, detail: verdict(failing) },
    ]);
    expect(asked).toEqual([["alice", "bob"]]);
  });
});
