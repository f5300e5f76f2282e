/**
 * reduce_aggregates alone (after push_filters and reorder_joins): an
 * aggregate joined on its grouping keys to a much smaller relation gets a
 * semi join on those keys below it, reading the smallest piece of the other
 * side that holds the keys; aggregates joined on computed columns, on the
 * preserved side of an outer join, or to large relations are left alone;
 * rows never change.
 */

import assert from "node:assert/strict";
import type { LogicalPlan } from "../../../src/plan/logical.ts";
import { pushFilters } from "../../../src/plan/rules/push_filters.ts";
import { reduceAggregates } from "../../../src/plan/rules/reduce_aggregates.ts";
import { reorderJoins } from "../../../src/plan/rules/reorder_joins.ts";
import { bind, execute, find, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function reduced(sql: string): Promise<LogicalPlan> {
  const { plan, ids } = await bind(catalog, sql);
  const before = reorderJoins(pushFilters(plan));
  const after = reduceAggregates(before);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}: same rows${show(after)}`,
  );
  return after;
}

/** Semi joins directly below an aggregate (possibly through other semi joins' left inputs). */
function semisUnderAggregates(p: LogicalPlan) {
  return find(p, "aggregate").flatMap((a) =>
    find(a.input, "join").filter((j) => j.joinKind === "semi")
  );
}

Deno.test("a correlated aggregate is computed only for the keys the outer query keeps", async () => {
  // Per dimension row, the average amount of its facts; the outer query keeps one dimension row.
  const after = await reduced(
    "SELECT dim1.id FROM dim1 WHERE dim1.id = 3 AND dim1.name = 'n3' AND 10 < " +
      "(SELECT avg(amount) FROM fact WHERE fact.d1 = dim1.id)",
  );
  const [semi] = semisUnderAggregates(after);
  assert.ok(semi, `a semi join below the aggregate${show(after)}`);
  assert.deepEqual(find(semi.left, "scan").map((s) => s.table), ["fact"], show(after));
  assert.deepEqual(find(semi.right, "scan").map((s) => s.table), ["dim1"], show(after));
  // The key relation keeps its filters: it is as selective as the outer query.
  assert.ok(find(semi.right, "filter").length > 0, show(after));
});

Deno.test("a grouped derived table joined to a filtered dimension", async () => {
  const after = await reduced(
    "SELECT q.d1, q.s FROM (SELECT d1, sum(amount) AS s FROM fact GROUP BY d1) q " +
      "JOIN dim1 ON q.d1 = dim1.id WHERE dim1.id < 3",
  );
  assert.equal(semisUnderAggregates(after).length, 1, show(after));
});

Deno.test("left alone: large key relations, computed keys, preserved sides", async (t) => {
  await t.step("the other side is as large as the aggregate's input", async () => {
    const after = await reduced(
      "SELECT q.d1, q.s FROM (SELECT d1, sum(amount) AS s FROM fact GROUP BY d1) q " +
        "JOIN fact f2 ON q.d1 = f2.d2",
    );
    assert.equal(semisUnderAggregates(after).length, 0, show(after));
  });
  await t.step("the join key is computed from the grouping key", async () => {
    const after = await reduced(
      "SELECT q.k, q.s FROM (SELECT d1 + 1 AS k, sum(amount) AS s FROM fact GROUP BY d1) q " +
        "JOIN dim1 ON q.k = dim1.id WHERE dim1.id < 3",
    );
    assert.equal(semisUnderAggregates(after).length, 0, show(after));
  });
  await t.step("the aggregate is the preserved side of a LEFT JOIN", async () => {
    const after = await reduced(
      "SELECT q.d1, dim1.name FROM (SELECT d1, sum(amount) AS s FROM fact GROUP BY d1) q " +
        "LEFT JOIN dim1 ON q.d1 = dim1.id AND dim1.id < 3",
    );
    assert.equal(semisUnderAggregates(after).length, 0, show(after));
  });
});
