// Text from a claw (verify.sh output, command stderr), a network peer (an SSH server's
// DISCONNECT description, ssh2's errors), Azure's error messages or the user's own inputs must
// never become a workflow command. The runner reads every line of a step's stdout and obeys:
//  - a line that, after leading whitespace, starts with `::name` of a registered command
//    (`::add-mask::`, `::error::`, `::stop-commands::`, ...) — ActionCommand.TryParseV2;
//  - a line that contains `##[name` anywhere (the legacy form, still parsed when the first
//    form does not match) — ActionCommand.TryParse;
//    https://github.com/actions/runner/blob/main/src/Runner.Common/ActionCommand.cs and
//    https://github.com/actions/runner/blob/main/src/Runner.Worker/ActionCommandManager.cs
//  - lines split on CR as well as LF (.NET's StreamReader.ReadLine).
// The workflow commands (workflow-commands.ts, as @actions/core) escape the message of
// error/warning/notice/debug/startGroup
// (escapeData: `%`→%25, CR→%0D, LF→%0A, so it stays on the command's own line; properties
// also `:`/`,`: https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts),
// but core.info writes its text as it is. `info` below is the only way an action writes a
// plain log line, and it passes everything through `untrusted`.
import * as core from "./workflow-commands.ts";

/**
 * Neutralises workflow commands in text that did not come from this code, keeping it readable:
 * each line stays a line, but no line can start (after whitespace) with `:` and no `[` follows
 * `#` or starts a line, so neither `::name::` nor `##[name]` can form — also not when the result
 * is put after other text or next to another neutralised string. Escapes are GitHub's own
 * percent form: `%`→%25 first (so the result reads back unambiguously), a lone CR→%0D, the
 * neutralised `:`→%3A and `[`→%5B.
 */
export function untrusted(text: string): string {
  return (
    String(text)
      .replace(/%/g, "%25")
      .replace(/\r\n/g, "\n")
      .replace(/\r/g, "%0D")
      .split("\n")
      // .NET's TrimStart also drops NEL (U+0085), which JavaScript's \s does not match.
      .map((line) => line.replace(/^([\s\u0085]*):/, "$1%3A").replace(/(^|#)\[/g, "$1%5B"))
      .join("\n")
  );
}

/**
 * The log of every action. `info` neutralises workflow commands in whatever it is given (our
 * own lines never hold one, so this costs nothing and covers every transport and every
 * caller); the others are workflow commands, which escape their message themselves.
 */
export const log = {
  info: (text: string): void => core.info(untrusted(text)),
  notice: (text: string, props?: core.AnnotationProperties): void => core.notice(text, props),
  warning: (text: string, props?: core.AnnotationProperties): void => core.warning(text, props),
  error: (text: string, props?: core.AnnotationProperties): void => core.error(text, props),
  startGroup: (title: string): void => core.startGroup(title),
  endGroup: (): void => core.endGroup(),
};
