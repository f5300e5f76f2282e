/**
 * Hash tables: GroupTable (numeric fast path and generic path) assigns dense
 * group ids in first-seen order, NULL as its own group, grows to a million
 * keys; JoinHashTable finds every (probe, build) pair, with duplicates,
 * NULLs that never match unless NULLs compare equal, and many keys.
 */

import assert from "node:assert/strict";
import {
  type Column,
  columnFromValues,
  dictColumn,
  numericColumn,
  type Utf8Column,
  type Value,
  valueAt,
} from "../../src/arrow/column.ts";
import {
  BOOL,
  type DataType,
  DATE32,
  decimal,
  FLOAT64,
  INT32,
  INT64,
  UTF8,
} from "../../src/arrow/types.ts";
import { createGroupTable, JoinHashTable } from "../../src/exec/hash_table.ts";
import { hashColumns } from "../../src/exec/kernels/hash.ts";

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

function dict(vals: readonly (string | null)[]): Column {
  const entries = [...new Set(vals.filter((v) => v !== null))] as string[];
  return dictColumn(
    Int32Array.from(vals, (v) => (v === null ? 0 : entries.indexOf(v))),
    columnFromValues(UTF8, entries) as Utf8Column,
    vals.some((v) => v === null) ? Uint8Array.from(vals, (v) => (v === null ? 0 : 1)) : null,
  );
}

/** The group ids a table gives and the keys it stores. */
function group(types: DataType[], batches: Column[][]): { ids: number[]; keys: Value[][] } {
  const t = createGroupTable(types);
  const ids: number[] = [];
  for (const cols of batches) ids.push(...t.insert(cols, cols[0].length));
  const kc = t.keyColumns();
  const keys = Array.from({ length: t.size }, (_, g) => kc.map((c) => valueAt(c, g)));
  return { ids, keys };
}

// ---------------------------------------------------------------------------
// GroupTable

Deno.test("single numeric key: dense ids in first-seen order, NULL is one group", () => {
  const { ids, keys } = group([INT32], [
    [columnFromValues(INT32, [5, 3, 5, null, 3, 0])],
    [columnFromValues(INT32, [null, 0, 7, 5])],
  ]);
  assert.deepEqual(ids, [0, 1, 0, 2, 1, 3, 2, 3, 4, 0]);
  assert.deepEqual(keys, [[5], [3], [null], [0], [7]]);
});

Deno.test("the NULL group is not confused with the value stored under it", () => {
  // The NULL row's slot holds 0, as does the real 0.
  const { ids, keys } = group([INT64], [[columnFromValues(INT64, [null, 0, null, 0])]]);
  assert.deepEqual(ids, [0, 1, 0, 1]);
  assert.deepEqual(keys, [[null], [0]]);
});

Deno.test("numeric key columns come back in their own storage", () => {
  for (
    const [t, vals, ctor] of [
      [INT32, [1, -1], "Int32Array"],
      [DATE32, [19000, 1], "Int32Array"],
      [BOOL, [true, false], "Uint8Array"],
      [FLOAT64, [0.5, -2], "Float64Array"],
      [decimal(12, 2), [150, -1], "Float64Array"],
    ] as const
  ) {
    const tab = createGroupTable([t]);
    tab.insert([columnFromValues(t, vals as unknown as Value[])], 2);
    const [k] = tab.keyColumns();
    assert.equal((k as { values: unknown }).values!.constructor.name, ctor, t.id);
    assert.deepEqual(values(k), vals, t.id);
    assert.equal(k.type.id, t.id);
  }
});

Deno.test("doubles: -0 and 0 are one group", () => {
  const { ids } = group([FLOAT64], [[columnFromValues(FLOAT64, [0, -0, 1.5, 1.5])]]);
  assert.deepEqual(ids, [0, 0, 1, 1]);
});

Deno.test("doubles: NaN is one group (as DuckDB groups NaN values together)", () => {
  const { ids, keys } = group([FLOAT64], [[columnFromValues(FLOAT64, [NaN, 1, NaN, NaN])]]);
  assert.equal(keys.length, 2, `groups: ${JSON.stringify(keys)}`);
  assert.deepEqual(ids, [0, 1, 0, 0]);
});

Deno.test("generic table: strings as utf8 or dictionary group together", () => {
  const { ids, keys } = group([UTF8], [
    [columnFromValues(UTF8, ["b", "a", null, "b"])],
    [dict(["a", "c", null, "b"])],
  ]);
  assert.deepEqual(ids, [0, 1, 2, 0, 1, 3, 2, 0]);
  assert.deepEqual(keys, [["b"], ["a"], [null], ["c"]]);
});

