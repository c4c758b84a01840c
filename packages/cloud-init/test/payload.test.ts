import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectPayload, payloadDestination, UPDATE_SCRIPT_NAME, withoutCommentLines } from "../src/index.ts";
import { copyOfVmRuntime, tempDir, VM_RUNTIME } from "./fixtures.ts";

describe("collectPayload", () => {
  it("ships lifecycle, updates, defaults, the app-layer installer and the units, not tests or docs", () => {
    const { files, ignored, issues } = collectPayload(VM_RUNTIME);
    expect(issues).toEqual([]);
    expect(ignored).toEqual([]);
    const destinations = files.map((f) => f.destination);
    expect(destinations).toEqual([...destinations].sort());
    for (const expected of [
      "/etc/systemd/system/claw-boot.service",
      "/etc/systemd/system/openclaw-gateway@.service",
      "/opt/claw/boot.sh",
      "/opt/claw/lib.sh",
      "/opt/claw/run-updates.sh",
      "/opt/claw/install-app-layer.sh",
      "/opt/claw/install/versions.env",
      "/opt/claw/install/lib/pinned-apt.sh",
      "/opt/claw/install/os/40-tailscale.sh",
      "/opt/claw/install/lib/pinned-download.sh",
      "/opt/claw/updates/001-workspace-layout.sh",
      "/opt/claw/defaults/openclaw/openclaw.json",
      "/opt/claw/defaults/workspace/SOUL.md",
    ]) {
      expect(destinations).toContain(expected);
    }
    for (const f of files) {
      expect(f.path.startsWith("test/")).toBe(false);
      expect(f.path.startsWith("install/desktop/")).toBe(false);
      expect(f.origin).toBe("shipped");
    }
  });

  it("maps vm-runtime paths to where they land on the VM", () => {
    expect(payloadDestination("lifecycle/verify.sh")).toBe("/opt/claw/verify.sh");
    expect(payloadDestination("updates/017-a.sh")).toBe("/opt/claw/updates/017-a.sh");
    expect(payloadDestination("defaults/workspace/memory/x.md")).toBe(
      "/opt/claw/defaults/workspace/memory/x.md",
    );
    expect(payloadDestination("systemd/claw-boot.service")).toBe("/etc/systemd/system/claw-boot.service");
    expect(payloadDestination("install/desktop/04-xrdp.sh")).toBeUndefined();
    // The npm lockfile (141 KB) is baked into the image; customData could not carry it.
    expect(payloadDestination("install/npm/package-lock.json")).toBeUndefined();
    expect(payloadDestination("updates/README.md")).toBeUndefined();
    expect(payloadDestination("README.md")).toBeUndefined();
    expect(payloadDestination("lifecycle/sub/x.sh")).toBeUndefined();
  });

  it("lets the overlay replace shipped files and lists what it has that does not ship", () => {
    const overlay = tempDir();
    mkdirSync(join(overlay, "defaults/workspace"), { recursive: true });
    mkdirSync(join(overlay, "docs"));
    writeFileSync(join(overlay, "defaults/workspace/SOUL.md"), "fleet soul\n");
    writeFileSync(join(overlay, "docs/notes.md"), "notes\n");
    const { files, ignored, issues } = collectPayload(VM_RUNTIME, overlay);
    expect(issues).toEqual([]);
    expect(ignored).toEqual(["docs/notes.md"]);
    const soul = files.filter((f) => f.destination === "/opt/claw/defaults/workspace/SOUL.md");
    expect(soul).toHaveLength(1);
    expect(soul[0]).toMatchObject({ origin: "overlay", content: Buffer.from("fleet soul\n") });
  });

  it("reports a badly named update script, a dangling link and a missing overlay as fixable issues", () => {
    const overlay = tempDir();
    mkdirSync(join(overlay, "updates"));
    writeFileSync(join(overlay, "updates/7-quick.sh"), "#!/bin/sh\n");
    symlinkSync(join(overlay, "nowhere"), join(overlay, "updates/018-link.sh"));
    const { issues, files } = collectPayload(VM_RUNTIME, overlay);
    expect(issues.map((i) => i.message)).toEqual([
      `is a symbolic link (to ${join(overlay, "nowhere")})`,
      '"7-quick.sh" is not a valid update script name, so run-updates.sh would never run it',
    ]);
    expect(issues[1]?.file).toBe(join(overlay, "updates/7-quick.sh"));
    expect(issues[1]?.fix).toMatch(/NNN-name\.sh/);
    expect(files.some((f) => f.path === "updates/7-quick.sh")).toBe(false);

    const missing = collectPayload(VM_RUNTIME, join(overlay, "absent"));
    expect(missing.issues[0]?.message).toBe("the vm-runtime overlay directory does not exist");
  });

  it("throws when pointed at something that is not a vm-runtime directory", () => {
    const dir = copyOfVmRuntime();
    expect(() => collectPayload(join(dir, "defaults"))).toThrow(
      /is not a vm-runtime directory: lifecycle\/lib\.sh is missing/,
    );
  });

  it("ships no link, wherever it points, and nothing that is not a regular file", () => {
    const overlay = tempDir();
    mkdirSync(join(overlay, "defaults/workspace"), { recursive: true });
    mkdirSync(join(overlay, "defaults/real"), { recursive: true });
    writeFileSync(join(overlay, "defaults/real/ok.md"), "ok\n");
    // Measured: this link put the runner's environment (the admin key, every secret, the OIDC
    // request token) into every claw's customData.
    symlinkSync("/proc/self/environ", join(overlay, "defaults/workspace/NOTES.md"));
    symlinkSync("../../.git/config", join(overlay, "defaults/workspace/git-config"));
    symlinkSync("real/ok.md", join(overlay, "defaults/inside.md")); // inside the tree: refused too
    symlinkSync("real", join(overlay, "defaults/linked-dir"));
    execFileSync("mkfifo", [join(overlay, "defaults/pipe")]);
    const { files, issues } = collectPayload(VM_RUNTIME, overlay);
    expect(issues.map((i) => [i.file, i.message])).toEqual([
      [join(overlay, "defaults/inside.md"), "is a symbolic link (to real/ok.md)"],
      [join(overlay, "defaults/linked-dir"), "is a symbolic link (to real)"],
      [join(overlay, "defaults/pipe"), "is not a regular file (a named pipe)"],
      [join(overlay, "defaults/workspace/NOTES.md"), "is a symbolic link (to /proc/self/environ)"],
      [join(overlay, "defaults/workspace/git-config"), "is a symbolic link (to ../../.git/config)"],
    ]);
    expect(issues.every((i) => /never shipped/.test(i.fix))).toBe(true);
    expect(files.filter((f) => f.origin === "overlay").map((f) => f.path)).toEqual(["defaults/real/ok.md"]);
  });

  it("does not follow link loops: two folder links to each other and a link to its own folder", () => {
    const overlay = tempDir();
    mkdirSync(join(overlay, "defaults"), { recursive: true });
    symlinkSync("b", join(overlay, "defaults/a"));
    symlinkSync("a", join(overlay, "defaults/b"));
    symlinkSync(".", join(overlay, "defaults/self"));
    const { issues } = collectPayload(VM_RUNTIME, overlay);
    expect(issues.map((i) => i.message)).toEqual([
      "is a symbolic link (to b)",
      "is a symbolic link (to a)",
      "is a symbolic link (to .)",
    ]);
  });
});

