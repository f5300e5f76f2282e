/**
 * Filter operator through executePlan: keeps the rows where the predicate is
 * TRUE (NULL and FALSE drop), over several batches and partitions, with the
 * node's own output names.
 */

import assert from "node:assert/strict";
import { BOOL, INT32, UTF8 } from "../../../src/arrow/types.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { type Expr, lit } from "../../../src/plan/expr.ts";
import { batchToRows } from "../../../src/arrow/batch.ts";
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

const T = memoryTable(
  [{ name: "k", type: INT32 }, { name: "s", type: UTF8 }],
  [[1, "apple"], [2, null], [null, "pear"], [4, "plum"], [5, "apricot"], [6, "fig"], [7, "peach"]],
  2,
);
const catalog = catalogOf({ t: T });

function filterOf(input: PhysicalPlan, predicate: Expr): PhysicalPlan {
  return {
    op: "filter",
    id: id(),
    input,
    predicate,
    columns: input.columns,
    partitions: input.partitions,
  };
}

function gt(e: Expr, v: number): Expr {
  return { kind: "binary", op: ">", left: e, right: lit(v, INT32), type: BOOL };
}

Deno.test("keeps TRUE rows; NULL and FALSE rows drop", async () => {
  const s = await scan(catalog, "t");
  const rows = await run(filterOf(s, gt(ref(s, "k"), 3)), context(catalog));
  assert.deepEqual(rows, [[4, "plum"], [5, "apricot"], [6, "fig"], [7, "peach"]]);
});

Deno.test("a string predicate (LIKE) and an AND with NULLs", async () => {
  const s = await scan(catalog, "t");
  const like: Expr = {
    kind: "like",
    arg: ref(s, "s"),
    pattern: lit("p%", UTF8),
    negated: false,
    caseInsensitive: false,
    type: BOOL,
  };
  const pred: Expr = {
    kind: "binary",
    op: "and",
    left: like,
    right: gt(ref(s, "k"), 0),
    type: BOOL,
  };
  const rows = await run(filterOf(s, pred), context(catalog));
  // 'pear' has k NULL: p% is TRUE, k > 0 is NULL, so the row drops.
  assert.deepEqual(rows, [[4, "plum"], [7, "peach"]]);
});

Deno.test("constant TRUE passes everything, constant FALSE and NULL nothing", async () => {
  const s = await scan(catalog, "t");
  const ctx = context(catalog);
  assert.equal((await run(filterOf(s, lit(true, BOOL)), ctx)).length, 7);
  assert.deepEqual(await run(filterOf(s, lit(false, BOOL)), ctx), []);
  assert.deepEqual(await run(filterOf(s, lit(null, BOOL)), ctx), []);
});

Deno.test("batches without a surviving row are not emitted; output uses the node's schema", async () => {
  const s = await scan(catalog, "t");
  const f = filterOf(s, gt(ref(s, "k"), 5));
  const renamed = { ...f, columns: f.columns.map((c) => ({ ...c, name: c.name.toUpperCase() })) };
  const [batches] = await runPartitions(renamed, context(catalog));
  assert.ok(batches.every((b) => b.numRows > 0));
  assert.deepEqual(batches[0].schema.fields.map((f) => f.name), ["K", "S"]);
});

Deno.test("each partition filters its own rows", async () => {
  const s = await scan(catalog, "t", 3);
  assert.ok(s.partitions > 1);
  const parts = await runPartitions(filterOf(s, gt(ref(s, "k"), 1)), context(catalog));
  assert.equal(parts.length, s.partitions);
  const rows = sorted(parts.flat().flatMap(batchToRows));
  assert.deepEqual(rows, [[2, null], [4, "plum"], [5, "apricot"], [6, "fig"], [7, "peach"]]);
});
