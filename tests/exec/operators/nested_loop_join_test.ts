/**
 * Nested-loop join through executePlan: CROSS JOIN and non-equi conditions
 * for every kind, the right side gathered whole (broadcast), chunked pairing
 * under a small batch size, empty sides, and NOT IN / IN without equality
 * keys (a constant on the left). Expected rows come from DuckDB.
 */

import assert from "node:assert/strict";
import type { Value } from "../../../src/arrow/column.ts";
import { BOOL, type DataType, INT32, UTF8 } from "../../../src/arrow/types.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { type Expr, lit } from "../../../src/plan/expr.ts";
import type { JoinKind, OutputColumn } from "../../../src/plan/logical.ts";
import { duck, duckBool, sqlLiteral } from "../kernels/support.ts";
import { catalogOf, context, id, memoryTable, ref, run, scan, sorted } from "./helpers.ts";

const L_COLS = [{ name: "a", type: INT32 }, { name: "v", type: INT32 }];
const R_COLS = [{ name: "b", type: UTF8 }, { name: "w", type: INT32 }];
const L_ROWS: Value[][] = [[1, 10], [2, 20], [3, null], [4, 40], [5, 5]];
const R_ROWS: Value[][] = [["p", 15], ["q", 25], ["r", null], ["s", 1], ["t", 40], ["u", 16], [
  "v",
  7,
]];
const K_ROWS: Value[][] = [["x", 1], ["y", null], ["z", 3]]; // w holds a NULL: NOT IN sees it

const catalog = catalogOf({
  l: memoryTable(L_COLS, L_ROWS, 2),
  r: memoryTable(R_COLS, R_ROWS, 3),
  k: memoryTable(R_COLS, K_ROWS, 3),
  k2: memoryTable(R_COLS, K_ROWS.filter((r) => r[1] !== null), 3),
  e: memoryTable(R_COLS, [], 3),
});

let loaded: Promise<unknown> | null = null;
function loadDuck(): Promise<unknown> {
  const table = (name: string, cols: typeof L_COLS, rows: Value[][]) =>
    rows.length
      ? `CREATE OR REPLACE TABLE ${name} AS SELECT * FROM (VALUES ${
        rows.map((r) => `(${r.map((v, i) => sqlLiteral(cols[i].type, v)).join(", ")})`).join(", ")
      }) t(${cols.map((c) => c.name).join(", ")})`
      : `CREATE OR REPLACE TABLE ${name} (b VARCHAR, w INTEGER)`;
  loaded ??= (async () => {
    await duck(table("l", L_COLS, L_ROWS));
    await duck(table("r", R_COLS, R_ROWS));
    await duck(table("k", R_COLS, K_ROWS));
    await duck(table("k2", R_COLS, K_ROWS.filter((r) => r[1] !== null)));
    await duck(table("e", R_COLS, []));
  })();
  return loaded;
}

async function expected(sql: string, types: DataType[]): Promise<Value[][]> {
  await loadDuck();
  return (await duck(sql)).map((r) =>
    r.map((v, i) => (types[i].id === "bool" ? duckBool(v) : (v as Value)))
  );
}

function nlj(
  kind: JoinKind,
  left: PhysicalPlan,
  right: PhysicalPlan,
  filter: Expr | null,
  nullAware = false,
): PhysicalPlan {
  const l = kind === "right" || kind === "full"
    ? {
      op: "coalesce" as const,
      id: id(),
      input: left,
      columns: left.columns,
      partitions: 1 as const,
    }
    : left;
  const r: PhysicalPlan = {
    op: "broadcast",
    id: id(),
    input: right,
    columns: right.columns,
    partitions: l.partitions,
  };
  const markId = kind === "mark" ? id() : null;
  const columns: OutputColumn[] = kind === "semi" || kind === "anti"
    ? [...l.columns]
    : kind === "mark"
    ? [...l.columns, { id: markId!, name: "__mark", type: BOOL, nullable: true }]
    : [...l.columns, ...r.columns];
  return {
    op: "nested_loop_join",
    id: id(),
    left: l,
    right: r,
    kind,
    filter,
    markId,
    nullAware,
    columns,
    partitions: l.partitions,
  };
}

