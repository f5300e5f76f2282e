/**
 * Aggregate operator through executePlan: single mode, partial -> hash
 * repartition -> final (through LocalExchanges) agreeing with single mode,
 * grouping sets with the grouping id, FILTER and DISTINCT, no keys on empty
 * input (one row), output in batches of the context's size. Expected rows
 * come from DuckDB over the same table.
 */

import assert from "node:assert/strict";
import type { Value } from "../../../src/arrow/column.ts";
import { type DataType, decimal, INT32, INT64, UTF8 } from "../../../src/arrow/types.ts";
import { stateTypes } from "../../../src/exec/aggregates.ts";
import type { AggregateMode, PhysicalPlan } from "../../../src/physical/plan.ts";
import { type AggFn, type AggregateCall, type Expr, lit } from "../../../src/plan/expr.ts";
import { aggregateResultType } from "../../../src/plan/functions.ts";
import type { OutputColumn, ProjectItem } from "../../../src/plan/logical.ts";
import { duck, duckDecimal, duckDouble, sqlLiteral } from "../kernels/support.ts";
import {
  catalogOf,
  context,
  id,
  memoryTable,
  ref,
  run,
  runPartitions,
  scan,
  sorted,
} from "./helpers.ts";

const COLS = [
  { name: "g", type: UTF8 },
  { name: "h", type: INT32 },
  { name: "x", type: INT32 },
  { name: "d", type: decimal(10, 2) },
];
const ROWS: Value[][] = [
  ["a", 1, 5, 150],
  ["b", 1, null, -20],
  ["a", 2, 3, null],
  [null, 1, 7, 999],
  ["b", 2, 2, 1],
  ["a", 1, 5, 250],
  ["c", null, 11, 0],
  [null, 2, null, 5],
  ["b", 1, 4, 100],
  ["a", 2, 1, -1],
];
const catalog = catalogOf({
  t: memoryTable(COLS, ROWS, 2),
  empty: memoryTable(COLS, [], 2),
});

let loaded: Promise<unknown> | null = null;
function loadDuck(): Promise<unknown> {
  const values = ROWS.map((r) => `(${r.map((v, i) => sqlLiteral(COLS[i].type, v)).join(", ")})`);
  loaded ??= duck(
    `CREATE OR REPLACE TABLE t AS SELECT * FROM (VALUES ${values.join(", ")}) v(g, h, x, d)`,
  ).then(() => duck("CREATE OR REPLACE TABLE empty AS SELECT * FROM t WHERE false"));
  return loaded;
}

interface Agg {
  fn: AggFn;
  arg: string | null;
  distinct?: boolean;
  filter?: (input: PhysicalPlan) => Expr;
}

function calls(input: PhysicalPlan, aggs: readonly Agg[]): AggregateCall[] {
  return aggs.map((a) => {
    const arg = a.arg ? ref(input, a.arg) : null;
    return {
      id: id(),
      fn: a.fn,
      args: arg ? [arg] : [],
      distinct: a.distinct ?? false,
      filter: a.filter ? a.filter(input) : null,
      type: aggregateResultType(a.fn, arg ? arg.type : null),
      name: a.fn,
    };
  });
}

function finalColumns(
  groupBy: ProjectItem[],
  aggs: AggregateCall[],
  groupingId: number | null,
): OutputColumn[] {
  const cols: OutputColumn[] = groupBy.map((g) => ({
    id: g.id,
    name: g.name,
    type: g.expr.type,
    nullable: true,
  }));
  for (const a of aggs) cols.push({ id: a.id, name: a.name, type: a.type, nullable: true });
  if (groupingId !== null) {
    cols.push({ id: groupingId, name: "__grouping_id", type: INT64, nullable: false });
  }
  return cols;
}

interface Spec {
  keys: string[];
  aggs: Agg[];
  sets?: number[][];
}

function node(
  input: PhysicalPlan,
  mode: AggregateMode,
  groupBy: ProjectItem[],
  aggregates: AggregateCall[],
  sets: number[][] | null,
  groupingId: number | null,
  columns: OutputColumn[],
): PhysicalPlan {
  return {
    op: "aggregate",
    id: id(),
    input,
    mode,
    groupBy,
    aggregates,
    groupingSets: sets,
    groupingId,
    columns,
    partitions: input.partitions,
  };
}

/** Single-mode aggregate over `input`. */
function singlePlan(input: PhysicalPlan, spec: Spec): PhysicalPlan {
  const groupBy = spec.keys.map((k) => ({ id: id(), name: k, expr: ref(input, k) }));
  const aggs = calls(input, spec.aggs);
  const gid = spec.sets ? id() : null;
  return node(
    input,
    "single",
    groupBy,
    aggs,
    spec.sets ?? null,
    gid,
    finalColumns(groupBy, aggs, gid),
  );
}

