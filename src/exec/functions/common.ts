/**
 * Shared machinery of the scalar function kernels: lifting all-scalar calls,
 * string views over utf8/dict/scalar inputs, a byte-level string builder, the
 * dictionary fast path and numeric helpers.
 *
 * Kernels work on UTF-8 bytes wherever they can: character boundaries are
 * bytes that are not continuation bytes (`(b & 0xc0) !== 0x80`), so counting,
 * slicing and searching never need to decode a string.
 *
 * @module
 */

import {
  type Column,
  dictColumn,
  type NumericArray,
  type NumericColumn,
  numericColumn,
  type Utf8Column,
  utf8Column,
  valueAt,
} from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import {
  combineValidity,
  type Datum,
  isScalar,
  type Scalar,
  scalar,
  type ScalarFunctionImpl,
  toColumn,
} from "../datum.ts";

const encoder = new TextEncoder();

/** A data error (a value the function cannot take) with DuckDB's message. */
export function dataError(message: string): SpiceError {
  return new SpiceError("DATA", message);
}

/**
 * Wraps a column kernel so that a call whose arguments are all scalars runs
 * once on one-row columns and yields a scalar. The wrapped kernel may then
 * assume at least one argument is a column (or that there are no arguments).
 */
export function liftScalars(impl: ScalarFunctionImpl): ScalarFunctionImpl {
  return (args, n, type) => {
    if (args.length === 0 || !args.every(isScalar)) return impl(args, n, type);
    const cols = args.map((a) => toColumn(a, 1));
    const out = impl(cols, 1, type);
    return isScalar(out) ? out : scalar(type, valueAt(out, 0));
  };
}

/** A scalar's value as a number (bigint and boolean included), or null. */
export function scalarNumber(s: Scalar): number | null {
  const v = s.value;
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean") return v ? 1 : 0;
  return Number(v);
}

/**
 * Combined validity of the arguments (as `combineValidity`), also honouring
 * NULL entries inside dictionaries: null when every row is valid.
 */
export function argsValidity(args: readonly Datum[], n: number): Uint8Array | null {
  let out = combineValidity(args, n);
  for (const a of args) {
    if (isScalar(a) || a.enc !== "dict" || !a.dict.validity) continue;
    const dv = a.dict.validity;
    const idx = a.indices;
    out ??= new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) out[i] &= dv[idx[i]];
  }
  return out;
}

/** The storage array of a numeric datum, a scalar expanded to `n` rows when needed. */
export function numbers(d: Datum, n: number): Float64Array | Int32Array | Uint8Array {
  if (isScalar(d)) {
    const v = scalarNumber(d) ?? 0;
    if (d.type.id === "int32" || d.type.id === "date32") return new Int32Array(n).fill(v);
    return new Float64Array(n).fill(v);
  }
  const values = (d as NumericColumn).values;
  if (values instanceof BigInt64Array) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(values[i]);
    return out;
  }
  return values;
}

/** True when a numeric datum is stored as 64-bit integers (wide decimals). */
export function isWide(d: Datum): boolean {
  return isScalar(d)
    ? typeof d.value === "bigint"
    : (d as NumericColumn).values instanceof BigInt64Array;
}

/** The storage of a numeric datum as BigInt64Array (scalars expanded). */
export function bigints(d: Datum, n: number): BigInt64Array {
  if (isScalar(d)) {
    const v = d.value;
    const b = v === null ? 0n : typeof v === "bigint" ? v : BigInt(Math.round(Number(v)));
    return new BigInt64Array(n).fill(b);
  }
  const values = (d as NumericColumn).values;
  if (values instanceof BigInt64Array) return values;
  const out = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    // NULL rows may hold anything, NaN included, which BigInt() rejects.
    const x = values[i];
    out[i] = Number.isFinite(x) ? BigInt(Math.trunc(x)) : 0n;
  }
  return out;
}

