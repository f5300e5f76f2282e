/**
 * Arrow interop: engine batches -> Arrow IPC -> engine batches for every
 * type (decimals exact, negative and beyond 2^53), what apache-arrow itself
 * reads from our IPC, and engine columns from Arrow data made by another
 * producer (sliced data, Int64, LargeUtf8, dictionaries, Date64, every
 * timestamp unit).
 */

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import {
  batchFromRows,
  batchToRows,
  type RecordBatch,
  recordBatch,
} from "../../src/arrow/batch.ts";
import {
  type Column,
  columnFromValues,
  dictColumn,
  numericColumn,
  slice,
  type Utf8Column,
  type Value,
  valueAt,
} from "../../src/arrow/column.ts";
import {
  batchesToIPC,
  fromArrowData,
  fromArrowType,
  fromArrowVector,
  int64FromNumbers,
  ipcToBatches,
  numbersFromInt64,
  packBits,
  toArrowBatch,
  toArrowData,
  unpackBits,
} from "../../src/arrow/interop.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  field,
  FLOAT64,
  INT32,
  INT64,
  INTERVAL,
  NULL,
  schema,
  TIMESTAMP,
  typeToString,
  UTF8,
} from "../../src/arrow/types.ts";
import { SpiceError } from "../../src/errors.ts";

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

/** Decimal cells compared as exact integers whatever their storage (number or bigint). */
function exact(v: Value): Value {
  return typeof v === "number" && Number.isInteger(v) ? BigInt(v) : v;
}

function roundTrip(batches: RecordBatch[]): { schema: ReturnType<typeof schema>; rows: Value[][] } {
  const ipc = batchesToIPC(batches[0].schema, batches);
  const back = ipcToBatches(ipc);
  return { schema: back.schema, rows: back.batches.flatMap(batchToRows) };
}

// ---------------------------------------------------------------------------
// bits

