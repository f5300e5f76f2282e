/**
 * Sorting row indices: the permutation equals DuckDB's ORDER BY (with the
 * row number as the last key, i.e. a stable sort) for every direction and
 * NULL placement, numbers, strings in byte order, dictionaries and several
 * keys; topKIndices is exactly the first k of sortIndices.
 */

import assert from "node:assert/strict";
import {
  type Column,
  columnFromValues,
  dictColumn,
  numericColumn,
  type Utf8Column,
  type Value,
} from "../../src/arrow/column.ts";
import { type DataType, decimal, FLOAT64, INT32, INT64, UTF8 } from "../../src/arrow/types.ts";
import { sortIndices, type SortOrder, topKIndices } from "../../src/exec/sort.ts";
import { dictOf, duck, sqlLiteral } from "./kernels/support.ts";

interface Key {
  type: DataType;
  values: Value[];
  make?: (v: Value[]) => Column;
}

/** DuckDB's permutation for ORDER BY the keys, then the row number. */
async function reference(keys: readonly Key[], orders: readonly SortOrder[]): Promise<number[]> {
  const n = keys[0].values.length;
  const rows = Array.from(
    { length: n },
    (_, i) => `(${i}, ${keys.map((k) => sqlLiteral(k.type, k.values[i])).join(", ")})`,
  ).join(", ");
  const names = keys.map((_, k) => `k${k}`);
  const order = orders.map((o, k) =>
    `${names[k]} ${o.asc ? "ASC" : "DESC"} NULLS ${o.nullsFirst ? "FIRST" : "LAST"}`
  ).join(", ");
  const got = await duck(
    `SELECT i FROM (VALUES ${rows}) t(i, ${names.join(", ")}) ORDER BY ${order}, i`,
  );
  return got.map((r) => Number(r[0]));
}

const ORDERS: SortOrder[] = [
  { asc: true, nullsFirst: false },
  { asc: true, nullsFirst: true },
  { asc: false, nullsFirst: false },
  { asc: false, nullsFirst: true },
];

function show(o: SortOrder): string {
  return `${o.asc ? "ASC" : "DESC"} NULLS ${o.nullsFirst ? "FIRST" : "LAST"}`;
}

async function check(keys: Key[], orders: SortOrder[], label: string): Promise<void> {
  const want = await reference(keys, orders);
  const n = want.length;
  const cols = keys.map((k) => (k.make ?? ((v) => columnFromValues(k.type, v)))(k.values));
  const got = [...sortIndices(cols, orders, n)];
  assert.deepEqual(got, want, `${label} ${orders.map(show).join(", ")}: sortIndices`);
  for (const k of [0, 1, 2, 5, n - 1, n, n + 3]) {
    if (k < 0) continue;
    assert.deepEqual(
      [...topKIndices(cols, orders, n, k)],
      want.slice(0, k),
      `${label} ${orders.map(show).join(", ")}: topK ${k}`,
    );
  }
}

/** Deterministic values with many ties and NULLs. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const r = lcg(7);
const N = 60;
const INTS: Value[] = Array.from(
  { length: N },
  () => (r() < 0.15 ? null : Math.floor(r() * 8) - 4),
);
const INTS_NO_NULL: Value[] = INTS.map((v) => v ?? 0);
const DBLS: Value[] = Array.from(
  { length: N },
  () => r() < 0.1 ? null : [-Infinity, -0.5, 0, 1.25, 1e300, Infinity][Math.floor(r() * 6)],
);
const WORDS = ["", "a", "A", "ab", "b", "é", "z", "日本", "😀", "\uffff", "abc"];
const STRS: Value[] = Array.from(
  { length: N },
  () => r() < 0.1 ? null : WORDS[Math.floor(r() * WORDS.length)],
);

Deno.test("one numeric key without NULLs (typed-array fast path): stable, ASC and DESC", async () => {
  for (const o of ORDERS) await check([{ type: INT32, values: INTS_NO_NULL }], [o], "int");
  for (const o of ORDERS) {
    await check(
      [{ type: INT64, values: INTS_NO_NULL.map((v) => Number(v) * 2 ** 40) }],
      [o],
      "bigint",
    );
  }
});

Deno.test("one numeric key with NULLs, every direction and NULL placement", async () => {
  for (const o of ORDERS) await check([{ type: INT32, values: INTS }], [o], "int");
  for (const o of ORDERS) await check([{ type: FLOAT64, values: DBLS }], [o], "double");
});

Deno.test("wide decimal keys (BigInt64)", async () => {
  const vals: Value[] = [2n ** 62n, -5n, null, 2n ** 53n + 1n, 2n ** 53n, -5n, 0n];
  for (const o of ORDERS) {
    await check([{ type: decimal(38, 2), values: vals }], [o], "decimal(38,2)");
  }
});

Deno.test("strings sort by UTF-8 bytes, plain and dictionary-encoded", async () => {
  for (const o of ORDERS) {
    await check([{ type: UTF8, values: STRS }], [o], "utf8");
    await check([{ type: UTF8, values: STRS, make: (v) => dictOf(v as string[]) }], [o], "dict");
  }
});

Deno.test("a dictionary holding the same string twice ranks both codes equal (stable)", () => {
  const d = dictColumn(
    Int32Array.of(0, 1, 2, 0, 1),
    columnFromValues(UTF8, ["b", "a", "b"]) as Utf8Column,
  );
  assert.deepEqual([...sortIndices([d], [ORDERS[0]], 5)], [1, 4, 0, 2, 3]);
  assert.deepEqual([...sortIndices([d], [ORDERS[2]], 5)], [0, 2, 3, 1, 4]);
});

Deno.test("several keys, mixed directions and types", async () => {
  const keys: Key[] = [
    { type: UTF8, values: STRS.map((s) => (s === null ? null : String(s).slice(0, 1))) },
    { type: INT32, values: INTS },
    { type: FLOAT64, values: DBLS },
  ];
  await check(keys, [ORDERS[0], ORDERS[3], ORDERS[1]], "three keys");
  await check(keys, [ORDERS[2], ORDERS[0], ORDERS[3]], "three keys");
});

Deno.test("topKIndices with k above its heap limit still equals the sorted prefix", () => {
  const n = 10000;
  const rnd = lcg(3);
  const c = numericColumn(FLOAT64, Float64Array.from({ length: n }, () => Math.floor(rnd() * 50)));
  const withNulls = { ...c, validity: Uint8Array.from({ length: n }, () => (rnd() < 0.1 ? 0 : 1)) };
  for (const col of [c, withNulls as Column]) {
    const all = sortIndices([col], [ORDERS[2]], n);
    for (const k of [1, 100, 4096, 5000]) {
      assert.deepEqual(
        [...topKIndices([col], [ORDERS[2]], n, k)],
        [...all.subarray(0, k)],
        `k=${k}`,
      );
    }
  }
});

Deno.test("no keys or fewer than two rows: the identity", () => {
  assert.deepEqual([...sortIndices([], [], 3)], [0, 1, 2]);
  assert.deepEqual([...sortIndices([columnFromValues(INT32, [5])], [ORDERS[0]], 1)], [0]);
});

Deno.test("NaN sorts after every number and before NULLS LAST, as DuckDB", async () => {
  const vals: Value[] = [3, NaN, 1, -Infinity, null, Infinity, NaN, 2];
  for (const o of ORDERS) await check([{ type: FLOAT64, values: vals }], [o], "NaN");
  const noNull = vals.map((v) => v ?? 0);
  for (const o of ORDERS) await check([{ type: FLOAT64, values: noNull }], [o], "NaN (fast path)");
});
