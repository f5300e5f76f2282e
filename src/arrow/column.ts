/**
 * Columns: the typed-array storage of one field of a record batch.
 *
 * Columns are plain objects of typed arrays so that they can be sent to a Web
 * Worker or written to Arrow IPC without copying. Validity is one byte per row
 * (1 = valid) or `null` when every row is valid: hot loops then test a byte,
 * not a bit.
 *
 * Storage by type:
 * - bool: Uint8Array of 0/1
 * - int32, date32: Int32Array
 * - int64, float64, timestamp: Float64Array
 * - decimal: Float64Array of unscaled integers, or BigInt64Array where values
 *   can pass 2^53 (sums), so that decimal results stay exact
 * - utf8: offsets + bytes, or dictionary indices into a utf8 column
 *
 * @module
 */

import { SpiceError } from "../errors.ts";
import type { DataType } from "./types.ts";

/** Storage for fixed-width values. */
export type NumericArray = Int32Array | Float64Array | Uint8Array | BigInt64Array;

/** Fields every column has. */
interface ColumnBase {
  readonly type: DataType;
  readonly length: number;
  /** One byte per row, 1 = valid; null when no row is null. */
  readonly validity: Uint8Array | null;
}

/** A column of fixed-width values. */
export interface NumericColumn extends ColumnBase {
  readonly enc: "num";
  readonly values: NumericArray;
}

/** A column of UTF-8 strings: row i is bytes[offsets[i], offsets[i+1]). */
export interface Utf8Column extends ColumnBase {
  readonly enc: "utf8";
  readonly offsets: Int32Array;
  readonly data: Uint8Array;
}

/** A dictionary-encoded string column: row i is dict[indices[i]]. */
export interface DictColumn extends ColumnBase {
  readonly enc: "dict";
  readonly indices: Int32Array;
  readonly dict: Utf8Column;
}

/** Any column. */
export type Column = NumericColumn | Utf8Column | DictColumn;

/** A JavaScript value of one cell: numbers for numeric types (bigint for wide decimals). */
export type Value = number | bigint | string | boolean | null;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Makes a numeric column. */
export function numericColumn(
  type: DataType,
  values: NumericArray,
  validity: Uint8Array | null = null,
): NumericColumn {
  return { enc: "num", type, length: values.length, values, validity };
}

/** Makes a UTF-8 column from its buffers. */
export function utf8Column(
  type: DataType,
  offsets: Int32Array,
  data: Uint8Array,
  validity: Uint8Array | null = null,
): Utf8Column {
  return { enc: "utf8", type, length: offsets.length - 1, offsets, data, validity };
}

/** Makes a dictionary column. */
export function dictColumn(
  indices: Int32Array,
  dict: Utf8Column,
  validity: Uint8Array | null = null,
): DictColumn {
  return { enc: "dict", type: dict.type, length: indices.length, indices, dict, validity };
}

/** The typed array that stores values of this type. */
export function allocValues(type: DataType, n: number): NumericArray {
  switch (type.id) {
    case "bool":
    case "null":
      return new Uint8Array(n);
    case "int32":
    case "date32":
      return new Int32Array(n);
    default:
      return new Float64Array(n);
  }
}

/** Reads the string at row i of a utf8 or dict column. */
export function stringAt(col: Utf8Column | DictColumn, i: number): string {
  if (col.enc === "dict") return stringAt(col.dict, col.indices[i]);
  return decoder.decode(col.data.subarray(col.offsets[i], col.offsets[i + 1]));
}

/** True when row i is valid (not null). */
export function isValid(col: Column, i: number): boolean {
  return col.validity === null || col.validity[i] === 1;
}

/** Reads one cell as a JavaScript value (slow path: output, tests, constant folding). */
export function valueAt(col: Column, i: number): Value {
  if (col.validity !== null && col.validity[i] === 0) return null;
  if (col.enc !== "num") return stringAt(col, i);
  const v = col.values[i];
  if (col.type.id === "bool") return v === 1;
  if (col.type.id === "null") return null;
  return v;
}

/** Growable builder for UTF-8 columns that encodes with `encodeInto` (no per-row arrays). */
export class Utf8Builder {
  #offsets: Int32Array;
  #data: Uint8Array;
  #validity: Uint8Array | null = null;
  #length = 0;
  #bytes = 0;

  /** Starts a builder with room for `capacity` rows of about `avgBytes` each. */
  constructor(capacity = 1024, avgBytes = 16) {
    this.#offsets = new Int32Array(capacity + 1);
    this.#data = new Uint8Array(Math.max(64, capacity * avgBytes));
  }

  /** Number of rows appended. */
  get length(): number {
    return this.#length;
  }

