/**
 * String kernels with DuckDB's semantics. Positions and lengths count
 * characters (code points), except `reverse`, which keeps grapheme clusters
 * together as DuckDB does for non-ASCII strings.
 *
 * Everything but `reverse` works on UTF-8 bytes: ASCII columns (checked once
 * per column) use byte positions directly, other strings find character
 * boundaries by skipping continuation bytes, and `upper`/`lower` map code
 * points decoded from the bytes. Dictionary columns with constant other
 * arguments are computed once per distinct value.
 *
 * @module
 */

import { type Column, numericColumn, type Utf8Column, utf8Column } from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import { type Datum, isScalar, type ScalarFunctionImpl } from "../datum.ts";
import {
  argsValidity,
  charCount,
  codePointAt,
  dataError,
  indexOfBytes,
  isAsciiRange,
  liftScalars,
  numbers,
  overDictionary,
  seqLength,
  skipChars,
  StringOut,
  type StrView,
  strView,
  viewIsAscii,
} from "./common.ts";

type Kernel = (args: readonly Datum[], n: number, type: DataType) => Datum;

/** Lifts all-scalar calls and runs dictionary inputs once per distinct value. */
function stringFunction(k: Kernel): ScalarFunctionImpl {
  return liftScalars((args, n, type) =>
    // Every kernel returns a column when an argument is a column, as here.
    overDictionary(args, type, (a, m) => k(a, m, type) as Column) ??
      k(args, n, type)
  );
}

/** Total referenced bytes of a view (for output size estimates). */
function viewBytes(v: StrView, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += v.ends[i] - v.starts[i];
  return total;
}

// ---------------------------------------------------------------------------
// upper / lower

/**
 * Code points whose simple case mapping in DuckDB (utf8proc) differs from the
 * single-code-point results of JavaScript's toUpperCase/toLowerCase: DuckDB
 * maps ß to ẞ and the Greek iota-subscript letters to their title-case forms,
 * and its Unicode tables predate the letters in the identity lists.
 */
const UPPER_OVERRIDES = new Map<number, number>([
  [0xdf, 0x1e9e],
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
  ...[0x1f80, 0x1f90, 0x1fa0].flatMap((b) =>
    Array.from({ length: 8 }, (_, k) => [b + k, b + k + 8] as [number, number])
  ),
  ...[0x19b, 0x264, 0x1c8a, 0xa7cd, 0xa7db].map((c) => [c, c] as [number, number]),
  ...Array.from({ length: 0x16 }, (_, k) => [0x10d70 + k, 0x10d70 + k] as [number, number]),
]);
const LOWER_OVERRIDES = new Map<number, number>([
  [0x130, 0x69],
  ...[0x1c89, 0xa7cb, 0xa7cc, 0xa7da, 0xa7dc].map((c) => [c, c] as [number, number]),
  ...Array.from({ length: 0x16 }, (_, k) => [0x10d50 + k, 0x10d50 + k] as [number, number]),
]);

/** Lazily filled case tables: -1 = not yet computed. */
class CaseTable {
  readonly #bmp = new Int32Array(0x10000).fill(-1);
  readonly #astral = new Map<number, number>();
  readonly #upper: boolean;
  /** ASCII bytes mapped directly. */
  readonly ascii = new Uint8Array(128);

  constructor(upper: boolean) {
    this.#upper = upper;
    for (let b = 0; b < 128; b++) {
      this.ascii[b] = upper
        ? (b >= 0x61 && b <= 0x7a ? b - 32 : b)
        : (b >= 0x41 && b <= 0x5a ? b + 32 : b);
    }
  }

  /** The simple (one code point to one code point) mapping of `c`. */
  map(c: number): number {
    if (c < 0x10000) {
      const m = this.#bmp[c];
      if (m >= 0) return m;
      const r = this.#compute(c);
      this.#bmp[c] = r;
      return r;
    }
    let m = this.#astral.get(c);
    if (m === undefined) {
      m = this.#compute(c);
      this.#astral.set(c, m);
    }
    return m;
  }

