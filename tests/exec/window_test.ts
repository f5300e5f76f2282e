/**
 * Window functions against DuckDB: one table built both as a DuckDB table and
 * as an engine batch, and for each window specification the engine's column
 * is compared row by row (in input order) with
 * `SELECT <window expr> FROM t ORDER BY rid`.
 */

import assert from "node:assert/strict";
import { DuckDBInstance } from "@duckdb/node-api";
import { type RecordBatch, recordBatch } from "../../src/arrow/batch.ts";
import { type Column, columnFromValues, type Value, valueAt } from "../../src/arrow/column.ts";
import {
  type DataType,
  DATE32,
  decimal,
  field,
  FLOAT64,
  INT32,
  INT64,
  schema,
  TIMESTAMP,
  UTF8,
} from "../../src/arrow/types.ts";
import { col, type Expr, lit } from "../../src/plan/expr.ts";
import {
  aggregateName,
  aggregateResultType,
  windowFunctionType,
} from "../../src/plan/functions.ts";
import type { SortKey, WindowCall, WindowFrame } from "../../src/plan/logical.ts";
import { layoutOf } from "../../src/exec/expr.ts";
import { computeWindows } from "../../src/exec/window.ts";

// ---------------------------------------------------------------------------
// the test table

const N = 90;

/** Deterministic pseudo-random numbers (a fixed LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface ColumnDef {
  readonly name: string;
  readonly type: DataType;
  readonly sqlType: string;
  /** Engine storage values (unscaled decimals, days for dates). */
  readonly values: Value[];
}

const DAY0 = Date.UTC(2024, 0, 1) / 86_400_000;

function buildTable(): ColumnDef[] {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const maybe = <T>(p: number, v: () => T): T | null => (r() < p ? null : v());
  const rid: Value[] = [], g: Value[] = [], k: Value[] = [], d: Value[] = [], f: Value[] = [];
  const s: Value[] = [], dt: Value[] = [], bd: Value[] = [], dl: Value[] = [], i64: Value[] = [];
  const ts: Value[] = [];
  const words = ["apple", "banana", "cherry", "date", "", "Zeta", "éclair", "fig"];
  for (let i = 0; i < N; i++) {
    rid.push(i + 1);
    g.push(maybe(0.1, () => pick([1, 2, 3, 4])));
    k.push(maybe(0.12, () => Math.floor(r() * 12)));
    d.push(maybe(0.15, () => Math.floor(r() * 25000) - 5000));
    f.push(maybe(0.1, () => (Math.floor(r() * 1500) - 500) / 10));
    s.push(maybe(0.1, () => pick(words)));
    dt.push(maybe(0.1, () => DAY0 + Math.floor(r() * 60)));
    // decimal(38,2) stored as BigInt64Array: unscaled values past 2^53.
    bd.push(maybe(0.1, () => BigInt(Math.floor(r() * 2e9) - 5e8) * 50_000_000n + BigInt(i)));
    // decimal(18,2) in doubles: each value exact, but sums pass 2^53.
    dl.push(maybe(0.1, () => Math.floor(r() * 8e14) + 1e14));
    i64.push(maybe(0.1, () => Math.floor(r() * 2e12) - 1e12));
    ts.push(maybe(0.1, () => (DAY0 * 86_400 + Math.floor(r() * 40) * 6 * 3600) * 1e6));
  }
  return [
    { name: "rid", type: INT32, sqlType: "INTEGER", values: rid },
    { name: "g", type: INT32, sqlType: "INTEGER", values: g },
    { name: "k", type: INT32, sqlType: "INTEGER", values: k },
    { name: "d", type: decimal(15, 2), sqlType: "DECIMAL(15,2)", values: d },
    { name: "f", type: FLOAT64, sqlType: "DOUBLE", values: f },
    { name: "s", type: UTF8, sqlType: "VARCHAR", values: s },
    { name: "dt", type: DATE32, sqlType: "DATE", values: dt },
    { name: "bd", type: decimal(38, 2), sqlType: "DECIMAL(38,2)", values: bd },
    { name: "dl", type: decimal(18, 2), sqlType: "DECIMAL(18,2)", values: dl },
    { name: "i64", type: INT64, sqlType: "BIGINT", values: i64 },
    { name: "ts", type: TIMESTAMP, sqlType: "TIMESTAMP", values: ts },
  ];
}

function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

