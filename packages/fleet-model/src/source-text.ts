// Turns user-supplied bytes into text, or into one clean problem: too large, not UTF-8.
import { isUtf8 } from "node:buffer";

export interface TextPosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units like editors and the yaml package. */
  column: number;
}

export type DecodedSource =
  | { ok: true; text: string }
  | { ok: false; at: TextPosition; message: string; fix: string };

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    // Truncated sequence at the end of the input.
    if (i + need >= bytes.length) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Line and column of a string offset. */
export function positionAt(text: string, offset: number): TextPosition {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** The problem of an input over the size limit (said before reading it when the size is known). */
export function tooLargeProblem(size: number, maxBytes: number, what: string) {
  return {
    ok: false as const,
    at: { line: 1, column: 1 },
    message: `${what} is ${size} bytes; the limit is ${maxBytes} bytes`,
    fix: "a fleet manifest is a few kilobytes: check that the right file is named",
  };
}

/**
 * Decodes `source` as UTF-8 (a leading byte-order mark is dropped). `what` names the input in
 * messages ("the manifest").
 */
export function decodeSource(source: string | Uint8Array, maxBytes: number, what: string): DecodedSource {
  const start = { line: 1, column: 1 };
  const size = typeof source === "string" ? Buffer.byteLength(source, "utf8") : source.byteLength;
  if (size > maxBytes) return tooLargeProblem(size, maxBytes, what);
  if (typeof source === "string")
    return { ok: true, text: source.startsWith("\uFEFF") ? source.slice(1) : source };
  if ((source[0] === 0xff && source[1] === 0xfe) || (source[0] === 0xfe && source[1] === 0xff)) {
    return { ok: false, at: start, message: `${what} is UTF-16 encoded`, fix: "save the file as UTF-8" };
  }
  const bytes = source[0] === 0xef && source[1] === 0xbb && source[2] === 0xbf ? source.subarray(3) : source;
  // Node's native check first (well-formed UTF-8, as firstInvalidUtf8 defines it); the byte-by-byte
  // walk only runs to say where a file goes wrong.
  const bad = isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const before = Buffer.from(bytes.buffer, bytes.byteOffset, bad).toString("utf8");
    const at = positionAt(before, before.length);
    return {
      ok: false,
      at,
      message: `${what} is not valid UTF-8 (byte 0x${bytes[bad]!.toString(16).padStart(2, "0")} at byte offset ${bad})`,
      fix: "save the file as UTF-8",
    };
  }
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8") };
}