  #compute(c: number): number {
    const o = (this.#upper ? UPPER_OVERRIDES : LOWER_OVERRIDES).get(c);
    if (o !== undefined) return o;
    // Surrogate code points cannot occur in valid UTF-8; keep them as they are.
    if (c >= 0xd800 && c <= 0xdfff) return c;
    const s = String.fromCodePoint(c);
    const m = this.#upper ? s.toUpperCase() : s.toLowerCase();
    // A full mapping to several code points (e.g. ﬁ -> FI) has no simple mapping.
    const r = m.codePointAt(0)!;
    return m.length === (r > 0xffff ? 2 : 1) ? r : c;
  }
}

let upperTable: CaseTable | null = null;
let lowerTable: CaseTable | null = null;

/**
 * Changes the case of ASCII letters in place, four bytes at a time: per byte,
 * adding 0x80 - lo sets the high bit iff b >= lo, and no carry crosses bytes
 * because every byte is below 0x80. Letters get bit 0x20 flipped.
 */
function asciiCaseInPlace(data: Uint8Array, upper: boolean): void {
  const lo = upper ? 0x1f1f1f1f : 0x3f3f3f3f; // 0x80 - 'a' | 0x80 - 'A'
  const hi = upper ? 0x05050505 : 0x25252525; // 0x80 - ('z' + 1) | 0x80 - ('Z' + 1)
  const words = data.length >>> 2;
  const w32 = new Uint32Array(data.buffer, data.byteOffset, words);
  for (let i = 0; i < words; i++) {
    const w = w32[i];
    w32[i] = w ^ ((((w + lo) & ~(w + hi)) & 0x80808080) >>> 2);
  }
  const first = upper ? 0x61 : 0x41;
  for (let i = words * 4; i < data.length; i++) {
    const b = data[i];
    if (b - first >>> 0 < 26) data[i] = b ^ 0x20;
  }
}

function caseKernel(upper: boolean): Kernel {
  return (args, n, type) => {
    const table = upper
      ? (upperTable ??= new CaseTable(true))
      : (lowerTable ??= new CaseTable(false));
    const a = args[0];
    const validity = argsValidity(args, n);
    const ascii = table.ascii;
    if (!isScalar(a) && a.enc === "utf8") {
      const base = a.offsets[0], end = a.offsets[n];
      if (isAsciiRange(a.data, base, end)) {
        // ASCII keeps every byte length: map the byte range in one pass and rebase the offsets.
        const data = a.data.slice(base, end);
        asciiCaseInPlace(data, upper);
        const offsets = new Int32Array(n + 1);
        for (let i = 0; i <= n; i++) offsets[i] = a.offsets[i] - base;
        return utf8Column(type, offsets, data, validity);
      }
    }
    const v = strView(a, n);
    const out = new StringOut(n, viewBytes(v, n) + 16);
    const d = v.data;
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) {
        out.nullRow();
        continue;
      }
      const s = v.starts[i], e = v.ends[i];
      // A case mapping can grow a character from 2 to 3 bytes at most (e.g. ɐ -> Ɐ).
      out.reserve(2 * (e - s));
      let k = s;
      while (k < e) {
        const b = d[k];
        if (b < 0x80) {
          out.push(ascii[b]);
          k++;
        } else {
          out.pushCodePoint(table.map(codePointAt(d, k)));
          k += seqLength(b);
        }
      }
      out.endRow();
    }
    return out.finish(type);
  };
}

// ---------------------------------------------------------------------------
// length, octet_length

const length: Kernel = (args, n, type) => {
  const v = strView(args[0], n);
  const out = new Float64Array(n);
  if (viewIsAscii(v, n)) {
    for (let i = 0; i < n; i++) out[i] = v.ends[i] - v.starts[i];
  } else {
    for (let i = 0; i < n; i++) out[i] = charCount(v.data, v.starts[i], v.ends[i]);
  }
  return numericColumn(type, out, argsValidity(args, n));
};

