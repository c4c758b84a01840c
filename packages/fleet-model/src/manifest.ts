// parseManifest: claws.yaml → Manifest, or every problem with file, line and column.
// Never throws on bad input; a thrown error is a bug.
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type YAMLError,
  type YAMLMap,
  YAMLParseError,
} from "yaml";
import type { z } from "zod";
import { didYouMean } from "./did-you-mean.ts";
import { LATEST } from "./image-version.ts";
import { manifestRuleProblems } from "./manifest-rules.ts";
import { fieldDoc, KNOWN_KEYS, knownKeysAt, manifestSchema } from "./manifest-schema.ts";
import { decodeSource, tooLargeProblem } from "./source-text.ts";
import type { Manifest, ParseResult, Problem } from "./types.ts";
import { type PathSegment, type SourceRange, YamlLocator } from "./yaml-locator.ts";

/** A manifest is a few kilobytes; anything past this is the wrong file (or an attack on the parser). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** The manifest nests four levels deep; anything past this is not a manifest. */
export const MAX_MANIFEST_DEPTH = 32;
/** YAML aliases expand; bound the expansion ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

const quoted = (v: string) => JSON.stringify(v);
const dotted = (path: readonly PathSegment[]) => path.map(String).join(".");
/** A path as messages show it: `azure.subnet_prefixes[1]`. */
const display = (path: readonly PathSegment[]) =>
  path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("") || "the manifest";
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function describeValue(value: unknown, source?: string): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return `the number ${source ?? value}`;
  if (typeof value === "boolean") return `the boolean ${source ?? value}`;
  if (typeof value === "string") return "a string";
  if (value instanceof Uint8Array) return "binary data";
  if (typeof value === "object") return "a map";
  return typeof value;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === "number") cur = cur[seg];
    else if (isRecord(cur) && Object.hasOwn(cur, String(seg))) cur = cur[String(seg)];
    else return undefined;
  }
  return cur;
}

/** What one walk of the document finds, for the checks that run before its data is built. */
interface DocumentShape {
  /** Keys written twice in one map, as the yaml package's uniqueKeys check reports them. */
  duplicates: YAMLParseError[];
  /** Deepest nesting of collections, counted until it passes MAX_MANIFEST_DEPTH. */
  depth: number;
  /** The collection that first reached `depth`. */
  deepest?: Node;
  /** Maps with a `<<` (merge) key, in walk order. */
  merging: YAMLMap[];
}

/**
 * Every collection node of the document once (aliases are not followed), without recursion and in
 * one walk: duplicate keys (a set per map, linear where the yaml package's check is quadratic in a
 * map's size), the nesting depth, and the maps whose `<<` keys badMergeSources looks at.
 */
function documentShape(doc: Document): DocumentShape {
  const shape: DocumentShape = { duplicates: [], depth: 0, merging: [] };
  const nodes: unknown[] = [doc.contents];
  const depths: number[] = [0];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const d = depths.pop()! + 1;
    if (!isCollection(node)) continue;
    if (d > shape.depth && shape.depth <= MAX_MANIFEST_DEPTH) {
      shape.depth = d;
      shape.deepest = node;
    }
    if (isMap(node)) mapKeys(node, shape);
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        nodes.push(item.value, item.key);
        depths.push(d, d);
      } else {
        nodes.push(item);
        depths.push(d);
      }
    }
  }
  return shape;
}

/** A map's keys written twice, and whether it merges (`<<`), into `shape`. */
function mapKeys(map: YAMLMap, shape: DocumentShape) {
  let seen: Set<string> | undefined;
  let merges = false;
  for (const pair of map.items) {
    const key = pair.key;
    if (!isScalar(key)) continue;
    if (typeof key.value === "symbol") {
      // With `merge: true` the yaml package resolves a plain `<<` key to Symbol("<<").
      merges ||= key.value.description === "<<";
      continue;
    }
    if (map.items.length < 2) continue;
    const id = `${typeof key.value}:${String(key.value)}`;
    seen ??= new Set();
    if (!seen.has(id)) seen.add(id);
    else if (key.range) {
      shape.duplicates.push(
        new YAMLParseError([key.range[0], key.range[0] + 1], "DUPLICATE_KEY", "Map keys must be unique"),
      );
    }
  }
  if (merges) shape.merging.push(map);
}

