/**
 * Comparison kernels (= <> < <= > >= IS [NOT] DISTINCT FROM) producing byte
 * booleans. Strings compare as UTF-8 bytes (code point order, as DuckDB's
 * default collation); a dictionary column against a constant is compared
 * once per dictionary entry and mapped through the codes.
 *
 * @module
 */

import {
  type Column,
  type DictColumn,
  encodeUtf8,
  type NumericColumn,
  numericColumn,
  type Utf8Column,
} from "../../arrow/column.ts";
import { BOOL } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import type { BinaryOp } from "../../plan/expr.ts";
import { type Datum, isScalar, scalar } from "../datum.ts";

type Cmp = "=" | "<>" | "<" | "<=" | ">" | ">=";

const FLIP: Record<Cmp, Cmp> = { "=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

/** Compares two byte ranges: negative, zero or positive. */
export function compareBytes(
  a: Uint8Array,
  as: number,
  ae: number,
  b: Uint8Array,
  bs: number,
  be: number,
): number {
  const la = ae - as, lb = be - bs;
  const n = la < lb ? la : lb;
  for (let k = 0; k < n; k++) {
    const d = a[as + k] - b[bs + k];
    if (d !== 0) return d;
  }
  return la - lb;
}

function bytesEqual(
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

function test(op: Cmp, c: number): number {
  switch (op) {
    case "=":
      return c === 0 ? 1 : 0;
    case "<>":
      return c !== 0 ? 1 : 0;
    case "<":
      return c < 0 ? 1 : 0;
    case "<=":
      return c <= 0 ? 1 : 0;
    case ">":
      return c > 0 ? 1 : 0;
    case ">=":
      return c >= 0 ? 1 : 0;
  }
}

/** DuckDB's order for doubles: NaN equals NaN and is greater than every number. */
function cmpNaN(x: number, y: number): number {
  const xn = x !== x, yn = y !== y;
  if (xn || yn) return xn && yn ? 0 : xn ? 1 : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Re-evaluates, with NaN ordered as DuckDB orders it, the rows where a NaN is involved. */
function fixNaN(
  op: Cmp,
  out: Uint8Array,
  x: (i: number) => number,
  y: (i: number) => number,
  n: number,
): void {
  for (let i = 0; i < n; i++) {
    const a = x(i), b = y(i);
    if (a !== a || b !== b) out[i] = test(op, cmpNaN(a, b));
  }
}

function compareScalars(op: Cmp, a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number" && (a !== a || b !== b)) {
    return test(op, cmpNaN(a, b)) === 1;
  }
  if (typeof a === "string" && typeof b === "string") {
    const ea = encodeUtf8(a), eb = encodeUtf8(b);
    return test(op, compareBytes(ea, 0, ea.length, eb, 0, eb.length)) === 1;
  }
  const x = typeof a === "boolean" ? Number(a) : a as number | bigint;
  const y = typeof b === "boolean" ? Number(b) : b as number | bigint;
  const c = x < y ? -1 : x > y ? 1 : 0;
  return test(op, c) === 1;
}

/** Evaluates a comparison; both operands have the same type. */
export function compare(op: BinaryOp, l: Datum, r: Datum, n: number): Datum {
  if (op === "is_distinct" || op === "is_not_distinct") return distinct(op, l, r, n);
  const cmp = op as Cmp;
  if (isScalar(l) && isScalar(r)) {
    if (l.value === null || r.value === null) return scalar(BOOL, null);
    return scalar(BOOL, compareScalars(cmp, l.value, r.value));
  }
  if (isScalar(l)) return compareColumnScalar(FLIP[cmp], r as Column, l.value, n);
  if (isScalar(r)) return compareColumnScalar(cmp, l as Column, r.value, n);
  return compareColumns(cmp, l as Column, r as Column, n);
}

function andValidity(a: Uint8Array | null, b: Uint8Array | null, n: number): Uint8Array | null {
  if (!a) return b;
  if (!b) return a;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i] & b[i];
  return out;
}

function compareColumnScalar(op: Cmp, c: Column, value: unknown, n: number): Datum {
  if (value === null) return scalar(BOOL, null);
  const out = new Uint8Array(n);
  if (c.enc === "num") {
    const v = c.values;
    if (v instanceof BigInt64Array) {
      const s = BigInt(value as number | bigint);
      for (let i = 0; i < n; i++) out[i] = test(op, v[i] < s ? -1 : v[i] > s ? 1 : 0);
      return numericColumn(BOOL, out, c.validity);
    }
    const s = typeof value === "boolean" ? Number(value) : Number(value);
    const a = v as Float64Array;
    switch (op) {
      case "=":
        for (let i = 0; i < n; i++) out[i] = a[i] === s ? 1 : 0;
        break;
      case "<>":
        for (let i = 0; i < n; i++) out[i] = a[i] !== s ? 1 : 0;
        break;
      case "<":
        for (let i = 0; i < n; i++) out[i] = a[i] < s ? 1 : 0;
        break;
      case "<=":
        for (let i = 0; i < n; i++) out[i] = a[i] <= s ? 1 : 0;
        break;
      case ">":
        for (let i = 0; i < n; i++) out[i] = a[i] > s ? 1 : 0;
        break;
      case ">=":
        for (let i = 0; i < n; i++) out[i] = a[i] >= s ? 1 : 0;
        break;
    }
    if (c.type.id === "float64") fixNaN(op, out, (i) => a[i], () => s, n);
    return numericColumn(BOOL, out, c.validity);
  }
  const sb = encodeUtf8(String(value));
  if (c.enc === "dict") {
    const d = c.dict;
    const m = d.length;
    const hit = new Uint8Array(m);
    for (let k = 0; k < m; k++) {
      hit[k] = test(op, compareBytes(d.data, d.offsets[k], d.offsets[k + 1], sb, 0, sb.length));
    }
    const idx = c.indices;
    for (let i = 0; i < n; i++) out[i] = hit[idx[i]];
    return numericColumn(BOOL, out, c.validity);
  }
  const { offsets, data } = c;
  if (op === "=" || op === "<>") {
    const want = op === "=" ? 1 : 0;
    for (let i = 0; i < n; i++) {
      out[i] = bytesEqual(data, offsets[i], offsets[i + 1], sb, 0, sb.length) ? want : 1 - want;
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = test(op, compareBytes(data, offsets[i], offsets[i + 1], sb, 0, sb.length));
    }
  }
  return numericColumn(BOOL, out, c.validity);
}

function compareColumns(op: Cmp, a: Column, b: Column, n: number): Datum {
  const out = new Uint8Array(n);
  const validity = andValidity(a.validity, b.validity, n);
  if (a.enc === "num" && b.enc === "num") {
    const x = a.values, y = b.values;
    if (x instanceof BigInt64Array || y instanceof BigInt64Array) {
      for (let i = 0; i < n; i++) {
        const p = BigInt(x[i]), q = BigInt(y[i]);
        out[i] = test(op, p < q ? -1 : p > q ? 1 : 0);
      }
      return numericColumn(BOOL, out, validity);
    }
    const p = x as Float64Array, q = y as Float64Array;
    switch (op) {
      case "=":
        for (let i = 0; i < n; i++) out[i] = p[i] === q[i] ? 1 : 0;
        break;
      case "<>":
        for (let i = 0; i < n; i++) out[i] = p[i] !== q[i] ? 1 : 0;
        break;
      case "<":
        for (let i = 0; i < n; i++) out[i] = p[i] < q[i] ? 1 : 0;
        break;
      case "<=":
        for (let i = 0; i < n; i++) out[i] = p[i] <= q[i] ? 1 : 0;
        break;
      case ">":
        for (let i = 0; i < n; i++) out[i] = p[i] > q[i] ? 1 : 0;
        break;
      case ">=":
        for (let i = 0; i < n; i++) out[i] = p[i] >= q[i] ? 1 : 0;
        break;
    }
    if (a.type.id === "float64") fixNaN(op, out, (i) => p[i], (i) => q[i], n);
    return numericColumn(BOOL, out, validity);
  }
  if (a.enc === "num" || b.enc === "num") {
    throw new SpiceError("INTERNAL", "comparison of a string with a number reached the kernel");
  }
  if (a.enc === "dict" && b.enc === "dict" && a.dict === b.dict && (op === "=" || op === "<>")) {
    const x = a.indices, y = b.indices;
    const eq = op === "=" ? 1 : 0;
    for (let i = 0; i < n; i++) out[i] = x[i] === y[i] ? eq : 1 - eq;
    return numericColumn(BOOL, out, validity);
  }
  const sa = strings(a), sb = strings(b);
  for (let i = 0; i < n; i++) {
    const ia = sa.index(i), ib = sb.index(i);
    out[i] = test(
      op,
      compareBytes(
        sa.data,
        sa.offsets[ia],
        sa.offsets[ia + 1],
        sb.data,
        sb.offsets[ib],
        sb.offsets[ib + 1],
      ),
    );
  }
  return numericColumn(BOOL, out, validity);
}

/** Uniform access to utf8 and dict columns: the string of row i is at index(i) in offsets/data. */
export function strings(c: Utf8Column | DictColumn): {
  data: Uint8Array;
  offsets: Int32Array;
  index: (i: number) => number;
} {
  if (c.enc === "dict") {
    const idx = c.indices;
    return { data: c.dict.data, offsets: c.dict.offsets, index: (i) => idx[i] };
  }
  return { data: c.data, offsets: c.offsets, index: (i) => i };
}

function distinct(op: BinaryOp, l: Datum, r: Datum, n: number): Datum {
  const want = op === "is_distinct" ? 1 : 0;
  const eq = compare("=", l, r, n);
  const lv = (i: number) => (isScalar(l) ? l.value !== null : !l.validity || l.validity[i] === 1);
  const rv = (i: number) => (isScalar(r) ? r.value !== null : !r.validity || r.validity[i] === 1);
  if (isScalar(l) && isScalar(r)) {
    const a = lv(0), b = rv(0);
    const same = a && b ? (eq as { value: unknown }).value === true : a === b;
    return scalar(BOOL, same ? want === 0 : want === 1);
  }
  // A NULL scalar on one side makes `=` a single NULL: read each row's validity instead.
  const ev = isScalar(eq) ? null : (eq as NumericColumn).values as Uint8Array;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = lv(i), b = rv(i);
    const same = a && b ? (ev ? ev[i] === 1 : (eq as { value: unknown }).value === true) : a === b;
    out[i] = same ? 1 - want : want;
  }
  return numericColumn(BOOL, out, null);
}