/** Partial per input partition -> exchange on the keys -> final, as the planner lays it out. */
function twoPhasePlan(input: PhysicalPlan, spec: Spec, partitions: number): PhysicalPlan {
  const groupBy = spec.keys.map((k) => ({ id: id(), name: k, expr: ref(input, k) }));
  const aggs = calls(input, spec.aggs);
  const gid = spec.sets ? id() : null;
  const partialCols: OutputColumn[] = groupBy.map((g) => ({
    id: g.id,
    name: g.name,
    type: g.expr.type,
    nullable: true,
  }));
  if (gid !== null) {
    partialCols.push({ id: gid, name: "__grouping_id", type: INT64, nullable: false });
  }
  for (const a of aggs) {
    for (const t of stateTypes(a)) {
      partialCols.push({ id: id(), name: `${a.name}_state`, type: t, nullable: true });
    }
  }
  const partial = node(input, "partial", groupBy, aggs, spec.sets ?? null, gid, partialCols);
  const nKeys = groupBy.length + (gid !== null ? 1 : 0);
  const keyRefs: Expr[] = partialCols.slice(0, nKeys).map((c) => ({
    kind: "column",
    id: c.id,
    type: c.type,
    name: c.name,
  }));
  const exchange: PhysicalPlan = nKeys === 0
    ? { op: "coalesce", id: id(), input: partial, columns: partialCols, partitions: 1 }
    : {
      op: "repartition",
      id: id(),
      input: partial,
      keys: keyRefs,
      columns: partialCols,
      partitions,
    };
  return node(
    exchange,
    "final",
    groupBy,
    aggs,
    spec.sets ?? null,
    gid,
    finalColumns(groupBy, aggs, gid),
  );
}

function sqlAgg(a: Agg): string {
  const fn = a.fn === "count_star"
    ? "count(*)"
    : `${a.fn}(${a.distinct ? "DISTINCT " : ""}${a.arg})`;
  return a.filter ? `${fn} FILTER (WHERE x > 2)` : fn;
}

/** DuckDB's rows for the same aggregation, as engine values. */
async function expected(spec: Spec, types: DataType[], from = "t"): Promise<Value[][]> {
  await loadDuck();
  const sets = spec.sets
    ? `GROUPING SETS (${
      spec.sets.map((s) => `(${s.map((i) => spec.keys[i]).join(", ")})`).join(", ")
    })`
    : spec.keys.join(", ");
  const gid = spec.sets
    ? [`${spec.keys.map((k, i) => `GROUPING(${k}) * ${2 ** i}`).join(" + ")}`]
    : [];
  const select = [...spec.keys, ...spec.aggs.map(sqlAgg), ...gid].join(", ");
  const sql = `SELECT ${select} FROM ${from}${spec.keys.length ? ` GROUP BY ${sets}` : ""}`;
  const got = await duck(sql);
  return got.map((r) =>
    r.map((v, i) => {
      if (v === null) return null;
      const t = types[i];
      if (t.id === "decimal") return Number(duckDecimal(v, t.scale));
      if (t.id === "float64") return duckDouble(v);
      if (t.id === "int32" || t.id === "int64") return Number(v);
      return v as Value;
    })
  );
}

function typesOf(p: PhysicalPlan): DataType[] {
  return p.columns.map((c) => c.type);
}

function approx(rows: Value[][]): Value[][] {
  return rows.map((r) => r.map((v) => (typeof v === "number" ? Number(v.toPrecision(12)) : v)));
}

const SPEC: Spec = {
  keys: ["g"],
  aggs: [
    { fn: "count_star", arg: null },
    { fn: "count", arg: "x" },
    { fn: "sum", arg: "x" },
    { fn: "sum", arg: "d" },
    { fn: "min", arg: "d" },
    { fn: "max", arg: "x" },
    { fn: "avg", arg: "x" },
  ],
};

Deno.test("single mode: GROUP BY a string key with a NULL group", async () => {
  const s = await scan(catalog, "t");
  const p = singlePlan(s, SPEC);
  assert.deepEqual(
    approx(sorted(await run(p, context(catalog)))),
    approx(sorted(await expected(SPEC, typesOf(p)))),
  );
});

Deno.test("partial -> repartition -> final equals single mode", async () => {
  for (const inputParts of [1, 3]) {
    for (const outParts of [1, 2, 4]) {
      const s = await scan(catalog, "t", inputParts);
      const p = twoPhasePlan(s, SPEC, outParts);
      const got = approx(sorted(await run(p, context(catalog))));
      assert.deepEqual(
        got,
        approx(sorted(await expected(SPEC, typesOf(p)))),
        `${inputParts} -> ${outParts}`,
      );
    }
  }
});