const octetLength: Kernel = (args, n, type) => {
  const v = strView(args[0], n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = v.ends[i] - v.starts[i];
  return numericColumn(type, out, argsValidity(args, n));
};

// ---------------------------------------------------------------------------
// substring, left, right

const SUBSTRING_BOUND = 4294967295;

/**
 * The character range [start, end) of DuckDB's SUBSTRING(s, offset, length)
 * on a string of `chars` characters, written to `range`; false when empty.
 * This follows DuckDB's general (Unicode) implementation. Its ASCII-only
 * variant, chosen when column statistics prove a column ASCII, differs when
 * a negative offset reaches before the start (substring('hello', -10, 3) is
 * '' here and in DuckDB over VALUES, but 'hel' over an ASCII table column).
 */
function substringRange(chars: number, offset: number, len: number, range: Float64Array): boolean {
  if (len === 0) return false;
  const o = offset - 1;
  if (offset < 0) {
    // Counted from the back, 1-based: [st, en) maps to forward [chars-st+1, chars-en+1).
    const st = len < 0 ? -o - len : -o;
    const en = len < 0 ? -o : -o - len;
    let end: number;
    if (en <= 0) end = chars;
    else if (en > chars) return false;
    else end = chars - en + 1;
    const start = st > chars ? 0 : chars - st + 1;
    range[0] = start;
    range[1] = end;
    return start < end;
  }
  const st = len < 0 ? Math.max(0, o + len) : Math.max(0, o);
  const en = len < 0 ? o : o + len;
  if (st >= chars || en <= 0 || en <= st) return false;
  range[0] = st;
  range[1] = Math.min(en, chars);
  return true;
}

function checkSubstringBounds(offset: number, len: number): void {
  if (offset < -SUBSTRING_BOUND - 1) {
    throw dataError(`Substring offset outside of supported range (< ${-SUBSTRING_BOUND - 1})`);
  }
  if (offset > SUBSTRING_BOUND) {
    throw dataError(`Substring offset outside of supported range (> ${SUBSTRING_BOUND})`);
  }
  if (len < -SUBSTRING_BOUND - 1) {
    throw dataError(`Substring length outside of supported range (< ${-SUBSTRING_BOUND - 1})`);
  }
  if (len > SUBSTRING_BOUND) {
    throw dataError(`Substring length outside of supported range (> ${SUBSTRING_BOUND})`);
  }
}

/**
 * Shared driver of substring/left/right: `pick` turns (row, character count)
 * into a character range in `range` (false = empty string). Character counts
 * are only computed when `needsCount` says so; ASCII views use byte positions.
 */
function sliceChars(
  args: readonly Datum[],
  n: number,
  type: DataType,
  needsCount: (i: number) => boolean,
  pick: (i: number, chars: number, range: Float64Array) => boolean,
): Utf8Column {
  const v = strView(args[0], n);
  const validity = argsValidity(args, n);
  const ascii = viewIsAscii(v, n);
  const d = v.data;
  const out = new StringOut(n, viewBytes(v, n));
  const range = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) {
      out.nullRow();
      continue;
    }
    const s = v.starts[i], e = v.ends[i];
    const chars = ascii ? e - s : needsCount(i) ? charCount(d, s, e) : Number.MAX_SAFE_INTEGER;
    if (pick(i, chars, range)) {
      if (ascii) out.copy(d, s + range[0], s + range[1]);
      else {
        const bs = skipChars(d, s, e, range[0]);
        const be = skipChars(d, bs, e, range[1] - range[0]);
        out.copy(d, bs, be);
      }
    }
    out.endRow();
  }
  return out.finish(type);
}

const substring: Kernel = (args, n, type) => {
  const offs = numbers(args[1], n);
  const lens = args.length > 2 ? numbers(args[2], n) : null;
  const validity = argsValidity(args, n);
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    checkSubstringBounds(offs[i], lens ? lens[i] : SUBSTRING_BOUND);
  }
  return sliceChars(
    args,
    n,
    type,
    (i) => offs[i] < 0,
    (i, chars, range) => substringRange(chars, offs[i], lens ? lens[i] : SUBSTRING_BOUND, range),
  );
};

