import { describe, expect, it } from "vitest";
import { planFleet } from "../src/plan.ts";
import { planCounts, renderPlanMarkdown, renderPlanText } from "../src/plan-markdown.ts";
import type { Plan } from "../src/types.ts";
import { desiredOf, manifestText } from "./helpers.ts";
import { disk, observed, vm } from "./observed.ts";

// alice replaced (1.0.0 → 1.1.0), bob created, carol blocked (shrink), zed an orphan.
const desired = desiredOf(manifestText({ 20: '  alice: { image_version: "1.1.0" }', "+21": "  carol: {}" }));
const plan = planFleet(
  desired,
  observed({
    vms: [vm("alice", { image: "1.0.0" }), vm("carol", { image: "1.0.0" }), vm("zed", { image: "1.0.0" })],
    disks: [disk("alice-data"), disk("carol-data", { size: 64 }), disk("zed-data")],
  }),
);

describe("renderPlanMarkdown", () => {
  const md = renderPlanMarkdown(plan);

  it("opens with the short hash and the counts", () => {
    expect(md).toContain(`### Fleet plan \`${plan.hash.slice(0, 12)}\``);
    expect(md).toContain("**4 claws**, 2 to change: 1 create, 1 replace, 1 blocked, 1 orphan.");
  });

  it("has one table row per claw with action, versions and reason", () => {
    expect(md).toContain("| Claw | Action | Image | Reason |");
    expect(md).toContain(
      "| alice | replace | 1.0.0 → 1.1.0 | new VM on the same disk: image 1.0.0 → 1.1.0 |",
    );
    expect(md).toContain("| bob | create | → 1.0.0 |");
    expect(md).toContain("| carol | **blocked** | 1.0.0 |");
    expect(md).toContain("| zed | **orphan** | 1.0.0 |");
  });

  it("calls out blocked claws and orphans above the table", () => {
    expect(md.indexOf("**Blocked**")).toBeLessThan(md.indexOf("| Claw |"));
    expect(md).toMatch(/> - `carol`: data disk carol-data is 64 GiB/);
    expect(md).toMatch(/> \*\*Orphans\*\*[^\n]*\n> - `zed`: not in the manifest/);
  });

  it("ends with the full hash to approve", () => {
    expect(md.trimEnd().endsWith(`Plan hash: \`${plan.hash}\``)).toBe(true);
  });

  it("keeps a table cell on one line and escapes pipes and HTML", () => {
    const odd: Plan = {
      hash: "0".repeat(64),
      claws: [{ claw: "a", action: "noop", reason: "x | y\n<b>z</b>", changes: [], gated: false }],
      shared: [],
      unproven: [],
      warnings: [],
    };
    expect(renderPlanMarkdown(odd)).toContain("| a | noop |  | x \\| y<br>&lt;b&gt;z&lt;/b&gt; |");
  });

  it("says so when there is nothing at all", () => {
    expect(
      renderPlanMarkdown({ hash: "0".repeat(64), claws: [], shared: [], unproven: [], warnings: [] }),
    ).toContain("The fleet has no claws and Azure has no claw resources.");
  });
});

describe("renderPlanText", () => {
  it("aligns columns for logs", () => {
    const lines = renderPlanText(plan).split("\n");
    expect(lines[0]).toBe(`plan ${plan.hash} — ${planCounts(plan)}`);
    expect(lines[1]).toMatch(/^CLAW {3}ACTION {3}IMAGE {10}REASON$/);
    expect(lines[2]).toMatch(/^alice {2}replace {2}1\.0\.0 → 1\.1\.0 {2}new VM on the same disk/);
    expect(lines).toHaveLength(6);
  });
});