function formatUnscaled(v: number | bigint, scale: number): string {
  const b = BigInt(v);
  const neg = b < 0n;
  const digits = (neg ? -b : b).toString().padStart(scale + 1, "0");
  const out = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${out}` : out;
}

function sqlLiteral(c: ColumnDef, v: Value): string {
  if (v === null) return "NULL";
  switch (c.type.id) {
    case "decimal":
      return `${formatUnscaled(v as number | bigint, c.type.scale)}::${c.sqlType}`;
    case "utf8":
      return `'${String(v).replaceAll("'", "''")}'`;
    case "date32":
      return `DATE '${isoDate(v as number)}'`;
    case "timestamp":
      return `make_timestamp(${v}::BIGINT)`;
    default:
      return String(v);
  }
}

const TABLE = buildTable();
const IDS = new Map(TABLE.map((c, i) => [c.name, 100 + i]));
const BATCH: RecordBatch = recordBatch(
  schema(TABLE.map((c) => field(c.name, c.type))),
  TABLE.map((c) => columnFromValues(c.type, c.values)),
);
const LAYOUT = layoutOf(TABLE.map((c) => IDS.get(c.name)!));

function ref(name: string): Expr {
  const c = TABLE.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return col(IDS.get(name)!, c.type, name);
}

// ---------------------------------------------------------------------------
// cases: each builds the engine's WindowCall and DuckDB's SQL from one description

type Arg = string | { readonly value: number; readonly type: DataType; readonly sql?: string };
type Order = readonly [string, "asc" | "desc", ("first" | "last")?];

interface Case {
  readonly fn: string;
  readonly args?: readonly Arg[];
  readonly part?: readonly string[];
  readonly order?: readonly Order[];
  readonly frame?: WindowFrame;
  /** SQL for the frame where DuckDB spells it differently (intervals). */
  readonly frameSql?: string;
}

const rows = (start: WindowFrame["start"], end: WindowFrame["end"]): WindowFrame => ({
  units: "rows",
  start,
  end,
});
const range = (start: WindowFrame["start"], end: WindowFrame["end"]): WindowFrame => ({
  units: "range",
  start,
  end,
});
const UNB = { kind: "unbounded" } as const;
const CUR = { kind: "current" } as const;
const pre = (offset: number) => ({ kind: "preceding", offset }) as const;
const fol = (offset: number) => ({ kind: "following", offset }) as const;
const int = (value: number): Arg => ({ value, type: INT64 });

