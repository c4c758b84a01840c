// action.yml states defaults for people; the code holds them once. These keep the two the same.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ADMIN_USERNAME, MAX_PARALLELISM } from "@openclawps/fleet-model";
import { DEFAULT_VERIFY_COMMAND, RUN_COMMAND_VERIFY_COMMAND } from "@openclawps/verify";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const action = parse(readFileSync(join(import.meta.dirname, "..", "action.yml"), "utf8")) as {
  inputs: Record<string, { default?: string; description?: string }>;
};

describe("action.yml", () => {
  it("documents the verify command the code runs by default, per transport", () => {
    // Empty default: the code picks the command for the transport, and the description names both.
    expect(action.inputs.command?.default).toBe("");
    const described = action.inputs.command?.description?.replace(/\s+/g, " ") ?? "";
    expect(described).toContain(`${DEFAULT_VERIFY_COMMAND} over SSH`);
    expect(described).toContain(`${RUN_COMMAND_VERIFY_COMMAND} through Run Command`);
  });

  it("verifies as many claws at once as the manifest lets a rollout change at once (one rule)", () => {
    expect(action.inputs.parallelism?.default).toBe(String(MAX_PARALLELISM));
    expect(action.inputs.parallelism?.description).toContain(`(1-${MAX_PARALLELISM}`);
  });

  it("names the admin user the code falls back to", () => {
    expect(action.inputs.username?.description).toContain(DEFAULT_ADMIN_USERNAME);
  });
});
