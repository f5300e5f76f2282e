/**
 * Conversion between the engine's columns and apache-arrow's Data/RecordBatch,
 * and Arrow IPC stream encoding. Buffers are shared where the layouts agree
 * (Int32, Float64, Utf8, Date32) and converted where the engine chose a faster
 * in-memory form (byte validity, byte booleans, int64 as doubles).
 *
 * @module
 */

import * as arrow from "apache-arrow";
import {
  type Column,
  concatColumns,
  decodeDict,
  dictColumn,
  type NumericColumn,
  numericColumn,
  type Utf8Column,
  utf8Column,
} from "./column.ts";
import { type RecordBatch, recordBatch } from "./batch.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  type Field,
  FLOAT64,
  INT32,
  INT64,
  NULL,
  type Schema,
  TIMESTAMP,
  typeToString,
  UTF8,
} from "./types.ts";
import { SpiceError } from "../errors.ts";

// ---------------------------------------------------------------------------
// bit packing

/** Packs one-byte-per-row validity into an Arrow LSB bitmap. */
export function packBits(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bytes[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** Unpacks `n` bits starting at bit `offset` of an Arrow bitmap into bytes. */
export function unpackBits(bits: Uint8Array, offset: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = i + offset;
    out[i] = (bits[b >> 3] >> (b & 7)) & 1;
  }
  return out;
}

// ---------------------------------------------------------------------------
// types

/** The Arrow type used on the wire for an engine type. */
export function toArrowType(t: DataType): arrow.DataType {
  switch (t.id) {
    case "null":
      return new arrow.Null();
    case "bool":
      return new arrow.Bool();
    case "int32":
      return new arrow.Int32();
    case "int64":
      return new arrow.Int64();
    case "float64":
      return new arrow.Float64();
    case "decimal":
      return new arrow.Decimal(t.scale, t.precision, 128);
    case "utf8":
      return new arrow.Utf8();
    case "date32":
      return new arrow.DateDay();
    case "timestamp":
      return new arrow.TimestampMicrosecond();
    case "interval":
      return new arrow.Utf8();
  }
}

/** The engine type for an Arrow type, or an error naming the unsupported type. */
export function fromArrowType(t: arrow.DataType): DataType {
  switch (t.typeId) {
    case arrow.Type.Null:
      return NULL;
    case arrow.Type.Bool:
      return BOOL;
    case arrow.Type.Int: {
      const it = t as arrow.Int;
      return it.bitWidth < 32 || (it.bitWidth === 32 && it.isSigned) ? INT32 : INT64;
    }
    case arrow.Type.Float:
      return FLOAT64;
    case arrow.Type.Decimal: {
      const d = t as arrow.Decimal;
      return decimal(d.precision, d.scale);
    }
    case arrow.Type.Utf8:
    case arrow.Type.LargeUtf8:
      return UTF8;
    case arrow.Type.Date:
      return DATE32;
    case arrow.Type.Timestamp:
      return TIMESTAMP;
    case arrow.Type.Dictionary:
      return fromArrowType((t as arrow.Dictionary).dictionary);
    default:
      throw new SpiceError("NOT_SUPPORTED", `not supported: Arrow type ${t}`);
  }
}

/** The Arrow schema for an engine schema. */
export function toArrowSchema(s: Schema): arrow.Schema {
  return new arrow.Schema(
    s.fields.map((f) => new arrow.Field(f.name, toArrowType(f.type), f.nullable)),
  );
}

/** The engine schema for an Arrow schema. */
export function fromArrowSchema(s: arrow.Schema): Schema {
  return {
    fields: s.fields.map((f): Field => ({
      name: f.name,
      type: fromArrowType(f.type),
      nullable: f.nullable,
    })),
  };
}

// ---------------------------------------------------------------------------
// columns -> arrow

function validityBitmap(col: Column): { nullBitmap?: Uint8Array; nullCount: number } {
  if (!col.validity) return { nullCount: 0 };
  let nulls = 0;
  for (let i = 0; i < col.length; i++) nulls += 1 - col.validity[i];
  return nulls === 0 ? { nullCount: 0 } : { nullBitmap: packBits(col.validity), nullCount: nulls };
}

const TWO32 = 4294967296;

/** Encodes unscaled decimal values as little-endian 128-bit words. */
function decimalWords(values: Float64Array | BigInt64Array): Uint32Array {
  const n = values.length;
  const out = new Uint32Array(n * 4);
  if (values instanceof BigInt64Array) {
    const view = new BigInt64Array(out.buffer);
    for (let i = 0; i < n; i++) {
      view[2 * i] = values[i];
      view[2 * i + 1] = values[i] < 0n ? -1n : 0n;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const neg = v < 0;
    let mag = Math.abs(v);
    let lo = mag % TWO32;
    let hi = Math.floor(mag / TWO32);
    if (neg) {
      // two's complement of (hi, lo) over 128 bits
      lo = (~lo >>> 0) + 1;
      hi = ~hi >>> 0;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi = (hi + 1) >>> 0;
      }
      mag = 0;
    }
    out[4 * i] = lo;
    out[4 * i + 1] = hi;
    out[4 * i + 2] = neg ? 0xffffffff : 0;
    out[4 * i + 3] = neg ? 0xffffffff : 0;
  }
  return out;
}

/** Converts one engine column to Arrow Data (dictionaries are decoded). */
export function toArrowData(col: Column): arrow.Data {
  const type = toArrowType(col.type);
  const { nullBitmap, nullCount } = validityBitmap(col);
  const length = col.length;
  if (col.enc !== "num") {
    const plain = decodeDict(col) as Utf8Column;
    let offsets = plain.offsets;
    if (offsets[0] !== 0) {
      const base = offsets[0];
      offsets = offsets.map((o) => o - base);
    }
    const data = plain.data.subarray(plain.offsets[0], plain.offsets[length]);
    return arrow.makeData({
      type: type as arrow.Utf8,
      length,
      nullCount,
      nullBitmap,
      valueOffsets: offsets,
      data,
    });
  }
  const v = col.values;
  switch (col.type.id) {
    case "null":
      return arrow.makeData({ type: new arrow.Null(), length });
    case "bool":
      return arrow.makeData({
        type: type as arrow.Bool,
        length,
        nullCount,
        nullBitmap,
        data: packBits(v as Uint8Array),
      });
    case "int64":
    case "timestamp": {
      const out = int64FromNumbers(v as Float64Array, length);
      return arrow.makeData({
        type: type as arrow.Int64,
        length,
        nullCount,
        nullBitmap,
        data: out,
      });
    }
    case "decimal":
      return arrow.makeData({
        type: type as arrow.Decimal,
        length,
        nullCount,
        nullBitmap,
        data: decimalWords(v as Float64Array | BigInt64Array),
      });
    case "interval":
      throw new SpiceError("NOT_SUPPORTED", "not supported: INTERVAL values in results");
    default:
      return arrow.makeData({
        type: type as arrow.Int32,
        length,
        nullCount,
        nullBitmap,
        data: v as Int32Array,
      });
  }
}

/** Converts an engine batch to an apache-arrow RecordBatch. */
export function toArrowBatch(batch: RecordBatch): arrow.RecordBatch {
  const schema = toArrowSchema(batch.schema);
  const children = batch.columns.map(toArrowData);
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length: batch.numRows,
    nullCount: 0,
    children,
  });
  return arrowRecordBatch(schema, data);
}