/** Powers of ten as doubles (exact up to 10^22). */
export function pow10(k: number): number {
  return POW10[k] ?? Math.pow(10, k);
}
const POW10: number[] = Array.from({ length: 23 }, (_, i) => Math.pow(10, i));

/** Powers of ten as bigints. */
export function pow10n(k: number): bigint {
  return 10n ** BigInt(k);
}

/** Gathers `values[indices[i]]` (dictionary results back to rows). */
function gather(values: NumericArray, indices: Int32Array): NumericArray {
  const n = indices.length;
  const out = new (values.constructor as { new (n: number): NumericArray })(n);
  if (values instanceof BigInt64Array) {
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) o[i] = values[indices[i]];
  } else {
    const o = out as Float64Array;
    const v = values as Float64Array;
    for (let i = 0; i < n; i++) o[i] = v[indices[i]];
  }
  return out;
}

/** Row validity ANDed with the gathered validity of dictionary results. */
function gatherValidity(
  rows: Uint8Array | null,
  dictValidity: Uint8Array | null,
  indices: Int32Array,
): Uint8Array | null {
  if (!dictValidity) return rows;
  const n = indices.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = dictValidity[indices[i]] & (rows ? rows[i] : 1);
  return out;
}

/**
 * The dictionary fast path: when the first argument is a dictionary column
 * (no larger than the batch) and every other argument is a scalar, the
 * function runs once per distinct value and the row indices are kept, so a
 * low-cardinality column costs as much as its dictionary. Errors raised on the
 * dictionary fall back to the per-row path, since a dictionary may hold values
 * no row refers to. Returns null when the fast path does not apply.
 */
export function overDictionary(
  args: readonly Datum[],
  type: DataType,
  kernel: (args: readonly Datum[], n: number) => Column,
): Column | null {
  const first = args[0];
  if (isScalar(first) || first.enc !== "dict") return null;
  if (first.dict.length > first.length) return null;
  for (let i = 1; i < args.length; i++) if (!isScalar(args[i])) return null;
  const dict = first.dict;
  let out: Column;
  try {
    out = kernel([dict, ...args.slice(1)], dict.length);
  } catch (e) {
    if (e instanceof SpiceError) return null;
    throw e;
  }
  const validity = combineWith(first.validity, args.slice(1), first.length);
  if (out.enc === "utf8") {
    return dictColumn(first.indices, out, gatherValidity(validity, out.validity, first.indices));
  }
  if (out.enc === "dict") {
    // A kernel that itself returned a dictionary: compose the index maps.
    const idx = new Int32Array(first.length);
    for (let i = 0; i < first.length; i++) idx[i] = out.indices[first.indices[i]];
    return dictColumn(idx, out.dict, gatherValidity(validity, out.validity, first.indices));
  }
  return numericColumn(
    type,
    gather(out.values, first.indices),
    gatherValidity(validity, out.validity, first.indices),
  );
}

/** Validity of a column ANDed with NULL scalars among `others`. */
function combineWith(v: Uint8Array | null, others: readonly Datum[], n: number): Uint8Array | null {
  for (const o of others) if (isScalar(o) && o.value === null) return new Uint8Array(n);
  return v;
}

// ---------------------------------------------------------------------------
// Strings

/**
 * Uniform access to the strings of a datum: row i is
 * `data[starts[i], ends[i])`, valid where `validity` is null or 1. Utf8
 * columns share their offsets (no copy), dictionaries resolve their indices
 * once, and scalars repeat one encoded value.
 */
export interface StrView {
  readonly data: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly validity: Uint8Array | null;
}