const left: Kernel = (args, n, type) => {
  const ks = numbers(args[1], n);
  return sliceChars(args, n, type, (i) => ks[i] < 0, (i, chars, range) => {
    const k = ks[i];
    range[0] = 0;
    range[1] = k >= 0 ? Math.min(k, chars) : Math.max(chars + k, 0);
    return range[1] > 0;
  });
};

const right: Kernel = (args, n, type) => {
  const ks = numbers(args[1], n);
  return sliceChars(args, n, type, () => true, (i, chars, range) => {
    const k = ks[i];
    range[0] = k >= 0 ? Math.max(chars - k, 0) : Math.min(-k, chars);
    range[1] = chars;
    return range[0] < range[1];
  });
};

// ---------------------------------------------------------------------------
// trim, ltrim, rtrim

/** Unicode space separators (category Zs): what DuckDB's trim removes by default. */
const SPACE_SEPARATORS = new Set([
  0x20,
  0xa0,
  0x1680,
  0x2000,
  0x2001,
  0x2002,
  0x2003,
  0x2004,
  0x2005,
  0x2006,
  0x2007,
  0x2008,
  0x2009,
  0x200a,
  0x202f,
  0x205f,
  0x3000,
]);

/** The code points of `data[s, e)` as a set. */
function codePointSet(data: Uint8Array, s: number, e: number): Set<number> {
  const set = new Set<number>();
  for (let k = s; k < e; k += seqLength(data[k])) set.add(codePointAt(data, k));
  return set;
}

function trimKernel(leftSide: boolean, rightSide: boolean): Kernel {
  return (args, n, type) => {
    const v = strView(args[0], n);
    const validity = argsValidity(args, n);
    const d = v.data;
    const chars = args.length > 1 ? strView(args[1], n) : null;
    // One set for a constant characters argument; per row otherwise.
    const constSet = chars === null
      ? SPACE_SEPARATORS
      : isScalar(args[1])
      ? codePointSet(chars.data, 0, chars.data.length)
      : null;
    const out = new StringOut(n, viewBytes(v, n));
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) {
        out.nullRow();
        continue;
      }
      const set = constSet ?? codePointSet(chars!.data, chars!.starts[i], chars!.ends[i]);
      let s = v.starts[i], e = v.ends[i];
      if (leftSide) {
        while (s < e) {
          const b = d[s];
          if (!set.has(b < 0x80 ? b : codePointAt(d, s))) break;
          s += seqLength(b);
        }
      }
      if (rightSide) {
        while (e > s) {
          let k = e - 1;
          while (k > s && (d[k] & 0xc0) === 0x80) k--;
          if (!set.has(codePointAt(d, k))) break;
          e = k;
        }
      }
      out.copy(d, s, e);
      out.endRow();
    }
    return out.finish(type);
  };
}

// ---------------------------------------------------------------------------
// concat, concat_ws

/** concat: NULL arguments are skipped, so the result is never NULL. */
const concat: Kernel = (args, n, type) => {
  const views = args.map((a) => strView(a, n));
  let total = 0;
  for (const v of views) total += viewBytes(v, n);
  const out = new StringOut(n, total);
  for (let i = 0; i < n; i++) {
    for (const v of views) {
      if (v.validity && v.validity[i] === 0) continue;
      out.copy(v.data, v.starts[i], v.ends[i]);
    }
    out.endRow();
  }
  return out.finish(type);
};

