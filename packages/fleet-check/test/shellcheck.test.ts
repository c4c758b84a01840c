import { describe, expect, it } from "vitest";
import { findOnPath, mergeVmRuntime, runShellcheck } from "../src/index.ts";
import { CLEAN_SCRIPT, writeTree } from "./tree-fixture.ts";

// shellcheck is a Debian package on this machine (see .ci/run) and preinstalled on GitHub's runners.
describe.runIf(findOnPath("shellcheck"))("shellcheck", () => {
  it("maps json1 comments to findings at the overlay file's lines, with the SC code in the title", async () => {
    const workspace = writeTree({ "claws.yaml": "" });
    const shipped = writeTree({ "lifecycle/boot.sh": CLEAN_SCRIPT });
    writeTree(
      {
        "updates/900-lint.sh":
          '#!/usr/bin/env bash\nset -euo pipefail\ncd /tmp\nrm -rf "$1"/*\n\techo $HOME\n',
        "bin/tool": "#!/bin/sh\necho $1\n",
        "defaults/notes.txt": "echo $1\n",
      },
      `${workspace}/fleet/vm-runtime`,
    );
    const tree = mergeVmRuntime({ shipped, overlay: `${workspace}/fleet/vm-runtime`, workspace });
    const result = await runShellcheck(tree);
    expect(result.ran).toBe(true);
    expect(result.scripts).toBe(3);
    expect(result.findings).toEqual([
      {
        file: "fleet/vm-runtime/bin/tool",
        line: 2,
        column: 6,
        endLine: 2,
        endColumn: 7,
        severity: "notice",
        title: "shellcheck SC2086",
        message: "Double quote to prevent globbing and word splitting.",
        fix: "See https://www.shellcheck.net/wiki/SC2086",
      },
      {
        file: "fleet/vm-runtime/updates/900-lint.sh",
        line: 4,
        column: 8,
        endLine: 4,
        endColumn: 13,
        severity: "warning",
        title: "shellcheck SC2115",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shellcheck's message quotes shell syntax.
        message: 'Use "${var:?}" to ensure this never expands to /* .',
        fix: "See https://www.shellcheck.net/wiki/SC2115",
      },
      {
        file: "fleet/vm-runtime/updates/900-lint.sh",
        line: 5,
        column: 7,
        endLine: 5,
        endColumn: 11,
        severity: "notice",
        title: "shellcheck SC2086",
        message: "Double quote to prevent globbing and word splitting.",
        fix: "See https://www.shellcheck.net/wiki/SC2086",
      },
    ]);
  });

  it("says it did not run when shellcheck is not on PATH", async () => {
    const workspace = writeTree({ "claws.yaml": "" });
    const tree = mergeVmRuntime({ shipped: writeTree({ "lifecycle/boot.sh": CLEAN_SCRIPT }), workspace });
    expect(await runShellcheck(tree, { path: "/nonexistent" })).toEqual({
      ran: false,
      scripts: 1,
      findings: [],
    });
  });
});
