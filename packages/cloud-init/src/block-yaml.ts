// A YAML writer for the shapes buildCloudConfig produces, byte for byte what the `yaml`
// library's stringify(value, BLOCK_YAML_OPTIONS) writes, about 8 times faster: plan renders a
// claw's own part of the document for every claw, and the library's node tree and style
// search were most of that.
//
// It covers block mappings with plain word keys, block sequences, booleans and strings whose
// style it can decide as the library does (plain, single- or double-quoted on one line, literal
// block scalars); for anything else it returns undefined and the caller uses the library.
// The rules mirror yaml 2.x's stringifyString.js / stringifyPair.js / stringifyCollection.js
// for these options (line width 0: nothing is folded); test/block-yaml.test.ts compares the
// two on random strings in every position (a yaml release that changes these rules fails it),
// and render.ts compares its spliced document with the library's once per payload.
import { Document } from "yaml";

/** The options the document is rendered with; the writer implements exactly these. */
export const BLOCK_YAML_OPTIONS = {
  lineWidth: 0,
  blockQuote: "literal",
  aliasDuplicateObjects: false,
} as const;

/**
 * The library's tests for a plain scalar that would read back as something other than a string
 * (null, booleans, numbers of YAML 1.2's core schema): taken from its own schema, so a plain
 * scalar here is plain there. The library quotes such strings.
 */
const schema = new Document(null, BLOCK_YAML_OPTIONS).schema;
const NON_STRING_TESTS: RegExp[] = [...schema.tags, ...(schema.compat ?? [])].flatMap((tag) =>
  tag.default && tag.tag !== "tag:yaml.org,2002:str" && "test" in tag && tag.test ? [tag.test] : [],
);

const readsAsNonString = (text: string) => NON_STRING_TESTS.some((test) => test.test(text));

/** Control characters and lone surrogates: the library writes these double-quoted with escapes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stringifyString's own test for them.
const ESCAPED = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;

/** stringifyString's plainString: what a plain scalar may not start, contain or end with. */
const NOT_PLAIN = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;

/** A block scalar cannot end in whitespace after its last line break: the library quotes it. */
const TRAILING_BLANK_LINE = /\n[\t ]+$/;

/** Line breaks before the end of a block scalar's trailing whitespace (blockString's blockEndNewlines). */
const BLOCK_END_NEWLINES = /(^|(?<!\n))\n+(?!\n|$)/g;

/** Keys written plain: words that read back as strings (and short enough to stay implicit keys). */
const WORD_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,100}$/;

const INDENT_STEP = "  ";

/**
 * The document for `value` (a mapping or sequence) as stringify(value, BLOCK_YAML_OPTIONS)
 * writes it, or undefined when it holds something this writer does not render.
 */
export function writeBlockYaml(value: unknown): string | undefined {
  if (!Array.isArray(value) && !isPlainObject(value)) return undefined;
  const body = node(value, "");
  return body === undefined ? undefined : `${body}\n`;
}

/** `indent` is the library's ctx.indent for the node: where a collection's lines start. */
function node(value: unknown, indent: string): string | undefined {
  if (typeof value === "string") return scalar(value, indent);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return sequence(value, indent);
  if (isPlainObject(value)) return mapping(value, indent);
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isNonEmptyCollection(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : isPlainObject(value) && Object.keys(value).length > 0;
}

function sequence(items: unknown[], indent: string): string | undefined {
  if (items.length === 0) return "[]";
  const itemIndent = indent + INDENT_STEP;
  let out = "";
  for (let i = 0; i < items.length; i++) {
    const item = node(items[i], itemIndent); // a hole is undefined: the library's call
    if (item === undefined) return undefined;
    out += i === 0 ? `- ${item}` : `\n${indent}- ${item}`;
  }
  return out;
}

function mapping(map: Record<string, unknown>, indent: string): string | undefined {
  const keys = Object.keys(map);
  if (keys.length === 0) return "{}";
  const valueIndent = indent + INDENT_STEP;
  let out = "";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!WORD_KEY.test(key) || readsAsNonString(key)) return undefined;
    const value = map[key];
    const text = node(value, valueIndent);
    if (text === undefined) return undefined;
    // A non-empty collection starts on the next line; a scalar or `[]`/`{}` after the colon.
    const pair = isNonEmptyCollection(value) ? `${key}:\n${valueIndent}${text}` : `${key}: ${text}`;
    out += i === 0 ? pair : `\n${indent}${pair}`;
  }
  return out;
}

/** A string as a block value (never a key, never in a flow collection), `indent` not empty. */
function scalar(value: string, indent: string): string | undefined {
  if (ESCAPED.test(value)) return undefined;
  if (value.includes("\n")) return TRAILING_BLANK_LINE.test(value) ? undefined : literal(value, indent);
  if (NOT_PLAIN.test(value) || readsAsNonString(value)) return quoted(value);
  return value;
}

/**
 * One line quoted as the library quotes it: single quotes when the text has double quotes and
 * no single ones, else double quotes. Without line breaks and the escaped characters, the
 * library's double-quoted form is the JSON string.
 */
function quoted(value: string): string {
  return value.includes('"') && !value.includes("'") ? `'${value}'` : JSON.stringify(value);
}

/** blockString's literal branch (`|`), for a nested value: chomping and indentation indicators. */
function literal(text: string, indent: string): string {
  let value = text;
  let endStart = value.length;
  while (endStart > 0) {
    const ch = value[endStart - 1];
    if (ch !== "\n" && ch !== "\t" && ch !== " ") break;
    endStart--;
  }
  let end = value.substring(endStart);
  const endNlPos = end.indexOf("\n");
  const chomp = endNlPos === -1 ? "-" : value === end || endNlPos !== end.length - 1 ? "+" : "";
  if (end) {
    value = value.slice(0, -end.length);
    if (end.endsWith("\n")) end = end.slice(0, -1);
    end = end.replace(BLOCK_END_NEWLINES, `$&${indent}`);
  }
  let startWithSpace = false;
  let startEnd = 0;
  let startNlPos = -1;
  for (; startEnd < value.length; ++startEnd) {
    const ch = value[startEnd];
    if (ch === " ") startWithSpace = true;
    else if (ch === "\n") startNlPos = startEnd;
    else break;
  }
  let start = value.substring(0, startNlPos < startEnd ? startNlPos + 1 : startEnd);
  if (start) {
    value = value.substring(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  // An explicit indentation indicator when the first line starts with a space (2: nested).
  const header = (startWithSpace ? "2" : "") + chomp;
  return `|${header}\n${indent}${start}${value.replace(/\n+/g, `$&${indent}`)}${end}`;
}