/** concat_ws: NULL separator gives NULL; NULL values are skipped with their separator. */
const concatWs: Kernel = (args, n, type) => {
  const sep = strView(args[0], n);
  const views = args.slice(1).map((a) => strView(a, n));
  let total = viewBytes(sep, n) * views.length;
  for (const v of views) total += viewBytes(v, n);
  const out = new StringOut(n, total);
  for (let i = 0; i < n; i++) {
    if (sep.validity && sep.validity[i] === 0) {
      out.nullRow();
      continue;
    }
    let first = true;
    for (const v of views) {
      if (v.validity && v.validity[i] === 0) continue;
      if (!first) out.copy(sep.data, sep.starts[i], sep.ends[i]);
      first = false;
      out.copy(v.data, v.starts[i], v.ends[i]);
    }
    out.endRow();
  }
  return out.finish(type);
};

// ---------------------------------------------------------------------------
// replace

const replace: Kernel = (args, n, type) => {
  const v = strView(args[0], n), from = strView(args[1], n), to = strView(args[2], n);
  const validity = argsValidity(args, n);
  const d = v.data;
  const out = new StringOut(n, viewBytes(v, n));
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) {
      out.nullRow();
      continue;
    }
    const s = v.starts[i], e = v.ends[i];
    const fs = from.starts[i], fe = from.ends[i];
    if (fe === fs) {
      // DuckDB leaves the string unchanged for an empty search string.
      out.copy(d, s, e);
      out.endRow();
      continue;
    }
    let at = s;
    for (;;) {
      const hit = indexOfBytes(d, at, e, from.data, fs, fe);
      if (hit < 0) break;
      out.copy(d, at, hit);
      out.copy(to.data, to.starts[i], to.ends[i]);
      at = hit + (fe - fs);
    }
    out.copy(d, at, e);
    out.endRow();
  }
  return out.finish(type);
};

// ---------------------------------------------------------------------------
// position, starts_with, ends_with, contains

const position: Kernel = (args, n, type) => {
  const v = strView(args[0], n), needle = strView(args[1], n);
  const ascii = viewIsAscii(v, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = v.starts[i];
    const hit = indexOfBytes(v.data, s, v.ends[i], needle.data, needle.starts[i], needle.ends[i]);
    out[i] = hit < 0 ? 0 : (ascii ? hit - s : charCount(v.data, s, hit)) + 1;
  }
  return numericColumn(type, out, argsValidity(args, n));
};

function matchKernel(
  test: (h: Uint8Array, hs: number, he: number, nd: Uint8Array, ns: number, ne: number) => boolean,
): Kernel {
  return (args, n, type) => {
    const v = strView(args[0], n), needle = strView(args[1], n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = test(v.data, v.starts[i], v.ends[i], needle.data, needle.starts[i], needle.ends[i])
        ? 1
        : 0;
    }
    return numericColumn(type, out, argsValidity(args, n));
  };
}

const startsWith = matchKernel((h, hs, he, nd, ns, ne) => {
  const m = ne - ns;
  if (m > he - hs) return false;
  for (let k = 0; k < m; k++) if (h[hs + k] !== nd[ns + k]) return false;
  return true;
});

const endsWith = matchKernel((h, hs, he, nd, ns, ne) => {
  const m = ne - ns;
  if (m > he - hs) return false;
  const off = he - m;
  for (let k = 0; k < m; k++) if (h[off + k] !== nd[ns + k]) return false;
  return true;
});

const contains = matchKernel((h, hs, he, nd, ns, ne) => indexOfBytes(h, hs, he, nd, ns, ne) >= 0);

// ---------------------------------------------------------------------------
// lpad, rpad, repeat

const SPACE = new Uint8Array([0x20]);

