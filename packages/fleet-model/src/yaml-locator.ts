// Maps a path into a YAML document (["claws", "alice", "vm_size"] or "claws.alice.vm_size")
// back to the source range that holds it, so every problem can name line and column.
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

export type PathSegment = string | number;

export interface SourceRange {
  line: number;
  column: number;
  /** Inclusive. */
  endLine: number;
  /** Inclusive. */
  endColumn: number;
}

interface Found {
  /** How many path tokens were matched before the walk stopped. */
  matched: number;
  /** Key node of the deepest matched map entry. */
  key?: Node;
  /** Value node reached (the deepest matched entry's value, or a sequence item). */
  value?: Node | null;
}

interface Entry {
  key: Node;
  value: Node | null;
}

const MAX_ALIAS_HOPS = 64;

export class YamlLocator {
  /** Units of work done so far (entries indexed, keys looked up): tests check it grows linearly. */
  steps = 0;
  private readonly index = new WeakMap<Node, ReadonlyMap<string, Entry>>();

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** Range of the source between two offsets (end exclusive). */
  rangeOfOffsets(start: number, end: number): SourceRange {
    const a = this.lineCounter.linePos(start);
    const b = this.lineCounter.linePos(Math.max(start, end - 1));
    return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
  }

  private rangeOfNode(node: Node | null | undefined): SourceRange | undefined {
    const r = node?.range;
    if (!r) return undefined;
    return this.rangeOfOffsets(r[0], r[1] > r[0] ? r[1] : r[0] + 1);
  }

  private deref(node: unknown): Node | null | undefined {
    let cur = node as Node | null | undefined;
    for (let hops = 0; hops < MAX_ALIAS_HOPS && isAlias(cur); hops++)
      cur = cur.resolve(this.doc) as Node | undefined;
    return cur;
  }

  /**
   * The entries of a map by key name, own keys first, then merged (`<<`) ones (YAML merge keys:
   * an own key wins over a merged one, an earlier merge source over a later one). Built once per
   * map and kept, so locating every problem of a file costs work linear in the file.
   */
  private entriesOf(map: Node, depth = 0): ReadonlyMap<string, Entry> {
    const cached = this.index.get(map);
    if (cached) return cached;
    const entries = new Map<string, Entry>();
    if (!isMap(map) || depth > 8) return entries;
    const merged: Node[] = [];
    for (const pair of map.items) {
      this.steps++;
      if (!isScalar(pair.key)) continue;
      const raw = pair.key.value;
      const value = (pair.value ?? null) as Node | null;
      // With `merge: true` the yaml package resolves a plain `<<` key to Symbol("<<").
      if (typeof raw === "symbol" && raw.description === "<<") {
        const src = this.deref(value);
        const sources = isSeq(src) ? src.items.map((i) => this.deref(i)) : [src];
        for (const s of sources) if (isMap(s)) merged.push(s);
        continue;
      }
      const name = raw === null ? "" : String(raw);
      if (!entries.has(name)) entries.set(name, { key: pair.key, value });
    }
    for (const source of merged) {
      for (const [name, entry] of this.entriesOf(source, depth + 1)) {
        this.steps++;
        if (!entries.has(name)) entries.set(name, entry);
      }
    }
    this.index.set(map, entries);
    return entries;
  }

  /** `greedy`: tokens came from splitting a dotted string, so a key may span several tokens. */
  private walk(tokens: string[], greedy: boolean): Found {
    let cur = this.deref(this.doc.contents as Node | null);
    const found: Found = { matched: 0, value: cur };
    let i = 0;
    while (i < tokens.length) {
      if (isMap(cur)) {
        const entries = this.entriesOf(cur);
        let hit: Entry | undefined;
        let width = 0;
        for (let k = greedy ? tokens.length - i : 1; k >= 1 && !hit; k--) {
          this.steps++;
          hit = entries.get(tokens.slice(i, i + k).join("."));
          width = k;
        }
        if (!hit) break;
        i += width;
        found.key = hit.key;
        cur = this.deref(hit.value);
      } else if (isSeq(cur) && /^\d+$/.test(tokens[i]!)) {
        const item = cur.items[Number(tokens[i])];
        if (item === undefined) break;
        i += 1;
        found.key = undefined;
        cur = this.deref(item as Node);
      } else break;
      found.matched = i;
      found.value = cur;
    }
    return found;
  }

  private pick(found: Found, complete: boolean, prefer: "auto" | "key" | "value"): SourceRange {
    const keyRange = this.rangeOfNode(found.key);
    const valueRange = this.rangeOfNode(found.value ?? undefined);
    const start: SourceRange = { line: 1, column: 1, endLine: 1, endColumn: 1 };
    if (!complete) return keyRange ?? valueRange ?? start;
    if (prefer === "key") return keyRange ?? valueRange ?? start;
    if (prefer === "value") return valueRange ?? keyRange ?? start;
    const v = found.value;
    const scalarValue = isScalar(v) && v.value !== null;
    return (scalarValue ? valueRange : keyRange) ?? valueRange ?? keyRange ?? start;
  }

  /**
   * Where `path` is written. Scalars point at the value, collections at their key. When part of
   * the path is missing, the deepest existing ancestor (for a missing key: its parent) is
   * returned; the document start when nothing matches.
   */
  locate(path: string | PathSegment[], prefer: "auto" | "key" | "value" = "auto"): SourceRange {
    const greedy = typeof path === "string";
    const tokens = typeof path === "string" ? (path === "" ? [] : path.split(".")) : path.map(String);
    const found = this.walk(tokens, greedy);
    return this.pick(found, found.matched === tokens.length, prefer);
  }

  /** Source text of the scalar at `path` as written (e.g. "1.10" for a value YAML reads as 1.1). */
  scalarSource(path: PathSegment[]): string | undefined {
    const tokens = path.map(String);
    const found = this.walk(tokens, false);
    if (found.matched !== tokens.length || !isScalar(found.value)) return undefined;
    const src = (found.value as { source?: unknown }).source;
    return typeof src === "string" ? src : undefined;
  }

  /** Whether `path` exists in the document. */
  has(path: PathSegment[]): boolean {
    const tokens = path.map(String);
    return this.walk(tokens, false).matched === tokens.length;
  }
}
