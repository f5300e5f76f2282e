/**
 * Aggregate accumulators: each one updated over groups, compared with
 * DuckDB's GROUP BY over the same rows; partial states merged from several
 * partitions give the single-pass result; exact decimal sums beyond 2^53;
 * DISTINCT; rows with a negative group id (FILTER) are skipped.
 */

import assert from "node:assert/strict";
import { SpiceError } from "../../src/errors.ts";
import {
  type Column,
  columnFromValues,
  numericColumn,
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
  typeToString,
  UTF8,
} from "../../src/arrow/types.ts";
import { type Accumulator, createAccumulator, stateTypes } from "../../src/exec/aggregates.ts";
import { type AggFn, type AggregateCall, col } from "../../src/plan/expr.ts";
import { aggregateResultType } from "../../src/plan/functions.ts";
import { dictOf, duck, duckDecimal, duckDouble, exact, sqlLiteral } from "./kernels/support.ts";

function call(fn: AggFn, argType: DataType | null, distinct = false): AggregateCall {
  return {
    id: 100,
    fn,
    args: argType ? [col(1, argType, "x")] : [],
    distinct,
    filter: null,
    type: aggregateResultType(fn, argType),
    name: fn,
  };
}

function values(c: Column): Value[] {
  return Array.from({ length: c.length }, (_, i) => valueAt(c, i));
}

/** Runs an accumulator over batches of (group, value) rows; the final column. */
function single(
  c: AggregateCall,
  groups: readonly number[],
  make: (vals: Value[]) => Column,
  vals: readonly Value[],
  numGroups: number,
  batch = 3,
): Column {
  const acc = createAccumulator(c);
  for (let s = 0; s < vals.length; s += batch) {
    const g = Int32Array.from(groups.slice(s, s + batch));
    const args = c.fn === "count_star" ? [] : [make(vals.slice(s, s + batch))];
    acc.update(g, args, g.length, numGroups);
  }
  return acc.finish(numGroups);
}

/** Three partial accumulators over row subsets, merged in a final one. */
function partialThenFinal(
  c: AggregateCall,
  groups: readonly number[],
  make: (vals: Value[]) => Column,
  vals: readonly Value[],
  numGroups: number,
): Column {
  const final: Accumulator = createAccumulator(c);
  for (let p = 0; p < 3; p++) {
    const part = createAccumulator(c);
    // This partition sees only rows i % 3 === p (the others are skipped with group -1).
    const g = Int32Array.from(groups, (x, i) => (i % 3 === p ? x : -1));
    part.update(g, c.fn === "count_star" ? [] : [make([...vals])], vals.length, numGroups);
    const state = part.state(numGroups);
    assert.deepEqual(
      state.map((s) => typeToString(s.type)),
      stateTypes(c).map(typeToString),
      "state columns have the declared types",
    );
    // Merge with the states in reverse group order, to exercise the group mapping.
    const order = Int32Array.from({ length: numGroups }, (_, k) => numGroups - 1 - k);
    const reordered = state.map((s) => takeRows(s, order));
    final.merge(order, reordered, numGroups, numGroups);
  }
  return final.finish(numGroups);
}

function takeRows(c: Column, idx: Int32Array): Column {
  const vals = Array.from(idx, (i) => valueAt(c, i));
  if (c.type.id === "utf8") return columnFromValues(UTF8, vals);
  // Keep the storage of wide values.
  return columnFromValues(c.type, vals);
}

/** DuckDB's `fn(x)` per group g (0..numGroups-1), with groups that have no rows. */
async function reference(
  sqlFn: string,
  type: DataType,
  groups: readonly number[],
  vals: readonly Value[],
  numGroups: number,
): Promise<unknown[]> {
  const rows = vals.map((v, i) => `(${groups[i]}, ${sqlLiteral(type, v)})`).join(", ");
  const got = await duck(
    `SELECT g.g, ${sqlFn} FROM range(${numGroups}) g(g) LEFT JOIN (VALUES ${rows}) t(g, x) ON t.g = g.g GROUP BY g.g ORDER BY g.g`,
  );
  return got.map((r) => r[1]);
}