/**
 * `<<` values that are not maps (`<<: *name` where the anchor is on a scalar or a list of
 * scalars): the yaml package throws on them when building the data, so they are found first.
 * `merging`: the maps with `<<` keys (documentShape's), each looked at once.
 */
function badMergeSources(doc: Document, merging: readonly YAMLMap[]): { node: Node; what: string }[] {
  const out: { node: Node; what: string }[] = [];
  const deref = (n: unknown) => (isAlias(n) ? (n.resolve(doc) as unknown) : n);
  for (const node of merging) {
    for (const { key, value } of node.items) {
      if (!(isScalar(key) && typeof key.value === "symbol" && key.value.description === "<<")) continue;
      const target = deref(value);
      const sources = isSeq(target) ? (target.items as unknown[]) : [value];
      for (const source of sources) {
        const resolved = deref(source);
        if (isMap(resolved)) continue;
        out.push({
          node: (source ?? key) as Node,
          what:
            resolved === undefined
              ? "an anchor that is not defined"
              : isSeq(resolved)
                ? "a list"
                : isScalar(resolved) && resolved.value !== null
                  ? "a single value"
                  : "nothing",
        });
      }
    }
  }
  return out;
}

/** Where a key outside its block belongs, for keys users put at the wrong level. */
function misplacedKeyFix(parent: readonly PathSegment[], key: string): string | undefined {
  const where = dotted(parent);
  if (where.startsWith("claws.") && KNOWN_KEYS.azure!.includes(key)) {
    return `azure.${key} applies to the whole fleet; it cannot be set per claw`;
  }
  if (where === "defaults" && key === "retired") return "retired is set per claw, under claws.<name>";
  if (where === "" && KNOWN_KEYS.defaults!.includes(key))
    return `move it under defaults: (or under a claw to set it for that claw only)`;
  if (where === "" && KNOWN_KEYS.azure!.includes(key)) return "move it under azure:";
  return undefined;
}

/**
 * Problems of one map reported one by one; past this many the rest of the map's problems of the
 * same kind become one problem with a count (70,000 junk keys are one mistake, not 70,000).
 */
export const MAX_PROBLEMS_PER_MAP = 10;

/** Where a problem sits in the source, with what it is about: the same spot reached twice is one problem. */
const spotOf = (range: { line: number; column: number }, field: string) =>
  `${range.line}:${range.column}:${field}`;

class ProblemSink {
  readonly problems: Problem[] = [];
  /**
   * Problems by spot. A merged (`<<`) or aliased map puts the same lines under several paths;
   * each spot is reported once, with a count of the other paths that reach it.
   */
  private readonly spots = new Map<string, { problem: Problem; others: number }>();
  constructor(
    private readonly file: string,
    private readonly locator?: YamlLocator,
  ) {}

  at(
    range: Pick<SourceRange, "line" | "column"> & Partial<SourceRange>,
    path: string,
    message: string,
    fix: string | undefined,
    severity: Problem["severity"],
  ): Problem {
    const p: Problem = { file: this.file, line: range.line, column: range.column, path, message, severity };
    if (range.endLine !== undefined) p.endLine = range.endLine;
    if (range.endColumn !== undefined) p.endColumn = range.endColumn;
    if (fix) p.fix = fix;
    this.problems.push(p);
    return p;
  }

  /** Where a path is written (the key with `atKey`). */
  range(path: readonly PathSegment[], atKey = false): SourceRange {
    return (
      this.locator?.locate([...path], atKey ? "key" : "auto") ?? {
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
      }
    );
  }

  /** Whether a spot already has its problem; if so it counts one more path reaching it. */
  repeated(spot: string): boolean {
    const earlier = this.spots.get(spot);
    if (earlier) earlier.others++;
    return earlier !== undefined;
  }

  /** Reports `spot` as covered by `problem` (which may cover several spots, e.g. a count of the rest). */
  cover(spot: string, problem: Problem) {
    this.spots.set(spot, { problem, others: 0 });
  }

  atPath(
    path: readonly PathSegment[],
    message: string,
    fix?: string,
    severity: Problem["severity"] = "error",
    atKey = false,
  ) {
    const range = this.range(path, atKey);
    const spot = spotOf(range, `${severity}:${String(path[path.length - 1] ?? "")}:${fix ?? ""}`);
    if (this.repeated(spot)) return;
    this.cover(spot, this.at(range, dotted(path), message, fix, severity));
  }

