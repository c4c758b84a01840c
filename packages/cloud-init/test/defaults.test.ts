import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SECRET_ENV_NAMES } from "../src/index.ts";
import { VM_RUNTIME } from "./fixtures.ts";

// OpenClaw substitutes ${VAR} in config strings from the environment (and ~/.openclaw/.env).
const ref = (name: string) => `\${${name}}`;

const json = (path: string) => JSON.parse(readFileSync(join(VM_RUNTIME, "defaults", path), "utf8"));

// The defaults seeded onto a new data disk: safe without any edit by the operator.
describe("the seeded OpenClaw configuration", () => {
  const config = json("openclaw/openclaw.json");

  it("lets only the manifest's telegram_user_id DM the bot, never everyone", () => {
    expect(config.channels.telegram.dmPolicy).toBe("allowlist");
    expect(config.channels.telegram.allowFrom).toEqual([ref("TELEGRAM_USER_ID")]);
    expect(JSON.stringify(config)).not.toMatch(/"open"|"\*"/);
  });

  it("keeps the gateway on loopback behind its token", () => {
    expect(config.gateway).toMatchObject({ mode: "local", bind: "loopback", auth: { mode: "token" } });
    expect(config.gateway.auth.token).toBe(ref("OPENCLAW_GATEWAY_TOKEN"));
  });

  it("reads every secret and setting it references from the .env boot.sh writes", () => {
    const written = new Set([
      ...Object.values(SECRET_ENV_NAMES),
      "CLAW_NAME",
      "CLAW_USER",
      "CLAW_MODEL",
      "TELEGRAM_USER_ID",
    ]);
    const referenced = [...JSON.stringify(config).matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((m) => m[1]);
    expect(referenced.length).toBeGreaterThan(0);
    for (const name of referenced) expect(written, name).toContain(name);
  });

  it("ships valid exec approvals", () => {
    expect(json("openclaw/exec-approvals.json")).toMatchObject({
      version: 1,
      defaults: { security: "full", ask: "off" },
    });
  });
});
