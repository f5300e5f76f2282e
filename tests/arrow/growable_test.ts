/**
 * GrowableColumn: row-at-a-time copies out of other columns (group keys,
 * sort runs), growth, grouping equality (NULL = NULL) and wide decimals.
 */

import assert from "node:assert/strict";
import {
  type Column,
  columnFromValues,
  dictColumn,
  slice,
  type Utf8Column,
  type Value,
  valueAt,
} from "../../src/arrow/column.ts";
import { GrowableColumn } from "../../src/arrow/growable.ts";
import { BOOL, DATE32, decimal, FLOAT64, INT32, INT64, UTF8 } from "../../src/arrow/types.ts";

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

Deno.test("append copies rows of every numeric type, with NULLs", () => {
  for (
    const [type, src] of [
      [INT32, [1, null, -3]],
      [INT64, [2 ** 50, 7, null]],
      [FLOAT64, [0.5, null, -1e300]],
      [DATE32, [19000, 1, null]],
      [BOOL, [true, null, false]],
      [decimal(12, 2), [12345, -1, null]],
    ] as const
  ) {
    const g = new GrowableColumn(type, 1);
    const col = columnFromValues(type, src as unknown as Value[]);
    for (const i of [2, 0, 1, 0]) g.append(col, i);
    assert.equal(g.length, 4);
    assert.deepEqual(values(g.finish()), [src[2], src[0], src[1], src[0]], type.id);
  }
});

Deno.test("a column grows far past its initial capacity", () => {
  const g = new GrowableColumn(INT32, 2);
  const src = columnFromValues(INT32, Array.from({ length: 1000 }, (_, i) => (i % 9 ? i : null)));
  for (let i = 0; i < 1000; i++) g.append(src, i);
  const out = g.finish();
  assert.equal(out.length, 1000);
  assert.deepEqual(values(out), values(src));
});

Deno.test("strings: utf8, sliced utf8 and dictionary sources, long values, growth", () => {
  const long = "x".repeat(100) + "✓";
  const plain = columnFromValues(UTF8, ["a", null, long, "ü"]);
  const sliced = slice(columnFromValues(UTF8, ["skip", "sliced", "ok"]), 1, 2);
  const dict = dictColumn(
    Int32Array.of(1, 0),
    columnFromValues(UTF8, ["d0", "d1"]) as Utf8Column,
  );
  const g = new GrowableColumn(UTF8, 1);
  g.append(plain, 2);
  g.append(plain, 1);
  g.append(sliced, 0);
  g.append(dict, 0);
  g.append(plain, 3);
  g.append(sliced, 1);
  g.appendNull();
  for (let i = 0; i < 200; i++) g.append(plain, 2);
  const out = g.finish();
  assert.equal(out.enc, "utf8");
  assert.deepEqual(values(out).slice(0, 7), [long, null, "sliced", "d1", "ü", "ok", null]);
  assert.ok(values(out).slice(7).every((v) => v === long));
});

Deno.test("finish has no validity when no NULL was appended, and can be called again", () => {
  const g = new GrowableColumn(FLOAT64, 4);
  g.append(columnFromValues(FLOAT64, [1.5]), 0);
  const first = g.finish();
  assert.equal(first.validity, null);
  g.append(columnFromValues(FLOAT64, [null]), 0);
  const second = g.finish();
  assert.deepEqual(values(first), [1.5], "an earlier result is not changed by later appends");
  assert.deepEqual(values(second), [1.5, null]);
});

Deno.test("view shows the current rows without copying", () => {
  const g = new GrowableColumn(UTF8, 4);
  const src = columnFromValues(UTF8, ["p", "q"]);
  g.append(src, 1);
  g.append(src, 0);
  assert.deepEqual(values(g.view()), ["q", "p"]);
});

Deno.test("equalsAt: grouping equality with NULL = NULL, across storages", () => {
  const g = new GrowableColumn(UTF8, 4);
  const src = columnFromValues(UTF8, ["abc", null, "ab"]);
  g.append(src, 0);
  g.append(src, 1);
  const dict = dictColumn(
    Int32Array.of(0, 1),
    columnFromValues(UTF8, ["abc", "abd"]) as Utf8Column,
    null,
  );
  assert.equal(g.equalsAt(0, src, 0), true);
  assert.equal(g.equalsAt(0, src, 2), false, "prefix is not equal");
  assert.equal(g.equalsAt(0, dict, 0), true, "a dictionary row equal to the stored bytes");
  assert.equal(g.equalsAt(0, dict, 1), false);
  assert.equal(g.equalsAt(1, src, 1), true, "NULL equals NULL for grouping");
  assert.equal(g.equalsAt(1, src, 0), false);
  assert.equal(g.equalsAt(0, src, 1), false);

  const n = new GrowableColumn(INT64, 2);
  n.append(columnFromValues(INT64, [42]), 0);
  assert.equal(n.equalsAt(0, columnFromValues(INT64, [42]), 0), true);
  assert.equal(n.equalsAt(0, columnFromValues(INT64, [43]), 0), false);
});

Deno.test("wide decimals: a wide column stores BigInt exactly and compares with doubles", () => {
  const t = decimal(38, 2);
  const big = 2n ** 60n + 3n;
  const g = new GrowableColumn(t, 2, true);
  g.append(columnFromValues(t, [big]), 0);
  g.append(columnFromValues(t, [150]), 0); // a Float64 source row
  g.append(columnFromValues(t, [null]), 0);
  const out = g.finish();
  assert.ok((out as { values: unknown }).values instanceof BigInt64Array);
  assert.deepEqual(values(out), [big, 150n, null]);
  assert.equal(g.equalsAt(1, columnFromValues(t, [150]), 0), true, "150n equals 150");
  assert.equal(g.equalsAt(0, columnFromValues(t, [big]), 0), true);
  assert.equal(g.equalsAt(0, columnFromValues(t, [big + 1n]), 0), false);
});

Deno.test("a narrow decimal column upgrades to BigInt64 when a bigint row arrives", () => {
  const t = decimal(38, 0);
  const g = new GrowableColumn(t, 8);
  g.append(columnFromValues(t, [11]), 0);
  g.append(columnFromValues(t, [-22]), 0);
  const big = -(2n ** 62n) - 5n;
  g.append(columnFromValues(t, [big]), 0);
  g.append(columnFromValues(t, [33]), 0);
  assert.deepEqual(values(g.finish()), [11n, -22n, big, 33n]);
});