/** Builds a string view of `n` rows over a utf8, dict or scalar datum. */
export function strView(d: Datum, n: number): StrView {
  if (isScalar(d)) {
    if (d.value === null) {
      return {
        data: new Uint8Array(0),
        starts: new Int32Array(n),
        ends: new Int32Array(n),
        validity: new Uint8Array(n),
      };
    }
    const data = encoder.encode(String(d.value));
    return {
      data,
      starts: new Int32Array(n),
      ends: new Int32Array(n).fill(data.length),
      validity: null,
    };
  }
  if (d.enc === "utf8") {
    return { data: d.data, starts: d.offsets, ends: d.offsets.subarray(1), validity: d.validity };
  }
  if (d.enc === "dict") {
    const off = d.dict.offsets;
    const idx = d.indices;
    const starts = new Int32Array(n), ends = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const k = idx[i];
      starts[i] = off[k];
      ends[i] = off[k + 1];
    }
    let validity = d.validity;
    if (d.dict.validity) {
      const dv = d.dict.validity;
      const v = new Uint8Array(n);
      for (let i = 0; i < n; i++) v[i] = dv[idx[i]] & (validity ? validity[i] : 1);
      validity = v;
    }
    return { data: d.dict.data, starts, ends, validity };
  }
  throw dataError(`expected a string argument, got a ${d.type.id} column`);
}

/** True when every byte of `data[start, end)` is ASCII (ORs aligned 32-bit words when long). */
export function isAsciiRange(data: Uint8Array, start: number, end: number): boolean {
  let i = start;
  let acc = 0;
  if (end - start >= 64) {
    while ((data.byteOffset + i) & 3) acc |= data[i++];
    const words = (end - i) >>> 2;
    const w32 = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let k = 0; k < words; k++) acc |= w32[k];
    i += words * 4;
  }
  while (i < end) acc |= data[i++];
  return (acc & 0x80808080) === 0;
}

/** True when every string of a view is ASCII (one scan of the referenced bytes). */
export function viewIsAscii(v: StrView, n: number): boolean {
  if (n === 0) return true;
  // Utf8 columns reference one contiguous byte range; dictionaries and
  // scalars are small, so scanning their whole buffer is cheap.
  if (v.ends.buffer === v.starts.buffer && v.ends.byteOffset === v.starts.byteOffset + 4) {
    return isAsciiRange(v.data, v.starts[0], v.ends[n - 1]);
  }
  return isAsciiRange(v.data, 0, v.data.length);
}

/** Number of characters (code points) in `data[s, e)`. */
export function charCount(data: Uint8Array, s: number, e: number): number {
  let c = 0;
  for (let i = s; i < e; i++) if ((data[i] & 0xc0) !== 0x80) c++;
  return c;
}

/** Byte position after skipping `k` characters from `s` (capped at `e`). */
export function skipChars(data: Uint8Array, s: number, e: number, k: number): number {
  let i = s;
  while (k > 0 && i < e) {
    i++;
    while (i < e && (data[i] & 0xc0) === 0x80) i++;
    k--;
  }
  return i;
}

/** Byte length of the UTF-8 sequence starting with byte `b`. */
export function seqLength(b: number): number {
  return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/** Decodes the code point whose sequence starts at `data[i]`. */
export function codePointAt(data: Uint8Array, i: number): number {
  const b = data[i];
  if (b < 0x80) return b;
  if (b < 0xe0) return ((b & 0x1f) << 6) | (data[i + 1] & 0x3f);
  if (b < 0xf0) return ((b & 0x0f) << 12) | ((data[i + 1] & 0x3f) << 6) | (data[i + 2] & 0x3f);
  return ((b & 0x07) << 18) | ((data[i + 1] & 0x3f) << 12) | ((data[i + 2] & 0x3f) << 6) |
    (data[i + 3] & 0x3f);
}

/** Finds `needle[ns, ne)` in `hay[hs, he)` from byte `hs`; returns the byte index or -1. */
export function indexOfBytes(
  hay: Uint8Array,
  hs: number,
  he: number,
  needle: Uint8Array,
  ns: number,
  ne: number,
): number {
  const m = ne - ns;
  if (m === 0) return hs;
  const last = he - m;
  const first = needle[ns];
  outer: for (let i = hs; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let k = 1; k < m; k++) if (hay[i + k] !== needle[ns + k]) continue outer;
    return i;
  }
  return -1;
}

