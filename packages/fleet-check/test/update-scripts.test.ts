import { describe, expect, it } from "vitest";
import { checkExecutableBits, checkUpdateScripts, mergeVmRuntime } from "../src/index.ts";
import { CLEAN_SCRIPT, writeTree } from "./tree-fixture.ts";

function tree(
  shipped: Record<string, string | { content: string; mode: number }>,
  overlay?: Record<string, string | { content: string; mode: number }>,
) {
  const workspace = writeTree({ "claws.yaml": "" });
  const shippedDir = writeTree(shipped);
  const overlayDir = overlay ? writeTree(overlay, `${workspace}/vm-runtime`) : undefined;
  return mergeVmRuntime({ shipped: shippedDir, ...(overlayDir ? { overlay: overlayDir } : {}), workspace });
}

describe("update script numbering", () => {
  it("accepts uniquely numbered NNN-name.sh scripts and ignores non-scripts", () => {
    const t = tree(
      { "updates/001-a.sh": CLEAN_SCRIPT, "updates/README.md": "x" },
      { "updates/002-b.sh": CLEAN_SCRIPT },
    );
    expect(checkUpdateScripts(t)).toEqual([]);
  });

  it("blames only the overlay script when it reuses a shipped number, and suggests the next free one", () => {
    const t = tree(
      { "updates/017-a.sh": CLEAN_SCRIPT, "updates/018-b.sh": CLEAN_SCRIPT },
      { "updates/017-mine.sh": CLEAN_SCRIPT },
    );
    expect(checkUpdateScripts(t)).toEqual([
      {
        file: "vm-runtime/updates/017-mine.sh",
        severity: "error",
        title: "vm-runtime updates",
        message:
          "Update number 017 is used by 2 scripts (017-a.sh (shipped), 017-mine.sh); their order would be ambiguous.",
        fix: "Give 017-mine.sh a number of its own, e.g. 019. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name.",
      },
    ]);
  });

  it("suggests a three-digit number even when 999 is taken", () => {
    const t = tree(
      { "updates/001-a.sh": CLEAN_SCRIPT, "updates/999-last.sh": CLEAN_SCRIPT },
      { "updates/fix.sh": CLEAN_SCRIPT },
    );
    const [finding] = checkUpdateScripts(t);
    expect(finding?.fix).toMatch(/^Rename it to 002-fix\.sh /);
  });

  it("blames both scripts when the clash is inside the overlay", () => {
    const t = tree({}, { "updates/900-a.sh": CLEAN_SCRIPT, "updates/900-b.sh": CLEAN_SCRIPT });
    expect(checkUpdateScripts(t).map((f) => [f.file, f.fix?.split(".")[0]])).toEqual([
      ["vm-runtime/updates/900-a.sh", "Give 900-a"],
      ["vm-runtime/updates/900-b.sh", "Give 900-b"],
    ]);
    expect(checkUpdateScripts(t).map((f) => /e\.g\. (\d+)/.exec(f.fix ?? "")?.[1])).toEqual(["901", "902"]);
  });

  it("reports scripts that run-updates.sh would never run because of their names", () => {
    const t = tree(
      { "updates/001-a.sh": CLEAN_SCRIPT },
      { "updates/17-fix.sh": CLEAN_SCRIPT, "updates/fix thing.sh": CLEAN_SCRIPT },
    );
    expect(checkUpdateScripts(t).map((f) => [f.file, f.message, f.fix])).toEqual([
      [
        "vm-runtime/updates/17-fix.sh",
        "'17-fix.sh' is not named NNN-name.sh, so run-updates.sh never runs it.",
        "Rename it to 002-fix.sh (three digits, a dash, a name; the next free number is used here).",
      ],
      [
        "vm-runtime/updates/fix thing.sh",
        "'fix thing.sh' is not named NNN-name.sh, so run-updates.sh never runs it.",
        "Rename it to 003-fix-thing.sh (three digits, a dash, a name; the next free number is used here).",
      ],
    ]);
  });

  it("notes that replacing a shipped update script does not rerun it on disks that applied it", () => {
    const t = tree({ "updates/001-a.sh": CLEAN_SCRIPT }, { "updates/001-a.sh": CLEAN_SCRIPT });
    const [finding] = checkUpdateScripts(t);
    expect(finding).toMatchObject({ file: "vm-runtime/updates/001-a.sh", severity: "notice" });
    expect(t.files.filter((f) => f.rel === "updates/001-a.sh").map((f) => f.origin)).toEqual(["overlay"]);
  });
});

describe("executable bits", () => {
  it("reports every script with a #! line that is not executable, with the git command that fixes it", () => {
    const t = tree(
      {
        "lifecycle/boot.sh": CLEAN_SCRIPT,
        "lifecycle/lib.sh": { content: "# shellcheck shell=bash\n", mode: 0o644 },
      },
      { "updates/901-x.sh": { content: CLEAN_SCRIPT, mode: 0o644 }, "defaults/SOUL.md": "soul" },
    );
    expect(checkExecutableBits(t)).toEqual([
      {
        file: "vm-runtime/updates/901-x.sh",
        line: 1,
        severity: "warning",
        title: "vm-runtime permissions",
        message: "901-x.sh starts with #! but is not executable.",
        fix: "Run `git update-index --chmod=+x vm-runtime/updates/901-x.sh` (or chmod +x) and commit.",
      },
    ]);
  });

  it("shows shipped files outside the repository under the actions' name", () => {
    const t = tree({ "lifecycle/boot.sh": { content: CLEAN_SCRIPT, mode: 0o644 } });
    expect(checkExecutableBits(t)[0]?.file).toBe("openclawps-actions/vm-runtime/lifecycle/boot.sh");
  });
});