const CASES: readonly Case[] = [
  // ranking
  { fn: "row_number", order: [["k", "asc"], ["rid", "asc"]] },
  { fn: "row_number", part: ["g"], order: [["d", "desc", "first"], ["rid", "asc"]] },
  { fn: "rank", order: [["k", "asc"]] },
  { fn: "rank", part: ["g"], order: [["k", "desc", "first"]] },
  { fn: "rank", part: ["g"] },
  { fn: "dense_rank", part: ["g"], order: [["s", "asc"]] },
  { fn: "dense_rank", order: [["dt", "asc", "first"]] },
  { fn: "dense_rank", part: ["g", "s"], order: [["k", "asc"], ["dt", "desc"]] },
  { fn: "percent_rank", part: ["g"], order: [["k", "asc"]] },
  { fn: "percent_rank", order: [["f", "desc"]] },
  { fn: "cume_dist", part: ["g"], order: [["k", "asc", "first"]] },
  { fn: "cume_dist", order: [["s", "desc", "last"]] },
  { fn: "ntile", args: [int(4)], order: [["k", "asc"], ["rid", "asc"]] },
  { fn: "ntile", args: [int(3)], part: ["g"], order: [["f", "asc"], ["rid", "asc"]] },
  { fn: "ntile", args: [int(100)], part: ["g"], order: [["rid", "asc"]] },
  // lag / lead
  { fn: "lag", args: ["d"], part: ["g"], order: [["rid", "asc"]] },
  { fn: "lag", args: ["s", int(2)], order: [["k", "asc"], ["rid", "asc"]] },
  {
    fn: "lead",
    args: ["f", int(1), { value: 0.5, type: FLOAT64 }],
    part: ["g"],
    order: [["k", "desc"], ["rid", "asc"]],
  },
  { fn: "lead", args: ["d", int(3), "d"], order: [["rid", "asc"]] },
  { fn: "lag", args: ["dt"], part: ["s"], order: [["rid", "desc"]] },
  { fn: "lag", args: ["bd", int(1)], order: [["rid", "asc"]] },
  { fn: "lead", args: ["s", int(-1), "s"], part: ["g"], order: [["rid", "asc"]] },
  { fn: "lag", args: ["ts", int(0)], order: [["rid", "asc"]] },
  // first / last / nth value
  { fn: "first_value", args: ["s"], part: ["g"], order: [["k", "asc"], ["rid", "asc"]] },
  {
    fn: "last_value",
    args: ["d"],
    part: ["g"],
    order: [["k", "asc"], ["rid", "asc"]],
    frame: rows(UNB, UNB),
  },
  { fn: "last_value", args: ["f"], order: [["k", "asc"], ["rid", "asc"]] },
  {
    fn: "nth_value",
    args: ["f", int(2)],
    part: ["g"],
    order: [["rid", "asc"]],
    frame: rows(pre(1), fol(2)),
  },
  { fn: "nth_value", args: ["s", int(3)], part: ["g"], order: [["rid", "asc"]] },
  { fn: "first_value", args: ["d"], order: [["rid", "asc"]], frame: rows(fol(2), fol(4)) },
  {
    fn: "last_value",
    args: ["k"],
    part: ["g"],
    order: [["k", "asc"]],
    frame: range(pre(2), fol(1)),
  },
  { fn: "first_value", args: ["dt"], order: [["dt", "asc"]], frame: range(pre(3), CUR) },
  { fn: "last_value", args: ["k"], order: [["k", "desc", "first"]], frame: range(CUR, UNB) },
  // aggregates: default frames (peers), whole partitions
  { fn: "sum", args: ["d"], part: ["g"], order: [["k", "asc"]] },
  { fn: "sum", args: ["k"] },
  { fn: "count", args: ["s"], part: ["g"] },
  { fn: "count_star", part: ["g"], order: [["dt", "desc", "last"]] },
  { fn: "avg", args: ["f"], part: ["g"] },
  { fn: "avg", args: ["d"], order: [["s", "asc", "first"]] },
  { fn: "min", args: ["f"], part: ["g"], order: [["k", "desc", "first"]] },
  { fn: "max", args: ["s"], part: ["g"] },
  { fn: "max", args: ["bd"], part: ["g"] },
  { fn: "sum", args: ["i64"], part: ["g"], order: [["rid", "asc"]] },
  // ROWS frames
  { fn: "sum", args: ["f"], order: [["k", "asc"], ["rid", "asc"]], frame: rows(pre(2), fol(2)) },
  { fn: "sum", args: ["bd"], order: [["rid", "asc"]], frame: rows(pre(1), fol(1)) },
  { fn: "sum", args: ["dl"], part: ["g"], order: [["rid", "asc"]], frame: rows(UNB, CUR) },
  { fn: "avg", args: ["dl"], order: [["rid", "asc"]], frame: rows(pre(5), CUR) },
  { fn: "min", args: ["s"], part: ["g"], order: [["rid", "asc"]], frame: rows(pre(3), CUR) },
  { fn: "max", args: ["dt"], part: ["g"], order: [["rid", "asc"]], frame: rows(UNB, pre(1)) },
  { fn: "min", args: ["d"], order: [["rid", "desc"]], frame: rows(fol(1), UNB) },
  { fn: "count", args: ["f"], order: [["rid", "asc"]], frame: rows(fol(2), fol(1)) },
  { fn: "avg", args: ["k"], part: ["g"], order: [["rid", "asc"]], frame: rows(pre(3), pre(1)) },
  { fn: "count_star", order: [["rid", "asc"]], frame: rows(CUR, fol(4)) },
  // RANGE frames with offsets
  { fn: "avg", args: ["d"], part: ["g"], order: [["k", "asc"]], frame: range(pre(1), fol(1)) },
  { fn: "count", args: ["s"], order: [["k", "asc", "first"]], frame: range(UNB, pre(2)) },
  { fn: "count_star", part: ["g"], order: [["k", "desc"]], frame: range(fol(1), fol(3)) },
  { fn: "max", args: ["d"], order: [["k", "asc"]], frame: range(CUR, fol(2)) },
  { fn: "min", args: ["f"], order: [["k", "desc", "first"]], frame: range(pre(0), fol(0)) },
  { fn: "sum", args: ["d"], order: [["d", "asc"]], frame: range(pre(15.5), fol(0.5)) },
  { fn: "sum", args: ["f"], order: [["f", "desc"]], frame: range(pre(12.25), fol(10)) },
  { fn: "avg", args: ["k"], order: [["k", "asc"]], frame: range(pre(2), CUR) },
  {
    fn: "count_star",
    order: [["dt", "asc"]],
    frame: range(pre(7), CUR),
    frameSql: "RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW",
  },
  {
    fn: "sum",
    args: ["k"],
    part: ["g"],
    order: [["ts", "desc"]],
    frame: range(pre(0.5), fol(1)),
    frameSql: "RANGE BETWEEN INTERVAL 12 HOUR PRECEDING AND INTERVAL 1 DAY FOLLOWING",
  },
  // aggregates without a dedicated pass
  {
    fn: "stddev_samp",
    args: ["f"],
    part: ["g"],
    order: [["rid", "asc"]],
    frame: rows(pre(2), CUR),
  },
  { fn: "var_pop", args: ["d"], part: ["g"], order: [["k", "asc"]] },
];