describe("UPDATE_SCRIPT_NAME", () => {
  it("accepts exactly the names the claw's run-updates.sh applies (lib.sh CLAW_UPDATE_NAME_RE), with the same number", () => {
    const names = [
      "001-workspace-layout.sh",
      "999-z.sh",
      "010-a.b_c-d.sh",
      "01-short.sh",
      "0001-long.sh",
      "001-.sh",
      "001-_lead.sh",
      "001-a b.sh",
      "001-a.sh.bak",
      "001-a.SH",
      "abc-x.sh",
      "001_x.sh",
      "x001-a.sh",
      "001-a\n.sh",
    ];
    // What bash's [[ =~ ]] makes of lib.sh's rule: the captured number, or "-" for no match.
    const onClaw = execFileSync(
      "bash",
      [
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own expansion, run by bash
        'source "$1"; shift; for n in "$@"; do if [[ $n =~ $CLAW_UPDATE_NAME_RE ]]; then echo "${BASH_REMATCH[1]}"; else echo -; fi; done',
        "_",
        join(VM_RUNTIME, "lifecycle/lib.sh"),
        ...names,
      ],
      { encoding: "utf8" },
    )
      .trim()
      .split("\n");
    expect(names.map((n) => UPDATE_SCRIPT_NAME.exec(n)?.[1] ?? "-")).toEqual(onClaw);
    expect(onClaw.filter((n) => n !== "-")).toEqual(["001", "999", "010"]);
  });
});

