// infra/azure/bootstrap-oidc.sh run by bash against a recording stand-in for the `az` CLI: the
// script's own logic (role lookup across the tenant, assignable scopes, branch subject) is what is
// under test; what az does with the calls is Azure's business.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SCRIPT = resolve(import.meta.dirname, "../../../infra/azure/bootstrap-oidc.sh");
const SUB = "00000000-0000-0000-0000-00000000aaaa";

// The stand-in: logs each call (one line, arguments joined by "|"), copies role definition files
// it is given, and answers the few queries the script reads from.
const FAKE_AZ = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\n' "$(IFS='|'; echo "$*")" >>"$AZ_LOG"
case "$1 \${2:-}" in
  "account show") echo "tenant-1111" ;;
  "cloud show") echo "https://management.azure.com/" ;;
  "ad app") case "$3" in
      list) echo "app-2222" ;;
      show) echo "app-object-3333" ;;
      federated-credential) : ;;
    esac ;;
  "ad sp") echo "sp-4444" ;;
  "rest --method") printf '%s' "\${AZ_EXISTING_ROLE:-}" ;;
  "role definition")
    for a in "$@"; do if [[ "$a" == @* ]]; then cp "\${a#@}" "$AZ_ROLE_COPY"; fi; done ;;
  "role assignment") : ;;
esac
`;

function runBootstrap(args: string[], existingRole = "") {
  const dir = mkdtempSync(join(tmpdir(), "bootstrap-oidc-"));
  const az = join(dir, "az");
  writeFileSync(az, FAKE_AZ);
  chmodSync(az, 0o755);
  const log = join(dir, "az.log");
  const roleCopy = join(dir, "role.json");
  const run = spawnSync("bash", [SCRIPT, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      PATH: `${dir}:${process.env.PATH}`,
      AZ_LOG: log,
      AZ_ROLE_COPY: roleCopy,
      AZ_EXISTING_ROLE: existingRole,
    },
  });
  const calls = readFileSync(log, "utf8").trim().split("\n");
  const role = JSON.parse(readFileSync(roleCopy, "utf8")) as Record<string, unknown>;
  return { run, calls, role };
}

const base = ["--repo", "my-org/fleet-a", "--subscription", SUB, "--location", "westus"];

describe("bootstrap-oidc.sh", () => {
  it("first fleet: looks the role up tenant-wide, creates it assignable on its resource group, trusts main", () => {
    const { run, calls, role } = runBootstrap([...base, "--resource-group", "rg-a"]);
    expect(run.status, run.stderr).toBe(0);
    expect(calls).toContainEqual(
      expect.stringMatching(
        /^rest\|--method\|get\|--url\|https:\/\/management\.azure\.com\/providers\/Microsoft\.Authorization\/roleDefinitions\?\$filter=type\+eq\+'CustomRole'&api-version=2022-04-01\|--query\|value\[\?properties\.roleName=='openclawps fleet operator'\]/,
      ),
    );
    expect(calls.some((c) => c.startsWith("role|definition|create|"))).toBe(true);
    expect(role).toMatchObject({
      Name: "openclawps fleet operator",
      AssignableScopes: [`/subscriptions/${SUB}/resourceGroups/rg-a`],
    });
    expect(calls.join("\n")).toContain('"subject": "repo:my-org/fleet-a:ref:refs/heads/main"');
    expect(calls.join("\n")).toContain('"name": "github-main"');
  });

  it("second fleet in the tenant: updates the existing role, adding its resource group to the assignable scopes", () => {
    const existing = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/5555\t/subscriptions/other/resourceGroups/rg-a`;
    const { run, calls, role } = runBootstrap(
      [...base, "--resource-group", "rg-b", "--branch", "release/v2"],
      existing,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(calls.some((c) => c.startsWith("role|definition|create|"))).toBe(false);
    expect(calls.some((c) => c.startsWith("role|definition|update|"))).toBe(true);
    expect(role).toMatchObject({
      id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/5555`,
      AssignableScopes: [
        "/subscriptions/other/resourceGroups/rg-a",
        `/subscriptions/${SUB}/resourceGroups/rg-b`,
      ],
    });
    expect(run.stdout).toContain("role exists (2 assignable scope(s)); added");
    expect(calls.join("\n")).toContain('"subject": "repo:my-org/fleet-a:ref:refs/heads/release/v2"');
    expect(calls).toContainEqual(
      expect.stringMatching(
        /^role\|assignment\|create\|.*--role\|openclawps fleet operator\|--scope\|\/subscriptions\/.*\/resourceGroups\/rg-b\|/,
      ),
    );
  });

  it("a fleet with a role of its own, and a refused branch given as a ref", () => {
    const { run, role } = runBootstrap([
      ...base,
      "--resource-group",
      "rg-c",
      "--role-name",
      "fleet c operator",
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(role.Name).toBe("fleet c operator");
    const refused = spawnSync(
      "bash",
      [SCRIPT, ...base, "--resource-group", "rg-c", "--branch", "refs/heads/main"],
      {
        encoding: "utf8",
      },
    );
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--branch must be a branch name such as main");
  });

  it("is shellcheck-clean", () => {
    const check = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    if (check.error)
      throw new Error("shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)");
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