function padKernel(leftSide: boolean): Kernel {
  const name = leftSide ? "LPAD" : "RPAD";
  return (args, n, type) => {
    const v = strView(args[0], n);
    const lens = numbers(args[1], n);
    const pad: StrView = args.length > 2
      ? strView(args[2], n)
      : { data: SPACE, starts: new Int32Array(n), ends: new Int32Array(n).fill(1), validity: null };
    const validity = argsValidity(args, n);
    const d = v.data;
    const out = new StringOut(n, viewBytes(v, n));
    for (let i = 0; i < n; i++) {
      if (validity && validity[i] === 0) {
        out.nullRow();
        continue;
      }
      const len = Math.max(0, lens[i]);
      const s = v.starts[i], e = v.ends[i];
      // The first `len` characters of the string, then padding up to `len` characters.
      const cut = skipChars(d, s, e, len);
      const written = charCount(d, s, cut);
      const missing = len - written;
      const ps = pad.starts[i], pe = pad.ends[i];
      if (missing > 0 && ps === pe) throw dataError(`Insufficient padding in ${name}.`);
      if (!leftSide) out.copy(d, s, cut);
      let p = ps;
      for (let k = 0; k < missing; k++) {
        if (p >= pe) p = ps;
        const q = p + seqLength(pad.data[p]);
        out.copy(pad.data, p, q);
        p = q;
      }
      if (leftSide) out.copy(d, s, cut);
      out.endRow();
    }
    return out.finish(type);
  };
}

/** Offsets are Int32: a result past 2^31 - 1 bytes cannot be stored. */
const MAX_BYTES = 2147483647;

const repeat: Kernel = (args, n, type) => {
  const v = strView(args[0], n);
  const counts = numbers(args[1], n);
  const validity = argsValidity(args, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) continue;
    total += Math.max(0, counts[i]) * (v.ends[i] - v.starts[i]);
  }
  if (total > MAX_BYTES) throw dataError("buffer exceeds maximum length");
  const out = new StringOut(n, total);
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) {
      out.nullRow();
      continue;
    }
    const s = v.starts[i], e = v.ends[i];
    for (let k = 0; k < counts[i]; k++) out.copy(v.data, s, e);
    out.endRow();
  }
  return out.finish(type);
};

// ---------------------------------------------------------------------------
// reverse

const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Code points that may join a grapheme cluster with a neighbour (a superset
 * of the grapheme-break classes other than "Other": marks, format and
 * control characters, emoji modifiers, regional indicators, Hangul jamo and
 * syllables, and the few Prepend/SpacingMark letters). A string without them
 * has one cluster per code point.
 */
const MAY_JOIN =
  /[\p{M}\p{Cf}\p{Cc}\p{Emoji_Modifier}\p{Regional_Indicator}\u{FF9E}\u{FF9F}\u{1100}-\u{11FF}\u{A960}-\u{A97F}\u{AC00}-\u{D7FF}\u{0D4E}\u{0E33}\u{0EB3}\u{111C2}\u{111C3}\u{1193F}\u{11941}\u{11A3A}\u{11A84}-\u{11A89}\u{11D46}\u{11F02}]/u;

/** Per code point: 0 = not classified yet, 1 = always its own cluster, 2 = may join. */
let joinClass: Uint8Array | null = null;

function mayJoin(c: number): boolean {
  joinClass ??= new Uint8Array(0x110000);
  let k = joinClass[c];
  if (k === 0) {
    k = MAY_JOIN.test(String.fromCodePoint(c)) ? 2 : 1;
    joinClass[c] = k;
  }
  return k === 2;
}

/** True when every code point of `data[s, e)` is its own grapheme cluster. */
function singleCodePointClusters(data: Uint8Array, s: number, e: number): boolean {
  for (let k = s; k < e; k += seqLength(data[k])) {
    const b = data[k];
    if (b < 0x80 ? b < 0x20 || b === 0x7f : mayJoin(codePointAt(data, k))) return false;
  }
  return true;
}

/**
 * reverse: ASCII strings are reversed byte by byte (as DuckDB does, so even
 * "\r\n" turns around), other strings by grapheme cluster: by code point
 * when no character can join a cluster, with Intl.Segmenter otherwise.
 */
