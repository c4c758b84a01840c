import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BundledActionRun, workflowCommands } from "@openclawps/action-kit/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, hasStackTrace, PATH_WITHOUT_TOOLS, runValidate } from "./run-action.ts";

/** A writable copy of a fixture repository (modes kept), for tests that change it. */
function copyFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `validate-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

const problemsSection = (summary: string) => summary.slice(summary.indexOf("### Problems"));

describe("a pull request with mistakes across the manifest, the overlay and the Packer template", () => {
  let run: BundledActionRun;
  beforeAll(async () => {
    run = await runValidate(join(FIXTURES, "many-errors"), { "packer-dir": "packer" });
  });

  it("annotates the first ten errors and every warning and notice at their lines, then fails the step", () => {
    expect(run.exitCode).toBe(1);
    expect(run.annotations).toEqual([
      `::error title=manifest%3A azure.location,file=claws.yaml,line=3,endLine=3,col=13,endColumn=19::"West US" is not an Azure region name%0AFix: use the region's programmatic name, e.g. "westus" (see \`az account list-locations -o table\`)`,
      `::error title=manifest%3A azure.subnet_prefixes[0],file=claws.yaml,line=9,endLine=9,col=21,endColumn=31::subnet prefix "10.1.0.0/24" is not inside the virtual network's address space (10.0.0.0/16)%0AFix: pick a subnet prefix inside azure.address_space, or widen the address space`,
      `::error title=manifest%3A defaults.admin_username,file=claws.yaml,line=18,endLine=18,col=19,endColumn=23::"admin" is a user name Azure refuses for the admin account%0AFix: use another name, e.g. "azureuser"`,
      `::error title=manifest%3A defaults.data_disk_sku,file=claws.yaml,line=21,endLine=21,col=18,endColumn=28::"Premium_SSD" is not one of "Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS"%0AFix: did you mean "Premium_LRS"?`,
      `::error title=manifest%3A defaults.model,file=claws.yaml,line=23,endLine=23,col=10,endColumn=13::"grok" is not a model id%0AFix: write provider/model, e.g. "xai/grok-4-1-fast-non-reasoning"`,
      `::error title=manifest%3A rollouts,file=claws.yaml,line=26,endLine=26,col=1,endColumn=8::"rollouts" is not a key of the top level; did you mean "rollout"?%0AFix: rename it to rollout`,
      `::error title=manifest%3A claws.alice.vm_sise,file=claws.yaml,line=30,endLine=30,col=5,endColumn=11::"vm_sise" is not a key of claws.alice; did you mean "vm_size"?%0AFix: rename it to vm_size`,
      `::error title=manifest%3A claws.bob.image_version,file=claws.yaml,line=32,endLine=32,col=20,endColumn=22::claws.bob.image_version must be a quoted gallery version or "latest", not the number 1.2%0AFix: quote it: image_version: "1.2"`,
      `::error title=manifest%3A claws.bob.data_disk_size_gb,file=claws.yaml,line=33,endLine=33,col=24,endColumn=26::claws.bob.data_disk_size_gb must be a whole number of GiB, not a string%0AFix: e.g. data_disk_size_gb: 64`,
      `::error title=packer validate%3A Invalid expression,file=packer/build.pkr.hcl,line=4,endLine=4::Expected the start of an expression, but found an invalid expression token.`,
      "::warning title=vm-runtime permissions,file=vm-runtime/updates/901-not-executable.sh,line=1,endLine=1::901-not-executable.sh starts with #! but is not executable.%0AFix: Run `git update-index --chmod=+x vm-runtime/updates/901-not-executable.sh` (or chmod +x) and commit.",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shellcheck's message quotes shell syntax.
      '::warning title=shellcheck SC2115,file=vm-runtime/updates/902-cleanup.sh,line=4,endLine=4,col=8,endColumn=21::Use "${var:?}" to ensure this never expands to /* .%0AFix: See https://www.shellcheck.net/wiki/SC2115',
      "::notice title=shellcheck SC2086,file=vm-runtime/updates/902-cleanup.sh,line=5,endLine=5,col=14,endColumn=23::Double quote to prevent globbing and word splitting.%0AFix: See https://www.shellcheck.net/wiki/SC2086",
      "::error::Fleet validation failed: 13 error(s), 2 warning(s). Every problem is listed in the job summary.",
    ]);
  });

  it("lists every problem in the job summary grouped by file, including the ones left without an annotation", () => {
    expect(problemsSection(run.summary)).toBe(`### Problems

GitHub shows at most 10 annotations of each kind per step: 3 problems below have no annotation.

#### \`claws.yaml\` (9)

| | Line | Problem | Fix |
|---|---|---|---|
| ❌ | 3:13 | **manifest: azure.location**: "West US" is not an Azure region name | use the region's programmatic name, e.g. "westus" (see \`az account list-locations -o table\`) |
| ❌ | 9:21 | **manifest: azure.subnet_prefixes[0]**: subnet prefix "10.1.0.0/24" is not inside the virtual network's address space (10.0.0.0/16) | pick a subnet prefix inside azure.address_space, or widen the address space |
| ❌ | 18:19 | **manifest: defaults.admin_username**: "admin" is a user name Azure refuses for the admin account | use another name, e.g. "azureuser" |
| ❌ | 21:18 | **manifest: defaults.data_disk_sku**: "Premium_SSD" is not one of "Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS" | did you mean "Premium_LRS"? |
| ❌ | 23:10 | **manifest: defaults.model**: "grok" is not a model id | write provider/model, e.g. "xai/grok-4-1-fast-non-reasoning" |
| ❌ | 26:1 | **manifest: rollouts**: "rollouts" is not a key of the top level; did you mean "rollout"? | rename it to rollout |
| ❌ | 30:5 | **manifest: claws.alice.vm_sise**: "vm_sise" is not a key of claws.alice; did you mean "vm_size"? | rename it to vm_size |
| ❌ | 32:20 | **manifest: claws.bob.image_version**: claws.bob.image_version must be a quoted gallery version or "latest", not the number 1.2 | quote it: image_version: "1.2" |
| ❌ | 33:24 | **manifest: claws.bob.data_disk_size_gb**: claws.bob.data_disk_size_gb must be a whole number of GiB, not a string | e.g. data_disk_size_gb: 64 |

#### \`packer/build.pkr.hcl\` (1)

| | Line | Problem | Fix |
|---|---|---|---|
| ❌ | 4 | **packer validate: Invalid expression**: Expected the start of an expression, but found an invalid expression token. |  |

#### \`vm-runtime/updates/900-install-jq.sh\` (1)

| | Line | Problem | Fix |
|---|---|---|---|
| ❌ |  | **vm-runtime updates**: Update number 900 is used by 2 scripts (900-install-jq.sh, 900-install-yq.sh); their order would be ambiguous. | Give 900-install-jq.sh a number of its own, e.g. 904. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name. |

#### \`vm-runtime/updates/900-install-yq.sh\` (1)

| | Line | Problem | Fix |
|---|---|---|---|
| ❌ |  | **vm-runtime updates**: Update number 900 is used by 2 scripts (900-install-jq.sh, 900-install-yq.sh); their order would be ambiguous. | Give 900-install-yq.sh a number of its own, e.g. 905. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name. |

#### \`vm-runtime/updates/901-not-executable.sh\` (1)

| | Line | Problem | Fix |
|---|---|---|---|
| ⚠️ | 1 | **vm-runtime permissions**: 901-not-executable.sh starts with #! but is not executable. | Run \`git update-index --chmod=+x vm-runtime/updates/901-not-executable.sh\` (or chmod +x) and commit. |

#### \`vm-runtime/updates/902-cleanup.sh\` (2)

| | Line | Problem | Fix |
|---|---|---|---|
| ⚠️ | 4:8 | **shellcheck SC2115**: Use "\${var:?}" to ensure this never expands to /* . | See https://www.shellcheck.net/wiki/SC2115 |
| ℹ️ | 5:14 | **shellcheck SC2086**: Double quote to prevent globbing and word splitting. | See https://www.shellcheck.net/wiki/SC2086 |

#### \`vm-runtime/updates/fix-permissions.sh\` (1)

| | Line | Problem | Fix |
|---|---|---|---|
| ❌ |  | **vm-runtime updates**: 'fix-permissions.sh' is not named NNN-name.sh, so run-updates.sh never runs it. | Rename it to 903-fix-permissions.sh (three digits, a dash, a name; the next free number is used here). |
`);
  });

  it("gives the verdict and a row per check at the top of the summary", () => {
    expect(run.summary).toMatch(
      /^## Fleet validation: ❌ failed\n\n13 errors, 2 warnings\.\n\n\| Check \| Result \| Details \|\n/,
    );
    expect(run.summary).toContain("| Manifest | ❌ 9 errors | `claws.yaml` |\n");
    expect(run.summary).toMatch(
      /\| vm-runtime \| ❌ 3 errors \| overlay `vm-runtime\/`: 5 files, 0 replacing shipped ones; \d+ files go onto each claw, \d+ update scripts \(4 from the overlay\) \|\n/,
    );
    expect(run.summary).toMatch(/\| Executable bits \| ⚠️ 1 warning \| \d+ shell scripts \|\n/);
    expect(run.summary).toMatch(
      /\| shellcheck \| ⚠️ 1 warning \| \d+ scripts linted with shellcheck \d+\.\d+\.\d+ \|\n/,
    );
    expect(run.summary).toContain(
      "| Secrets | ⏭️ skipped | secrets were not checked: no secrets-json given (pull requests from forks get no secrets) |\n",
    );
    expect(run.summary).toContain("| customData | ⏭️ skipped | not rendered: the manifest has errors |\n");
    expect(run.summary).toContain(
      "| Packer | ❌ 1 error | Packer 1.6.6: packer validate -syntax-only (Packer before 1.7 cannot install the template's plugins; plugins.pkr.hcl left out) |\n",
    );
  });

  it("sets valid, the counts, and every problem as JSON outputs", () => {
    expect(run.outputs.valid).toBe("false");
    expect(run.outputs.errors).toBe("13");
    expect(run.outputs.warnings).toBe("2");
    const problems = JSON.parse(run.outputs.problems ?? "");
    expect(problems).toHaveLength(16);
    expect(problems).toContainEqual({
      file: "vm-runtime/updates/fix-permissions.sh",
      severity: "error",
      title: "vm-runtime updates",
      message: "'fix-permissions.sh' is not named NNN-name.sh, so run-updates.sh never runs it.",
      fix: "Rename it to 903-fix-permissions.sh (three digits, a dash, a name; the next free number is used here).",
    });
  });

  it("prints no stack trace", () => {
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});

