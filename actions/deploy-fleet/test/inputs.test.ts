// The action's input handling on its own (pure functions and action-kit's getInput reading INPUT_*
// variables): what a typo in a workflow file turns into.
import { UserError } from "@openclawps/action-kit";
import {
  type ClawPlan,
  imageVersionProblem,
  type Manifest,
  type Plan,
  parseManifest,
  planHash,
  type SharedChange,
} from "@openclawps/fleet-model";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { selectClaws } from "../src/claw-selection.ts";
import { applyOverrides } from "../src/fleet-overrides.ts";
import { getDeployInputs, parseCanary, parseCountOrPercent, parseImageVersionInput } from "../src/inputs.ts";
import { manifestYaml } from "./fleet-fixture.ts";

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith("INPUT_")) delete process.env[k];
});

function setInputs(inputs: Record<string, string>): void {
  for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
}

const AZURE = { "azure-client-id": "c", "azure-tenant-id": "t", "azure-subscription-id": "s" };

function manifest(claws: Record<string, Record<string, unknown>>): Manifest {
  const parsed = parseManifest(manifestYaml({ claws }), "claws.yaml");
  if (!parsed.manifest) throw new Error(JSON.stringify(parsed.problems));
  return parsed.manifest;
}

describe("rollout override inputs", () => {
  it("reads counts and percents, and leaves empty inputs to the manifest", () => {
    expect(parseCountOrPercent("wave-size", "3")).toBe(3);
    expect(parseCountOrPercent("wave-size", "25%")).toBe("25%");
    expect(parseCountOrPercent("max-unhealthy", "0")).toBe(0);
    expect(parseCountOrPercent("wave-size", " ")).toBeUndefined();
  });

  it("names the input and the expected form when a size is malformed", () => {
    expect(() => parseCountOrPercent("wave-size", "a quarter")).toThrow(
      "Input 'wave-size' must be a count like 2 or a percent like 25% (got 'a quarter').",
    );
  });

  it("refuses what the manifest's rollout rules refuse, in the manifest's words, naming the input", () => {
    setInputs({ ...AZURE, pause: "48h" });
    expect(() => getDeployInputs()).toThrow(UserError);
    expect(() => getDeployInputs()).toThrow(
      "Input 'pause' is outside what the manifest allows for rollout.pause_seconds: 172800 is not a whole number from 0 to 21600.",
    );
    expect(() => getDeployInputs()).toThrow("(6 h)");
    setInputs({ pause: "6h", "wave-size": "1000000" });
    expect(() => getDeployInputs()).toThrow(
      "Input 'wave-size' is outside what the manifest allows for rollout.wave_size: 1000000 is not a whole number from 1 to 100000.",
    );
    setInputs({ "wave-size": "0" });
    expect(() => getDeployInputs()).toThrow("Input 'wave-size' is outside");
    setInputs({ "wave-size": "", "max-unhealthy": "150%" });
    expect(() => getDeployInputs()).toThrow('"150%" is not a count or a percent from 0% to 100%');
    setInputs({ "max-unhealthy": "", parallelism: "51" });
    expect(() => getDeployInputs()).toThrow("Input 'parallelism' is outside");
  });

  it("accepts as an input every rollout value the manifest accepts, and only those", () => {
    // The manifest parses the rollout block; the same values as inputs must meet the same verdict.
    const cases: [string, string, string | number][] = [
      ["pause", "21600s", 21600],
      ["pause", "21601s", 21601],
      ["wave-size", "100000", 100000],
      ["wave-size", "100001", 100001],
      ["wave-size", "100%", "100%"],
      ["max-unhealthy", "0%", "0%"],
      ["parallelism", "50", 50],
      ["parallelism", "0", 0],
      ["canary", "100001", 100001],
    ];
    const field: Record<string, string> = {
      pause: "pause_seconds",
      "wave-size": "wave_size",
      "max-unhealthy": "max_unhealthy",
      parallelism: "parallelism",
      canary: "canary",
    };
    for (const [input, raw, value] of cases) {
      const parsed = parseManifest(
        manifestYaml({ claws: { alice: {} }, rollout: { [field[input]!]: value } }),
        "claws.yaml",
      );
      const manifestAccepts = parsed.manifest !== undefined;
      for (const k of Object.keys(process.env)) if (k.startsWith("INPUT_")) delete process.env[k];
      setInputs({ ...AZURE, [input]: raw });
      let inputAccepts = true;
      try {
        getDeployInputs();
      } catch {
        inputAccepts = false;
      }
      expect(inputAccepts, `${input}: ${raw}`).toBe(manifestAccepts);
    }
  });

  it("reads the canary as a count or as claw names", () => {
    expect(parseCanary("2")).toBe(2);
    expect(parseCanary("alice, bob")).toEqual(["alice", "bob"]);
    expect(parseCanary("")).toBeUndefined();
  });

  it("applies overrides over the manifest's rollout block and keeps the rest", () => {
    const m = applyOverrides(manifest({ alice: {}, bob: {} }), "", { canary: ["bob"], verify: true });
    expect(m.rollout).toMatchObject({ canary: ["bob"], verify: true, wave_size: 2, max_unhealthy: 0 });
  });

  it("refuses canary names that are not claws of the manifest", () => {
    expect(() => applyOverrides(manifest({ alice: {} }), "", { canary: ["alcie"] })).toThrow(
      "Input 'canary' names alcie, not in the manifest.",
    );
  });

  it("moves every claw that does not pin its own image to the image-version input", () => {
    const m = applyOverrides(manifest({ alice: {}, bob: { image_version: "1.0.0" } }), "1.1.0", {});
    expect(m.defaults.image_version).toBe("1.1.0");
    expect(m.claws.bob?.image_version).toBe("1.0.0");
  });

  it("leaves the parsed manifest as it was, and the overridden one in the same key order", () => {
    const parsed = manifest({ alice: {}, bob: { image_version: "1.0.0" } });
    const before = JSON.stringify(parsed);
    const m = applyOverrides(parsed, "1.1.0", { canary: ["bob"], verify: true, parallelism: 3 });
    expect(JSON.stringify(parsed)).toBe(before);
    expect(Object.keys(m)).toEqual(Object.keys(parsed));
    expect(Object.keys(m.defaults)).toEqual(Object.keys(parsed.defaults));
    expect(m.rollout).toMatchObject({ canary: ["bob"], verify: true, parallelism: 3 });
    expect(JSON.stringify(applyOverrides(parsed, "", {}))).toBe(before);
  });
});

