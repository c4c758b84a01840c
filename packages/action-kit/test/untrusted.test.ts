import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { log, untrusted } from "../src/index.ts";
import { workflowCommands } from "../src/testing.ts";
import { captureStdout } from "./capture-stdout.ts";

/** What a hostile claw or SSH server sends: every form the runner obeys, on every kind of line break. */
const HOSTILE = [
  "::add-mask::hunter2",
  "ok\n::error title=PWNED::from the claw",
  "\r::stop-commands::pwnedtoken",
  "  \t::warning::indented",
  "\u0085::notice::after NEL",
  "text ##[add-mask]legacy form mid-line",
  "##[set-output name=x]y",
  "a\r\n::group::crlf",
  "::set-env name=NODE_OPTIONS::--require /tmp/x",
  "%0A::error::percent-encoded newline",
];

describe("untrusted", () => {
  it("lets the runner find no workflow command in hostile text, alone or after a prefix", () => {
    for (const text of HOSTILE) {
      expect(workflowCommands(untrusted(text)), text).toEqual([]);
      expect(workflowCommands(`claw bob: ${untrusted(text)}`), text).toEqual([]);
    }
  });

  it("is the reason: the same text raw is obeyed", () => {
    for (const text of HOSTILE.slice(0, 9)) expect(workflowCommands(text).length, text).toBeGreaterThan(0);
  });

  it("stays safe when neutralised pieces are put next to each other", () => {
    const pieces = ["#", "[add-mask]x", ":", ":error::x", "##", " ", "\n", "::"];
    for (const a of pieces)
      for (const b of pieces) expect(workflowCommands(untrusted(a) + untrusted(b)), `${a}|${b}`).toEqual([]);
  });

  it("keeps ordinary text and line structure as they are, and reads back unambiguously", () => {
    expect(untrusted("disk mounted at /mnt/claw-data (ext4)")).toBe("disk mounted at /mnt/claw-data (ext4)");
    expect(untrusted("line 1\nline 2")).toBe("line 1\nline 2");
    expect(untrusted("100% ::x")).toBe("100%25 ::x");
    expect(untrusted("::error::x")).toBe("%3A:error::x");
    expect(untrusted("##[x]")).toBe("##%5Bx]");
  });
});

describe("log.info", () => {
  it("writes a hostile claw's text as plain log lines", () => {
    const out = captureStdout(() => {
      for (const text of HOSTILE) log.info(`bob: ${text}`);
      log.info(HOSTILE.join("\n"));
    });
    expect(workflowCommands(out)).toEqual([]);
    expect(out).toContain("hunter2");
  });

  it("annotations stay one command each, whatever the message holds (the command escapes them)", () => {
    const out = captureStdout(() => log.error(HOSTILE.join("\n"), { title: "t::x", file: "claws.yaml" }));
    expect(workflowCommands(out).map((c) => c.command)).toEqual(["error"]);
  });
});

describe("every action's plain log lines", () => {
  // The packages bundled into actions and the actions themselves: a plain line written any
  // other way than log.info would skip untrusted(). Annotations, groups and debug lines are
  // workflow commands (workflow-commands.ts, which writes stdout for all of them), whose text is
  // escaped.
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const sources = ["actions", "packages"].flatMap((top) =>
    readdirSync(join(root, top)).flatMap((name) => {
      const src = join(root, top, name, "src");
      if (!existsSync(src) || ["local-azure", "rehearsal", "release"].includes(name)) return [];
      return readdirSync(src, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(src, f));
    }),
  );

  it("go through log.info", () => {
    expect(sources.length).toBeGreaterThan(50);
    const bypasses = sources.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) =>
          /\b(core|workflow)\.info\b|\bconsole\.(log|info|warn|error)\b|process\.std(out|err)\.write|stdio:\s*"inherit"/.test(
            line,
          ) &&
          !file.endsWith("action-kit/src/untrusted.ts") &&
          !file.endsWith("action-kit/src/workflow-commands.ts")
            ? [`${file.slice(root.length)}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    expect(bypasses).toEqual([]);
  });
});
