/**
 * push_semi_joins alone (after push_filters found the join keys): a semi or
 * anti join that reads one side of the join below it moves onto that side
 * when the side is estimated no larger than the join, into either side of an
 * inner join and only the preserved side of a left join; rows do not change.
 */

import assert from "node:assert/strict";
import type { LogicalPlan } from "../../../src/plan/logical.ts";
import { pushFilters } from "../../../src/plan/rules/push_filters.ts";
import { pushSemiJoins } from "../../../src/plan/rules/push_semi_joins.ts";
import { bind, execute, find, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function pushed(sql: string): Promise<LogicalPlan> {
  const { plan, ids } = await bind(catalog, sql);
  const before = pushFilters(plan);
  const after = pushSemiJoins(before);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}: same rows${show(after)}`,
  );
  return after;
}

/** The table scanned directly under the left input of the plan's only semi/anti join. */
function filteredTable(p: LogicalPlan, kind: "semi" | "anti"): string {
  const semi = find(p, "join").find((j) => j.joinKind === kind)!;
  assert.ok(semi, show(p));
  const tables = find(semi.left, "scan").map((s) => s.table);
  return tables.join("+");
}

Deno.test("IN on a dimension's key filters the dimension before the join", async () => {
  const after = await pushed(
    "SELECT fact.id, dim1.name FROM fact JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE dim1.id IN (SELECT d2 FROM fact WHERE amount > 10)",
  );
  assert.equal(filteredTable(after, "semi"), "dim1", show(after));
  // The inner join is now above the semi join.
  assert.equal(find(after, "join")[0].joinKind, "inner", show(after));
});

Deno.test("NOT EXISTS moves too; a condition reading both sides keeps it above", async () => {
  const anti = await pushed(
    "SELECT fact.id FROM fact JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE NOT EXISTS (SELECT 1 FROM dim2 WHERE dim2.id = dim1.id)",
  );
  assert.equal(filteredTable(anti, "anti"), "dim1", show(anti));
  const both = await pushed(
    "SELECT fact.id FROM fact JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE EXISTS (SELECT 1 FROM dim2 WHERE dim2.id = dim1.id AND dim2.id < fact.d2)",
  );
  assert.equal(filteredTable(both, "semi"), "fact+dim1", show(both));
});

Deno.test("not into the null-extended side of a left join", async () => {
  const after = await pushed(
    "SELECT fact.id FROM fact LEFT JOIN dim1 ON fact.d1 = dim1.id " +
      "WHERE EXISTS (SELECT 1 FROM dim2 WHERE dim2.id = dim1.id)",
  );
  const semi = find(after, "join").find((j) => j.joinKind === "semi")!;
  assert.ok(semi, show(after));
  assert.equal(semi.left.kind, "join", show(after));
  assert.equal((semi.left as LogicalPlan & { kind: "join" }).joinKind, "left", show(after));
});

Deno.test("a side larger than the join keeps the semi join above it", async () => {
  // fact (2000 rows) joined to a filtered dim2 is estimated well below 2000 rows:
  // probing the semi join with fact alone would probe more rows, so it stays.
  const after = await pushed(
    "SELECT fact.id FROM fact JOIN dim2 ON fact.d2 = dim2.id AND dim2.label = 'l1' " +
      "WHERE fact.d1 IN (SELECT id FROM dim1)",
  );
  assert.equal(filteredTable(after, "semi"), "fact+dim2", show(after));
});

Deno.test("through a projection that passes the key column through", async () => {
  const after = await pushed(
    "SELECT q.x FROM (SELECT fact.id AS x, dim1.id AS k FROM fact JOIN dim1 ON fact.d1 = dim1.id) q " +
      "WHERE q.k IN (SELECT d2 FROM fact WHERE amount > 10)",
  );
  assert.equal(filteredTable(after, "semi"), "dim1", show(after));
});