Deno.test("packBits / unpackBits round-trip at any bit offset", () => {
  const bytes = Uint8Array.from({ length: 21 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
  const bits = packBits(bytes);
  assert.equal(bits.length, 3);
  assert.deepEqual([...unpackBits(bits, 0, 21)], [...bytes]);
  assert.deepEqual([...unpackBits(bits, 5, 10)], [...bytes.subarray(5, 15)]);
});

// ---------------------------------------------------------------------------
// round trips

Deno.test("IPC round trip keeps every type, value and NULL", () => {
  const s = schema([
    field("b", BOOL),
    field("i", INT32),
    field("l", INT64),
    field("f", FLOAT64),
    field("s", UTF8),
    field("d", DATE32),
    field("t", TIMESTAMP),
    field("n", NULL),
  ]);
  const rows: Value[][] = [
    [true, 2147483647, 2 ** 53 - 1, 1.5, "héllo", 19723, 1_700_000_000_123_456, null],
    [false, -2147483648, -(2 ** 53 - 1), -0.25, "", -1, -86_400_000_001, null],
    [null, null, null, null, null, null, null, null],
    [true, 0, 0, Infinity, "😀 multi-byte ✓", 0, 0, null],
    [false, 1, 1, -Infinity, "x", -719528, 1, null],
    [true, 2, 2, NaN, "y", 2932896, 253402300799999999, null],
    [false, 3, 3, 1e-300, "z", 10, 59_000_000, null],
    [true, 4, 4, 2.5, "w", 11, 60_000_000, null],
    [false, 5, 5, 3.5, "v", 12, 61_000_000, null], // more than 8 rows: bitmap spans bytes
  ];
  const batch = batchFromRows(s, rows);
  const back = roundTrip([batch]);
  assert.deepEqual(
    back.schema.fields.map((f) => typeToString(f.type)),
    s.fields.map((f) => typeToString(f.type)),
  );
  assert.deepEqual(back.rows, rows);
});

Deno.test("IPC round trip of decimals is exact: negative, zero, and beyond 2^53", () => {
  const small = decimal(10, 2);
  const wide = decimal(38, 4);
  const s = schema([field("p", small), field("w", wide)]);
  const bigs = [
    2n ** 53n + 1n,
    -(2n ** 53n + 1n),
    2n ** 62n + 12345n,
    -(2n ** 62n) - 12345n,
    9223372036854775807n,
    -9223372036854775807n,
  ];
  const p = columnFromValues(small, [12345, -12345, 0, null, -1, 1, 99999999, -4294967296]);
  const w = columnFromValues(wide, [...bigs, null, 0n]);
  const back = roundTrip([recordBatch(s, [p, w])]);
  assert.deepEqual(back.schema.fields.map((f) => typeToString(f.type)), [
    "DECIMAL(10,2)",
    "DECIMAL(38,4)",
  ]);
  assert.deepEqual(back.rows.map((r) => r[0]), [
    12345,
    -12345,
    0,
    null,
    -1,
    1,
    99999999,
    -4294967296,
  ]);
  assert.deepEqual(back.rows.map((r) => r[1]), [...bigs, null, 0n]);
});

Deno.test("IPC round trip: a wide decimal type held in Float64 storage reads back exactly", () => {
  // Results of casts keep doubles even for DECIMAL(38,s) when values are small.
  const t = decimal(38, 2);
  const c = numericColumn(t, Float64Array.of(150, -150, -(2 ** 40) - 5, 2 ** 52 + 1), null);
  const back = roundTrip([recordBatch(schema([field("x", t)]), [c])]);
  assert.deepEqual(back.rows.map((r) => exact(r[0])), [
    150n,
    -150n,
    -(2n ** 40n) - 5n,
    2n ** 52n + 1n,
  ]);
});

Deno.test("IPC round trip: DECIMAL(18,0) values beyond 2^53 stay exact", () => {
  // DECIMAL(18,s) holds up to 18 digits: more than a double's 53 bits.
  const t = decimal(18, 0);
  const v = [123456789012345678n, -987654321098765432n, 9007199254740993n];
  const c = columnFromValues(t, v);
  const back = roundTrip([recordBatch(schema([field("x", t)]), [c])]);
  assert.deepEqual(back.rows.map((r) => exact(r[0])), v);
});

Deno.test("what apache-arrow reads from our IPC: decimals, int64, timestamps, strings", () => {
  const s = schema([
    field("d", decimal(12, 3)),
    field("w", decimal(38, 0)),
    field("l", INT64),
    field("t", TIMESTAMP),
    field("s", UTF8),
    field("b", BOOL),
  ]);
  const batch = recordBatch(s, [
    columnFromValues(decimal(12, 3), [-1234567, 5, null]),
    columnFromValues(decimal(38, 0), [-(2n ** 60n), 2n ** 60n, 7n]),
    columnFromValues(INT64, [-(2 ** 53), 42, null]),
    columnFromValues(TIMESTAMP, [-1, 1_000_000, 2]),
    columnFromValues(UTF8, ["a", null, "ç"]),
    columnFromValues(BOOL, [true, false, null]),
  ]);
  const table = arrow.tableFromIPC(batchesToIPC(s, [batch]));
  assert.equal(table.numRows, 3);
  const d = table.getChild("d")!;
  assert.equal(String(d.get(0)), "-1234567");
  assert.equal(String(d.get(1)), "5");
  assert.equal(d.get(2), null);
  assert.equal((d.type as arrow.Decimal).scale, 3);
  const w = table.getChild("w")!;
  assert.equal(String(w.get(0)), String(-(2n ** 60n)));
  assert.equal(String(w.get(1)), String(2n ** 60n));
  assert.deepEqual([...table.getChild("l")!].map((x) => x), [-(2n ** 53n), 42n, null]);
  const t = table.getChild("t")!;
  assert.equal(t.type.typeId, arrow.Type.Timestamp);
  assert.equal((t.type as arrow.Timestamp).unit, arrow.TimeUnit.MICROSECOND);
  assert.deepEqual([...table.getChild("s")!], ["a", null, "ç"]);
  assert.deepEqual([...table.getChild("b")!], [true, false, null]);
});

Deno.test("IPC of several batches, sliced strings and dictionaries", () => {
  const s = schema([field("k", INT32), field("s", UTF8)]);
  const base = columnFromValues(UTF8, ["skip", "one", "two", "three"]);
  const b1 = recordBatch(s, [columnFromValues(INT32, [1, 2]), slice(base, 1, 2)]);
  const dict = dictColumn(
    Int32Array.of(1, 0, 1),
    columnFromValues(UTF8, ["d0", "d1"]) as Utf8Column,
    Uint8Array.of(1, 1, 0),
  );
  const b2 = recordBatch(s, [columnFromValues(INT32, [3, 4, 5]), dict]);
  const back = roundTrip([b1, b2]);
  assert.deepEqual(back.rows, [[1, "one"], [2, "two"], [3, "d1"], [4, "d0"], [5, null]]);
});

Deno.test("an empty batch round-trips with its schema", () => {
  const s = schema([field("a", INT32), field("b", UTF8)]);
  const back = ipcToBatches(batchesToIPC(s, [batchFromRows(s, [])]));
  assert.deepEqual(back.schema.fields.map((f) => f.name), ["a", "b"]);
  assert.equal(back.batches.reduce((n, b) => n + b.numRows, 0), 0);
});

Deno.test("ipcToBatches also reads the Arrow file format", () => {
  const s = schema([field("x", INT32)]);
  const table = arrow.tableFromIPC(batchesToIPC(s, [batchFromRows(s, [[1], [null], [3]])]));
  const fileBytes = arrow.tableToIPC(table, "file");
  const back = ipcToBatches(fileBytes);
  assert.deepEqual(back.batches.flatMap(batchToRows), [[1], [null], [3]]);
});

Deno.test("a fractional timestamp is truncated, not rejected, on the way to Arrow", () => {
  const c = numericColumn(TIMESTAMP, Float64Array.of(1.9, -1.9));
  const d = toArrowData(c);
  assert.deepEqual([...(d.values as BigInt64Array)], [1n, -1n]);
});

Deno.test("INTERVAL columns are refused with NOT_SUPPORTED", () => {
  const c = numericColumn(INTERVAL, new Float64Array(1));
  assert.throws(() => toArrowData(c), (e) => e instanceof SpiceError && e.code === "NOT_SUPPORTED");
});

Deno.test("toArrowBatch gives a RecordBatch with the schema's names and types", () => {
  const s = schema([field("a", INT32, false), field("b", decimal(9, 2))]);
  const rb = toArrowBatch(batchFromRows(s, [[1, 250]]));
  assert.equal(rb.numRows, 1);
  assert.deepEqual(rb.schema.fields.map((f) => f.name), ["a", "b"]);
  assert.equal(rb.schema.fields[0].nullable, false);
  assert.equal(String(rb.getChild("b")!.get(0)), "250");
});

// ---------------------------------------------------------------------------
// Arrow data from elsewhere

function vec(d: arrow.Data): arrow.Vector {
  return arrow.makeVector(d);
}

Deno.test("fromArrowType maps Arrow types to engine types and names unsupported ones", () => {
  const cases: [arrow.DataType, DataType][] = [
    [new arrow.Int8(), INT32],
    [new arrow.Int16(), INT32],
    [new arrow.Int32(), INT32],
    [new arrow.Uint8(), INT32],
    [new arrow.Uint32(), INT64],
    [new arrow.Int64(), INT64],
    [new arrow.Float32(), FLOAT64],
    [new arrow.Float64(), FLOAT64],
    [new arrow.Utf8(), UTF8],
    [new arrow.LargeUtf8(), UTF8],
    [new arrow.DateDay(), DATE32],
    [new arrow.DateMillisecond(), DATE32],
    [new arrow.TimestampSecond(), TIMESTAMP],
    [new arrow.Decimal(2, 15, 128), decimal(15, 2)],
    [new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), UTF8],
    [new arrow.Bool(), BOOL],
    [new arrow.Null(), NULL],
  ];
  for (const [a, t] of cases) assert.deepEqual(fromArrowType(a), t, String(a));
  assert.throws(
    () => fromArrowType(new arrow.List(new arrow.Field("item", new arrow.Int32()))),
    (e) => e instanceof SpiceError && e.code === "NOT_SUPPORTED" && /List/.test(e.message),
  );
});

Deno.test("sliced Arrow vectors (non-zero data offset) read the right rows", async (t) => {
  // apache-arrow's Data.slice() narrows the value and offset buffers and keeps
  // `offset` for the validity bitmap (and the bits of booleans).
  await t.step("Int32", () => {
    const v = arrow.vectorFromArray([1, null, 3, 4, null, 6], new arrow.Int32()).slice(2, 5);
    assert.deepEqual(values(fromArrowVector(v)), [3, 4, null]);
  });
  await t.step("Bool", () => {
    const v = arrow.vectorFromArray(
      [true, false, true, true, false, null, false, true, true, false],
      new arrow.Bool(),
    ).slice(3, 9);
    assert.deepEqual(values(fromArrowVector(v)), [true, false, null, false, true, true]);
  });
  await t.step("Utf8", () => {
    const v = arrow.vectorFromArray(["a", "bb", null, "ccc", "d"], new arrow.Utf8()).slice(1, 4);
    assert.deepEqual(values(fromArrowVector(v)), ["bb", null, "ccc"]);
  });
  await t.step("Float64", () => {
    const v = arrow.vectorFromArray([0.5, 1.5, 2.5], new arrow.Float64()).slice(1);
    assert.deepEqual(values(fromArrowVector(v)), [1.5, 2.5]);
  });
  await t.step("Decimal", () => {
    const v = vec(arrow.makeData({
      type: new arrow.Decimal(1, 10, 128),
      length: 3,
      data: Uint32Array.of(1, 0, 0, 0, 0xfffffffe, 0xffffffff, 0xffffffff, 0xffffffff, 3, 0, 0, 0),
    })).slice(1);
    assert.deepEqual(values(fromArrowVector(v)), [-2, 3]);
  });
  await t.step("Timestamp", () => {
    const v = vec(arrow.makeData({
      type: new arrow.TimestampMicrosecond(),
      length: 3,
      data: BigInt64Array.of(10n, 20n, 30n),
    })).slice(1);
    assert.deepEqual(values(fromArrowVector(v)), [20, 30]);
  });
});

Deno.test("a Decimal128 value beyond 2^63 is read exactly (or refused), never truncated", () => {
  // 2^64 + 5 as little-endian 32-bit words: low 64 bits = 5, high 64 bits = 1.
  const v = vec(arrow.makeData({
    type: new arrow.Decimal(0, 38, 128),
    length: 2,
    data: Uint32Array.of(5, 0, 1, 0, 7, 0, 0, 0),
  }));
  assert.equal(String(v.get(0)), "18446744073709551621", "what Arrow holds");
  let got: Value[] | null = null;
  try {
    got = values(fromArrowVector(v));
  } catch (e) {
    assert.ok(e instanceof SpiceError, `refused with a SpiceError, not ${e}`);
    return;
  }
  assert.deepEqual(got.map(exact), [18446744073709551621n, 7n]);
});

Deno.test("Int64, Uint32 and Float32 Arrow columns become INT64 / FLOAT64", () => {
  const l = arrow.vectorFromArray([1n, null, -(2n ** 52n)], new arrow.Int64());
  const lc = fromArrowVector(l);
  assert.equal(lc.type.id, "int64");
  assert.deepEqual(values(lc), [1, null, -(2 ** 52)]);
  const u = arrow.vectorFromArray([4294967295], new arrow.Uint32());
  assert.deepEqual(values(fromArrowVector(u)), [4294967295]);
  const f = arrow.vectorFromArray([0.5, -2], new arrow.Float32());
  const fc = fromArrowVector(f);
  assert.equal(fc.type.id, "float64");
  assert.deepEqual(values(fc), [0.5, -2]);
});

Deno.test("int64 words without BigInt: exact to 2^53 both ways, as BigInt() would give", () => {
  const xs = [
    0,
    1,
    -1,
    4294967295,
    4294967296,
    -4294967296,
    -4294967297,
    2 ** 53,
    -(2 ** 53),
    2 ** 62,
    -(2 ** 63),
    123456789012345,
    -987654321098765,
  ];
  const words = int64FromNumbers(Float64Array.from(xs), xs.length);
  assert.deepEqual([...words], xs.map((x) => BigInt(x)));
  assert.deepEqual([...numbersFromInt64(words, xs.length)], xs);
  // A fraction truncates toward zero; NaN and infinities become 0.
  const odd = int64FromNumbers(Float64Array.of(2.9, -2.9, NaN, Infinity, -Infinity), 5);
  assert.deepEqual([...odd], [2n, -2n, 0n, 0n, 0n]);
  // Beyond 2^53 the double is the correctly rounded value, as Number(bigint).
  const big = BigInt64Array.of(2n ** 53n + 1n, -(2n ** 60n) - 12345n, 2n ** 63n - 1n);
  assert.deepEqual([...numbersFromInt64(big, 3)], [...big].map(Number));
  const unsigned = BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 32n + 7n);
  assert.deepEqual([...numbersFromInt64(unsigned, 3)], [...unsigned].map(Number));
  // Through Arrow Data and back, with a NULL.
  const col = columnFromValues(INT64, [-(2 ** 40) - 3, null, 2 ** 45]);
  assert.deepEqual(values(fromArrowData(toArrowData(col))), [-(2 ** 40) - 3, null, 2 ** 45]);
});

