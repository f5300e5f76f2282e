/**
 * Logical data types of the engine and the schema of a record batch.
 *
 * Every type has one fixed physical storage (see `column.ts`), chosen for fast
 * vectorised loops in JavaScript rather than for byte-compatibility with Arrow;
 * `interop.ts` converts to and from real Arrow at the process boundary.
 *
 * @module
 */

/** The SQL types the engine knows. */
export type DataType =
  | { readonly id: "null" }
  | { readonly id: "bool" }
  | { readonly id: "int32" }
  | { readonly id: "int64" }
  | { readonly id: "float64" }
  | { readonly id: "decimal"; readonly precision: number; readonly scale: number }
  | { readonly id: "utf8" }
  | { readonly id: "date32" }
  | { readonly id: "timestamp" }
  | { readonly id: "interval" };

/** The name of a type, as used in switch statements. */
export type TypeId = DataType["id"];

/** Singleton instances of the parameterless types. */
export const NULL: DataType = { id: "null" };
/** Boolean, stored one byte per value (0 or 1). */
export const BOOL: DataType = { id: "bool" };
/** 32-bit integer, stored in an Int32Array. */
export const INT32: DataType = { id: "int32" };
/**
 * 64-bit integer, stored in a Float64Array: exact up to 2^53, which keeps every
 * arithmetic loop in fast double arithmetic instead of BigInt.
 */
export const INT64: DataType = { id: "int64" };
/** IEEE double, stored in a Float64Array. */
export const FLOAT64: DataType = { id: "float64" };
/** UTF-8 string: Int32 offsets plus a byte buffer, or dictionary-encoded. */
export const UTF8: DataType = { id: "utf8" };
/** Days since 1970-01-01, stored in an Int32Array. */
export const DATE32: DataType = { id: "date32" };
/** Microseconds since the epoch (no time zone), stored in a Float64Array. */
export const TIMESTAMP: DataType = { id: "timestamp" };
/** A calendar interval (months, days, microseconds); only ever a scalar. */
export const INTERVAL: DataType = { id: "interval" };

/** A decimal type with the given precision and scale. */
export function decimal(precision: number, scale: number): DataType {
  return { id: "decimal", precision: Math.min(38, precision), scale };
}

/** True for types whose values are numbers that arithmetic applies to. */
export function isNumeric(t: DataType): boolean {
  return t.id === "int32" || t.id === "int64" || t.id === "float64" || t.id === "decimal";
}

/** True for integer types. */
export function isInteger(t: DataType): boolean {
  return t.id === "int32" || t.id === "int64";
}

/** True when both types are the same, parameters included. */
export function typeEquals(a: DataType, b: DataType): boolean {
  if (a.id !== b.id) return false;
  if (a.id === "decimal" && b.id === "decimal") {
    return a.precision === b.precision && a.scale === b.scale;
  }
  return true;
}

/** The SQL name of a type, as DuckDB prints it. */
export function typeToString(t: DataType): string {
  switch (t.id) {
    case "null":
      return "NULL";
    case "bool":
      return "BOOLEAN";
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
    case "date32":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    case "interval":
      return "INTERVAL";
  }
}

/** One column of a schema. */
export interface Field {
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean;
}

/** The ordered fields of a record batch or a plan's output. */
export interface Schema {
  readonly fields: readonly Field[];
}

/** Makes a field. */
export function field(name: string, type: DataType, nullable = true): Field {
  return { name, type, nullable };
}

/** Makes a schema from its fields. */
export function schema(fields: readonly Field[]): Schema {
  return { fields };
}

/** Index of the field with this name (case-insensitive), or -1. */
export function fieldIndex(s: Schema, name: string): number {
  const lower = name.toLowerCase();
  return s.fields.findIndex((f) => f.name.toLowerCase() === lower);
}
