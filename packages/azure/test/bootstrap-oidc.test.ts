// infra/azure/bootstrap-oidc.sh run by bash against a recording stand-in for the `az` CLI: the
// script's own logic (role lookup across the tenant, assignable scopes, branch subject) is what is
// under test; what az does with the calls is Azure's business.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KEY_VAULT_SECRETS_USER_ROLE_ID } from "@openclawps/fleet-model";
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
      list) case "$*" in *-reader*) echo "reader-app" ;; *-power*) echo "power-app" ;; *) echo "operator-app" ;; esac ;;
      show) echo "object-of-$5" ;;
      federated-credential) : ;;
    esac ;;
  "ad sp") echo "sp-of-$5" ;;
  "rest --method") printf '%s' "\${AZ_EXISTING_ROLE:-}" ;;
  "role definition")
    for a in "$@"; do if [[ "$a" == @* ]]; then { cat "\${a#@}"; printf '\n---\n'; } >>"$AZ_ROLE_COPY.all"; fi; done ;;
  "role assignment") case "$3 $*" in
      "list "*"[0].id"*) [[ -z "\${AZ_EXISTING_ASSIGNMENT:-}" ]] || echo "/assignments/1" ;;
      "list "*"[0].condition"*) : ;;
      "list "*) echo '{"id": "/assignments/1", "principalId": "sp", "condition": null}' ;;
      "update "*) for a in "$@"; do if [[ "$a" == @* ]]; then cat "\${a#@}" >>"$AZ_LOG"; fi; done ;;
    esac ;;
esac
`;

function runBootstrap(args: string[], existingRole = "", existingAssignment = false) {
  const dir = mkdtempSync(join(tmpdir(), "bootstrap-oidc-"));
  const az = join(dir, "az");
  writeFileSync(az, FAKE_AZ);
  chmodSync(az, 0o755);
  // A recording gh: the environment's branch policy goes through the GitHub API.
  writeFileSync(
    join(dir, "gh"),
    `#!/usr/bin/env bash\nprintf 'gh|%s\\n' "$(IFS='|'; echo "$*")" >>"$AZ_LOG"\n`,
  );
  chmodSync(join(dir, "gh"), 0o755);
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
      AZ_EXISTING_ASSIGNMENT: existingAssignment ? "1" : "",
    },
  });
  const calls = readFileSync(log, "utf8").trim().split("\n");
  const roles = existsSync(`${roleCopy}.all`)
    ? readFileSync(`${roleCopy}.all`, "utf8")
        .split("\n---\n")
        .filter((t) => t.trim())
        .map((t) => JSON.parse(t) as { Name: string; Actions: string[]; AssignableScopes: string[] })
    : [];
  // The operator's role definition, as az was given it.
  const role = (roles.find((r) => r.Name.endsWith("operator")) ?? {}) as Record<string, unknown>;
  return { run, calls, role, roles };
}

const base = ["--repo", "my-org/fleet-a", "--subscription", SUB, "--location", "westus"];

const CONDITION = readFileSync(
  resolve(import.meta.dirname, "../../../infra/azure/fleet-operator-condition.txt"),
  "utf8",
).trim();