function resultType(c: Case, argTypes: DataType[]): DataType {
  const fn = c.fn === "count_star" ? "count_star" : aggregateName(c.fn);
  if (fn !== null) return aggregateResultType(fn, argTypes[0] ?? null);
  const t = windowFunctionType(c.fn, argTypes);
  if (!t) throw new Error(`unknown window function ${c.fn}`);
  return t;
}

function argExpr(a: Arg): Expr {
  return typeof a === "string" ? ref(a) : lit(a.value, a.type);
}

function boundSql(b: WindowFrame["start"], isStart: boolean): string {
  switch (b.kind) {
    case "unbounded":
      return isStart ? "UNBOUNDED PRECEDING" : "UNBOUNDED FOLLOWING";
    case "current":
      return "CURRENT ROW";
    default:
      return `${b.offset} ${b.kind.toUpperCase()}`;
  }
}

function caseSql(c: Case): string {
  const args = (c.args ?? []).map((a) => (typeof a === "string" ? a : a.sql ?? String(a.value)));
  const call = c.fn === "count_star" ? "count(*)" : `${c.fn}(${args.join(", ")})`;
  const over: string[] = [];
  if (c.part?.length) over.push(`PARTITION BY ${c.part.join(", ")}`);
  if (c.order?.length) {
    over.push(
      `ORDER BY ${
        c.order.map(([e, dir, nulls]) =>
          `${e} ${dir.toUpperCase()} NULLS ${(nulls ?? "last").toUpperCase()}`
        )
          .join(", ")
      }`,
    );
  }
  if (c.frameSql) over.push(c.frameSql);
  else if (c.frame) {
    over.push(
      `${c.frame.units.toUpperCase()} BETWEEN ${boundSql(c.frame.start, true)} AND ${
        boundSql(c.frame.end, false)
      }`,
    );
  }
  return `${call} OVER (${over.join(" ")})`;
}

function caseCall(c: Case, id: number): WindowCall {
  const args = (c.args ?? []).map(argExpr);
  const orderBy: SortKey[] = (c.order ?? []).map(([e, dir, nulls]) => ({
    expr: ref(e),
    asc: dir === "asc",
    nullsFirst: nulls === "first",
  }));
  return {
    id,
    name: `w${id}`,
    fn: c.fn,
    args,
    partitionBy: (c.part ?? []).map(ref),
    orderBy,
    frame: c.frame ?? null,
    type: resultType(c, args.map((a) => a.type)),
  };
}

// ---------------------------------------------------------------------------
// comparison

/** Both sides as comparable JavaScript values: decimals as "1.50", dates as ISO text. */
function engineValue(column: Column, i: number): Value {
  const v = valueAt(column, i);
  if (v === null) return null;
  switch (column.type.id) {
    case "decimal":
      return formatUnscaled(v as number | bigint, column.type.scale);
    case "date32":
      return isoDate(v as number);
    case "timestamp":
      return Number(v);
    case "int32":
    case "int64":
      return Number(v);
    default:
      return v;
  }
}