Deno.test("dictionary keys (dense codes): NULLs, new dictionaries and mixed storage agree", () => {
  // Two dictionary columns (the dense-code path), then other dictionaries for
  // the same strings, then plain strings: one group per distinct pair.
  const { ids, keys } = group([UTF8, UTF8], [
    [dict(["A", "R", "A", null]), dict(["F", "O", "F", "F"])],
    [dict(["R", null, "N"]), dict(["O", "F", null])],
    [columnFromValues(UTF8, ["A", "N"]), columnFromValues(UTF8, ["F", null])],
  ]);
  assert.deepEqual(ids, [0, 1, 0, 2, 1, 2, 3, 0, 3]);
  assert.deepEqual(keys, [["A", "F"], ["R", "O"], [null, "F"], ["N", null]]);
});

Deno.test("generic table: several keys with NULLs, Int32 and Float64 storage of one value", () => {
  const { ids, keys } = group([INT64, UTF8], [
    [
      columnFromValues(INT64, [1, 1, null, null, 2]),
      columnFromValues(UTF8, ["x", "y", "x", "x", null]),
    ],
    [
      numericColumn(INT64, Int32Array.of(1, 2, 0), Uint8Array.of(1, 1, 0)),
      columnFromValues(UTF8, ["x", null, "x"]),
    ],
  ]);
  assert.deepEqual(ids, [0, 1, 2, 2, 3, 0, 3, 2]);
  assert.deepEqual(keys, [[1, "x"], [1, "y"], [null, "x"], [2, null]]);
});

Deno.test("wide decimal keys use the generic table and stay exact", () => {
  const t = decimal(38, 2);
  const big = 2n ** 62n + 1n;
  const { ids, keys } = group([t], [
    [columnFromValues(t, [big, big - 1n, big, null])],
    [columnFromValues(t, [big - 1n])],
  ]);
  assert.deepEqual(ids, [0, 1, 0, 2, 1]);
  assert.deepEqual(keys, [[big], [big - 1n], [null]]);
});

Deno.test("a million distinct numeric keys: rehashing keeps every id", () => {
  const n = 1 << 20;
  const batch = 65536;
  const t = createGroupTable([INT64]);
  // Keys in a scrambled order, inserted twice.
  const key = (i: number) => ((i * 2654435761) % 4294967296) - 2147483648;
  for (let pass = 0; pass < 2; pass++) {
    for (let s = 0; s < n; s += batch) {
      const col = numericColumn(INT64, Float64Array.from({ length: batch }, (_, k) => key(s + k)));
      const ids = t.insert([col], batch);
      for (let k = 0; k < batch; k++) {
        if (ids[k] !== s + k) assert.fail(`pass ${pass}: key #${s + k} got group ${ids[k]}`);
      }
    }
  }
  assert.equal(t.size, n);
  const [kc] = t.keyColumns();
  for (const g of [0, 1, 12345, n - 1]) assert.equal(valueAt(kc, g), key(g));
});

Deno.test("a million distinct generic (two-column) keys: rehashing keeps every id", () => {
  const n = 1 << 20;
  const batch = 65536;
  const t = createGroupTable([INT32, UTF8]);
  const labels = ["a", "bb", "ccc", "dddd"];
  for (let pass = 0; pass < 2; pass++) {
    for (let s = 0; s < n; s += batch) {
      const a = numericColumn(INT32, Int32Array.from({ length: batch }, (_, k) => (s + k) >> 2));
      const b = dict(Array.from({ length: batch }, (_, k) => labels[(s + k) & 3]));
      const ids = t.insert([a, b], batch);
      for (let k = 0; k < batch; k++) {
        if (ids[k] !== s + k) assert.fail(`pass ${pass}: key #${s + k} got group ${ids[k]}`);
      }
    }
  }
  assert.equal(t.size, n);
  const kc = t.keyColumns();
  assert.deepEqual(kc.map((c) => valueAt(c, n - 1)), [(n - 1) >> 2, "dddd"]);
});

// ---------------------------------------------------------------------------
// JoinHashTable

function pairs(t: JoinHashTable, keys: Column[]): [number, number][] {
  const m = t.probe(keys, keys[0].length);
  return Array.from(m.probe, (p, k) => [p, m.build[k]]);
}

Deno.test("probe returns every match, duplicates in build order, per probe row", () => {
  const build = [columnFromValues(INT32, [7, 3, 7, null, 7, 9])];
  const t = new JoinHashTable(build, 6, false);
  assert.equal(t.size, 6);
  assert.equal(t.hasNullKey, true);
  assert.deepEqual(pairs(t, [columnFromValues(INT32, [7, 1, 9, null, 3])]), [
    [0, 0],
    [0, 2],
    [0, 4],
    [2, 5],
    [4, 1],
  ]);
});

