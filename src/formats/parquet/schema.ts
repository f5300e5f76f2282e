/**
 * Parquet's schema model (SchemaElement, physical, converted and logical
 * types) and its mapping to engine types.
 *
 * Written from the Parquet format specification (parquet.thrift and
 * LogicalTypes.md). A Parquet schema is a flattened tree: the first element is
 * the root, and each group element is followed by its `num_children`
 * descendants. The engine reads only flat (top-level, non-repeated, primitive)
 * columns; a nested column is described with the reason it cannot be read, so
 * that a query that does not project it still works.
 *
 * @module
 */

import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  type Field,
  field,
  FLOAT64,
  INT32,
  INT64,
  NULL,
  TIMESTAMP,
  UTF8,
} from "../../arrow/types.ts";

/** Parquet physical types (`Type` in parquet.thrift). */
export const PhysicalType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;

/** Legacy type annotations (`ConvertedType` in parquet.thrift). */
export const ConvertedType = {
  UTF8: 0,
  MAP: 1,
  MAP_KEY_VALUE: 2,
  LIST: 3,
  ENUM: 4,
  DECIMAL: 5,
  DATE: 6,
  TIME_MILLIS: 7,
  TIME_MICROS: 8,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
  JSON: 19,
  BSON: 20,
  INTERVAL: 21,
} as const;

/** Field repetition (`FieldRepetitionType`). */
export const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;

/** A time unit of TIME and TIMESTAMP logical types. */
export type TimeUnit = "millis" | "micros" | "nanos";

/** The `LogicalType` union of parquet.thrift, decoded. */
export type LogicalType =
  | { readonly kind: "string" | "map" | "list" | "enum" | "date" | "unknown" | "json" | "bson" }
  | { readonly kind: "uuid" | "float16" | "variant" | "geometry" | "geography" }
  | { readonly kind: "decimal"; readonly scale: number; readonly precision: number }
  | { readonly kind: "time" | "timestamp"; readonly unit: TimeUnit; readonly utc: boolean }
  | { readonly kind: "integer"; readonly bitWidth: number; readonly signed: boolean }
  | { readonly kind: "other"; readonly id: number };

/** One element of the flattened Parquet schema (`SchemaElement`). */
export interface SchemaElement {
  readonly name: string;
  /** Physical type; null for group (nested) elements. */
  readonly type: number | null;
  readonly typeLength: number | null;
  readonly repetition: number | null;
  /** Number of children; 0 for leaves. */
  readonly numChildren: number;
  readonly convertedType: number | null;
  readonly scale: number | null;
  readonly precision: number | null;
  readonly logicalType: LogicalType | null;
}

/**
 * How the plain-encoded bytes of one value (statistics) map to an engine
 * value. Derived once per column from its physical and logical type.
 */
export type ValueKind =
  | "bool"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float"
  | "double"
  | "bytes_decimal"
  | "string"
  | "ts_millis"
  | "ts_micros"
  | "ts_nanos"
  | "none";

/** A top-level column of a Parquet file. */
export interface ParquetColumn {
  /** The column's name in the file (exact case). */
  readonly name: string;
  /** Index of its first leaf in each row group's column chunk list. */
  readonly leafIndex: number;
  /** Number of leaves (1 for a flat column, more for a struct). */
  readonly leafCount: number;
  /** The engine field, or null when the column cannot be read. */
  readonly field: Field | null;
  /** Why the column cannot be read, or null. */
  readonly unsupported: string | null;
  /** How its statistics decode. */
  readonly valueKind: ValueKind;
  /**
   * True when min/max order is signed, so the legacy `min`/`max` statistics
   * (written before `min_value`/`max_value`, with signed byte comparison) are
   * trustworthy for this column.
   */
  readonly signedOrder: boolean;
}

type Mapped = { type: DataType; kind: ValueKind } | { reason: string };

function timestampKind(unit: TimeUnit): ValueKind {
  return unit === "millis" ? "ts_millis" : unit === "micros" ? "ts_micros" : "ts_nanos";
}

