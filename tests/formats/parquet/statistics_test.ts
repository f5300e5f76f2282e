/**
 * Tests of Parquet statistics decoding: plain encodings per type, and the
 * specification's caveats (legacy min/max, NaN, signed zeros).
 */
import assert from "node:assert/strict";
import type { ParquetColumn, ValueKind } from "../../../src/formats/parquet/schema.ts";
import { decodeStatistics, decodeStatValue } from "../../../src/formats/parquet/statistics.ts";

function le(bytes: number, v: bigint): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

function f64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return b;
}

function column(kind: ValueKind, signedOrder: boolean): ParquetColumn {
  return {
    name: "c",
    leafIndex: 0,
    leafCount: 1,
    field: null,
    unsupported: null,
    valueKind: kind,
    signedOrder,
  };
}

Deno.test("plain-encoded values by kind", () => {
  assert.equal(decodeStatValue("int32", le(4, -5n)), -5);
  assert.equal(decodeStatValue("uint32", le(4, 4294967295n)), 4294967295);
  assert.equal(decodeStatValue("int64", le(8, -(2n ** 40n))), -(2 ** 40));
  assert.equal(decodeStatValue("int64", le(8, 2n ** 60n + 1n)), 2n ** 60n + 1n);
  assert.equal(decodeStatValue("uint64", le(8, 2n ** 64n - 1n)), 2n ** 64n - 1n);
  assert.equal(decodeStatValue("ts_millis", le(8, -1500n)), -1500000);
  assert.equal(decodeStatValue("ts_micros", le(8, 1700000000123456n)), 1700000000123456);
  assert.equal(decodeStatValue("ts_nanos", le(8, 1700000000123456789n)), 1700000000123456);
  assert.equal(decodeStatValue("ts_nanos", le(8, -1500n)), -2);
  assert.equal(decodeStatValue("double", f64(-2.5)), -2.5);
  assert.equal(decodeStatValue("float", new Uint8Array(new Float32Array([0.5]).buffer)), 0.5);
  assert.equal(decodeStatValue("bool", new Uint8Array([1])), true);
  assert.equal(decodeStatValue("string", new TextEncoder().encode("日本")), "日本");
  // Big-endian two's complement decimals of any width.
  assert.equal(decodeStatValue("bytes_decimal", new Uint8Array([0xff, 0x85])), -123);
  assert.equal(decodeStatValue("bytes_decimal", new Uint8Array([0x01, 0x00])), 256);
  assert.equal(
    decodeStatValue(
      "bytes_decimal",
      new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ),
    2n ** 71n - 1n,
  );
  assert.equal(decodeStatValue("int32", new Uint8Array(2)), null);
});

Deno.test("caveats: legacy min/max, NaN, signed zero, missing bounds", () => {
  const raw = { min: le(4, 1n), max: le(4, 9n), nullCount: 3, minValue: null, maxValue: null };
  // Legacy fields are trusted for signed orders only (strings were compared as signed bytes).
  assert.deepEqual(decodeStatistics(column("int32", true), raw), { min: 1, max: 9, nullCount: 3 });
  assert.deepEqual(decodeStatistics(column("string", false), raw), {
    min: null,
    max: null,
    nullCount: 3,
  });
  const nan = { min: null, max: null, nullCount: 0, minValue: f64(NaN), maxValue: f64(1) };
  assert.deepEqual(decodeStatistics(column("double", true), nan), {
    min: null,
    max: null,
    nullCount: 0,
  });
  const zeros = { min: null, max: null, nullCount: null, minValue: f64(0), maxValue: f64(-0) };
  const z = decodeStatistics(column("double", true), zeros);
  assert.ok(Object.is(z.min, -0) && Object.is(z.max, 0));
  const onlyMin = { min: null, max: null, nullCount: 1, minValue: le(4, 1n), maxValue: null };
  assert.deepEqual(decodeStatistics(column("int32", true), onlyMin), {
    min: null,
    max: null,
    nullCount: 1,
  });
});