Deno.test("LargeUtf8 and dictionary-encoded Arrow strings", () => {
  const lu = arrow.vectorFromArray(["p", null, "qq"], new arrow.LargeUtf8());
  assert.deepEqual(values(fromArrowVector(lu)), ["p", null, "qq"]);
  const d = arrow.vectorFromArray(
    ["x", "y", "x", null],
    new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
  );
  const c = fromArrowVector(d);
  assert.equal(c.enc, "dict", "a string dictionary stays dictionary-encoded");
  assert.deepEqual(values(c), ["x", "y", "x", null]);
});

Deno.test("Date64 becomes days (floored), every timestamp unit becomes microseconds", () => {
  const d64 = vec(arrow.makeData({
    type: new arrow.DateMillisecond(),
    length: 3,
    data: BigInt64Array.of(86_400_000n * 3n + 5n, -1n, 0n),
  }));
  assert.deepEqual(values(fromArrowVector(d64)), [3, -1, 0]);
  const units: [arrow.DataType, bigint[], number[]][] = [
    [new arrow.TimestampSecond(), [2n, -3n], [2_000_000, -3_000_000]],
    [new arrow.TimestampMillisecond(), [2n, -3n], [2000, -3000]],
    [new arrow.TimestampMicrosecond(), [2n, -3n], [2, -3]],
    // Nanoseconds floor to the microsecond, also below zero.
    [new arrow.TimestampNanosecond(), [1999n, -1500n, 1_700_000_000_123_456_789n], [
      1,
      -2,
      1_700_000_000_123_456,
    ]],
  ];
  for (const [type, raw, want] of units) {
    const v = vec(arrow.makeData({
      type: type as arrow.Timestamp,
      length: raw.length,
      data: BigInt64Array.from(raw),
    }));
    const c = fromArrowVector(v);
    assert.equal(c.type.id, "timestamp");
    assert.deepEqual(values(c), want, String(type));
  }
});

Deno.test("a chunked Arrow vector becomes one engine column", () => {
  const a = arrow.vectorFromArray(["a", "b"], new arrow.Utf8());
  const b = arrow.vectorFromArray([null, "c"], new arrow.Utf8());
  const chunked = a.concat(b);
  assert.equal(chunked.data.length, 2);
  assert.deepEqual(values(fromArrowVector(chunked)), ["a", "b", null, "c"]);
});

Deno.test("fromArrowData honours a requested engine type (INT32 from Int16)", () => {
  const v = arrow.vectorFromArray([1, -2, 300], new arrow.Int16());
  const c = fromArrowData(v.data[0], INT32);
  assert.equal(c.type.id, "int32");
  assert.deepEqual(values(c), [1, -2, 300]);
});