  #reserveRows(extra: number): void {
    if (this.#length + extra + 1 <= this.#offsets.length) return;
    const next = new Int32Array(Math.max(this.#offsets.length * 2, this.#length + extra + 1));
    next.set(this.#offsets);
    this.#offsets = next;
    if (this.#validity) {
      const v = new Uint8Array(next.length);
      v.set(this.#validity);
      this.#validity = v;
    }
  }

  #reserveBytes(extra: number): void {
    if (this.#bytes + extra <= this.#data.length) return;
    const next = new Uint8Array(Math.max(this.#data.length * 2, this.#bytes + extra));
    next.set(this.#data.subarray(0, this.#bytes));
    this.#data = next;
  }

  /** Appends a string. */
  append(s: string): void {
    this.#reserveRows(1);
    // A UTF-16 code unit encodes to at most 3 UTF-8 bytes.
    this.#reserveBytes(s.length * 3);
    const { written } = encoder.encodeInto(s, this.#data.subarray(this.#bytes));
    this.#bytes += written;
    if (this.#validity) this.#validity[this.#length] = 1;
    this.#offsets[++this.#length] = this.#bytes;
  }

  /** Appends raw UTF-8 bytes. */
  appendBytes(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.#reserveRows(1);
    const n = end - start;
    this.#reserveBytes(n);
    this.#data.set(bytes.subarray(start, end), this.#bytes);
    this.#bytes += n;
    if (this.#validity) this.#validity[this.#length] = 1;
    this.#offsets[++this.#length] = this.#bytes;
  }

  /** Appends a null. */
  appendNull(): void {
    this.#reserveRows(1);
    if (!this.#validity) {
      this.#validity = new Uint8Array(this.#offsets.length);
      this.#validity.fill(1, 0, this.#length);
    }
    this.#validity[this.#length] = 0;
    this.#offsets[this.#length + 1] = this.#bytes;
    this.#length++;
  }

  /** Finishes the column; the builder must not be used afterwards. */
  finish(type: DataType = { id: "utf8" }): Utf8Column {
    const n = this.#length;
    return utf8Column(
      type,
      this.#offsets.subarray(0, n + 1),
      this.#data.subarray(0, this.#bytes),
      this.#validity ? this.#validity.subarray(0, n) : null,
    );
  }
}

/** Builds a column of the given type from JavaScript values (tests, literals, small results). */
export function columnFromValues(type: DataType, values: readonly Value[]): Column {
  const n = values.length;
  let validity: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    if (values[i] === null || values[i] === undefined) {
      validity ??= new Uint8Array(n).fill(1);
      validity[i] = 0;
    }
  }
  if (type.id === "utf8") {
    const b = new Utf8Builder(n);
    for (const v of values) v === null || v === undefined ? b.appendNull() : b.append(String(v));
    return b.finish(type);
  }
  if (type.id === "decimal" && values.some((v) => typeof v === "bigint")) {
    const arr = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const b = v === null ? 0n : typeof v === "bigint" ? v : BigInt(Math.round(Number(v)));
      if (b > 9223372036854775807n || b < -9223372036854775808n) {
        // BigInt64Array would wrap silently: refuse instead.
        throw new SpiceError(
          "NOT_SUPPORTED",
          `not supported: DECIMAL value ${b} is wider than 64 bits`,
        );
      }
      arr[i] = b;
    }
    return numericColumn(type, arr, validity);
  }
  const arr = allocValues(type, n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    (arr as Float64Array)[i] = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  }
  return numericColumn(type, arr, validity);
}

/** A column of `n` nulls of the given type. */
export function nullColumn(type: DataType, n: number): Column {
  const validity = new Uint8Array(n);
  if (type.id === "utf8") {
    return utf8Column(type, new Int32Array(n + 1), new Uint8Array(0), validity);
  }
  return numericColumn(type, allocValues(type, n), validity);
}

/** Gathers rows `indices` of a column into a new column (the columnar "take"). */
export function take(col: Column, indices: Int32Array | Uint32Array): Column {
  const n = indices.length;
  let validity: Uint8Array | null = null;
  if (col.validity !== null) {
    const src = col.validity;
    validity = new Uint8Array(n);
    let allValid = 1;
    for (let i = 0; i < n; i++) {
      const v = src[indices[i]];
      validity[i] = v;
      allValid &= v;
    }
    if (allValid === 1) validity = null;
  }
  switch (col.enc) {
    case "num": {
      const src = col.values;
      const out = new (src.constructor as { new (n: number): NumericArray })(n);
      if (src instanceof BigInt64Array) {
        const o = out as BigInt64Array;
        for (let i = 0; i < n; i++) o[i] = src[indices[i]];
      } else {
        const o = out as Float64Array;
        const s = src as Float64Array;
        for (let i = 0; i < n; i++) o[i] = s[indices[i]];
      }
      return numericColumn(col.type, out, validity);
    }
    case "dict": {
      const out = new Int32Array(n);
      const src = col.indices;
      for (let i = 0; i < n; i++) out[i] = src[indices[i]];
      return dictColumn(out, col.dict, validity);
    }
    case "utf8": {
      const so = col.offsets;
      const offsets = new Int32Array(n + 1);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const r = indices[i];
        total += so[r + 1] - so[r];
        offsets[i + 1] = total;
      }
      const data = new Uint8Array(total);
      const sd = col.data;
      for (let i = 0; i < n; i++) {
        const r = indices[i];
        const s = so[r], e = so[r + 1];
        const len = e - s;
        const at = offsets[i];
        if (len < 16) {
          for (let k = 0; k < len; k++) data[at + k] = sd[s + k];
        } else {
          data.set(sd.subarray(s, e), at);
        }
      }
      return utf8Column(col.type, offsets, data, validity);
    }
  }
}

/** Rows [start, start+len) of a column, sharing its buffers where possible. */
export function slice(col: Column, start: number, len: number): Column {
  if (start === 0 && len === col.length) return col;
  const validity = col.validity ? col.validity.subarray(start, start + len) : null;
  switch (col.enc) {
    case "num":
      return numericColumn(col.type, col.values.subarray(start, start + len), validity);
    case "dict":
      return dictColumn(col.indices.subarray(start, start + len), col.dict, validity);
    case "utf8":
      // Offsets keep their absolute values: data is shared, not copied.
      return {
        enc: "utf8",
        type: col.type,
        length: len,
        offsets: col.offsets.subarray(start, start + len + 1),
        data: col.data,
        validity,
      };
  }
}

/** Decodes a dictionary column into a plain utf8 column. */
export function decodeDict(col: Column): NumericColumn | Utf8Column {
  if (col.enc !== "dict") return col;
  const d = col.dict;
  const idx = col.indices;
  const n = col.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    total += d.offsets[k + 1] - d.offsets[k];
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    data.set(d.data.subarray(d.offsets[k], d.offsets[k + 1]), offsets[i]);
  }
  return utf8Column(col.type, offsets, data, col.validity);
}

/** Concatenates columns of the same type into one. */
export function concatColumns(cols: readonly Column[]): Column {
  if (cols.length === 1) return cols[0];
  const type = cols[0].type;
  let n = 0;
  let anyNull = false;
  for (const c of cols) {
    n += c.length;
    if (c.validity) anyNull = true;
  }
  let validity: Uint8Array | null = null;
  if (anyNull) {
    validity = new Uint8Array(n);
    let at = 0;
    for (const c of cols) {
      if (c.validity) validity.set(c.validity, at);
      else validity.fill(1, at, at + c.length);
      at += c.length;
    }
  }
  const allDictSame = cols.every((c) =>
    c.enc === "dict" && c.dict === (cols[0] as DictColumn).dict
  );
  if (allDictSame) {
    const idx = new Int32Array(n);
    let at = 0;
    for (const c of cols) {
      idx.set((c as DictColumn).indices, at);
      at += c.length;
    }
    return dictColumn(idx, (cols[0] as DictColumn).dict, validity);
  }
  if (type.id === "utf8") {
    const plain = cols.map((c) => decodeDict(c) as Utf8Column);
    let bytes = 0;
    for (const c of plain) bytes += c.offsets[c.length] - c.offsets[0];
    const offsets = new Int32Array(n + 1);
    const data = new Uint8Array(bytes);
    let row = 0, pos = 0;
    for (const c of plain) {
      const base = c.offsets[0];
      data.set(c.data.subarray(base, c.offsets[c.length]), pos);
      for (let i = 1; i <= c.length; i++) offsets[row + i] = pos + c.offsets[i] - base;
      row += c.length;
      pos = offsets[row];
    }
    return utf8Column(type, offsets, data, validity);
  }
  const wide = cols.some((c) => (c as NumericColumn).values instanceof BigInt64Array);
  if (wide) {
    const out = new BigInt64Array(n);
    let at = 0;
    for (const c of cols) {
      const v = (c as NumericColumn).values;
      if (v instanceof BigInt64Array) out.set(v, at);
      else for (let i = 0; i < c.length; i++) out[at + i] = BigInt(v[i]);
      at += c.length;
    }
    return numericColumn(type, out, validity);
  }
  const out = allocValues(type, n) as Float64Array;
  let at = 0;
  for (const c of cols) {
    out.set((c as NumericColumn).values as Float64Array, at);
    at += c.length;
  }
  return numericColumn(type, out, validity);
}

/** Encodes a JavaScript string to UTF-8 bytes. */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8 bytes to a string. */
export function decodeUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}
