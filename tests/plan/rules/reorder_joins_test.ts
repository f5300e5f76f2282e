/**
 * reorder_joins alone (on plans whose join keys push_filters has already
 * found): a tree of inner joins is rebuilt by dynamic programming over its
 * connected subsets, so no join is a cross product unless the query is
 * disconnected; each join probes with its larger input and builds on the
 * smaller; conditions over several relations sit at the lowest join that
 * sees them all; outer joins are left where they are; every key pair reads
 * the left input on the left; rows do not change.
 */

import assert from "node:assert/strict";
import { exprToString } from "../../../src/plan/explain.ts";
import { exprColumns } from "../../../src/plan/expr.ts";
import { type LogicalPlan, outputIds } from "../../../src/plan/logical.ts";
import { pushFilters } from "../../../src/plan/rules/push_filters.ts";
import { estimateRows } from "../../../src/plan/stats.ts";
import { reorderJoins } from "../../../src/plan/rules/reorder_joins.ts";
import { bind, execute, find, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function reordered(sql: string) {
  const { plan, ids } = await bind(catalog, sql);
  const before = pushFilters(plan);
  const after = reorderJoins(before);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}: same rows${show(after)}`,
  );
  return after;
}

/** The relations of the top inner-join tree, left-deep order: leftmost first. */
function joinOrder(p: LogicalPlan): string[] {
  const j = find(p, "join")[0];
  const out: string[] = [];
  const leaf = (x: LogicalPlan): string => {
    const s = find(x, "scan");
    return s.map((n) => n.table).join("+");
  };
  let cur: LogicalPlan = j;
  const rights: string[] = [];
  while (cur.kind === "join" && cur.joinKind === "inner") {
    rights.unshift(leaf(cur.right));
    cur = cur.left;
    while (cur.kind === "filter") cur = cur.input;
  }
  out.push(leaf(cur), ...rights);
  return out;
}

function assertKeysOriented(p: LogicalPlan): void {
  for (const j of find(p, "join")) {
    const l = outputIds(j.left), r = outputIds(j.right);
    for (const [a, b] of j.on) {
      assert.ok(
        [...exprColumns(a)].every((id) => l.has(id)),
        `left key ${exprToString(a)}${show(p)}`,
      );
      assert.ok(
        [...exprColumns(b)].every((id) => r.has(id)),
        `right key ${exprToString(b)}${show(p)}`,
      );
    }
  }
}

function innerJoins(p: LogicalPlan) {
  return find(p, "join").filter((j) => j.joinKind === "inner");
}

/** Every inner join has keys, and builds (right input) on the smaller estimate. */
function assertKeyedAndBuildsSmall(p: LogicalPlan): void {
  for (const j of innerJoins(p)) {
    assert.ok(j.on.length > 0, `cross product${show(p)}`);
    assert.ok(estimateRows(j.right) <= estimateRows(j.left), `builds on the larger side${show(p)}`);
  }
}

Deno.test("a star join probes with the fact table and builds every dimension", async () => {
  const after = await reordered(
    "SELECT count(*), sum(fact.amount) FROM dim1, dim2, fact " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id",
  );
  assert.equal(joinOrder(after)[0], "fact", show(after));
  assert.equal(innerJoins(after).length, 2);
  assertKeyedAndBuildsSmall(after);
  assertKeysOriented(after);
});

Deno.test("filters on a dimension change its estimate and so the order", async () => {
  const after = await reordered(
    "SELECT fact.id FROM dim2, fact, dim1 " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id AND dim1.name = 'n1' AND dim1.id < 50",
  );
  // dim1: 100 rows x 0.05 x 0.4 = 2 estimated, below dim2's 10: joined first.
  assert.deepEqual(joinOrder(after), ["fact", "dim1", "dim2"], show(after));
  assertKeysOriented(after);
});

Deno.test("relations join only along predicates: a chain is never a cross product", async () => {
  // dim2 connects only to dim1; the two small ones may join first (a bushy tree).
  const after = await reordered(
    "SELECT fact.id FROM dim2, dim1, fact WHERE fact.d1 = dim1.id AND dim1.id = dim2.id",
  );
  assertKeyedAndBuildsSmall(after);
  for (const j of innerJoins(after)) {
    const tables = new Set(find(j, "scan").map((s) => s.table));
    if (tables.has("dim2") && tables.has("fact")) assert.ok(tables.has("dim1"), show(after));
  }
  assertKeysOriented(after);
});

Deno.test("conditions over several relations sit at the lowest join that sees them all", async () => {
  const after = await reordered(
    "SELECT fact.id FROM dim1, dim2, fact WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id " +
      "AND dim1.name <> dim2.label AND fact.amount > dim2.id",
  );
  assert.equal(find(after, "filter").length, 0, `nothing left above the joins${show(after)}`);
  const placed: string[] = [];
  for (const j of innerJoins(after)) {
    const l = outputIds(j.left), r = outputIds(j.right);
    for (const c of j.filter ? [j.filter] : []) {
      const text = exprToString(c);
      placed.push(text);
      const cols = [...exprColumns(c)];
      assert.ok(
        cols.some((id) => l.has(id)) && cols.some((id) => r.has(id)),
        `${text} could go lower${show(after)}`,
      );
    }
  }
  const all = placed.join(" ");
  assert.ok(all.includes("name") && all.includes("amount"), show(after));
});

Deno.test("two relations probe with the larger; outer joins are not reordered", async () => {
  const two = await reordered("SELECT 1 FROM dim2 JOIN fact ON fact.d2 = dim2.id");
  assert.deepEqual(joinOrder(two), ["fact", "dim2"], show(two));
  assertKeysOriented(two);
  const outer = await reordered(
    "SELECT fact.id FROM dim2 LEFT JOIN fact ON fact.d2 = dim2.id JOIN dim1 ON dim1.id = fact.d1",
  );
  const left = find(outer, "join").find((j) => j.joinKind === "left")!;
  assert.equal(find(left.left, "scan")[0].table, "dim2", show(outer));
  assert.equal(find(left.right, "scan")[0].table, "fact", show(outer));
});

Deno.test("a disconnected query crosses its smallest relations first", async () => {
  const after = await reordered("SELECT count(*) FROM t, dim2, dim1");
  // dim2 (10 rows) x t (20 rows) first, then dim1 (100 rows).
  const joins = innerJoins(after);
  assert.equal(joins.length, 2);
  const innermost = joins[1];
  assert.deepEqual(find(innermost, "scan").map((s) => s.table).sort(), ["dim2", "t"], show(after));
});

Deno.test("inner joins below other operators are reordered too", async () => {
  const after = await reordered(
    "SELECT q.n, count(*) FROM (SELECT dim1.name AS n FROM dim2, fact, dim1 " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id) q GROUP BY q.n",
  );
  const below = find(after, "aggregate")[0].input;
  assert.equal(joinOrder(below)[0], "fact", show(after));
  assertKeyedAndBuildsSmall(below);
});