/**
 * `new arrow.RecordBatch(schema, data)`, keeping duplicate field names:
 * apache-arrow's constructor merges fields by name (so `SELECT 1 AS a, 2.5 AS a`
 * or two aggregate states of the same name would lose a type); the data it
 * builds is right, only its schema is not, so the given schema is put back.
 */
export function arrowRecordBatch(
  schema: arrow.Schema,
  data: arrow.Data<arrow.Struct>,
): arrow.RecordBatch {
  const rb = new arrow.RecordBatch(schema, data);
  (rb as { schema: arrow.Schema }).schema = schema;
  return rb;
}

// ---------------------------------------------------------------------------
// arrow -> columns

function validityOf(d: arrow.Data): Uint8Array | null {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return null;
  return unpackBits(d.nullBitmap, d.offset, d.length);
}

function readDecimal(d: arrow.Data, type: DataType): Float64Array | BigInt64Array {
  const words = d.values as Uint32Array; // already sliced to this Data's rows
  const n = d.length;
  const view = new BigInt64Array(words.buffer, words.byteOffset, (words.length / 2) | 0);
  // The engine keeps 64-bit unscaled values: a 128-bit value beyond that is refused, never truncated.
  for (let i = 0; i < n; i++) {
    const lo = view[2 * i], hi = view[2 * i + 1];
    if (hi !== (lo < 0n ? -1n : 0n)) {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: DECIMAL value wider than 64 bits (${
          type.id === "decimal" ? typeToString(type) : "DECIMAL"
        })`,
      );
    }
  }
  const wide = type.id === "decimal" && type.precision > 18;
  let fits = true;
  if (!wide) {
    for (let i = 0; i < n; i++) {
      const lo = view[2 * i];
      if (lo > 9007199254740991n || lo < -9007199254740991n) {
        fits = false;
        break;
      }
    }
  }
  if (wide || !fits) {
    // Values past 2^53 stay exact in BigInt64 storage (kernels accept either).
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = view[2 * i];
    return out;
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lo = words[4 * i];
    const hi = words[4 * i + 1] | 0; // signed high word of the low 64 bits
    out[i] = hi * TWO32 + lo;
  }
  return out;
}

/**
 * Engine int64 values (doubles holding integers) as Arrow Int64 words. Goes
 * through two 32-bit words per value, not BigInt(): converting through BigInt
 * allocates per value and made encoding a shuffle's int64 keys run at about
 * 150 MB/s. A fraction is truncated (a computed timestamp may carry one), a
 * non-finite value becomes 0.
 */
export function int64FromNumbers(src: Float64Array, n: number): BigInt64Array {
  const out = new BigInt64Array(n);
  const lo = new Uint32Array(out.buffer), hi = new Int32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = src[i];
    const t = x === x && x !== Infinity && x !== -Infinity ? Math.trunc(x) : 0;
    const h = Math.floor(t / TWO32);
    lo[2 * i] = t - h * TWO32;
    hi[2 * i + 1] = h;
  }
  return out;
}

/**
 * Arrow Int64 (or UInt64) words as doubles: exact up to 2^53, correctly
 * rounded beyond, as Number(bigint) would give, without a BigInt per value.
 */
export function numbersFromInt64(vals: BigInt64Array | BigUint64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  const lo = new Uint32Array(vals.buffer, vals.byteOffset, 2 * n);
  if (vals instanceof BigInt64Array) {
    const hi = new Int32Array(vals.buffer, vals.byteOffset, 2 * n);
    for (let i = 0; i < n; i++) out[i] = hi[2 * i + 1] * TWO32 + lo[2 * i];
  } else {
    for (let i = 0; i < n; i++) out[i] = lo[2 * i + 1] * TWO32 + lo[2 * i];
  }
  return out;
}

/**
 * A batch with the storage an Arrow IPC round trip would give it, without
 * the round trip: DECIMAL columns above precision 18, or holding a value past
 * 2^53, in BigInt64 storage, the others in Float64 (readDecimal's rule).
 * Operators fed from several sources (a shuffle read locally for one map and
 * over Flight for another) then see one storage per column; aggregate states
 * assume that.
 */
export function withIpcStorage(batch: RecordBatch): RecordBatch {
  let columns: Column[] | null = null;
  batch.columns.forEach((c, i) => {
    if (c.enc !== "num" || c.type.id !== "decimal") return;
    const v = c.values;
    const wide = c.type.precision > 18;
    let want: "big" | "f64" = wide ? "big" : "f64";
    if (!wide && v instanceof BigInt64Array) {
      for (let k = 0; k < v.length; k++) {
        if (v[k] > 9007199254740991n || v[k] < -9007199254740991n) {
          want = "big";
          break;
        }
      }
    }
    const is = v instanceof BigInt64Array ? "big" : "f64";
    if (is === want) return;
    const out = want === "big"
      ? BigInt64Array.from(v as Float64Array, (x) => BigInt(x))
      : Float64Array.from(v as BigInt64Array, (x) => Number(x));
    columns ??= batch.columns.slice();
    columns[i] = numericColumn(c.type, out, c.validity);
  });
  return columns ? recordBatch(batch.schema, columns, batch.numRows) : batch;
}

/** Converts apache-arrow Data to an engine column of the given engine type. */
export function fromArrowData(d: arrow.Data, type: DataType = fromArrowType(d.type)): Column {
  const validity = validityOf(d);
  const n = d.length;
  // apache-arrow slices value and offset buffers when it slices Data; only
  // bitmaps (validity, booleans) still start `d.offset` bits in.
  const off = 0;
  switch (d.typeId) {
    case arrow.Type.Null:
      return numericColumn(NULL, new Uint8Array(n), new Uint8Array(n));
    case arrow.Type.Bool:
      return numericColumn(BOOL, unpackBits(d.values as Uint8Array, d.offset, n), validity);
    case arrow.Type.Int: {
      const vals = d.values as ArrayLike<number | bigint>;
      if (type.id === "int32") {
        if (vals instanceof Int32Array) {
          return numericColumn(INT32, vals.subarray(off, off + n), validity);
        }
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = Number(vals[off + i]);
        return numericColumn(INT32, out, validity);
      }
      if (vals instanceof BigInt64Array || vals instanceof BigUint64Array) {
        return numericColumn(INT64, numbersFromInt64(vals, n), validity);
      }
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(vals[off + i]);
      return numericColumn(INT64, out, validity);
    }
    case arrow.Type.Float: {
      const vals = d.values as Float32Array | Float64Array | Uint16Array;
      if (vals instanceof Float64Array) {
        return numericColumn(FLOAT64, vals.subarray(off, off + n), validity);
      }
      if (vals instanceof Uint16Array) {
        throw new SpiceError("NOT_SUPPORTED", "not supported: Float16 columns");
      }
      return numericColumn(FLOAT64, Float64Array.from(vals.subarray(off, off + n)), validity);
    }
    case arrow.Type.Decimal:
      return numericColumn(type, readDecimal(d, type), validity);
    case arrow.Type.Date: {
      const dt = d.type as arrow.Date_;
      if (dt.unit === arrow.DateUnit.DAY) {
        return numericColumn(DATE32, (d.values as Int32Array).subarray(off, off + n), validity);
      }
      const vals = d.values as BigInt64Array | Int32Array;
      const out = new Int32Array(n);
      // Date64 may arrive as pairs of int32 words; read through a BigInt64 view.
      const v64 = vals instanceof BigInt64Array
        ? vals
        : new BigInt64Array(vals.buffer, vals.byteOffset, vals.length / 2);
      const ms = numbersFromInt64(v64.subarray(off, off + n), n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(ms[i] / 86400000);
      return numericColumn(DATE32, out, validity);
    }
    case arrow.Type.Timestamp: {
      const tt = d.type as arrow.Timestamp;
      const vals = d.values as BigInt64Array | Int32Array;
      const v64 = vals instanceof BigInt64Array
        ? vals
        : new BigInt64Array(vals.buffer, vals.byteOffset, vals.length / 2);
      const scale = [1e6, 1e3, 1, 1e-3][tt.unit];
      let out: Float64Array = new Float64Array(n);
      if (scale >= 1) {
        out = numbersFromInt64(v64.subarray(off, off + n), n);
        if (scale !== 1) { for (let i = 0; i < n; i++) out[i] *= scale; }
      } else {
        // Nanoseconds pass 2^53: divide exactly in BigInt (flooring), then convert.
        for (let i = 0; i < n; i++) {
          const v = BigInt(v64[off + i]);
          const q = v / 1000n;
          out[i] = Number(v % 1000n < 0n ? q - 1n : q);
        }
      }
      return numericColumn(TIMESTAMP, out, validity);
    }
    case arrow.Type.Utf8: {
      const offsets = (d.valueOffsets as Int32Array).subarray(off, off + n + 1);
      return utf8Column(UTF8, offsets, d.values as Uint8Array, validity);
    }
    case arrow.Type.LargeUtf8: {
      const lo = d.valueOffsets as unknown as BigInt64Array;
      const offsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) offsets[i] = Number(lo[off + i]);
      return utf8Column(UTF8, offsets, d.values as Uint8Array, validity);
    }
    case arrow.Type.Dictionary: {
      const dictVec = d.dictionary!;
      const dictCol = fromArrowVector(dictVec);
      const keys = d.values as ArrayLike<number>;
      const idx = keys instanceof Int32Array
        ? keys.subarray(off, off + n)
        : Int32Array.from({ length: n }, (_, i) => Number(keys[off + i]));
      if (dictCol.enc === "utf8") return dictColumn(idx, dictCol, validity);
      // Non-string dictionaries are decoded: the engine only dictionary-encodes strings.
      const vals = (dictCol as NumericColumn).values as Float64Array;
      const out = new (vals.constructor as Float64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) out[i] = vals[idx[i]];
      return numericColumn(dictCol.type, out, validity);
    }
    default:
      throw new SpiceError("NOT_SUPPORTED", `not supported: Arrow type ${d.type}`);
  }
}

/** Converts a (possibly chunked) apache-arrow Vector to one engine column. */
export function fromArrowVector(v: arrow.Vector): Column {
  if (v.data.length === 1) return fromArrowData(v.data[0]);
  return concatColumns(v.data.map((d) => fromArrowData(d)));
}

/** Converts an apache-arrow RecordBatch to an engine batch (with an optional target schema). */
export function fromArrowBatch(b: arrow.RecordBatch, target?: Schema): RecordBatch {
  const schema = target ?? fromArrowSchema(b.schema);
  const columns = schema.fields.map((f, i) => fromArrowData(b.data.children[i], f.type));
  return recordBatch(schema, columns, b.numRows);
}

// ---------------------------------------------------------------------------
// IPC

/** Encodes batches as one Arrow IPC stream. */
export function batchesToIPC(schema: Schema, batches: Iterable<RecordBatch>): Uint8Array {
  const writer = new arrow.RecordBatchStreamWriter();
  writer.reset(undefined, toArrowSchema(schema));
  for (const b of batches) writer.write(toArrowBatch(b));
  writer.finish();
  return writer.toUint8Array(true);
}

/** Decodes an Arrow IPC stream (or file) into engine batches. */
export function ipcToBatches(bytes: Uint8Array): { schema: Schema; batches: RecordBatch[] } {
  const reader = arrow.RecordBatchReader.from(bytes);
  reader.open();
  const schema = fromArrowSchema(reader.schema);
  const batches: RecordBatch[] = [];
  for (const b of reader) batches.push(fromArrowBatch(b as arrow.RecordBatch, schema));
  return { schema, batches };
}