/** True when `a[as, ae)` and `b[bs, be)` hold the same bytes. */
export function bytesEqual(
  a: Uint8Array,
  as: number,
  ae: number,
  b: Uint8Array,
  bs: number,
  be: number,
): boolean {
  const len = ae - as;
  if (len !== be - bs) return false;
  for (let k = 0; k < len; k++) if (a[as + k] !== b[bs + k]) return false;
  return true;
}

/** memcmp-then-length order of two byte ranges (DuckDB's VARCHAR order): <0, 0 or >0. */
export function compareBytes(
  a: Uint8Array,
  as: number,
  ae: number,
  b: Uint8Array,
  bs: number,
  be: number,
): number {
  const la = ae - as, lb = be - bs;
  const m = la < lb ? la : lb;
  for (let k = 0; k < m; k++) {
    const d = a[as + k] - b[bs + k];
    if (d !== 0) return d;
  }
  return la - lb;
}

/**
 * A growable builder of a utf8 column that writes bytes directly (no
 * per-row arrays). Callers `reserve` before `push`ing bytes, and end every
 * row with `endRow` or `nullRow`.
 */
export class StringOut {
  /** Output offsets (row i is data[offsets[i], offsets[i+1])). */
  offsets: Int32Array;
  /** Output bytes; may be replaced when it grows. */
  data: Uint8Array;
  /** Write position in `data`. */
  pos = 0;
  #validity: Uint8Array | null = null;
  #row = 0;

  /** A builder for `n` rows, expecting about `bytes` bytes in total. */
  constructor(n: number, bytes: number) {
    this.offsets = new Int32Array(n + 1);
    this.data = new Uint8Array(Math.max(16, bytes));
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    if (this.pos + extra <= this.data.length) return;
    const next = new Uint8Array(Math.max(this.data.length * 2, this.pos + extra));
    next.set(this.data.subarray(0, this.pos));
    this.data = next;
  }

  /** Appends one byte (room must have been reserved). */
  push(b: number): void {
    this.data[this.pos++] = b;
  }

  /** Appends `src[s, e)`, reserving room. */
  copy(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    if (len <= 0) return;
    this.reserve(len);
    const d = this.data;
    let p = this.pos;
    if (len < 32) {
      for (let k = s; k < e; k++) d[p++] = src[k];
    } else {
      d.set(src.subarray(s, e), p);
      p += len;
    }
    this.pos = p;
  }

  /** Appends a code point as UTF-8 (room for 4 bytes must have been reserved). */
  pushCodePoint(c: number): void {
    const d = this.data;
    if (c < 0x80) d[this.pos++] = c;
    else if (c < 0x800) {
      d[this.pos++] = 0xc0 | (c >> 6);
      d[this.pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0x10000) {
      d[this.pos++] = 0xe0 | (c >> 12);
      d[this.pos++] = 0x80 | ((c >> 6) & 0x3f);
      d[this.pos++] = 0x80 | (c & 0x3f);
    } else {
      d[this.pos++] = 0xf0 | (c >> 18);
      d[this.pos++] = 0x80 | ((c >> 12) & 0x3f);
      d[this.pos++] = 0x80 | ((c >> 6) & 0x3f);
      d[this.pos++] = 0x80 | (c & 0x3f);
    }
  }

  /** Ends the current row. */
  endRow(): void {
    this.offsets[++this.#row] = this.pos;
  }

  /** Ends the current row as NULL (bytes written for it are dropped). */
  nullRow(): void {
    if (!this.#validity) this.#validity = new Uint8Array(this.offsets.length - 1).fill(1);
    this.#validity[this.#row] = 0;
    this.pos = this.offsets[this.#row];
    this.offsets[++this.#row] = this.pos;
  }

  /** The finished column. */
  finish(type: DataType): Utf8Column {
    return utf8Column(type, this.offsets, this.data.subarray(0, this.pos), this.#validity);
  }
}