describe("getDeployInputs", () => {
  it("reads the runner's INPUT_* variables with the documented defaults", () => {
    setInputs({ ...AZURE, "wave-size": "50%", pause: "90s", "poll-interval": "500ms" });
    const inputs = getDeployInputs();
    expect(inputs).toMatchObject({
      manifest: "claws.yaml",
      mode: "plan",
      approvedPlanHash: "",
      claws: [],
      dryRun: false,
      forceUnlock: false,
      verifyTimeoutSeconds: 600,
      pollIntervalMs: 500,
      rollout: { wave_size: "50%", pause_seconds: 90 },
    });
    expect(inputs.rollout.verify).toBeUndefined();
  });

  it("refuses a pause Node's timers would overflow, and one longer than a job can wait", () => {
    setInputs({ ...AZURE, pause: "999999h" });
    expect(() => getDeployInputs()).toThrow(UserError);
    // Past what Node's timers can wait: refused as a duration before the manifest's rules.
    expect(() => getDeployInputs()).toThrow("Input 'pause' is 999999h; the longest it may be is 596h31m23s.");
    // Longer than a job can wait: the manifest's own rule (rollout.pause_seconds, at most 6 h).
    setInputs({ ...AZURE, pause: "7h" });
    expect(() => getDeployInputs()).toThrow(
      "Input 'pause' is outside what the manifest allows for rollout.pause_seconds",
    );
    setInputs({ ...AZURE, pause: "6h" });
    expect(getDeployInputs().rollout.pause_seconds).toBe(6 * 3600);
    setInputs({ ...AZURE, pause: "", "verify-timeout": "30d" });
    expect(() => getDeployInputs()).toThrow(/Input 'verify-timeout' must be a duration/);
    setInputs({ ...AZURE, "verify-timeout": "999999h" });
    expect(() => getDeployInputs()).toThrow("the longest it may be is 596h31m23s");
  });

  it("refuses an approved plan hash that is not a plan-hash output", () => {
    setInputs({ ...AZURE, mode: "apply", "approved-plan-hash": "abc123" });
    expect(() => getDeployInputs()).toThrow(UserError);
    expect(() => getDeployInputs()).toThrow("must be the 64-character plan-hash output of a plan run");
  });

  it("refuses an unknown mode and an image version that is not Major.Minor.Patch", () => {
    setInputs({ ...AZURE, mode: "deploy" });
    expect(() => getDeployInputs()).toThrow("Input 'mode' must be one of plan, apply (got 'deploy').");
    setInputs({ mode: "plan", "image-version": "1.1" });
    expect(() => getDeployInputs()).toThrow(
      "Input 'image-version' must be a gallery version Major.Minor.Patch",
    );
  });
});

