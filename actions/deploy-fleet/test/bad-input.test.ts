// Bad input to the bundled action against the local Azure: each mistake fails plan with the
// place and the fix, apply on it writes nothing to Azure, and no stack trace reaches the log.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BundledActionRun } from "@openclawps/action-kit/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canarySecrets, clawNames, errorOf, type Fleet, manifestYaml, startFleet } from "./fleet-fixture.ts";

const hasStackTrace = (run: BundledActionRun) => /(?:^|\n|%0A)\s+at \S/.test(run.stdout + run.stderr);

describe("deploy-fleet on bad input", () => {
  let fleet: Fleet;
  const names = clawNames(6);
  const secrets = canarySecrets(names);
  const claws = Object.fromEntries(names.map((n) => [n, {}]));

  beforeAll(async () => {
    fleet = await startFleet({ claws: { [names[0]!]: {} } }, secrets.json);
  });
  afterAll(async () => fleet?.stop());

  /** Plan fails with `message`; apply of the same input fails too and makes no ARM write. */
  async function refusedBeforeAnyWrite(message: string | RegExp, inputs: Record<string, string> = {}) {
    const plan = await fleet.deploy({ mode: "plan", ...inputs });
    expect(plan.exitCode).toBe(1);
    expect(errorOf(plan)).toMatch(message);
    expect(hasStackTrace(plan)).toBe(false);
    const since = Date.now();
    const apply = await fleet.deploy({ mode: "apply", ...inputs });
    expect(apply.exitCode).toBe(1);
    expect(errorOf(apply)).toMatch(message);
    expect(hasStackTrace(apply)).toBe(false);
    expect(fleet.azure.counts({ since, excludePolling: true }).writes).toBe(0);
    return plan;
  }

  it("6 claws in a /29 (3 usable addresses): plan fails naming the fix, apply writes nothing", async () => {
    writeFileSync(
      join(fleet.workspace, "claws.yaml"),
      manifestYaml({ claws }).replace("10.0.0.0/22", "10.0.0.0/29"),
    );
    await refusedBeforeAnyWrite(
      /claws\.yaml:9: the subnet has 3 usable addresses .* 6 active claws.*SubnetIsFull.* Fix: use a \/28 or wider subnet prefix/,
    );
    expect(Object.values(fleet.azure.state().virtualMachines)).toEqual([]);
  });

  it("customData over Azure's limit (a large overlay file): plan fails naming the file, apply writes nothing", async () => {
    fleet.writeManifest({ claws });
    const overlay = join(fleet.workspace, "vm-runtime", "defaults");
    mkdirSync(overlay, { recursive: true });
    // Random bytes do not compress: 100 kB gzip'd stays over the 65,535 bytes Azure takes.
    writeFileSync(join(overlay, "big.bin"), randomBytes(100_000));
    try {
      await refusedBeforeAnyWrite(
        /customData for claw "claw-001" is [\d,]+ bytes gzip'd; Azure accepts at most 65,535.*big\.bin \(overlay\)/s,
      );
    } finally {
      rmSync(join(overlay, "big.bin"));
    }
  });

  it("an overlay update that reuses a shipped number is refused as validate refuses it", async () => {
    fleet.writeManifest({ claws });
    const updates = join(fleet.workspace, "vm-runtime", "updates");
    mkdirSync(updates, { recursive: true });
    writeFileSync(join(updates, "018-mine.sh"), "#!/usr/bin/env bash\nset -euo pipefail\necho hi\n", {
      mode: 0o755,
    });
    try {
      await refusedBeforeAnyWrite(
        /Update number 018 is used by 2 scripts \(018-mine\.sh, 018-private-credentials\.sh \(shipped\)\)/,
      );
    } finally {
      rmSync(join(updates, "018-mine.sh"));
    }
  });

  it("a secret with a space is a secrets problem naming claw and key, never its value", async () => {
    fleet.writeManifest({ claws: { [names[0]!]: {} } });
    const json = JSON.stringify({
      [names[0]!]: {
        telegram_bot_token: "123456789:AAH-tok_0123456789abcdefghijk",
        xai_api_key: "xai-CANARYSPACE abc",
      },
    });
    const plan = await refusedBeforeAnyWrite(
      /claw-001\.xai_api_key contains a character the claw's \.env cannot carry/,
      {
        "secrets-json": json,
      },
    );
    // ::add-mask:: lines are how the runner learns what to mask; they never reach the log.
    const logged = plan.stdout
      .split("\n")
      .filter((l) => !l.startsWith("::add-mask::"))
      .join("\n");
    expect(logged).not.toContain("CANARYSPACE");
  });
});
