/**
 * Projection operator through executePlan: computed columns, constants
 * expanded to full columns, repeated subexpressions, CASE and casts, in the
 * node's output order and names.
 */

import assert from "node:assert/strict";
import type { Column } from "../../../src/arrow/column.ts";
import { BOOL, decimal, FLOAT64, INT32, INT64, UTF8 } from "../../../src/arrow/types.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { type Expr, lit } from "../../../src/plan/expr.ts";
import type { ProjectItem } from "../../../src/plan/logical.ts";
import { catalogOf, context, id, memoryTable, ref, run, runPartitions, scan } from "./helpers.ts";

const T = memoryTable(
  [{ name: "a", type: INT32 }, { name: "p", type: decimal(10, 2) }, { name: "s", type: UTF8 }],
  [[1, 1050, "x"], [2, null, "yy"], [null, 250, null], [4, -100, "zzz"]],
  3,
);
const catalog = catalogOf({ t: T });

function projectOf(input: PhysicalPlan, items: [string, Expr][]): PhysicalPlan {
  const its: ProjectItem[] = items.map(([name, expr]) => ({ id: id(), name, expr }));
  return {
    op: "project",
    id: id(),
    input,
    items: its,
    columns: its.map((i) => ({ id: i.id, name: i.name, type: i.expr.type, nullable: true })),
    partitions: input.partitions,
  };
}

Deno.test("computes expressions per row, in the node's order and names", async () => {
  const s = await scan(catalog, "t");
  const a = ref(s, "a");
  const plus: Expr = { kind: "binary", op: "+", left: a, right: lit(10, INT32), type: INT32 };
  const p = projectOf(s, [["s", ref(s, "s")], ["a_plus_10", plus], ["a", a]]);
  const parts = await runPartitions(p, context(catalog));
  assert.deepEqual(parts[0][0].schema.fields.map((f) => f.name), ["s", "a_plus_10", "a"]);
  assert.deepEqual(await run(p, context(catalog)), [
    ["x", 11, 1],
    ["yy", 12, 2],
    [null, null, null],
    ["zzz", 14, 4],
  ]);
});

Deno.test("a constant becomes a full column of each batch's length", async () => {
  const s = await scan(catalog, "t");
  const p = projectOf(s, [["one", lit(1, INT64)], ["label", lit("k", UTF8)], [
    "nothing",
    lit(null, FLOAT64),
  ]]);
  const parts = await runPartitions(p, context(catalog));
  for (const b of parts[0]) {
    for (const c of b.columns) assert.equal((c as Column).length, b.numRows, "full-length columns");
  }
  assert.deepEqual(await run(p, context(catalog)), Array.from({ length: 4 }, () => [1, "k", null]));
});

Deno.test("a subexpression shared by two items gives both the same values", async () => {
  const s = await scan(catalog, "t");
  const price = ref(s, "p");
  // p * (1 - 0.10), used twice (TPC-H Q1's shape).
  const disc: Expr = {
    kind: "binary",
    op: "*",
    left: price,
    right: {
      kind: "binary",
      op: "-",
      left: lit(100, decimal(3, 2)),
      right: lit(10, decimal(3, 2)),
      type: decimal(4, 2),
    },
    type: decimal(14, 4),
  };
  const twice: Expr = { kind: "binary", op: "+", left: disc, right: disc, type: decimal(15, 4) };
  const p = projectOf(s, [["d", disc], ["dd", twice]]);
  assert.deepEqual(await run(p, context(catalog)), [
    [94500, 189000],
    [null, null],
    [22500, 45000],
    [-9000, -18000],
  ]);
});

Deno.test("CASE, IS NULL and CAST inside a projection", async () => {
  const s = await scan(catalog, "t");
  const a = ref(s, "a");
  const isNull: Expr = { kind: "unary", op: "is_null", arg: a, type: BOOL };
  const kase: Expr = {
    kind: "case",
    whens: [[isNull, lit("none", UTF8)]],
    otherwise: { kind: "cast", arg: a, type: UTF8 },
    type: UTF8,
  };
  const p = projectOf(s, [["c", kase]]);
  assert.deepEqual(await run(p, context(catalog)), [["1"], ["2"], ["none"], ["4"]]);
});