/** Maps a leaf element to an engine type, or explains why it cannot be read. */
function mapLeaf(e: SchemaElement): Mapped {
  const lt = e.logicalType;
  const ct = e.convertedType;
  // A logical type wins over a converted type; writers set both for compatibility.
  const dec = lt?.kind === "decimal"
    ? { precision: lt.precision, scale: lt.scale }
    : lt === null && ct === ConvertedType.DECIMAL
    ? { precision: e.precision ?? 0, scale: e.scale ?? 0 }
    : null;
  if (dec !== null && (dec.precision < 1 || dec.precision > 38)) {
    return { reason: `DECIMAL precision ${dec.precision} (the engine supports 1 to 38)` };
  }
  if (lt?.kind === "unknown") return { type: NULL, kind: "none" };
  switch (e.type) {
    case PhysicalType.BOOLEAN:
      return { type: BOOL, kind: "bool" };
    case PhysicalType.INT32: {
      if (dec) return { type: decimal(dec.precision, dec.scale), kind: "int32" };
      if (lt?.kind === "date" || (lt === null && ct === ConvertedType.DATE)) {
        return { type: DATE32, kind: "int32" };
      }
      if (lt?.kind === "time" || ct === ConvertedType.TIME_MILLIS) return { reason: "TIME" };
      // UINT_32 does not fit an int32; every narrower integer does.
      if (
        (lt?.kind === "integer" && !lt.signed && lt.bitWidth === 32) ||
        (lt === null && ct === ConvertedType.UINT_32)
      ) return { type: INT64, kind: "uint32" };
      if (lt?.kind === "integer" && !lt.signed) return { type: INT32, kind: "uint32" };
      if (lt === null && (ct === ConvertedType.UINT_8 || ct === ConvertedType.UINT_16)) {
        return { type: INT32, kind: "uint32" };
      }
      return { type: INT32, kind: "int32" };
    }
    case PhysicalType.INT64: {
      if (dec) return { type: decimal(dec.precision, dec.scale), kind: "int64" };
      if (lt?.kind === "timestamp") return { type: TIMESTAMP, kind: timestampKind(lt.unit) };
      if (lt === null && ct === ConvertedType.TIMESTAMP_MILLIS) {
        return { type: TIMESTAMP, kind: "ts_millis" };
      }
      if (lt === null && ct === ConvertedType.TIMESTAMP_MICROS) {
        return { type: TIMESTAMP, kind: "ts_micros" };
      }
      if (lt?.kind === "time" || ct === ConvertedType.TIME_MICROS) return { reason: "TIME" };
      if ((lt?.kind === "integer" && !lt.signed) || (lt === null && ct === ConvertedType.UINT_64)) {
        return { type: INT64, kind: "uint64" };
      }
      return { type: INT64, kind: "int64" };
    }
    case PhysicalType.INT96:
      // Legacy Impala/Spark timestamps; their statistics are undefined by the spec.
      return { type: TIMESTAMP, kind: "none" };
    case PhysicalType.FLOAT:
      return { type: FLOAT64, kind: "float" };
    case PhysicalType.DOUBLE:
      return { type: FLOAT64, kind: "double" };
    case PhysicalType.BYTE_ARRAY:
      if (dec) return { type: decimal(dec.precision, dec.scale), kind: "bytes_decimal" };
      if (lt?.kind === "bson" || ct === ConvertedType.BSON) return { reason: "BSON" };
      if (lt !== null && lt.kind !== "string" && lt.kind !== "enum" && lt.kind !== "json") {
        return { reason: `BYTE_ARRAY with logical type ${lt.kind.toUpperCase()}` };
      }
      // Strings, and unannotated binary: the engine has no BLOB type, and older
      // Hive/Impala writers store strings without an annotation.
      return { type: UTF8, kind: "string" };
    case PhysicalType.FIXED_LEN_BYTE_ARRAY:
      if (dec) return { type: decimal(dec.precision, dec.scale), kind: "bytes_decimal" };
      if (ct === ConvertedType.INTERVAL) return { reason: "INTERVAL" };
      return {
        reason: lt ? `FIXED_LEN_BYTE_ARRAY ${lt.kind.toUpperCase()}` : "FIXED_LEN_BYTE_ARRAY",
      };
    default:
      return { reason: `physical type ${e.type}` };
  }
}

function nestedReason(e: SchemaElement): string {
  const lt = e.logicalType?.kind;
  if (lt === "list" || e.convertedType === ConvertedType.LIST) return "nested type LIST";
  if (
    lt === "map" || e.convertedType === ConvertedType.MAP ||
    e.convertedType === ConvertedType.MAP_KEY_VALUE
  ) return "nested type MAP";
  return "nested type STRUCT";
}

/**
 * Resolves the flattened schema into its top-level columns, in file order.
 * Throws a plain Error (the caller names the file) when the tree is malformed.
 */
export function topLevelColumns(elements: readonly SchemaElement[]): ParquetColumn[] {
  if (elements.length === 0) throw new Error("empty schema");
  const root = elements[0];
  const out: ParquetColumn[] = [];
  let at = 1;
  let leaf = 0;
  // Counts the leaves under the element at `i` and returns the index after its subtree.
  const walk = (i: number): { next: number; leaves: number } => {
    if (i >= elements.length) throw new Error("schema tree is truncated");
    const e = elements[i];
    if (e.numChildren === 0) return { next: i + 1, leaves: 1 };
    let next = i + 1;
    let leaves = 0;
    for (let c = 0; c < e.numChildren; c++) {
      const r = walk(next);
      next = r.next;
      leaves += r.leaves;
    }
    return { next, leaves };
  };
  for (let c = 0; c < root.numChildren; c++) {
    const e = elements[at];
    const { next, leaves } = walk(at);
    const nullable = e.repetition !== Repetition.REQUIRED;
    let mapped: Mapped;
    if (e.numChildren > 0 || e.type === null) mapped = { reason: nestedReason(e) };
    else if (e.repetition === Repetition.REPEATED) mapped = { reason: "repeated field" };
    else mapped = mapLeaf(e);
    const kind = "type" in mapped ? mapped.kind : "none";
    out.push({
      name: e.name,
      leafIndex: leaf,
      leafCount: leaves,
      field: "type" in mapped ? field(e.name, mapped.type, nullable) : null,
      unsupported: "reason" in mapped ? mapped.reason : null,
      valueKind: kind,
      signedOrder: kind === "bool" || kind === "int32" || kind === "int64" || kind === "float" ||
        kind === "double" || kind === "ts_millis" || kind === "ts_micros" || kind === "ts_nanos",
    });
    at = next;
    leaf += leaves;
  }
  if (at !== elements.length) throw new Error("schema has elements outside the root");
  return out;
}
