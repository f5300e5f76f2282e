/**
 * Decoding of Parquet column-chunk statistics (min, max, null count) into
 * engine values, for row-group pruning and planning.
 *
 * Min and max are stored PLAIN-encoded (parquet.thrift, `Statistics`): 4 or 8
 * little-endian bytes for ints and floats, raw bytes for strings, big-endian
 * two's complement for decimals stored as byte arrays. Values come out in the
 * engine's representation of the column type: days for dates, microseconds
 * for timestamps, unscaled integers for decimals (a bigint when beyond 2^53,
 * so that pruning stays exact).
 *
 * @module
 */

import type { Value } from "../../arrow/column.ts";
import type { ParquetColumn, ValueKind } from "./schema.ts";

/** The `Statistics` struct as stored, before decoding. */
export interface RawStatistics {
  /** Legacy fields, written with signed byte order: trusted only for signed types. */
  readonly max: Uint8Array | null;
  readonly min: Uint8Array | null;
  readonly nullCount: number | null;
  readonly maxValue: Uint8Array | null;
  readonly minValue: Uint8Array | null;
}

/** Decoded statistics of one column chunk. */
export interface ColumnStats {
  /** Smallest non-null value, or null when unknown (or every value is null). */
  readonly min: Value;
  /** Largest non-null value, or null when unknown. */
  readonly max: Value;
  /** Number of nulls, or null when the writer did not record it. */
  readonly nullCount: number | null;
}

const TWO32 = 4294967296;
const decoder = new TextDecoder();

function int32LE(b: Uint8Array): number {
  return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
}

function uint64Parts(b: Uint8Array): { lo: number; hi: number } {
  return {
    lo: (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0,
    hi: b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24),
  };
}

/** An exact integer as a number when safe, else a bigint. */
function exact(hi: number, lo: number): number | bigint {
  const v = hi * TWO32 + lo;
  if (Number.isSafeInteger(v)) return v;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Big-endian two's complement bytes (decimal as BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY). */
function bigEndianSigned(b: Uint8Array): number | bigint | null {
  if (b.length === 0) return null;
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]);
  if (b[0] & 0x80) v -= 1n << BigInt(8 * b.length);
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/** Decodes one plain-encoded statistics value; null when the bytes do not fit the kind. */
export function decodeStatValue(kind: ValueKind, b: Uint8Array): Value {
  switch (kind) {
    case "bool":
      return b.length >= 1 ? b[0] !== 0 : null;
    case "int32":
      return b.length >= 4 ? int32LE(b) : null;
    case "uint32":
      return b.length >= 4 ? int32LE(b) >>> 0 : null;
    case "int64":
    case "uint64":
    case "ts_millis":
    case "ts_micros":
    case "ts_nanos": {
      if (b.length < 8) return null;
      const { lo, hi } = uint64Parts(b);
      if (kind === "uint64") return exact(hi >>> 0, lo);
      if (kind === "ts_millis") return (hi * TWO32 + lo) * 1000;
      if (kind === "ts_nanos") {
        // hi*2^32 = hi*4294967*1000 + hi*296: floor-divides by 1000 without losing precision.
        return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
      }
      if (kind === "ts_micros") return hi * TWO32 + lo;
      return exact(hi, lo);
    }
    case "float":
      return b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true) : null;
    case "double":
      return b.length >= 8 ? new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true) : null;
    case "bytes_decimal":
      return bigEndianSigned(b);
    case "string":
      return decoder.decode(b);
    case "none":
      return null;
  }
}

/**
 * Decodes a chunk's statistics for a column, applying the specification's
 * caveats: legacy min/max only for signed orders, NaN bounds discarded, and
 * a zero bound widened to cover both signed zeros.
 */
export function decodeStatistics(col: ParquetColumn, raw: RawStatistics): ColumnStats {
  let minB = raw.minValue;
  let maxB = raw.maxValue;
  if ((minB === null || maxB === null) && col.signedOrder) {
    minB = raw.min;
    maxB = raw.max;
  }
  let min: Value = null;
  let max: Value = null;
  if (minB !== null && maxB !== null && col.valueKind !== "none") {
    min = decodeStatValue(col.valueKind, minB);
    max = decodeStatValue(col.valueKind, maxB);
    const floating = col.valueKind === "float" || col.valueKind === "double";
    if (floating && typeof min === "number" && typeof max === "number") {
      if (Number.isNaN(min) || Number.isNaN(max)) min = max = null;
      // Writers differ on -0 vs +0; the spec says to read a zero min as -0 and a zero max as +0.
      else {
        if (min === 0) min = -0;
        if (max === 0) max = 0;
      }
    }
    if (min === null || max === null) min = max = null;
  }
  return { min, max, nullCount: raw.nullCount };
}
