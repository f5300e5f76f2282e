/**
 * Hash kernels: equal values hash equal whatever their storage (dictionary
 * or plain strings, Int32 or Float64 or BigInt64 numbers), NULLs hash alike,
 * several key columns combine, and row equality with and without
 * NULL = NULL.
 */

import assert from "node:assert/strict";
import { type Column, columnFromValues, numericColumn } from "../../../src/arrow/column.ts";
import { decimal, FLOAT64, INT32, INT64, UTF8 } from "../../../src/arrow/types.ts";
import {
  anyNullMask,
  hashBytes,
  hashColumns,
  hashNumber,
  mix32,
  rowsEqual,
  valuesEqual,
} from "../../../src/exec/kernels/hash.ts";
import { dictOf } from "./support.ts";

function hashes(cols: Column[]): number[] {
  return [...hashColumns(cols, cols[0].length)];
}

Deno.test("strings hash alike as dictionary or plain utf8", () => {
  const vals = ["", "a", "b", "日本", "a longer string with spaces", null, "a"];
  const plain = columnFromValues(UTF8, vals);
  const dict = dictOf(vals);
  assert.deepEqual(hashes([dict]), hashes([plain]));
});

Deno.test("the same integer hashes alike in Int32, Float64 (INT64) and BigInt64 storage", () => {
  const ints = [0, 1, -1, 42, 2147483647, -2147483648, null];
  const i32 = columnFromValues(INT32, ints);
  const f64 = columnFromValues(INT64, ints);
  assert.deepEqual(hashes([i32]), hashes([f64]));
  const wideVals = [0n, 1n, -1n, 2n ** 40n, -(2n ** 52n), null];
  const wide = columnFromValues(decimal(38, 0), wideVals);
  const narrow = columnFromValues(
    decimal(38, 0),
    wideVals.map((v) => (v === null ? null : Number(v))),
  );
  assert.deepEqual(hashes([wide]), hashes([narrow]));
  // Integers beyond 32 bits in a double.
  assert.equal(hashNumber(2 ** 40 + 3), hashNumber(2 ** 40 + 3));
  assert.notEqual(hashNumber(2 ** 40 + 3), hashNumber(2 ** 40 + 4));
});

Deno.test("-0 and 0 hash alike; other doubles hash by value", () => {
  assert.equal(hashNumber(-0), hashNumber(0));
  assert.equal(hashNumber(1.5), hashNumber(1.5));
  assert.notEqual(hashNumber(1.5), hashNumber(2.5));
  assert.equal(hashNumber(3), hashNumber(3.0));
});

Deno.test("a NULL hashes the same in every column type", () => {
  const cols = [
    columnFromValues(INT32, [null]),
    columnFromValues(FLOAT64, [null]),
    columnFromValues(UTF8, [null]),
    dictOf([null, "x"]),
    columnFromValues(decimal(38, 2), [null, 5n]),
  ];
  const h = cols.map((c) => hashColumns([c], 1)[0]);
  assert.equal(new Set(h).size, 1, `NULL hashes: ${h}`);
});

Deno.test("hashes are unsigned 32-bit and spread distinct keys", () => {
  const n = 10000;
  const c = columnFromValues(INT32, Array.from({ length: n }, (_, i) => i));
  const h = hashColumns([c], n);
  assert.ok(h instanceof Uint32Array);
  assert.equal(new Set(h).size, n, "no collisions among 10000 small integers");
  for (const x of [0, 1, -1, 0x7fffffff, 0x80000000]) {
    const m = mix32(x);
    assert.ok(m >= 0 && m <= 0xffffffff && Number.isInteger(m), `mix32(${x}) = ${m}`);
  }
  // Low bits (bucket choice) differ across consecutive keys.
  const buckets = new Set([...h].map((x) => x & 1023));
  assert.ok(buckets.size > 900, `only ${buckets.size} of 1024 buckets used`);
});

Deno.test("several key columns combine; equal tuples in any storage hash alike", () => {
  const k1 = [1, 1, 2, null];
  const k2 = ["a", "b", "a", "a"];
  const a = hashes([columnFromValues(INT32, k1), columnFromValues(UTF8, k2)]);
  const b = hashes([columnFromValues(INT64, k1), dictOf(k2)]);
  assert.deepEqual(a, b);
  assert.equal(new Set(a).size, 4, "distinct tuples hash differently");
  // Order of the key columns matters: (1, 2) is not (2, 1).
  const x = hashes([columnFromValues(INT32, [1]), columnFromValues(INT32, [2])]);
  const y = hashes([columnFromValues(INT32, [2]), columnFromValues(INT32, [1])]);
  assert.notDeepEqual(x, y);
});

Deno.test("hashBytes hashes a byte range, including its length", () => {
  const b = new TextEncoder().encode("xxabcabc");
  assert.equal(hashBytes(b, 2, 5), hashBytes(b, 5, 8));
  assert.notEqual(hashBytes(b, 2, 5), hashBytes(b, 2, 4));
  assert.notEqual(hashBytes(b, 0, 0), hashBytes(new Uint8Array(1), 0, 1));
});

Deno.test("valuesEqual compares across storages", () => {
  const i = columnFromValues(INT32, [7]);
  const f = columnFromValues(INT64, [7]);
  assert.equal(valuesEqual(i, 0, f, 0), true);
  const w = columnFromValues(decimal(38, 0), [2n ** 40n]);
  const n = numericColumn(decimal(38, 0), Float64Array.of(2 ** 40));
  assert.equal(valuesEqual(w, 0, n, 0), true);
  assert.equal(valuesEqual(n, 0, w, 0), true);
  const d = dictOf(["x", "yy"]);
  const u = columnFromValues(UTF8, ["yy", "x"]);
  assert.equal(valuesEqual(d, 1, u, 0), true);
  assert.equal(valuesEqual(u, 1, d, 0), true);
  assert.equal(valuesEqual(d, 0, u, 0), false);
  const d2 = dictOf(["yy"]); // a different dictionary
  assert.equal(valuesEqual(d, 1, d2, 0), true);
});

Deno.test("rowsEqual: NULLs match only with nullsEqual, and only each other", () => {
  const a = [
    columnFromValues(INT32, [1, null, null, 2]),
    columnFromValues(UTF8, ["a", "b", null, "c"]),
  ];
  const b = [columnFromValues(INT64, [1, null, 5, 2]), dictOf(["a", "b", null, "d"])];
  const eq = (i: number, nullsEqual: boolean) => rowsEqual(a, i, b, i, nullsEqual);
  assert.equal(eq(0, false), true);
  assert.equal(eq(1, false), false, "NULL = NULL is not a match for a join");
  assert.equal(eq(1, true), true, "NULL = NULL matches for grouping and set operations");
  assert.equal(eq(2, true), false, "NULL never equals a value");
  assert.equal(eq(3, true), false, "second key differs");
});

Deno.test("anyNullMask marks rows with a NULL in any key", () => {
  const m = anyNullMask([
    columnFromValues(INT32, [1, null, 3, 4]),
    columnFromValues(UTF8, ["a", "b", null, "d"]),
  ], 4);
  assert.deepEqual([...m!], [0, 1, 1, 0]);
  assert.equal(anyNullMask([columnFromValues(INT32, [1, 2])], 2), null);
});