describe("a repository without shellcheck and packer on PATH", () => {
  it("says that scripts were not linted and the template not validated, as notices and in the summary", async () => {
    const run = await runValidate(
      join(FIXTURES, "many-errors"),
      { "packer-dir": "packer" },
      { path: PATH_WITHOUT_TOOLS },
    );
    const notices = run.annotations.filter((a) => a.startsWith("::notice::"));
    expect(notices).toEqual([
      expect.stringMatching(
        /^::notice::shellcheck is not on PATH: \d+ scripts not linted\. Install it \(apt-get install shellcheck; GitHub's Ubuntu runners have it\) to lint vm-runtime scripts\.$/,
      ),
      "::notice::packer is not on PATH: the template was not validated. Install Packer (GitHub's Ubuntu runners have it) to validate packer.",
    ]);
    expect(run.summary).toMatch(
      /\| shellcheck \| ⏭️ skipped \| shellcheck is not on PATH: \d+ scripts not linted \|/,
    );
    expect(run.summary).toContain(
      "| Packer | ⏭️ skipped | packer is not on PATH: the template was not validated |",
    );
    // The checks that need no tool still ran.
    expect(run.outputs).toMatchObject({ errors: "12", warnings: "1" });
  });
});

describe("input mistakes", () => {
  it("points a seed-era repository at fleet/claws.yaml when the manifest input is left at its default", async () => {
    const run = await runValidate(join(FIXTURES, "seed"), {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.annotations[0]).toBe(
      "::error title=manifest,file=claws.yaml::Manifest 'claws.yaml' not found.%0AFix: This repository keeps it at fleet/claws.yaml: set the manifest input to that path.",
    );
    expect(run.exitCode).toBe(1);
  });

  it("reports an overlay directory that does not exist", async () => {
    const run = await runValidate(
      join(FIXTURES, "seed"),
      { manifest: "fleet/claws.yaml", "vm-runtime": "fleet/runtime" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.annotations).toContain(
      "::error title=vm-runtime overlay,file=fleet/runtime::The vm-runtime overlay directory 'fleet/runtime' does not exist.%0AFix: Set the vm-runtime input to the overlay directory relative to the repository root, or leave it empty to use vm-runtime/ beside the manifest when there is one.",
    );
  });

  it("refuses a strict value that is not a boolean, naming the input", async () => {
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { strict: "sometimes" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.annotations).toEqual(["::error::Input 'strict' must be true or false (got 'sometimes')."]);
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});

describe("an overlay file cloud-init cannot ship", () => {
  it("is reported once, and the claws' customData is not rendered", async () => {
    const repo = copyFixture("valid");
    writeFileSync(join(repo, "vm-runtime/updates/fix perms.sh"), "#!/usr/bin/env bash\nset -euo pipefail\n");
    chmodSync(join(repo, "vm-runtime/updates/fix perms.sh"), 0o755);
    const run = await runValidate(repo, {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.annotations.filter((a) => a.startsWith("::error title="))).toEqual([
      "::error title=vm-runtime updates,file=vm-runtime/updates/fix perms.sh::'fix perms.sh' is not named NNN-name.sh, so run-updates.sh never runs it.%0AFix: Rename it to 901-fix-perms.sh (three digits, a dash, a name; the next free number is used here).",
    ]);
    expect(run.summary).toContain(
      "| customData | ⏭️ skipped | not rendered: the vm-runtime overlay has problems |",
    );
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});

describe("a seed-era repository (fleet/claws.yaml)", () => {
  it("validates the seed's manifest unchanged, without an overlay beside it", async () => {
    const run = await runValidate(
      join(FIXTURES, "seed"),
      { manifest: "fleet/claws.yaml" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.annotations.filter((a) => !a.startsWith("::notice::"))).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ valid: "true", errors: "0", warnings: "0", problems: "[]" });
    expect(run.summary).toContain("| Manifest | ✅ passed | `fleet/claws.yaml`: 1 claw |");
    expect(run.summary).toMatch(/no overlay \(no `fleet\/vm-runtime\/`\)/);
    expect(run.summary).toMatch(/\| chad-claw \| [\d,]+ \|/);
  });

  it("has no admin key of its own: a notice says deploy-fleet needs one; the admin-public-key input supplies it", async () => {
    const without = await runValidate(
      join(FIXTURES, "seed"),
      { manifest: "fleet/claws.yaml" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(without.annotations).toContain(
      "::notice::No admin public key: fleet/claws.yaml has no ssh.admin_public_key and the admin-public-key input is empty. deploy-fleet refuses to create VMs without one: add the key to the manifest's ssh: block, or pass it to validate and deploy-fleet as admin-public-key.",
    );
    const withKey = await runValidate(
      join(FIXTURES, "seed"),
      {
        manifest: "fleet/claws.yaml",
        "admin-public-key":
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ+ukvkm5WWJA/AlEVgLgBPyQymcsgGijc3v8m1WmHRk fleet-admin@example.com",
      },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(withKey.exitCode).toBe(0);
    expect(withKey.annotations.some((a) => a.includes("No admin public key"))).toBe(false);
    const pasted = await runValidate(
      join(FIXTURES, "seed"),
      { manifest: "fleet/claws.yaml", "admin-public-key": "-----BEGIN OPENSSH PRIVATE KEY----- secretstuff" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(pasted.outputs.valid).toBe("false");
    expect(pasted.stdout).toContain("Input 'admin-public-key': this is a private key");
    expect(pasted.stdout).not.toContain("secretstuff");
  });

  it("finds the two update scripts the seed numbered 017 when its vm-runtime is used as the overlay", async () => {
    const run = await runValidate(
      join(FIXTURES, "seed"),
      { manifest: "fleet/claws.yaml", "vm-runtime": "vm-runtime" },
      { path: PATH_WITHOUT_TOOLS },
    );
    // (The notice that shellcheck is not on PATH is left out here.)
    expect(run.annotations.filter((a) => !a.startsWith("::notice::"))).toEqual([
      "::error title=vm-runtime updates,file=vm-runtime/updates/017-install-ffmpeg.sh::Update number 017 is used by 2 scripts (017-install-ffmpeg.sh, 017-openclaw-config.sh); their order would be ambiguous.%0AFix: Give 017-install-ffmpeg.sh a number of its own, e.g. 019. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name.",
      "::error title=vm-runtime updates,file=vm-runtime/updates/017-openclaw-config.sh::Update number 017 is used by 2 scripts (017-install-ffmpeg.sh, 017-openclaw-config.sh); their order would be ambiguous.%0AFix: Give 017-openclaw-config.sh a number of its own, e.g. 020. The ledger on each disk is by file name: a claw that already applied it runs it again under the new name.",
      "::error::Fleet validation failed: 2 error(s), 0 warning(s). Every problem is listed in the job summary.",
    ]);
    expect(run.outputs.valid).toBe("false");
  });
});

const CANARY = {
  alice: {
    telegram_bot_token: "111111:canaryAliceTelegram0000000000",
    xai_api_key: "xai-canaryAliceModelKey000000",
  },
  bob: {
    telegram_bot_token: "222222:canaryBobTelegram00000000000000",
    anthropic_api_key: "sk-ant-canaryBobModelKey0000",
  },
};
const canaryValues = Object.values(CANARY).flatMap((s) => Object.values(s));

/** Everything a run wrote where people can read it, except the add-mask commands that hide the values. */
const visibleText = (run: BundledActionRun) =>
  [
    run.stdout
      .split("\n")
      .filter((l) => !l.startsWith("::add-mask::"))
      .join("\n"),
    run.stderr,
    run.summary,
    JSON.stringify(run.outputs),
  ].join("\n");

describe("a valid fleet repository", () => {
  let run: BundledActionRun;
  beforeAll(async () => {
    run = await runValidate(join(FIXTURES, "valid"), { "packer-dir": "packer" });
  });

  it("names itself first, then says what it validates before any check runs", () => {
    const lines = run.log.split("\n").filter((l) => l.trim() !== "");
    expect(lines[0]).toBe(`openclawps validate (local build), Node ${process.versions.node}`);
    expect(lines[1]).toBe("Validating claws.yaml, the vm-runtime scripts and the Packer template...");
  });

  it("passes with no annotation and says so in its outputs", () => {
    expect(run.annotations).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toEqual({ valid: "true", errors: "0", warnings: "0", problems: "[]" });
  });

  it("summarises every check, with the overlay it merged and each active claw's customData size", () => {
    expect(run.summary).toMatch(/^## Fleet validation: ✅ passed\n\n0 errors, 0 warnings\.\n/);
    expect(run.summary).toContain("| Manifest | ✅ passed | `claws.yaml`: 3 claws (1 retired) |");
    expect(run.summary).toMatch(
      /\| vm-runtime \| ✅ passed \| overlay `vm-runtime\/`: 2 files, 1 replacing shipped ones; \d+ files go onto each claw, \d+ update scripts \(1 from the overlay\) \|/,
    );
    expect(run.summary).toMatch(/\| shellcheck \| ✅ passed \| \d+ scripts linted with shellcheck/);
    expect(run.summary).toContain("| customData | ✅ passed | 2 of 2 active claws rendered; largest ");
    expect(run.summary).toContain(
      "| Packer | ✅ passed | Packer 1.6.6: packer validate -syntax-only (Packer before 1.7 cannot install the template's plugins; plugins.pkr.hcl left out) |",
    );
    expect(run.summary).toContain("| Secrets | ⏭️ skipped | secrets were not checked: no secrets-json given");
    const rows = run.summary.match(/^\| (alice|bob|carol) \|.*$/gm) ?? [];
    expect(rows.map((r) => r.split(" | ")[0])).toEqual(["| alice", "| bob"]);
    for (const row of rows)
      expect(row).toMatch(/^\| \w+ \| [\d,]+ \| \d+% \| `[0-9a-f]{12}` \| placeholders \|$/);
    expect(run.summary).toContain("No problems found.");
  });
});

describe("secrets", () => {
  it("checks CLAW_SECRETS_JSON against the active claws without printing a value anywhere", async () => {
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { "secrets-json": JSON.stringify(CANARY) },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(0);
    expect(run.summary).toContain("| Secrets | ✅ passed | 2 claws with secrets in CLAW_SECRETS_JSON |");
    expect(run.summary).toMatch(/^\| alice \|.*\| real \|$/m);
    // Every value is masked, and shows up nowhere else.
    for (const value of canaryValues) expect(run.stdout).toContain(`::add-mask::${value}`);
    const visible = visibleText(run);
    for (const value of canaryValues) expect(visible).not.toContain(value);
  });

  it("annotates the manifest line of a claw whose secrets are missing", async () => {
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { "secrets-json": JSON.stringify({ alice: CANARY.alice }) },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.annotations.filter((a) => a.startsWith("::error title="))).toEqual([
      expect.stringMatching(
        /^::error title=CLAW_SECRETS_JSON%3A bob,file=claws.yaml,line=40,endLine=40,col=3,.*::no secrets for claw "bob"/,
      ),
    ]);
    for (const value of canaryValues) expect(visibleText(run)).not.toContain(value);
  });

  it("names the claw and secret whose value the claw's .env cannot carry, without the value", async () => {
    const secrets = { ...CANARY, bob: { ...CANARY.bob, anthropic_api_key: "sk-ant-canary with a space" } };
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { "secrets-json": JSON.stringify(secrets) },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.annotations.filter((a) => a.startsWith("::error title="))).toEqual([
      `::error title=CLAW_SECRETS_JSON%3A bob.anthropic_api_key,file=claws.yaml,line=40,endLine=40,col=3,endColumn=5::bob.anthropic_api_key contains a character the claw's .env cannot carry (whitespace, a quote, a backtick, a backslash, "#" or a non-ASCII character)%0AFix: paste the value without those characters`,
    ]);
    // Refused by the secrets check (one rule with deploy-fleet's), so customData has nothing more to say.
    expect(run.summary).toMatch(/\| Secrets \| ❌ 1 error \|/);
    expect(visibleText(run)).not.toContain("sk-ant-canary");
  });

  it("warns about secrets for a retired claw at its manifest line, and for an unknown one in the secret", async () => {
    const secrets = { ...CANARY, carol: CANARY.alice, dave: CANARY.alice };
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { "secrets-json": JSON.stringify(secrets) },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(0);
    expect(run.annotations.filter((a) => a.startsWith("::warning"))).toEqual([
      expect.stringMatching(
        /^::warning title=CLAW_SECRETS_JSON%3A dave,file=CLAW_SECRETS_JSON,line=1,.*::claw "dave" has secrets but is not an active claw in the manifest; its secrets are ignored%0AFix: .+$/,
      ),
      expect.stringMatching(
        /^::warning title=CLAW_SECRETS_JSON%3A carol,file=claws\.yaml,line=43,endLine=43,col=3,endColumn=7::claw "carol" has secrets/,
      ),
    ]);
  });

  it("reports broken JSON by position only, never echoing the text around it", async () => {
    const broken = `{"alice": {"telegram_bot_token": "${CANARY.alice.telegram_bot_token}", }`;
    const run = await runValidate(
      join(FIXTURES, "valid"),
      { "secrets-json": broken },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.annotations[0]).toMatch(
      /^::error title=CLAW_SECRETS_JSON,file=CLAW_SECRETS_JSON,line=1,.*::CLAW_SECRETS_JSON is not valid JSON/,
    );
    expect(visibleText(run)).not.toContain(CANARY.alice.telegram_bot_token);
    expect(visibleText(run)).not.toContain("canaryAlice");
  });
});

describe("strict", () => {
  let repo: string;
  beforeAll(() => {
    repo = copyFixture("valid");
    const script = join(repo, "vm-runtime/updates/901-lost-its-bit.sh");
    writeFileSync(script, "#!/usr/bin/env bash\nset -euo pipefail\necho ok\n");
    chmodSync(script, 0o644);
  });

  it("lets warnings pass by default", async () => {
    const run = await runValidate(repo, {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ valid: "true", errors: "0", warnings: "1" });
    expect(run.annotations.filter((a) => a.startsWith("::warning"))).toHaveLength(1);
  });

  it("fails on warnings when strict", async () => {
    const run = await runValidate(repo, { strict: "true" }, { path: PATH_WITHOUT_TOOLS });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({ valid: "false", errors: "0", warnings: "1" });
    expect(run.annotations.at(-1)).toBe(
      "::error::Fleet validation failed: 0 error(s), 1 warning(s) (strict). Every problem is listed in the job summary.",
    );
    expect(run.summary).toContain("0 errors, 1 warning (strict: warnings fail the check).");
  });
});

describe("customData size", () => {
  /** The valid fleet with an overlay file that adds about `bytes` bytes to the gzip'd customData (base64 of random bytes). */
  function withOverlayFile(bytes: number): string {
    const repo = copyFixture("valid");
    writeFileSync(
      join(repo, "vm-runtime/defaults/workspace/notes.md"),
      randomBytes(bytes).toString("base64"),
    );
    return repo;
  }

  it("fails every claw whose cloud-init no longer fits Azure's limit, naming what takes the room", async () => {
    const run = await runValidate(withOverlayFile(100_000), {}, { path: PATH_WITHOUT_TOOLS });
    expect(run.exitCode).toBe(1);
    const errors = run.annotations.filter((a) => a.startsWith("::error title=customData size"));
    expect(errors).toEqual([
      expect.stringMatching(
        /^::error title=customData size,file=claws\.yaml,line=38,endLine=38,col=3,endColumn=7::customData for claw "alice" is [\d,]+ bytes gzip'd; Azure accepts at most 65,535 .*\/opt\/claw\/defaults\/workspace\/notes\.md \(overlay\).*%0AFix: .+$/,
      ),
      expect.stringMatching(
        /^::error title=customData size,file=claws\.yaml,line=40,.*customData for claw "bob" is/,
      ),
    ]);
    expect(run.summary).toMatch(/^\| alice \| too large \| &gt; 100% \|/m);
  });

  it("warns when a claw's cloud-init is above 90% of the limit", async () => {
    // Size the overlay from what the shipped payload takes now, so the test keeps aiming at
    // ~95% of the limit as vm-runtime grows: N random bytes, base64-encoded, gzip to about 1.075 N.
    const baseline = await runValidate(withOverlayFile(0), {}, { path: PATH_WITHOUT_TOOLS });
    const base = Number(/^\| alice \| ([\d,]+) \|/m.exec(baseline.summary)?.[1]?.replace(/,/g, ""));
    expect(base).toBeGreaterThan(0);
    const run = await runValidate(
      withOverlayFile(Math.round((0.95 * 65_535 - base) / 1.075)),
      {},
      {
        path: PATH_WITHOUT_TOOLS,
      },
    );
    expect(run.exitCode).toBe(0);
    expect(run.annotations.filter((a) => a.startsWith("::warning"))).toEqual([
      expect.stringMatching(
        /^::warning title=customData size,file=claws\.yaml,line=38,.*::customData for claw "alice" is [\d,]+ bytes gzip'd, 9\d%25 of the 65,535 Azure accepts\.%0AFix: .+$/,
      ),
      expect.stringMatching(
        /^::warning title=customData size,file=claws\.yaml,line=40,.*customData for claw "bob"/,
      ),
    ]);
  });
});

describe("inputs that carry workflow commands or lead out of the repository", () => {
  it("prints a manifest input with a newline and ::error:: as text, never as a command", async () => {
    const run = await runValidate(
      copyFixture("many-errors"),
      { manifest: "claws.yaml\n::error::PWNED\n##[add-mask]x" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain("PWNED");
    const obeyed = workflowCommands(run.stdout).filter(
      // Our own annotation names the input in its (escaped) file property: that is text, not a command.
      (c) => c.command === "add-mask" || c.data.startsWith("PWNED") || c.info.includes("::"),
    );
    expect(obeyed).toEqual([]);
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });

  it("refuses a manifest input outside the repository, naming the input and the fix", async () => {
    const run = await runValidate(
      copyFixture("many-errors"),
      { manifest: "/proc/self/environ" },
      { path: PATH_WITHOUT_TOOLS },
    );
    expect(run.exitCode).toBe(1);
    expect(run.annotations.join("\n")).toMatch(
      /Input 'manifest' '\/proc\/self\/environ' resolves to .*outside the repository/,
    );
    expect(hasStackTrace(run.stdout + run.stderr)).toBe(false);
  });
});