describe("the image-version input", () => {
  it("accepts exactly what the manifest accepts as image_version (latest included)", () => {
    const part = fc.oneof(
      fc.nat(),
      fc.stringMatching(/^\d{1,11}$/),
      fc.constantFrom("0", "01", "2147483647", "2147483648", "1000000000", "-1", "1e3"),
    );
    const versionLike = fc.oneof(
      fc.array(part, { minLength: 1, maxLength: 4 }).map((p) => p.join(".")),
      fc.constantFrom("latest", "Latest"),
      fc.string({ minLength: 1 }).filter((t) => t.trim() === t),
    );
    fc.assert(
      fc.property(versionLike, (text) => {
        const manifestAccepts = imageVersionProblem(text) === undefined;
        let inputAccepts = true;
        try {
          parseImageVersionInput(text);
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          inputAccepts = false;
        }
        expect(inputAccepts, text).toBe(manifestAccepts);
      }),
      { numRuns: 2000 },
    );
  });

  it("says what is wrong with the version, as the manifest does", () => {
    expect(() => parseImageVersionInput("01.2.3")).toThrow("parts must not have leading zeros");
    expect(parseImageVersionInput(" 1000000000.0.0 ")).toBe("1000000000.0.0");
    expect(parseImageVersionInput("")).toBe("");
  });
});

describe("selectClaws", () => {
  const claw = (name: string, action: ClawPlan["action"]): ClawPlan => ({
    claw: name,
    action,
    reason: "",
    changes: [],
    gated: action === "replace",
  });
  const sshChange: SharedChange = {
    kind: "ssh-rule",
    name: "nsg/openclawps-ssh-inbound",
    action: "update",
    detail: "",
    value: { ssh: ["192.0.2.0/24"] },
  };
  const plan: Plan = {
    hash: "full",
    claws: [claw("alice", "replace"), claw("bob", "create"), claw("stray", "orphan")],
    shared: [sshChange],
    unproven: [{ claw: "alice", imageVersion: "1.0.0" }],
    warnings: [],
  };

  it("keeps the selected claws (and their unproven entries) and the fleet-wide changes, and hashes exactly them", () => {
    const selected = selectClaws(plan, ["bob"], ["alice", "bob"]);
    expect(selected.claws.map((c) => c.claw)).toEqual(["bob"]);
    expect(selected.unproven).toEqual([]);
    expect(selected.shared).toEqual([sshChange]);
    expect(selected.hash).toBe(planHash({ claws: [claw("bob", "create")], shared: [sshChange] }));
    expect(selected.hash).not.toBe(planHash(plan));
  });

  it("returns the plan unchanged when nothing is selected", () => {
    expect(selectClaws(plan, [], ["alice", "bob"])).toBe(plan);
  });

  it("refuses names that are neither in the manifest nor in Azure", () => {
    expect(() => selectClaws(plan, ["bbo"], ["alice", "bob"])).toThrow(
      "Input 'claws' names bbo, which is neither in the manifest nor in Azure.",
    );
  });
});
