// A strict JSON syntax check that reports where the text goes wrong and where each object key
// sits, without ever quoting the text: CLAW_SECRETS_JSON holds secrets, and V8's JSON.parse
// messages include a snippet of the input.

export interface JsonKeyPosition {
  /** Offsets of the key token, quotes included (end exclusive). */
  start: number;
  end: number;
}

export interface JsonScan {
  /** First syntax error: an offset and a description that contains no input text. */
  error?: { offset: number; reason: string };
  /** Object keys by path (segments joined with "\u0000"); the first occurrence wins. */
  keys: Map<string, JsonKeyPosition>;
  /** Keys that occur twice in the same object (JSON.parse keeps the last silently). */
  duplicates: { path: string[]; position: JsonKeyPosition }[];
}

const MAX_DEPTH = 64;

/** What ends a run of plain characters in a JSON string: a quote, a backslash, a control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold them raw; finding them is the point.
const STRING_SPECIAL = /["\\\u0000-\u001f]/g;
/** What each two-character escape stands for (RFC 8259 section 7). */
const ESCAPED: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class SyntaxFailure {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

export const jsonPathKey = (path: readonly string[]) => path.join("\u0000");

export function scanJson(text: string): JsonScan {
  const keys = new Map<string, JsonKeyPosition>();
  const duplicates: JsonScan["duplicates"] = [];
  let i = 0;
  const fail = (reason: string, at = i): never => {
    throw new SyntaxFailure(at, reason);
  };
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r"))
      i++;
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    let out = "";
    // Runs of plain characters are skipped by a regular expression and sliced whole, not read and
    // appended one by one.
    let run = i;
    while (true) {
      STRING_SPECIAL.lastIndex = i;
      i = STRING_SPECIAL.exec(text)?.index ?? text.length;
      if (i >= text.length) fail("unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("raw control character (e.g. a line break) inside a string; escape it as \\n");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) fail("invalid \\u escape in a string");
          out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else if (e !== undefined && Object.hasOwn(ESCAPED, e)) {
          out += ESCAPED[e];
          i += 2;
        } else fail("invalid escape in a string");
        run = i;
      }
    }
  };
  const value = (path: string[], depth: number): void => {
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
    ws();
    const c = text[i];
    if (c === undefined) fail("unexpected end of input");
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      const seen = new Set<string>();
      while (true) {
        ws();
        if (text[i] !== '"')
          fail(text[i] === "}" ? "trailing comma before }" : "expected a property name in double quotes");
        const start = i;
        const key = string();
        const position = { start, end: i };
        const keyPath = [...path, key];
        if (seen.has(key)) duplicates.push({ path: keyPath, position });
        else {
          seen.add(key);
          const id = jsonPathKey(keyPath);
          if (!keys.has(id)) keys.set(id, position);
        }
        ws();
        if (text[i] !== ":") fail("expected ':' after a property name");
        i++;
        value(keyPath, depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(i >= text.length ? "unexpected end of input" : "expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        ws();
        if (text[i] === "]") fail("trailing comma before ]");
        value([...path, String(n)], depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(i >= text.length ? "unexpected end of input" : "expected ',' or ']'");
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const literal = /^(true|false|null)/.exec(text.slice(i, i + 5));
    if (literal) {
      i += literal[1]!.length;
      return;
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (number && number[0].length > 0 && number[0] !== "-") {
      i += number[0].length;
      return;
    }
    fail(c === "'" ? "strings must use double quotes" : "unexpected character");
  };
  try {
    value([], 0);
    ws();
    if (i < text.length) fail("extra text after the JSON value");
    return { keys, duplicates };
  } catch (e) {
    if (e instanceof SyntaxFailure)
      return { error: { offset: e.offset, reason: e.reason }, keys, duplicates };
    throw e;
  }
}
