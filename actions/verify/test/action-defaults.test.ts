// action.yml states defaults for people; the code holds them once. These keep the two the same.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ADMIN_USERNAME } from "@openclawps/fleet-model";
import { DEFAULT_VERIFY_COMMAND } from "@openclawps/verify";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const action = parse(readFileSync(join(import.meta.dirname, "..", "action.yml"), "utf8")) as {
  inputs: Record<string, { default?: string; description?: string }>;
};

describe("action.yml", () => {
  it("documents the verify command the code runs by default", () => {
    expect(action.inputs.command?.default).toBe(DEFAULT_VERIFY_COMMAND);
  });

  it("names the admin user the code falls back to", () => {
    expect(action.inputs.username?.description).toContain(DEFAULT_ADMIN_USERNAME);
  });
});