function close(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  const x = Number(a), y = Number(b);
  return x === y || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

// Ten rows over four groups; group 3 gets no rows at all.
const GROUPS = [0, 1, 0, 2, 1, 0, 2, 2, 1, 0];
const NG = 4;

interface Case {
  fn: AggFn;
  sql: string;
  type: DataType;
  vals: Value[];
  make?: (vals: Value[]) => Column;
  approx?: boolean;
}

const INTS = [5, null, -3, 7, 2, 5, null, 1, 4, 11];
const DBLS = [0.5, -1.25, null, 3, 1e10, 2.5, -7, null, 0.1, 0.2];
const DECS = [150, -275, 999, null, 1, 12345, -1, 0, null, 50]; // DECIMAL(10,2)
const STRS = ["pear", "apple", null, "fig", "Apple", "pear", "日本", "", null, "zz"];
const BOOLS = [true, false, null, true, null, true, true, true, false, null];

const CASES: Case[] = [
  { fn: "count_star", sql: "count(*) FILTER (WHERE t.g IS NOT NULL)", type: INT32, vals: INTS },
  { fn: "count", sql: "count(x)", type: INT32, vals: INTS },
  { fn: "count", sql: "count(x)", type: UTF8, vals: STRS, make: (v) => dictOf(v as string[]) },
  { fn: "sum", sql: "sum(x)", type: INT32, vals: INTS },
  {
    fn: "sum",
    sql: "sum(x)",
    type: INT64,
    vals: [2 ** 40, -3, null, 7, 2, 5, null, 1, 4, -(2 ** 41)],
  },
  { fn: "sum", sql: "sum(x)", type: FLOAT64, vals: DBLS, approx: true },
  { fn: "sum", sql: "sum(x)", type: decimal(10, 2), vals: DECS },
  { fn: "avg", sql: "avg(x)", type: INT32, vals: INTS, approx: true },
  { fn: "avg", sql: "avg(x)", type: FLOAT64, vals: DBLS, approx: true },
  { fn: "avg", sql: "avg(x)", type: decimal(10, 2), vals: DECS, approx: true },
  { fn: "min", sql: "min(x)", type: INT32, vals: INTS },
  { fn: "max", sql: "max(x)", type: INT32, vals: INTS },
  { fn: "min", sql: "min(x)", type: FLOAT64, vals: DBLS },
  { fn: "max", sql: "max(x)", type: decimal(10, 2), vals: DECS },
  { fn: "min", sql: "min(x)", type: UTF8, vals: STRS },
  { fn: "max", sql: "max(x)", type: UTF8, vals: STRS },
  { fn: "max", sql: "max(x)", type: UTF8, vals: STRS, make: (v) => dictOf(v as string[]) },
  { fn: "min", sql: "min(x)", type: DATE32, vals: [19000, -5, null, 3, 1, 0, 2, 7, 8, 9] },
  { fn: "max", sql: "max(x)", type: BOOL, vals: BOOLS },
  { fn: "stddev_samp", sql: "stddev_samp(x)", type: FLOAT64, vals: DBLS, approx: true },
  { fn: "stddev_pop", sql: "stddev_pop(x)", type: INT32, vals: INTS, approx: true },
  { fn: "var_samp", sql: "var_samp(x)", type: decimal(10, 2), vals: DECS, approx: true },
  { fn: "var_pop", sql: "var_pop(x)", type: INT64, vals: INTS, approx: true },
  { fn: "bool_and", sql: "bool_and(x)", type: BOOL, vals: BOOLS },
  { fn: "bool_or", sql: "bool_or(x)", type: BOOL, vals: BOOLS },
];

function fromDuck(type: DataType, v: unknown): Value {
  if (v === null) return null;
  switch (type.id) {
    case "decimal":
      return duckDecimal(v, type.scale);
    case "float64":
      return duckDouble(v);
    case "int32":
    case "int64":
      return BigInt(String(v));
    case "bool":
      return v === true;
    case "date32":
      return Math.round(Date.parse(String(v)) / 86400000);
    default:
      return v as Value;
  }
}

for (const c of CASES) {
  const name = `${c.sql.replace(/ FILTER.*/, "")} over ${typeToString(c.type)}${
    c.make ? " (dictionary)" : ""
  }`;
  Deno.test(`${name}: matches DuckDB, single pass and partial -> merge`, async () => {
    const ac = call(c.fn, c.fn === "count_star" ? null : c.type);
    const make = c.make ?? ((v: Value[]) => columnFromValues(c.type, v));
    const ref = await reference(c.sql, c.type, GROUPS, c.vals, NG);
    const want = ref.map((v) => fromDuck(ac.type, v));
    const norm = (v: Value) => (c.approx ? v : exact(typeof v === "boolean" ? v : v));
    for (
      const [how, got] of [
        ["single pass", single(ac, GROUPS, make, c.vals, NG)],
        ["partial -> merge", partialThenFinal(ac, GROUPS, make, c.vals, NG)],
      ] as const
    ) {
      assert.equal(typeToString(got.type), typeToString(ac.type), `${name} ${how}: type`);
      const vals = values(got).map(norm);
      if (c.approx) {
        assert.ok(
          vals.every((v, i) => close(v, want[i])),
          `${name} ${how}: ${JSON.stringify(vals)} vs DuckDB ${JSON.stringify(want)}`,
        );
      } else {
        assert.deepEqual(
          vals,
          want.map((v) => (typeof v === "number" ? exact(v) : v)),
          `${name} ${how}`,
        );
      }
    }
  });
}

Deno.test("any_value keeps the first non-NULL value of each group", () => {
  const ac = call("any_value", UTF8);
  const got = single(ac, [0, 0, 1, 0, 1], (v) => columnFromValues(UTF8, v), [
    null,
    "a",
    "b",
    "c",
    null,
  ], 3);
  assert.deepEqual(values(got), ["a", "b", null]);
});

// ---------------------------------------------------------------------------
// exact decimal sums

Deno.test("SUM(DECIMAL) is exact beyond 2^53, in one pass and merged", async () => {
  const t = decimal(15, 2);
  const big = 999999999999999; // 9999999999999.99, just under 10^15
  const vals: Value[] = [];
  const groups: number[] = [];
  for (let i = 0; i < 120; i++) {
    vals.push(i % 7 === 0 ? -big : big);
    groups.push(i % 2);
    if (i % 11 === 0) {
      vals.push(-1);
      groups.push(0);
    }
  }
  const ac = call("sum", t);
  const ref = await reference("sum(x)", t, groups, vals, 2);
  const want = ref.map((v) => duckDecimal(v, 2));
  assert.ok(
    want.some((w) => w !== null && (w > 2n ** 53n || w < -(2n ** 53n))),
    "the test passes 2^53",
  );
  const make = (v: Value[]) => columnFromValues(t, v);
  assert.deepEqual(values(single(ac, groups, make, vals, 2, 1000)).map(exact), want);
  assert.deepEqual(values(single(ac, groups, make, vals, 2, 5)).map(exact), want);
  assert.deepEqual(values(partialThenFinal(ac, groups, make, vals, 2)).map(exact), want);
});

Deno.test("SUM of wide (BigInt64) decimals is exact, and AVG divides the exact sum", async () => {
  const t = decimal(38, 2);
  const vals: Value[] = [2n ** 60n, 2n ** 60n + 1n, -3n, null, 2n ** 59n];
  const groups = [0, 0, 1, 1, 0];
  const make = (v: Value[]) => columnFromValues(t, v);
  const want = (await reference("sum(x)", t, groups, vals, 2)).map((v) => duckDecimal(v, 2));
  assert.deepEqual(values(single(call("sum", t), groups, make, vals, 2)).map(exact), want);
  assert.deepEqual(
    values(partialThenFinal(call("sum", t), groups, make, vals, 2)).map(exact),
    want,
  );
  const avg = (await reference("avg(x)", t, groups, vals, 2)).map(duckDouble);
  const got = values(single(call("avg", t), groups, make, vals, 2));
  assert.ok(got.every((v, i) => close(v, avg[i])), `${got} vs ${avg}`);
});

Deno.test("MIN and MAX over DECIMAL batches that mix Float64 and BigInt64 storage", () => {
  const t = decimal(38, 4);
  // The same values, some batches in each storage (partial states of different partitions).
  const batches: [number[], Column][] = [
    [[0, 1], numericColumn(t, Float64Array.of(15141417892, -5))],
    [[0, 1], numericColumn(t, BigInt64Array.of(12521712872n, -7n))],
    [[1, 2], numericColumn(t, Float64Array.of(3, 9))],
    [[0, 2], numericColumn(t, BigInt64Array.of(2n ** 60n, -(2n ** 60n)))],
  ];
  for (
    const [fn, want] of [["max", [2n ** 60n, 3n, 9n]], ["min", [
      12521712872n,
      -7n,
      -(2n ** 60n),
    ]]] as const
  ) {
    const acc = createAccumulator(call(fn, t));
    for (const [g, c] of batches) acc.update(Int32Array.from(g), [c], g.length, 3);
    const out = acc.finish(3);
    assert.deepEqual(values(out).map((v) => BigInt(v as number | bigint)), want, fn);
  }
});

Deno.test("SUM past the engine's exact range is refused, never wrapped or rounded", () => {
  const refused = (f: () => unknown, what: RegExp) =>
    assert.throws(
      f,
      (e) => e instanceof SpiceError && e.code === "NOT_SUPPORTED" && what.test(e.message),
    );
  // DECIMAL sums are exact up to 64 bits of unscaled value (DuckDB goes to 128).
  const t = decimal(18, 0);
  const vals: Value[] = Array.from({ length: 11 }, () => 9e17);
  refused(
    () => single(call("sum", t), vals.map(() => 0), (v) => columnFromValues(t, v), vals, 1),
    /wider than 64 bits/,
  );
  // BIGINT sums are exact up to 2^53 (BIGINT is held in doubles).
  const big: Value[] = [2 ** 52, 2 ** 52, 2 ** 52, 2 ** 52];
  refused(
    () => single(call("sum", INT64), [0, 0, 0, 0], (v) => columnFromValues(INT64, v), big, 1),
    /beyond ±2\^53/,
  );
});

Deno.test("SUM(DECIMAL) beyond 2^53 but within 64 bits stays exact", () => {
  const t = decimal(18, 0);
  const vals: Value[] = Array.from({ length: 9 }, () => 9e17);
  const sum = single(call("sum", t), vals.map(() => 0), (v) => columnFromValues(t, v), vals, 1);
  assert.equal(BigInt(valueAt(sum, 0) as bigint), 81n * 10n ** 17n);
});

// ---------------------------------------------------------------------------
// NaN, DISTINCT, FILTER and empty groups

Deno.test("MAX over doubles with NaN is NaN, as DuckDB (NaN sorts above every number)", async () => {
  const vals: Value[] = [3, NaN, 1];
  const ref = await reference("max(x)", FLOAT64, [0, 0, 0], vals, 1);
  const want = ref.map(duckDouble);
  const got = values(
    single(call("max", FLOAT64), [0, 0, 0], (v) => columnFromValues(FLOAT64, v), vals, 1),
  );
  assert.deepEqual(got, want);
  assert.deepEqual(
    values(
      single(call("max", FLOAT64), [0, 0, 0], (v) => columnFromValues(FLOAT64, v), [NaN, 3, 1], 1),
    ),
    want,
  );
});

Deno.test("DISTINCT aggregates count each (group, value) once, across batches and storages", async () => {
  const groups = [0, 0, 1, 0, 1, 1, 0, 0, 1];
  const ints: Value[] = [1, 1, 1, null, 2, 2, 3, 1, null];
  for (const fn of ["count", "sum", "avg"] as const) {
    const ref = await reference(`${fn}(DISTINCT x)`, INT32, groups, ints, 3);
    const ac = call(fn, INT32, true);
    const got = values(single(ac, groups, (v) => columnFromValues(INT32, v), ints, 3, 2));
    const want = ref.map((v) => fromDuck(ac.type, v));
    assert.ok(
      got.every((v, i) =>
        close(v === null ? null : Number(v), want[i] === null ? null : Number(want[i]))
      ),
      `${fn}(DISTINCT): ${got} vs ${want}`,
    );
  }
  // Strings arriving as a dictionary in one batch and plain in the next.
  const acc = createAccumulator(call("count", UTF8, true));
  acc.update(Int32Array.of(0, 0, 0), [dictOf(["a", "b", "a"])], 3, 1);
  acc.update(Int32Array.of(0, 0), [columnFromValues(UTF8, ["b", "c"])], 2, 1);
  assert.deepEqual(values(acc.finish(1)), [3]);
});

Deno.test("DISTINCT accumulators refuse partial states", () => {
  const acc = createAccumulator(call("count", INT32, true));
  assert.throws(() => acc.state(1));
});

Deno.test("rows with a negative group id are skipped (FILTER)", () => {
  for (const fn of ["count", "sum", "min", "max", "avg", "bool_or", "var_pop"] as const) {
    const t = fn === "bool_or" ? BOOL : INT32;
    const v: Value[] = fn === "bool_or" ? [true, false] : [100, 1];
    const acc = createAccumulator(call(fn, t));
    acc.update(Int32Array.of(-1, 0), [columnFromValues(t, v)], 2, 1);
    const got = valueAt(acc.finish(1), 0);
    const want: Record<string, Value> = {
      count: 1,
      sum: 1,
      min: 1,
      max: 1,
      avg: 1,
      bool_or: false,
      var_pop: 0,
    };
    assert.equal(got, want[fn], fn);
  }
  const star = createAccumulator(call("count_star", null));
  star.update(Int32Array.of(-1, 0, -1), [], 3, 1);
  assert.deepEqual(values(star.finish(1)), [1]);
});

Deno.test("a group without rows: COUNT is 0, every other aggregate is NULL", () => {
  for (
    const fn of ["count", "count_star", "sum", "avg", "min", "max", "var_samp", "bool_and"] as const
  ) {
    const t = fn === "bool_and" ? BOOL : INT32;
    const acc = createAccumulator(call(fn, fn === "count_star" ? null : t));
    const got = valueAt(acc.finish(2), 1);
    assert.equal(got, fn.startsWith("count") ? 0 : null, fn);
  }
});

Deno.test("var_samp of one row is NULL, var_pop of one row is 0", () => {
  const one = (fn: AggFn) =>
    valueAt(single(call(fn, FLOAT64), [0], (v) => columnFromValues(FLOAT64, v), [4.5], 1), 0);
  assert.equal(one("var_samp"), null);
  assert.equal(one("stddev_samp"), null);
  assert.equal(one("var_pop"), 0);
  assert.equal(one("stddev_pop"), 0);
});