const reverse: Kernel = (args, n, type) => {
  const v = strView(args[0], n);
  const validity = argsValidity(args, n);
  const d = v.data;
  const out = new StringOut(n, viewBytes(v, n));
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) {
      out.nullRow();
      continue;
    }
    const s = v.starts[i], e = v.ends[i];
    if (isAsciiRange(d, s, e)) {
      out.reserve(e - s);
      for (let k = e - 1; k >= s; k--) out.push(d[k]);
    } else if (singleCodePointClusters(d, s, e)) {
      out.reserve(e - s);
      let end = e;
      while (end > s) {
        let k = end - 1;
        while (k > s && (d[k] & 0xc0) === 0x80) k--;
        for (let j = k; j < end; j++) out.push(d[j]);
        end = k;
      }
    } else {
      const parts = Array.from(
        graphemes.segment(decoder.decode(d.subarray(s, e))),
        (g) => g.segment,
      );
      const bytes = encoder.encode(parts.reverse().join(""));
      out.copy(bytes, 0, bytes.length);
    }
    out.endRow();
  }
  return out.finish(type);
};

// ---------------------------------------------------------------------------
// split_part

/**
 * split_part(s, delimiter, index): 1-based part, negative counts from the
 * end, 0 or out of range gives ''. An empty delimiter splits into characters.
 */
const splitPart: Kernel = (args, n, type) => {
  const v = strView(args[0], n), delim = strView(args[1], n);
  const idx = numbers(args[2], n);
  const validity = argsValidity(args, n);
  const d = v.data;
  const out = new StringOut(n, viewBytes(v, n));
  for (let i = 0; i < n; i++) {
    if (validity && validity[i] === 0) {
      out.nullRow();
      continue;
    }
    const s = v.starts[i], e = v.ends[i];
    const ds = delim.starts[i], de = delim.ends[i];
    const m = de - ds;
    let k = idx[i];
    if (k !== 0 && s < e) {
      if (m === 0) {
        // Characters: part k is the k-th character.
        const chars = k < 0 ? charCount(d, s, e) : 0;
        const want = k > 0 ? k - 1 : chars + k;
        if (want >= 0) {
          const bs = skipChars(d, s, e, want);
          if (bs < e) out.copy(d, bs, bs + seqLength(d[bs]));
        }
      } else {
        if (k < 0) {
          let parts = 1;
          for (
            let at = indexOfBytes(d, s, e, delim.data, ds, de);
            at >= 0;
            at = indexOfBytes(d, at + m, e, delim.data, ds, de)
          ) {
            parts++;
          }
          k = parts + k + 1;
        }
        if (k > 0) {
          let start = s;
          let part = 1;
          while (part < k) {
            const at = indexOfBytes(d, start, e, delim.data, ds, de);
            if (at < 0) break;
            start = at + m;
            part++;
          }
          if (part === k) {
            const at = indexOfBytes(d, start, e, delim.data, ds, de);
            out.copy(d, start, at < 0 ? e : at);
          }
        }
      }
    }
    out.endRow();
  }
  return out.finish(type);
};

/** The string kernels by function name. */
export const STRING_FUNCTIONS: Readonly<Record<string, ScalarFunctionImpl>> = {
  upper: stringFunction(caseKernel(true)),
  lower: stringFunction(caseKernel(false)),
  length: stringFunction(length),
  octet_length: stringFunction(octetLength),
  substring: stringFunction(substring),
  trim: stringFunction(trimKernel(true, true)),
  ltrim: stringFunction(trimKernel(true, false)),
  rtrim: stringFunction(trimKernel(false, true)),
  // Not over dictionaries: a NULL first argument does not make the result NULL.
  concat: liftScalars(concat),
  concat_ws: liftScalars(concatWs),
  replace: stringFunction(replace),
  position: stringFunction(position),
  starts_with: stringFunction(startsWith),
  ends_with: stringFunction(endsWith),
  contains: stringFunction(contains),
  left: stringFunction(left),
  right: stringFunction(right),
  lpad: stringFunction(padKernel(true)),
  rpad: stringFunction(padKernel(false)),
  reverse: stringFunction(reverse),
  repeat: stringFunction(repeat),
  split_part: stringFunction(splitPart),
};
