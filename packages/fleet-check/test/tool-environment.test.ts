// External tools run on pull-request content, so they get a minimal environment, and a pull
// request does not choose what `packer init` downloads. Packer 1.7+ (the one that installs
// plugins) cannot run here — no network for its plugin downloads — so these tests put a
// stand-in `packer` first on PATH that records its arguments and environment; the argument
// handling and environment building under test are the real ones.
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkPacker, runTool, toolEnvironment } from "../src/index.ts";
import { writeTree } from "./tree-fixture.ts";

const RUNNER_ENV = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/runner",
  "INPUT_SECRETS-JSON": '{"alice":{"xai_api_key":"xai-CANARY"}}',
  INPUT_SSH_PRIVATE_KEY: "CANARY-KEY",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "CANARY-OIDC",
  ACTIONS_RUNTIME_TOKEN: "CANARY-RUNTIME",
  GITHUB_TOKEN: "CANARY-GH",
  ARM_CLIENT_SECRET: "CANARY-ARM",
  AZURE_CLIENT_ID: "CANARY-AZ",
};

describe("the environment of an external tool", () => {
  it("keeps only what finding programs, a home and a locale need", () => {
    expect(toolEnvironment({ CHECKPOINT_DISABLE: "1" }, RUNNER_ENV)).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/home/runner",
      CHECKPOINT_DISABLE: "1",
    });
  });

  it("reaches a real child process without inputs, runner tokens or credentials", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, RUNNER_ENV, { PATH: saved.PATH });
    try {
      const { stdout } = await runTool("/usr/bin/env", [], { cwd: "/" });
      expect(stdout).toContain("HOME=");
      expect(stdout).not.toContain("CANARY");
    } finally {
      for (const name of Object.keys(RUNNER_ENV)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});

const PLUGINS = (source: string) =>
  `packer {\n  required_plugins {\n    x = {\n      version = ">= 1.0.0"\n      source  = "${source}"\n    }\n  }\n}\n`;

/** A `packer` that says it is 1.10.0, succeeds, and records every call and its environment. */
function standInPacker(dir: string): { path: string; calls: () => string[] } {
  const log = join(dir, "calls.log");
  const bin = join(dir, "bin");
  writeTree({ "bin/packer": "" }, dir);
  writeFileSync(
    join(bin, "packer"),
    `#!/bin/sh\nprintf '%s | %s\\n' "$*" "$(env | tr '\\n' ' ')" >> '${log}'\n[ "$1" = version ] && echo 'Packer v1.10.0'\nexit 0\n`,
  );
  chmodSync(join(bin, "packer"), 0o755);
  return {
    path: `${bin}:/usr/bin:/bin`,
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []),
  };
}

describe("packer init", () => {
  it("installs no plugin from a source off the allow-list on a pull request, and says so", async () => {
    const repo = writeTree({
      "packer/plugins.pkr.hcl": PLUGINS("github.com/evil/backdoor"),
      "packer/build.pkr.hcl": "",
    });
    const packer = standInPacker(repo);
    const result = await checkPacker({
      dir: `${repo}/packer`,
      display: "packer",
      path: packer.path,
      pullRequest: true,
    });
    expect(packer.calls().some((c) => c.startsWith("init"))).toBe(false);
    expect(result.mode).toBe("packer validate -syntax-only (plugins not installed for a pull request)");
    expect(result.findings[0]?.message).toMatch(/requires github\.com\/evil\/backdoor/);
  });

  it("installs allow-listed plugins on a pull request, and any plugin on a push, with a minimal environment", async () => {
    const saved = process.env.GITHUB_TOKEN;
    process.env.GITHUB_TOKEN = "CANARY-GH";
    try {
      for (const [source, pullRequest] of [
        ["github.com/hashicorp/azure", true],
        ["github.com/someone/else", false],
      ] as const) {
        const repo = writeTree({ "packer/plugins.pkr.hcl": PLUGINS(source), "packer/build.pkr.hcl": "" });
        const packer = standInPacker(repo);
        await checkPacker({ dir: `${repo}/packer`, display: "packer", path: packer.path, pullRequest });
        expect(packer.calls().filter((c) => c.startsWith("init"))).toHaveLength(1);
        expect(packer.calls().join("\n")).not.toContain("CANARY");
      }
    } finally {
      if (saved === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = saved;
    }
  });
});