  /** Adds to each problem how many other places reach the same lines. */
  finish() {
    const others = new Map<Problem, number>();
    for (const { problem, others: n } of this.spots.values())
      if (n > 0) others.set(problem, Math.max(others.get(problem) ?? 0, n));
    for (const [problem, n] of others) {
      problem.message += ` (the same lines reach ${n} more place${n === 1 ? "" : "s"} through YAML anchors or <<; fixing them here fixes all)`;
    }
  }
}

/**
 * Unknown keys of one map: the first MAX_PROBLEMS_PER_MAP each get a problem at the key, the rest
 * one problem with their count. A key merged into many maps (`<<: *junk`) is reported once.
 */
function unknownKeyProblems(sink: ProblemSink, path: PathSegment[], keys: readonly string[]) {
  const known = knownKeysAt(path) ?? [];
  const where = path.length ? display(path) : "the top level";
  const rest: { key: string; spot: string }[] = [];
  let reported = 0;
  for (const key of keys) {
    const range = sink.range([...path, key], true);
    const spot = spotOf(range, `unknown:${key}`);
    if (sink.repeated(spot)) continue;
    if (reported >= MAX_PROBLEMS_PER_MAP) {
      rest.push({ key, spot });
      continue;
    }
    reported++;
    const guess = didYouMean(key, known);
    const misplaced = misplacedKeyFix(path, key);
    const problem = sink.at(
      range,
      dotted([...path, key]),
      `${quoted(key)} is not a key of ${where}${guess ? `; did you mean ${quoted(guess)}?` : ""}`,
      guess ? `rename it to ${guess}` : (misplaced ?? `remove it; keys allowed here: ${known.join(", ")}`),
      "error",
    );
    sink.cover(spot, problem);
  }
  if (rest.length === 0) return;
  const shown = rest.slice(0, 5).map((r) => quoted(r.key.slice(0, 40)));
  const problem = sink.at(
    sink.range(path, true),
    dotted(path),
    `${rest.length} more keys of ${where} are not allowed (${shown.join(", ")}${rest.length > shown.length ? ", ..." : ""}); only the first ${MAX_PROBLEMS_PER_MAP} are listed one by one`,
    `remove them; keys allowed here: ${known.join(", ")}`,
    "error",
  );
  for (const r of rest) sink.cover(r.spot, problem);
}

function yamlErrorProblems(
  sink: ProblemSink,
  locator: YamlLocator,
  source: string,
  errors: readonly YAMLError[],
  severity: Problem["severity"],
) {
  let exhausted = false;
  for (const e of errors) {
    if (e.code === "RESOURCE_EXHAUSTION") {
      // The parser hit its own limits (deep nesting); one problem says it all.
      if (exhausted) continue;
      exhausted = true;
      sink.at(
        locator.rangeOfOffsets(e.pos[0], e.pos[1]),
        "",
        "the YAML is nested too deeply to parse",
        "a claws.yaml nests a few levels; check that the right file is named",
        severity,
      );
      continue;
    }
    const fix =
      e.code === "DUPLICATE_KEY"
        ? "remove or rename one of the duplicate keys"
        : e.code === "TAB_AS_INDENT"
          ? "indent with spaces"
          : e.code === "MULTIPLE_DOCS"
            ? "keep one YAML document (remove the extra ---)"
            : undefined;
    sink.at(locator.rangeOfOffsets(e.pos[0], e.pos[1]), "", yamlMessage(e, source), fix, severity);
  }
}

/** The yaml library's message, phrased for a claws.yaml author rather than a library user. */
function yamlMessage(e: YAMLError, source: string): string {
  if (e.code === "DUPLICATE_KEY") {
    // The error points at the key's first character; the key runs to its colon.
    const key = /^\s*("[^"\n]*"|'[^'\n]*'|[^:\n]+?)\s*:/.exec(source.slice(e.pos[0]))?.[1]?.slice(0, 80);
    return key
      ? `YAML: the key '${key}' appears twice in the same mapping`
      : "YAML: a key appears twice in the same mapping";
  }
  if (e.code === "MULTIPLE_DOCS") return "YAML: the file holds more than one YAML document (a second ---)";
  return `YAML: ${e.message}`;
}

