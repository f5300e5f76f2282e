/**
 * reorder_joins alone (on plans whose join keys push_filters has already
 * found): a tree of inner joins is rebuilt left-deep, starting from the
 * largest relation and adding at each step the smallest relation connected
 * to what is joined so far; outer joins are left where they are; every key
 * pair reads the left input on the left; rows do not change.
 */

import assert from "node:assert/strict";
import { exprToString } from "../../../src/plan/explain.ts";
import { exprColumns } from "../../../src/plan/expr.ts";
import { type LogicalPlan, outputIds } from "../../../src/plan/logical.ts";
import { pushFilters } from "../../../src/plan/rules/push_filters.ts";
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

Deno.test("a star join starts from the largest table and adds the smallest dimension first", async () => {
  const after = await reordered(
    "SELECT count(*), sum(fact.amount) FROM dim1, dim2, fact " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id",
  );
  assert.deepEqual(joinOrder(after), ["fact", "dim2", "dim1"], show(after));
  assertKeysOriented(after);
});

Deno.test("filters on a dimension change its estimate and so the order", async () => {
  const after = await reordered(
    "SELECT fact.id FROM dim2, fact, dim1 " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id AND dim1.name = 'n1' AND dim1.id < 50",
  );
  // dim1: 100 rows x 0.05 x 0.4 = 2 estimated, below dim2's 10.
  assert.deepEqual(joinOrder(after), ["fact", "dim1", "dim2"], show(after));
  assertKeysOriented(after);
});

Deno.test("the next relation must be connected to the ones already joined", async () => {
  // dim2 is the smallest, but only dim1 connects to it.
  const after = await reordered(
    "SELECT fact.id FROM dim2, dim1, fact WHERE fact.d1 = dim1.id AND dim1.id = dim2.id",
  );
  assert.deepEqual(joinOrder(after), ["fact", "dim1", "dim2"], show(after));
  for (const j of find(after, "join")) assert.ok(j.on.length > 0, `no cross product${show(after)}`);
});

Deno.test("conditions over several relations land at the first join that sees them all", async () => {
  const after = await reordered(
    "SELECT fact.id FROM dim1, dim2, fact WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id " +
      "AND dim1.name <> dim2.label AND fact.amount > dim2.id",
  );
  const joins = find(after, "join");
  const top = joins[0];
  assert.ok(top.filter && exprToString(top.filter).includes("name"), show(after));
  const inner = joins[1];
  assert.ok(inner.filter && exprToString(inner.filter).includes("amount"), show(after));
});

Deno.test("two relations keep their order; outer joins are not reordered", async () => {
  const two = await reordered("SELECT 1 FROM dim2 JOIN fact ON fact.d2 = dim2.id");
  assert.deepEqual(joinOrder(two), ["dim2", "fact"], show(two));
  const outer = await reordered(
    "SELECT fact.id FROM dim2 LEFT JOIN fact ON fact.d2 = dim2.id JOIN dim1 ON dim1.id = fact.d1",
  );
  const left = find(outer, "join").find((j) => j.joinKind === "left")!;
  assert.equal(find(left.left, "scan")[0].table, "dim2", show(outer));
  assert.equal(find(left.right, "scan")[0].table, "fact", show(outer));
});

Deno.test("when nothing connects, the smallest remaining relation comes next", async () => {
  const after = await reordered("SELECT count(*) FROM t, dim2, dim1");
  // dim1 (100 rows) starts; then dim2 (10) before t (20).
  assert.deepEqual(joinOrder(after), ["dim1", "dim2", "t"], show(after));
});

Deno.test("inner joins below other operators are reordered too", async () => {
  const after = await reordered(
    "SELECT q.n, count(*) FROM (SELECT dim1.name AS n FROM dim2, fact, dim1 " +
      "WHERE fact.d1 = dim1.id AND fact.d2 = dim2.id) q GROUP BY q.n",
  );
  assert.deepEqual(
    joinOrder(find(after, "aggregate")[0].input),
    ["fact", "dim2", "dim1"],
    show(after),
  );
});