describe("bootstrap-oidc.sh", () => {
  it("assigns the operator role with the condition that limits its grants to Key Vault Secrets User, and only it", () => {
    const { run, calls } = runBootstrap([...base, "--resource-group", "rg-a"]);
    expect(run.status, run.stderr).toBe(0);
    // Each call is one entry of the log; a multi-line argument spans lines: rejoin per call.
    const creates = calls
      .join("\n")
      .split(/\n(?=[a-z]+\|)/)
      .filter((c) => c.startsWith("role|assignment|create|"));
    const operator = creates.filter((c) => c.includes("|--role|openclawps fleet operator|"));
    expect(operator).toHaveLength(1);
    expect(operator[0]).toContain(`|--condition|${CONDITION}|--condition-version|2.0|`);
    expect(creates.filter((c) => c.includes("--condition"))).toHaveLength(1);
    // The condition names the role deploy-fleet grants (packages/azure key-vault.ts).
    expect(CONDITION).toContain(KEY_VAULT_SECRETS_USER_ROLE_ID);
  });

  it("sets the condition on an operator assignment made without it", () => {
    const { run, calls } = runBootstrap([...base, "--resource-group", "rg-a"], "", true);
    expect(run.status, run.stderr).toBe(0);
    const all = calls.join("\n");
    expect(all).toContain("role|assignment|update|--role-assignment|@");
    expect(all).toContain(`"conditionVersion": "2.0"`);
    expect(all).toContain(JSON.stringify(CONDITION));
    expect(run.stdout).toContain(
      `openclawps fleet operator on /subscriptions/${SUB}/resourceGroups/rg-a: condition set`,
    );
  });

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

  it("splits the identities at the approval gate: the branch gets the reader, only the environment the operator", () => {
    const { run, calls, roles } = runBootstrap([...base, "--resource-group", "rg-a"]);
    expect(run.status, run.stderr).toBe(0);
    const all = calls.join("\n");
    // Each create call's JSON spans lines of the log: one segment per call.
    const federation = all.split("\n").join(" ").split("ad|app|federated-credential|create|").slice(1);
    expect(federation).toHaveLength(3);
    expect(federation.find((c) => c.includes("refs/heads/main"))).toMatch(/^--id\|object-of-reader-app\|/);
    expect(federation.find((c) => c.includes("environment:production"))).toMatch(
      /^--id\|object-of-operator-app\|/,
    );
    expect(federation.find((c) => c.includes("environment:fleet-power"))).toMatch(
      /^--id\|object-of-power-app\|.*"name": "github-env-fleet-power"/,
    );
    expect(all).not.toContain("pull_request");
    const assignments = calls.filter((c) => c.startsWith("role|assignment|create|"));
    const assigned = (sp: string) =>
      assignments
        .filter((c) => c.includes(`--assignee-object-id|${sp}|`))
        .map((c) => /--role\|([^|]+)\|/.exec(c)?.[1]);
    expect(assigned("sp-of-reader-app")).toEqual(["openclawps fleet reader", "Contributor"]);
    expect(assigned("sp-of-operator-app")).toEqual([
      "openclawps fleet operator",
      "openclawps fleet size reader",
    ]);
    expect(assigned("sp-of-power-app")).toEqual(["openclawps fleet power"]);
    expect(roles.map((r) => r.Name)).toEqual([
      "openclawps fleet reader",
      "openclawps fleet operator",
      "openclawps fleet power",
      "openclawps fleet size reader",
    ]);
    expect(roles[0]?.Actions).not.toContain("Microsoft.Compute/virtualMachines/write");
    // The environment admits the deploy branch only.
    expect(calls).toContainEqual(
      "gh|api|--method|PUT|repos/my-org/fleet-a/environments/production|-F|deployment_branch_policy[protected_branches]=false|-F|deployment_branch_policy[custom_branch_policies]=true",
    );
    expect(calls).toContainEqual(
      "gh|api|--method|POST|repos/my-org/fleet-a/environments/production/deployment-branch-policies|-f|name=main|-f|type=branch",
    );
    expect(run.stdout).toContain("AZURE_READER_CLIENT_ID reader-app");
    expect(run.stdout).toContain("AZURE_CLIENT_ID        operator-app");
  });

  it("the power identity: its own app, federated to the fleet-power environment only, the power role on the resource group", () => {
    const { run, calls, roles } = runBootstrap([...base, "--resource-group", "rg-a"]);
    expect(run.status, run.stderr).toBe(0);
    expect(calls).toContainEqual(
      "ad|app|list|--display-name|openclawps-my-org-fleet-a-power|--query|[0].appId|-o|tsv",
    );
    const power = roles.find((r) => r.Name === "openclawps fleet power");
    expect(power?.AssignableScopes).toEqual([`/subscriptions/${SUB}/resourceGroups/rg-a`]);
    expect(power?.Actions).toContain("Microsoft.Compute/virtualMachines/deallocate/action");
    expect(calls).toContainEqual(
      `role|assignment|create|--assignee-object-id|sp-of-power-app|--assignee-principal-type|ServicePrincipal|--role|openclawps fleet power|--scope|/subscriptions/${SUB}/resourceGroups/rg-a|--output|none`,
    );
    // The environment admits the deploy branch only, as production does, and gets no reviewers.
    expect(calls).toContainEqual(
      "gh|api|--method|PUT|repos/my-org/fleet-a/environments/fleet-power|-F|deployment_branch_policy[protected_branches]=false|-F|deployment_branch_policy[custom_branch_policies]=true",
    );
    expect(calls).toContainEqual(
      "gh|api|--method|POST|repos/my-org/fleet-a/environments/fleet-power/deployment-branch-policies|-f|name=main|-f|type=branch",
    );
    expect(calls.join("\n")).not.toMatch(/reviewers/);
    expect(run.stdout).toContain("AZURE_POWER_CLIENT_ID  power-app");
    expect(run.stdout).toContain(
      "gh secret set AZURE_POWER_CLIENT_ID --repo my-org/fleet-a --body power-app",
    );
    const named = runBootstrap([
      ...base,
      "--resource-group",
      "rg-a",
      "--power-environment",
      "nightly",
      "--role-name",
      "fleet c operator",
    ]);
    expect(named.run.status, named.run.stderr).toBe(0);
    expect(named.calls.join(" ")).toContain('"subject": "repo:my-org/fleet-a:environment:nightly"');
    expect(named.roles.map((r) => r.Name)).toContain("fleet c power");
    const same = spawnSync(
      "bash",
      [SCRIPT, ...base, "--resource-group", "rg-a", "--power-environment", "production"],
      { encoding: "utf8" },
    );
    expect(same.status).toBe(2);
    expect(same.stderr).toContain("--power-environment must differ from --environment");
  });

  it("the operator reads the size catalogue through a role holding only skus/read, at subscription scope", () => {
    const { run, calls, roles } = runBootstrap([...base, "--resource-group", "rg-a"]);
    expect(run.status, run.stderr).toBe(0);
    const size = roles.find((r) => r.Name === "openclawps fleet size reader");
    expect(size?.Actions).toEqual(["Microsoft.Compute/skus/read"]);
    expect(size?.AssignableScopes).toEqual([`/subscriptions/${SUB}`]);
    expect(calls).toContainEqual(
      `role|assignment|create|--assignee-object-id|sp-of-operator-app|--assignee-principal-type|ServicePrincipal|--role|openclawps fleet size reader|--scope|/subscriptions/${SUB}|--output|none`,
    );
    // Nobody else gets it, and nothing else is assigned at subscription scope.
    const atSubscription = calls.filter(
      (c) => c.startsWith("role|assignment|create|") && c.includes(`--scope|/subscriptions/${SUB}|`),
    );
    expect(atSubscription).toHaveLength(1);
    // A fleet in another subscription adds its subscription to the role found in the tenant.
    const existing =
      "/subscriptions/other/providers/Microsoft.Authorization/roleDefinitions/7777\t/subscriptions/other";
    const second = runBootstrap([...base, "--resource-group", "rg-b"], existing);
    expect(second.run.status, second.run.stderr).toBe(0);
    expect(second.roles.find((r) => r.Name === "openclawps fleet size reader")?.AssignableScopes).toEqual([
      "/subscriptions/other",
      `/subscriptions/${SUB}`,
    ]);
  });

  it("is shellcheck-clean", () => {
    const check = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    if (check.error)
      throw new Error("shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)");
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });
});
