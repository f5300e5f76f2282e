/**
 * Tests of the Arrow C Data Interface import from parquet-wasm's memory:
 * Arrow types that Parquet files can decode to, sliced arrays (offsets),
 * nulls, dictionaries, and refusals.
 */
import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import * as pw from "parquet-wasm";
import {
  type Column,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  TIMESTAMP,
  UTF8,
  type Value,
  valueAt,
} from "../../../src/arrow/mod.ts";
import { SpiceError } from "../../../src/errors.ts";
import { importBatch } from "../../../src/formats/parquet/ffi.ts";

/** Sends an Arrow table into WebAssembly, slices its first batch, and imports it back. */
function roundTrip(
  table: arrow.Table,
  types: DataType[],
  slice?: [number, number],
): { names: string[]; columns: Column[] } {
  const wt = pw.Table.fromIPCStream(arrow.tableToIPC(table, "stream"));
  let rb = wt.recordBatch(0)!;
  wt.free();
  if (slice) {
    const s = rb.slice(slice[0], slice[1]);
    rb.free();
    rb = s;
  }
  const ffi = rb.intoFFI();
  try {
    const b = importBatch(pw.wasmMemory(), ffi.arrayAddr(), ffi.schemaAddr());
    return { names: [...b.names], columns: types.map((t, i) => b.column(i, t)) };
  } finally {
    ffi.free();
  }
}

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

function vec(type: arrow.DataType, data: unknown[]): arrow.Vector {
  return arrow.vectorFromArray(data, type);
}

/** A 64-bit vector from raw values (arrow-js builders take timestamps in milliseconds). */
function int64Vector(type: arrow.DataType, raw: (bigint | null)[]): arrow.Vector {
  const valid = new Uint8Array(Math.ceil(raw.length / 8));
  raw.forEach((v, i) => {
    if (v !== null) valid[i >> 3] |= 1 << (i & 7);
  });
  const nulls = raw.filter((v) => v === null).length;
  return arrow.makeVector(arrow.makeData({
    type: type as arrow.Int64,
    length: raw.length,
    nullCount: nulls,
    nullBitmap: nulls ? valid : undefined,
    data: BigInt64Array.from(raw, (v) => v ?? 0n),
  }));
}

Deno.test("integers, floats, dates and timestamps of every width and unit", () => {
  const t = new arrow.Table({
    i8: vec(new arrow.Int8(), [-128, 0, 127, null]),
    u16: vec(new arrow.Uint16(), [0, 65535, 7, 1]),
    u32: vec(new arrow.Uint32(), [4294967295, 0, null, 5]),
    i64: vec(new arrow.Int64(), [-(2n ** 53n) + 1n, 2n ** 40n, 0n, -1n]),
    u64: vec(new arrow.Uint64(), [2n ** 63n, 1n, 0n, 3n]),
    f32: vec(new arrow.Float32(), [1.5, -0.25, null, 3]),
    d64: vec(new arrow.DateMillisecond(), [
      new Date(Date.UTC(1969, 11, 31, 12)),
      new Date(0),
      new Date(86400000),
      null,
    ]),
    tss: int64Vector(new arrow.TimestampSecond(), [1n, -1n, 0n, null]),
    tsn: int64Vector(new arrow.TimestampNanosecond(), [1700000000123456789n, -1500n, 999n, null]),
  });
  const types = [INT32, INT32, INT64, INT64, INT64, FLOAT64, DATE32, TIMESTAMP, TIMESTAMP];
  const { names, columns } = roundTrip(t, types);
  assert.deepEqual(names, ["i8", "u16", "u32", "i64", "u64", "f32", "d64", "tss", "tsn"]);
  assert.deepEqual(columns.map(values), [
    [-128, 0, 127, null],
    [0, 65535, 7, 1],
    [4294967295, 0, null, 5],
    [-(2 ** 53) + 1, 2 ** 40, 0, -1],
    [2 ** 63, 1, 0, 3],
    [1.5, -0.25, null, 3],
    [-1, 0, 1, null],
    [1e6, -1e6, 0, null],
    [1700000000123456, -2, 0, null],
  ]);
  assert.ok(columns[0].enc === "num" && columns[0].values instanceof Int32Array);
  assert.ok(columns[2].enc === "num" && columns[2].values instanceof Float64Array);
});

