/**
 * Datum: what evaluating an expression over a batch yields, either a column
 * (one value per row) or a scalar (one value for every row). Kernels take
 * both, so constants are never expanded into columns.
 *
 * @module
 */

import {
  allocValues,
  type Column,
  columnFromValues,
  isValid,
  nullColumn,
  type NumericColumn,
  numericColumn,
  stringAt,
  Utf8Builder,
  type Value,
  valueAt,
} from "../arrow/column.ts";
import type { DataType } from "../arrow/types.ts";
import type { IntervalValue } from "../plan/expr.ts";

/** One value standing for every row. `value` is in storage form (days, micros, unscaled decimal). */
export interface Scalar {
  readonly kind: "scalar";
  readonly type: DataType;
  readonly value: Value | IntervalValue;
}

/** A column or a scalar. */
export type Datum = Column | Scalar;

/**
 * A scalar function's kernel: `args` are the evaluated arguments (already cast
 * to the signature's types), `n` the number of rows, `type` the result type.
 */
export type ScalarFunctionImpl = (args: readonly Datum[], n: number, type: DataType) => Datum;

/** Makes a scalar. */
export function scalar(type: DataType, value: Value | IntervalValue): Scalar {
  return { kind: "scalar", type, value };
}

/** True for scalars. */
export function isScalar(d: Datum): d is Scalar {
  return (d as Scalar).kind === "scalar";
}

/** True for a scalar NULL. */
export function isNullScalar(d: Datum): boolean {
  return isScalar(d) && d.value === null;
}

/** Expands a datum to a column of `n` rows. */
export function toColumn(d: Datum, n: number): Column {
  if (!isScalar(d)) return d;
  if (d.value === null) return nullColumn(d.type, n);
  if (d.type.id === "utf8") {
    const b = new Utf8Builder(n, String(d.value).length);
    const s = String(d.value);
    for (let i = 0; i < n; i++) b.append(s);
    return b.finish(d.type);
  }
  if (typeof d.value === "bigint") {
    return numericColumn(d.type, new BigInt64Array(n).fill(d.value));
  }
  const arr = allocValues(d.type, n) as Float64Array;
  const v = typeof d.value === "boolean" ? (d.value ? 1 : 0) : Number(d.value);
  arr.fill(v);
  return numericColumn(d.type, arr);
}

/** The value at row i (scalars give their value for every row). */
export function datumValue(d: Datum, i: number): Value | IntervalValue {
  return isScalar(d) ? d.value : valueAt(d, i);
}

/** The string at row i, or null. */
export function datumString(d: Datum, i: number): string | null {
  if (isScalar(d)) return d.value === null ? null : String(d.value);
  if (!isValid(d, i)) return null;
  if (d.enc === "num") return String(valueAt(d, i));
  return stringAt(d, i);
}

/** Numeric storage of a datum's column, or its scalar value. */
export function numericValues(d: Datum): NumericColumn["values"] | number | null {
  if (isScalar(d)) return d.value === null ? null : Number(d.value);
  return (d as NumericColumn).values;
}

/**
 * Combined validity of several inputs: null when every row is valid, else one
 * byte per row (1 = every input valid at that row). A NULL scalar makes all rows null.
 */
export function combineValidity(args: readonly Datum[], n: number): Uint8Array | null {
  let out: Uint8Array | null = null;
  for (const a of args) {
    if (isScalar(a)) {
      if (a.value === null) return new Uint8Array(n);
      continue;
    }
    if (!a.validity) continue;
    if (!out) out = a.validity.slice(0, n);
    else for (let i = 0; i < n; i++) out[i] &= a.validity[i];
  }
  return out;
}

/** Builds a column from per-row JavaScript values (slow path for rare functions). */
export function columnFromRowValues(type: DataType, values: readonly Value[]): Column {
  return columnFromValues(type, values);
}
