/**
 * Test support for the kernel tests: building datums in every encoding,
 * reading results, rendering values as DuckDB literals, and asking DuckDB
 * (the reference engine) for expected values.
 *
 * @module
 */

import {
  type Column,
  columnFromValues,
  dictColumn,
  type Utf8Column,
  type Value,
  valueAt,
} from "../../../src/arrow/column.ts";
import { type DataType, UTF8 } from "../../../src/arrow/types.ts";
import { type Datum, isScalar, scalar } from "../../../src/exec/datum.ts";
import { formatDecimal } from "../../../src/exec/kernels/cast.ts";
import { formatDate, formatTimestamp } from "../../../src/sql/literals.ts";
import { Reference } from "../../support/duckdb.ts";

let ref: Promise<Reference> | null = null;

/** Runs SQL on the module's DuckDB; rows of JSON values. */
export async function duck(sql: string): Promise<unknown[][]> {
  ref ??= Reference.open();
  return (await (await ref).rows(sql)).rows;
}

/** The DuckDB error message of a statement, or null when it succeeds. */
export async function duckError(sql: string): Promise<string | null> {
  try {
    await duck(sql);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** A column of storage values. */
export function column(type: DataType, values: readonly Value[]): Column {
  return columnFromValues(type, values);
}

/** A dictionary-encoded string column (entries deduplicated, NULL rows invalid). */
export function dictOf(values: readonly (string | null)[]): Column {
  const entries = [...new Set(values.filter((v): v is string => v !== null))];
  // Entries in reverse insertion order so that codes do not follow string order.
  entries.reverse();
  const codes = Int32Array.from(values, (v) => (v === null ? 0 : entries.indexOf(v)));
  const validity = values.some((v) => v === null)
    ? Uint8Array.from(values, (v) => (v === null ? 0 : 1))
    : null;
  return dictColumn(codes, columnFromValues(UTF8, entries) as Utf8Column, validity);
}

/** Every row of a datum as JavaScript values (a scalar repeats for n rows). */
export function rows(d: Datum, n: number): Value[] {
  if (isScalar(d)) return Array.from({ length: n }, () => d.value as Value);
  return Array.from({ length: n }, (_, i) => valueAt(d, i));
}

/** A scalar datum. */
export function sc(type: DataType, value: Value): Datum {
  return scalar(type, value);
}

/** A storage value as a DuckDB literal of the type. */
export function sqlLiteral(type: DataType, v: Value): string {
  if (v === null) return `NULL::${sqlTypeName(type)}`;
  switch (type.id) {
    case "utf8":
      return `'${String(v).replaceAll("'", "''")}'`;
    case "bool":
      return v ? "true" : "false";
    case "float64": {
      const x = Number(v);
      if (Number.isNaN(x)) return "'nan'::DOUBLE";
      if (x === Infinity) return "'inf'::DOUBLE";
      if (x === -Infinity) return "'-inf'::DOUBLE";
      if (Object.is(x, -0)) return "'-0'::DOUBLE";
      return `(${x})::DOUBLE`;
    }
    case "decimal":
      return `(${formatDecimal(v as number | bigint, type.scale)})::${sqlTypeName(type)}`;
    case "date32":
      return `DATE '${formatDate(Number(v))}'`;
    case "timestamp":
      return `TIMESTAMP '${formatTimestamp(Number(v))}'`;
    default:
      return `(${String(v)})::${sqlTypeName(type)}`;
  }
}

/** DuckDB's name of an engine type. */
export function sqlTypeName(t: DataType): string {
  switch (t.id) {
    case "int32":
      return "INTEGER";
    case "int64":
      return "BIGINT";
    case "float64":
      return "DOUBLE";
    case "decimal":
      return `DECIMAL(${t.precision},${t.scale})`;
    case "utf8":
      return "VARCHAR";
    case "bool":
      return "BOOLEAN";
    case "date32":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    default:
      return "INTEGER";
  }
}

/** DuckDB JSON booleans (true/false/null) as engine values. */
export function duckBool(v: unknown): Value {
  return v === null ? null : v === true;
}

/** DuckDB JSON doubles ("NaN", "Infinity" strings) as numbers. */
export function duckDouble(v: unknown): Value {
  if (v === null) return null;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return Number(v);
}

/** A DuckDB JSON decimal ("12.50") as an unscaled bigint at `scale`. */
export function duckDecimal(v: unknown, scale: number): bigint | null {
  if (v === null) return null;
  const s = String(v);
  const neg = s.startsWith("-");
  const [i, f = ""] = (neg ? s.slice(1) : s).split(".");
  const digits = BigInt(i + f.padEnd(scale, "0"));
  return neg ? -digits : digits;
}

/** Engine cell as an exact bigint when it is an integer (numbers and bigints compare alike). */
export function exact(v: Value): Value {
  return typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v;
}