Deno.test("NULL keys never match unless NULLs compare equal", () => {
  const keysOf = (vals: (number | null)[]) => [columnFromValues(INT64, vals)];
  const strict = new JoinHashTable(keysOf([null, 1]), 2, false);
  assert.deepEqual(pairs(strict, keysOf([null, 1])), [[1, 1]]);
  const loose = new JoinHashTable(keysOf([null, 1]), 2, true);
  assert.deepEqual(pairs(loose, keysOf([null, 1])), [[0, 0], [1, 1]]);
  const noNulls = new JoinHashTable(keysOf([1, 2]), 2, false);
  assert.equal(noNulls.hasNullKey, false);
});

Deno.test("nullsEqual: a NULL matches a NULL whatever value lies under it", () => {
  // Computed columns leave arbitrary values under NULLs (here 7 and 0).
  const build = numericColumn(INT64, Float64Array.of(7, 1), Uint8Array.of(0, 1));
  const probe = numericColumn(INT64, Float64Array.of(0, 1), Uint8Array.of(0, 1));
  const t = new JoinHashTable([build], 2, true);
  assert.deepEqual(pairs(t, [probe]), [[0, 0], [1, 1]]);
});

Deno.test("string and multi-column keys, utf8 probing a dictionary build", () => {
  const bk = [dict(["a", "b", "a", null]), columnFromValues(INT32, [1, 1, 2, 1])];
  const t = new JoinHashTable(bk, 4, false);
  const pk = [
    columnFromValues(UTF8, ["a", "a", "b", null, "c"]),
    columnFromValues(INT32, [2, 1, 1, 1, 1]),
  ];
  assert.deepEqual(pairs(t, pk), [[0, 2], [1, 0], [2, 1]]);
  const loose = new JoinHashTable(bk, 4, true);
  assert.deepEqual(pairs(loose, pk), [[0, 2], [1, 0], [2, 1], [3, 3]]);
});

Deno.test("many matches per probe batch grow the output arrays", () => {
  const m = 3000;
  const build = [columnFromValues(INT32, Array.from({ length: m }, () => 1))];
  const t = new JoinHashTable(build, m, false);
  const probe = [columnFromValues(INT32, [1, 2, 1])];
  const r = t.probe(probe, 3);
  assert.equal(r.probe.length, 2 * m);
  assert.deepEqual([r.probe[0], r.build[0], r.probe[m], r.build[m]], [0, 0, 2, 0]);
  assert.equal(r.build[m - 1], m - 1);
});

Deno.test("probeRange stops at whole rows past the limit and resumes where it stopped", () => {
  const m = 1000;
  const build = [columnFromValues(INT32, Array.from({ length: m }, (_, i) => i % 10))];
  const t = new JoinHashTable(build, m, false);
  const n = 50;
  const probe = [columnFromValues(INT32, Array.from({ length: n }, (_, i) => i % 20))];
  const whole = t.probe(probe, n);
  const hashes = hashColumns(probe, n);
  const probes: number[] = [], builds: number[] = [];
  let steps = 0;
  for (let from = 0; from < n; steps++) {
    const r = t.probeRange(probe, hashes, from, n, 250);
    // Each key matches 100 build rows: the step ends on the row that reached the limit.
    assert.ok(r.probe.length <= 250 + 100, `a step of ${r.probe.length} pairs`);
    assert.ok(r.next > from, "every step makes progress");
    probes.push(...r.probe);
    builds.push(...r.build);
    from = r.next;
  }
  assert.ok(steps >= 10, `${steps} steps`);
  assert.deepEqual(probes, [...whole.probe]);
  assert.deepEqual(builds, [...whole.build]);
});

Deno.test("an empty build side matches nothing", () => {
  const t = new JoinHashTable([columnFromValues(INT32, [])], 0, false);
  assert.deepEqual(pairs(t, [columnFromValues(INT32, [1, null])]), []);
  assert.equal(t.hasNullKey, false);
});

Deno.test("a large build side with distinct keys finds each key once", () => {
  const n = 200000;
  const build = [numericColumn(INT64, Float64Array.from({ length: n }, (_, i) => i * 3))];
  const t = new JoinHashTable(build, n, false);
  const probe = [numericColumn(INT64, Float64Array.from({ length: n }, (_, i) => i))];
  const r = t.probe(probe, n);
  assert.equal(r.probe.length, Math.ceil(n / 3));
  for (let k = 0; k < r.probe.length; k++) {
    if (r.probe[k] !== r.build[k] * 3) assert.fail(`pair ${r.probe[k]}, ${r.build[k]}`);
  }
});