/** bash's own rendering of a script's commands (comments dropped, layout normalised). */
function rendering(script: Buffer | string): string {
  const r = spawnSync(
    "bash",
    ["-O", "extglob", "-c", 'eval "__script() {\n$(cat)\n}" && declare -f __script'],
    {
      input: script,
    },
  );
  return `${r.status}\n${r.stdout}\n${r.stderr}`;
}

describe("withoutCommentLines", () => {
  it("ships every shell script with the same commands, without its comment lines", () => {
    const scripts = collectPayload(VM_RUNTIME).files.filter((f) => f.path.endsWith(".sh"));
    expect(scripts.length).toBeGreaterThan(10);
    let shorter = 0;
    for (const f of scripts) {
      const source = readFileSync(f.sourceFile);
      if (f.content.length < source.length) shorter++;
      expect(rendering(f.content), f.path).toBe(rendering(source));
      expect(rendering(source), f.path).toMatch(/^0\n__script \(\)/);
      if (source.toString().startsWith("#!")) expect(f.content.toString().split("\n")[0]).toMatch(/^#!/);
    }
    // All but keyvault-secrets.sh (here-documents) lose lines, boot.sh and verify.sh among them.
    expect(shorter).toBe(scripts.length - 1);
  });

  it("drops whole-line comments only: the shebang, code with #, and a line after a backslash stay", () => {
    const script = [
      "#!/usr/bin/env bash",
      "# a comment",
      "  # an indented one",
      'echo "#not" # trailing',
      "x=$" + "{y#prefix}",
      "cmd \\",
      "# after a backslash-newline: part of the command line",
      "",
    ].join("\n");
    expect(withoutCommentLines(Buffer.from(script)).toString()).toBe(
      [
        "#!/usr/bin/env bash",
        'echo "#not" # trailing',
        "x=$" + "{y#prefix}",
        "cmd \\",
        "# after a backslash-newline: part of the command line",
        "",
      ].join("\n"),
    );
  });

  it("keeps a script with a here-document whole, not one with a here-string", () => {
    const script = Buffer.from("#!/bin/sh\n# doc\ncat <<'EOF'\n# data, not a comment\nEOF\n");
    expect(withoutCommentLines(script)).toBe(script);
    const hereString = Buffer.from('#!/bin/bash\n# doc\nread -r x <<<"$y"\n');
    expect(withoutCommentLines(hereString).toString()).toBe('#!/bin/bash\nread -r x <<<"$y"\n');
  });

  it("would be caught by the rendering check where a # line is data", () => {
    // A quoted string spanning lines: its "# ..." line is data. The first test compares
    // renderings, so a shipped script like this one fails it instead of shipping changed.
    const script = Buffer.from("#!/bin/sh\necho 'one\n# two'\n");
    expect(rendering(withoutCommentLines(script))).not.toBe(rendering(script));
  });
});