function lt(a: Expr, b: Expr): Expr {
  return { kind: "binary", op: "<", left: a, right: b, type: BOOL };
}

function duckSql(kind: JoinKind, cond: string | null, right = "r"): string {
  const on = cond ?? "true";
  switch (kind) {
    case "inner":
      return cond
        ? `SELECT l.*, r.* FROM l JOIN ${right} r ON ${on}`
        : `SELECT l.*, r.* FROM l CROSS JOIN ${right} r`;
    case "left":
      return `SELECT l.*, r.* FROM l LEFT JOIN ${right} r ON ${on}`;
    case "right":
      return `SELECT l.*, r.* FROM l RIGHT JOIN ${right} r ON ${on}`;
    case "full":
      return `SELECT l.*, r.* FROM l FULL JOIN ${right} r ON ${on}`;
    case "semi":
      return `SELECT l.* FROM l SEMI JOIN ${right} r ON ${on}`;
    case "anti":
      return `SELECT l.* FROM l ANTI JOIN ${right} r ON ${on}`;
    case "mark":
      return `SELECT l.*, EXISTS (SELECT 1 FROM ${right} r WHERE ${on}) FROM l`;
  }
}

async function check(kind: JoinKind, withCond: boolean, right = "r", batchSize = 4): Promise<void> {
  const ls = await scan(catalog, "l", 2);
  const rs = await scan(catalog, right, 2);
  const plan = nlj(kind, ls, rs, withCond ? lt(ref(ls, "v"), ref(rs, "w")) : null);
  const want = sorted(
    await expected(
      duckSql(kind, withCond ? "l.v < r.w" : null, right),
      plan.columns.map((c) => c.type),
    ),
  );
  const got = sorted(await run(plan, context(catalog, batchSize)));
  assert.deepEqual(
    got,
    want,
    `${kind} ${withCond ? "ON l.v < r.w" : "without condition"} (${right})`,
  );
}

for (const kind of ["inner", "left", "right", "full", "semi", "anti", "mark"] as const) {
  Deno.test(`${kind}: a non-equi condition with NULLs, and no condition at all`, async () => {
    await check(kind, true);
    await check(kind, false);
    // One pair chunk per left row (batch size below the right side's size) and one for all.
    await check(kind, true, "r", 1);
    await check(kind, true, "r", 1000);
  });
}

Deno.test("an empty right side", async () => {
  for (const kind of ["inner", "left", "right", "full", "semi", "anti", "mark"] as const) {
    await check(kind, true, "e");
  }
});

/** `5 [NOT] IN (SELECT w FROM k)`: the binder finds no equality key, so no hash join. */
async function constantIn(kind: "anti" | "mark", right: string): Promise<void> {
  const ls = await scan(catalog, "l", 2);
  const rs = await scan(catalog, right, 1);
  const cond: Expr = {
    kind: "binary",
    op: "=",
    left: lit(5, INT32),
    right: ref(rs, "w"),
    type: BOOL,
  };
  const plan = nlj(kind, ls, rs, cond, true);
  const sql = kind === "anti"
    ? `SELECT l.* FROM l WHERE 5 NOT IN (SELECT w FROM ${right})`
    : `SELECT l.*, 5 IN (SELECT w FROM ${right}) FROM l`;
  const want = sorted(await expected(sql, plan.columns.map((c) => c.type)));
  assert.deepEqual(sorted(await run(plan, context(catalog))), want, sql);
}

Deno.test("NOT IN without equality keys: a NULL in the subquery empties the result", async (t) => {
  await t.step("subquery without NULL", () => constantIn("anti", "k2"));
  await t.step("subquery with a NULL", () => constantIn("anti", "k"));
});

Deno.test("IN without equality keys: NULL when unmatched and the subquery has a NULL", async (t) => {
  await t.step("subquery without NULL", () => constantIn("mark", "k2"));
  await t.step("subquery with a NULL", () => constantIn("mark", "k"));
});
