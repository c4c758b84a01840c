import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateHostKey } from "../src/index.ts";
import { tempDir } from "./fixtures.ts";

// OpenSSH's own ssh-keygen reads the generated key: it is what sshd will load.
describe("generateHostKey", () => {
  it("makes an OpenSSH ed25519 key pair whose fingerprint is what ssh-keygen reports", () => {
    const key = generateHostKey();
    expect(key.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAA\S+ openclawps-host-key$/);
    const dir = tempDir();
    const privateFile = join(dir, "ssh_host_ed25519_key");
    writeFileSync(privateFile, key.privateKey, { mode: 0o600 });
    const derived = execFileSync("ssh-keygen", ["-y", "-f", privateFile], { encoding: "utf8" }).trim();
    expect(derived.split(" ").slice(0, 2)).toEqual(key.publicKey.split(" ").slice(0, 2));
    writeFileSync(`${privateFile}.pub`, `${key.publicKey}\n`);
    const listed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${privateFile}.pub`], {
      encoding: "utf8",
    });
    expect(listed.split(" ")[1]).toBe(key.fingerprint);
  });

  it("makes a different key every time", () => {
    expect(generateHostKey().fingerprint).not.toBe(generateHostKey().fingerprint);
  });
});