function schemaProblems(
  sink: ProblemSink,
  locator: YamlLocator,
  raw: unknown,
  issues: readonly z.core.$ZodIssue[],
) {
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
    const fixOf = (i: z.core.$ZodIssue) =>
      ((i as { params?: { fix?: string } }).params?.fix as string | undefined) ?? undefined;
    if (issue.code === "unrecognized_keys") {
      unknownKeyProblems(sink, path, issue.keys);
      continue;
    }
    const typeError =
      issue.code === "invalid_type" ||
      (issue.code === "invalid_union" &&
        issue.errors.every((branch) => branch.every((i) => i.code === "invalid_type")));
    if (typeError) {
      const value = valueAt(raw, path);
      const doc = fieldDoc(path);
      const key = String(path[path.length - 1] ?? "");
      if (value === undefined && !locator.has(path)) {
        const parent = path.slice(0, -1);
        sink.atPath(
          path,
          `${display(path)} is missing${doc ? `: ${doc.expects} is required here` : ""}`,
          doc
            ? `add \`${key}: ${doc.example}\` under ${parent.length ? `${display(parent)}:` : "the top level"}`
            : undefined,
        );
      } else {
        const source = locator.scalarSource(path);
        const expects =
          doc?.expects ?? ("expected" in issue ? `a ${String(issue.expected)}` : "another type");
        let fix = doc ? `e.g. ${key}: ${doc.example}` : undefined;
        if (
          /string|quoted|version/.test(expects) &&
          (typeof value === "number" || typeof value === "boolean") &&
          source
        ) {
          fix = `quote it: ${key}: "${source}"`;
        }
        sink.atPath(path, `${display(path)} must be ${expects}, not ${describeValue(value, source)}`, fix);
      }
      continue;
    }
    if (issue.code === "invalid_key") {
      for (const inner of issue.issues)
        sink.atPath(path, `${display(path)}: ${inner.message}`, fixOf(inner), "error", true);
      continue;
    }
    if (issue.code === "invalid_union") {
      // One branch matched the type and failed its own rule: report that branch.
      const branch = issue.errors.find((b) => b.some((i) => i.code !== "invalid_type")) ?? [];
      for (const inner of branch)
        sink.atPath(
          [...path, ...(inner.path as PathSegment[])],
          `${display(path)}: ${inner.message}`,
          fixOf(inner),
        );
      continue;
    }
    sink.atPath(path, `${display(path)}: ${issue.message}`, fixOf(issue));
  }
}

function toManifest(data: z.output<typeof manifestSchema>): Manifest {
  const { image_version, ...defaults } = data.defaults;
  const claws: Manifest["claws"] = {};
  for (const [name, claw] of Object.entries(data.claws)) {
    claws[name] = Object.fromEntries(Object.entries(claw).filter(([, v]) => v !== undefined));
  }
  return {
    azure: data.azure,
    defaults: { ...defaults, image_version: image_version ?? data.azure.fleet_image_version ?? LATEST },
    rollout: data.rollout,
    ssh: data.ssh,
    // Only what was written: a fleet without the block keeps CLAW_SECRETS_JSON.
    secrets: data.secrets.key_vault ? { key_vault: data.secrets.key_vault } : {},
    claws,
  };
}

/** The problem of a manifest file of `size` bytes over MAX_MANIFEST_BYTES, found from its size alone. */
export function manifestTooLarge(size: number, file: string): Problem {
  const p = tooLargeProblem(size, MAX_MANIFEST_BYTES, "the manifest");
  return { file, ...p.at, path: "", message: p.message, fix: p.fix, severity: "error" };
}

/** Counts the work a parse did (source-locator steps and problems), for tests that it stays linear. */
export interface WorkMeter {
  steps: number;
}