function duckValue(type: DataType, v: unknown): Value {
  if (v === null || v === undefined) return null;
  switch (type.id) {
    case "int32":
    case "int64":
    case "float64":
      return Number(v);
    case "timestamp":
      // JSON timestamps are text; compare as microseconds.
      return Date.parse(String(v).replace(" ", "T") + "Z") * 1000;
    case "decimal": {
      // DuckDB prints at the type's scale; normalise in case it trims.
      const [whole, frac = ""] = String(v).split(".");
      return type.scale === 0 ? whole : `${whole}.${frac.padEnd(type.scale, "0")}`;
    }
    default:
      return v as Value;
  }
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

Deno.test({
  name: "window functions match DuckDB",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      await conn.run(`CREATE TABLE t (${TABLE.map((c) => `${c.name} ${c.sqlType}`).join(", ")})`);
      const values = [];
      for (let i = 0; i < N; i++) {
        values.push(`(${TABLE.map((c) => sqlLiteral(c, c.values[i])).join(", ")})`);
      }
      await conn.run(`INSERT INTO t VALUES ${values.join(", ")}`);

      // Every call in one computeWindows invocation: calls share sorts and frames.
      const calls = CASES.map((c, i) => caseCall(c, 1000 + i));
      const out = computeWindows(BATCH, calls, LAYOUT);
      assert.equal(out.length, calls.length);

      for (let ci = 0; ci < CASES.length; ci++) {
        const c = CASES[ci];
        const sql = caseSql(c);
        await t.step(sql, async () => {
          const res = await conn.runAndReadAll(`SELECT ${sql} AS v FROM t ORDER BY rid`);
          const expected = res.getRowObjectsJson().map((r) => r.v);
          const column = out[ci];
          assert.equal(column.length, N);
          assert.equal(column.type.id, calls[ci].type.id);
          for (let i = 0; i < N; i++) {
            const got = engineValue(column, i);
            const want = duckValue(calls[ci].type, expected[i]);
            if (typeof got === "number" && typeof want === "number") {
              assert.ok(close(got, want), `row ${i + 1}: got ${got}, DuckDB ${want}`);
            } else {
              assert.deepEqual(got, want, `row ${i + 1}`);
            }
          }
        });
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  },
});

Deno.test("window calls with the same specification agree when computed alone", () => {
  const c: Case = { fn: "sum", args: ["d"], part: ["g"], order: [["k", "asc"]] };
  const together = computeWindows(
    BATCH,
    [caseCall(c, 1), caseCall({ ...c, fn: "count" }, 2)],
    LAYOUT,
  );
  const alone = computeWindows(BATCH, [caseCall(c, 1)], LAYOUT);
  for (let i = 0; i < N; i++) assert.deepEqual(valueAt(together[0], i), valueAt(alone[0], i));
});

Deno.test("an empty batch gives empty columns of the call types", () => {
  const empty = recordBatch(BATCH.schema, TABLE.map((c) => columnFromValues(c.type, [])), 0);
  const out = computeWindows(empty, [
    caseCall({ fn: "sum", args: ["d"] }, 1),
    caseCall({ fn: "rank" }, 2),
  ], LAYOUT);
  assert.equal(out[0].length, 0);
  assert.equal(out[0].type.id, "decimal");
  assert.equal(out[1].type.id, "int64");
});

Deno.test("ntile needs a positive bucket count, RANGE a non-negative offset", () => {
  assert.throws(
    () =>
      computeWindows(
        BATCH,
        [caseCall({ fn: "ntile", args: [int(0)], order: [["rid", "asc"]] }, 1)],
        LAYOUT,
      ),
    /greater than zero/,
  );
  const negative: Case = { fn: "count_star", order: [["k", "asc"]], frame: range(pre(-1), CUR) };
  assert.throws(() => computeWindows(BATCH, [caseCall(negative, 1)], LAYOUT), /RANGE PRECEDING/);
  const twoKeys: Case = {
    fn: "count_star",
    order: [["k", "asc"], ["rid", "asc"]],
    frame: range(pre(1), CUR),
  };
  assert.throws(
    () => computeWindows(BATCH, [caseCall(twoKeys, 1)], LAYOUT),
    /exactly one ORDER BY/,
  );
});

Deno.test("a large partition stays linear: running and sliding sums over 200k rows", () => {
  const n = 200_000;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = (i * 7919) % 1000;
  const big = recordBatch(schema([field("x", INT64)]), [{
    enc: "num",
    type: INT64,
    length: n,
    values: v,
    validity: null,
  }]);
  const x = col(1, INT64, "x");
  const layout = layoutOf([1]);
  const mk = (fn: string, frame: WindowFrame | null, id: number): WindowCall => ({
    id,
    name: fn,
    fn,
    args: fn === "row_number" ? [] : [x],
    partitionBy: [],
    orderBy: [{ expr: x, asc: true, nullsFirst: false }],
    frame,
    type: INT64,
  });
  const start = performance.now();
  const [running, sliding, mx, rn] = computeWindows(big, [
    mk("sum", null, 1),
    mk("sum", rows(pre(10), fol(10)), 2),
    mk("max", rows(pre(100), CUR), 3),
    mk("row_number", null, 4),
  ], layout);
  const ms = performance.now() - start;
  // Generous: only a quadratic pass (minutes at this size) should trip it.
  assert.ok(ms < 15000, `took ${ms} ms`);
  // The running sum at the last row (all peers included) is the total.
  let total = 0;
  for (let i = 0; i < n; i++) total += v[i];
  let maxRunning = 0;
  for (let i = 0; i < n; i++) maxRunning = Math.max(maxRunning, valueAt(running, i) as number);
  assert.equal(maxRunning, total);
  assert.equal(sliding.length, n);
  assert.equal(mx.length, n);
  assert.equal(rn.length, n);
});