Deno.test("sliced batches: offsets in values, validity, booleans and strings", () => {
  const n = 100;
  const t = new arrow.Table({
    i: vec(new arrow.Int32(), Array.from({ length: n }, (_, k) => (k % 3 === 0 ? null : k))),
    b: vec(
      new arrow.Bool(),
      Array.from({ length: n }, (_, k) => (k % 5 === 0 ? null : k % 2 === 0)),
    ),
    s: vec(new arrow.Utf8(), Array.from({ length: n }, (_, k) => (k % 7 === 0 ? null : `s${k}é`))),
    ls: vec(new arrow.LargeUtf8(), Array.from({ length: n }, (_, k) => `L${k}`)),
  });
  const { columns } = roundTrip(t, [INT32, { id: "bool" }, UTF8, UTF8], [13, 50]);
  const ks = Array.from({ length: 50 }, (_, j) => 13 + j);
  assert.deepEqual(values(columns[0]), ks.map((k) => (k % 3 === 0 ? null : k)));
  assert.deepEqual(values(columns[1]), ks.map((k) => (k % 5 === 0 ? null : k % 2 === 0)));
  assert.deepEqual(values(columns[2]), ks.map((k) => (k % 7 === 0 ? null : `s${k}é`)));
  assert.deepEqual(values(columns[3]), ks.map((k) => `L${k}`));
  // Strings are compacted: offsets start at 0.
  assert.ok(columns[2].enc === "utf8" && columns[2].offsets[0] === 0);
});

function decimalVector(
  precision: number,
  scale: number,
  unscaled: (bigint | null)[],
): arrow.Vector {
  const words = new Uint32Array(unscaled.length * 4);
  const view = new BigInt64Array(words.buffer);
  const valid = new Uint8Array(Math.ceil(unscaled.length / 8));
  unscaled.forEach((v, i) => {
    if (v === null) return;
    valid[i >> 3] |= 1 << (i & 7);
    view[2 * i] = BigInt.asIntN(64, v);
    view[2 * i + 1] = v < 0n ? -1n : v >> 64n;
  });
  const nulls = unscaled.filter((v) => v === null).length;
  return arrow.makeVector(arrow.makeData({
    type: new arrow.Decimal(scale, precision, 128),
    length: unscaled.length,
    nullCount: nulls,
    nullBitmap: nulls ? valid : undefined,
    data: words,
  }));
}

Deno.test("decimals: exact as doubles below 2^53, as BigInt64 beyond, refused beyond 64 bits", () => {
  const t = new arrow.Table({
    small: decimalVector(15, 2, [12345n, -1n, null, 0n]),
    big: decimalVector(18, 0, [2n ** 60n, -(2n ** 60n) - 3n, 1n, null]),
    wide: decimalVector(38, 4, [-(2n ** 62n), 5n, null, 2n ** 63n - 1n]),
  });
  const { columns } = roundTrip(t, [decimal(15, 2), decimal(18, 0), decimal(38, 4)]);
  assert.ok(columns[0].enc === "num" && columns[0].values instanceof Float64Array);
  assert.deepEqual(values(columns[0]), [12345, -1, null, 0]);
  assert.ok(columns[1].enc === "num" && columns[1].values instanceof BigInt64Array);
  assert.deepEqual(values(columns[1]), [2n ** 60n, -(2n ** 60n) - 3n, 1n, null]);
  assert.deepEqual(values(columns[2]), [-(2n ** 62n), 5n, null, 2n ** 63n - 1n]);
  const tooWide = new arrow.Table({ w: decimalVector(38, 0, [2n ** 70n]) });
  assert.throws(
    () => roundTrip(tooWide, [decimal(38, 0)]),
    (e: SpiceError) => e.code === "NOT_SUPPORTED" && e.message.includes("w"),
  );
});

Deno.test("dictionaries: utf8 values become dict columns; nulls in keys and values", () => {
  const dict = arrow.vectorFromArray(["x", "yy", "zzz"], new arrow.Utf8());
  const keys = new Int8Array([2, 0, 1, 0, 2]);
  const data = arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8()),
    length: 5,
    nullCount: 1,
    nullBitmap: new Uint8Array([0b11101]),
    data: keys,
    dictionary: dict,
  });
  const t = new arrow.Table({ d: arrow.makeVector(data) });
  const { columns } = roundTrip(t, [UTF8]);
  assert.equal(columns[0].enc, "dict");
  assert.deepEqual(values(columns[0]), ["zzz", null, "yy", "x", "zzz"]);
  const sliced = roundTrip(t, [UTF8], [1, 3]);
  assert.deepEqual(values(sliced.columns[0]), [null, "yy", "x"]);
});

Deno.test("a type the engine cannot take is refused with the column's name", () => {
  const t = new arrow.Table({ when: vec(new arrow.TimeMillisecond(), [1, 2]) });
  assert.throws(
    () => roundTrip(t, [INT64]),
    (e: SpiceError) => e.code === "NOT_SUPPORTED" && e.message.includes("when"),
  );
});