/** Parse and validate claws.yaml. Never throws on bad input: every problem is in `problems`. */
export function parseManifest(source: string | Uint8Array, file: string, meter?: WorkMeter): ParseResult {
  const decoded = decodeSource(source, MAX_MANIFEST_BYTES, "the manifest");
  const start = { line: 1, column: 1 };
  if (!decoded.ok) {
    const sink = new ProblemSink(file);
    sink.at(decoded.at, "", decoded.message, decoded.fix, "error");
    return { problems: sink.problems, locate: () => ({ ...start }) };
  }
  // YAML breaks lines at LF (and CRLF); a file saved with CR alone reads as one long line.
  const loneCr = /\r(?!\n)/.exec(decoded.text);
  if (loneCr && !decoded.text.includes("\n")) {
    const sink = new ProblemSink(file);
    sink.at(
      start,
      "",
      "the manifest's lines end in a carriage return (CR) alone, so YAML reads the whole file as one line",
      "save the file with LF (Unix) or CRLF (Windows) line endings",
      "error",
    );
    return { problems: sink.problems, locate: () => ({ ...start }) };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(decoded.text, {
    lineCounter,
    prettyErrors: false,
    // The yaml package checks each key against every earlier one (quadratic in a map's size);
    // documentShape does the same check with a set per map.
    uniqueKeys: false,
    merge: true,
    keepSourceTokens: false,
  });
  const locator = new YamlLocator(doc, lineCounter);
  const sink = new ProblemSink(file, locator);
  const result = (manifest?: Manifest): ParseResult => {
    if (meter) meter.steps += locator.steps + sink.problems.length;
    sink.finish();
    sink.problems.sort((a, b) => a.line - b.line || a.column - b.column);
    const out: ParseResult = { problems: sink.problems, locate: (path: string) => locator.locate(path) };
    if (manifest && !sink.problems.some((p) => p.severity === "error")) out.manifest = manifest;
    return out;
  };

  const shape = documentShape(doc);
  doc.errors.push(...shape.duplicates);
  yamlErrorProblems(sink, locator, decoded.text, doc.errors, "error");
  yamlErrorProblems(sink, locator, decoded.text, doc.warnings, "warning");
  // Duplicate keys leave a usable document; keep checking so all problems show at once. After
  // any other syntax error the document is a guess and further messages would mislead.
  if (doc.errors.some((e) => e.code !== "DUPLICATE_KEY")) return result();

  const contents = doc.contents as Node | null;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    sink.at(
      start,
      "",
      "the manifest is empty",
      "start from examples/fleet/claws.yaml: it needs azure:, defaults: and claws:",
      "error",
    );
    return result();
  }
  if (!isMap(contents)) {
    sink.atPath(
      [],
      `the manifest must be a map with azure:, defaults: and claws:, not ${isSeq(contents) ? "a list" : "a single value"}`,
      "start from examples/fleet/claws.yaml",
    );
    return result();
  }
  if (shape.depth > MAX_MANIFEST_DEPTH) {
    const r = shape.deepest?.range;
    sink.at(
      r ? locator.rangeOfOffsets(r[0], r[0] + 1) : start,
      "",
      `the YAML nests more than ${MAX_MANIFEST_DEPTH} levels deep`,
      "a claws.yaml nests a few levels; check that the right file is named",
      "error",
    );
    return result();
  }

  const merges = badMergeSources(doc, shape.merging);
  for (const { node, what } of merges) {
    const r = node.range;
    sink.at(
      r ? locator.rangeOfOffsets(r[0], r[1] > r[0] ? r[1] : r[0] + 1) : start,
      "",
      `YAML: << merges ${what}; only a map can be merged`,
      "anchor a map and merge that (common: &common { vm_size: ... } then <<: *common), or write the keys out",
      "error",
    );
  }
  if (merges.length > 0) return result();

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // toJS throws a ReferenceError when aliases expand past maxAliasCount.
    if (!(e instanceof ReferenceError)) throw e;
    sink.at(
      start,
      "",
      "the YAML expands too many aliases (*name references)",
      "write the values out instead of referencing anchors so often",
      "error",
    );
    return result();
  }

  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) schemaProblems(sink, locator, raw, parsed.error.issues);
  if (isRecord(raw)) {
    const lineOf = (path: PathSegment[]) => locator.locate(path, "key").line;
    // A field with a schema error gets no second error from the rules.
    const erred = new Set(sink.problems.filter((q) => q.severity === "error").map((q) => q.path));
    for (const p of manifestRuleProblems(raw, lineOf)) {
      if (p.severity === "error" && erred.has(dotted(p.path))) continue;
      sink.atPath(p.path, `${display(p.path)}: ${p.message}`, p.fix, p.severity, p.atKey);
    }
  }
  return result(parsed.success ? toManifest(parsed.data) : undefined);
}