Deno.test("two keys, integer and string, with NULLs in both", async () => {
  const spec: Spec = {
    keys: ["h", "g"],
    aggs: [{ fn: "sum", arg: "d" }, { fn: "count_star", arg: null }],
  };
  const s = await scan(catalog, "t");
  const want = sorted(await expected(spec, typesOf(singlePlan(s, spec))));
  assert.deepEqual(sorted(await run(singlePlan(s, spec), context(catalog))), want, "single");
  const s2 = await scan(catalog, "t", 3);
  assert.deepEqual(
    sorted(await run(twoPhasePlan(s2, spec, 3), context(catalog))),
    want,
    "two-phase",
  );
});

Deno.test("grouping sets (ROLLUP of two keys) with the grouping id, single and two-phase", async () => {
  const spec: Spec = {
    keys: ["g", "h"],
    aggs: [{ fn: "sum", arg: "x" }, { fn: "count_star", arg: null }],
    sets: [[0, 1], [0], []],
  };
  const s = await scan(catalog, "t");
  const single = singlePlan(s, spec);
  const want = sorted(await expected(spec, typesOf(single)));
  assert.deepEqual(sorted(await run(single, context(catalog))), want, "single");
  const s2 = await scan(catalog, "t", 2);
  assert.deepEqual(
    sorted(await run(twoPhasePlan(s2, spec, 3), context(catalog))),
    want,
    "two-phase",
  );
});

Deno.test("FILTER (WHERE ...) and DISTINCT aggregates", async () => {
  const gt2 = (input: PhysicalPlan): Expr => ({
    kind: "binary",
    op: ">",
    left: ref(input, "x"),
    right: lit(2, INT32),
    type: { id: "bool" },
  });
  const spec: Spec = {
    keys: ["g"],
    aggs: [
      { fn: "sum", arg: "x", filter: gt2 },
      { fn: "count_star", arg: null, filter: gt2 },
      { fn: "count", arg: "x", distinct: true },
      { fn: "sum", arg: "x", distinct: true },
    ],
  };
  // Single mode sees every row of a group in one partition (DISTINCT has no partial state).
  const s = await scan(catalog, "t");
  const p = singlePlan(s, spec);
  assert.deepEqual(
    sorted(await run(p, context(catalog))),
    sorted(await expected(spec, typesOf(p))),
  );
});

Deno.test("no GROUP BY keys: one row, also on empty input (COUNT 0, SUM NULL)", async () => {
  const spec: Spec = {
    keys: [],
    aggs: [{ fn: "count_star", arg: null }, { fn: "sum", arg: "x" }, { fn: "max", arg: "g" }],
  };
  for (const table of ["t", "empty"]) {
    const s = await scan(catalog, table);
    const want = await expected(spec, typesOf(singlePlan(s, spec)), table);
    assert.equal(want.length, 1);
    assert.deepEqual(await run(singlePlan(s, spec), context(catalog)), want, `${table}: single`);
    const s2 = await scan(catalog, table, 3);
    assert.deepEqual(
      await run(twoPhasePlan(s2, spec, 2), context(catalog)),
      want,
      `${table}: two-phase`,
    );
  }
});

Deno.test("GROUP BY on empty input gives no rows", async () => {
  const spec: Spec = { keys: ["g"], aggs: [{ fn: "count_star", arg: null }] };
  const s = await scan(catalog, "empty");
  assert.deepEqual(await run(singlePlan(s, spec), context(catalog)), []);
  const s2 = await scan(catalog, "empty");
  assert.deepEqual(await run(twoPhasePlan(s2, spec, 2), context(catalog)), []);
});

Deno.test("many groups come out in batches of at most the context's batch size", async () => {
  const n = 50;
  const big = catalogOf({
    b: memoryTable(
      [{ name: "k", type: INT32 }],
      Array.from({ length: n * 2 }, (_, i) => [i % n]),
      7,
    ),
  });
  const s = await scan(big, "b");
  const p = singlePlan(s, { keys: ["k"], aggs: [{ fn: "count_star", arg: null }] });
  const [batches] = await runPartitions(p, context(big, 8));
  assert.ok(batches.length >= Math.ceil(n / 8));
  assert.ok(batches.every((b) => b.numRows <= 8 && b.numRows > 0));
  const rows = batches.flatMap((b) =>
    Array.from({ length: b.numRows }, (_, i) => [
      (b.columns[0] as { values: Int32Array }).values[i],
      (b.columns[1] as { values: Float64Array }).values[i],
    ])
  );
  assert.deepEqual(sorted(rows), sorted(Array.from({ length: n }, (_, k) => [k, 2])));
});
