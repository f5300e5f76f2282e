/**
 * prune_columns alone: scans keep only the columns someone above reads
 * (projections, filters, join keys and conditions, sort keys, aggregate
 * arguments), unused aggregates, window calls and union columns disappear,
 * COUNT(*) keeps one cheap column, the root keeps all its columns, and the
 * rows do not change.
 */

import assert from "node:assert/strict";
import type { LogicalPlan } from "../../../src/plan/logical.ts";
import { outputColumns } from "../../../src/plan/logical.ts";
import { pruneColumns } from "../../../src/plan/rules/prune_columns.ts";
import { pushFilters } from "../../../src/plan/rules/push_filters.ts";
import { bind, execute, find, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function pruned(sql: string, first: (p: LogicalPlan) => LogicalPlan = (p) => p) {
  const { plan, ids, names } = await bind(catalog, sql);
  const before = first(plan);
  const after = pruneColumns(before);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}: same rows${show(after)}`,
  );
  assert.deepEqual(
    outputColumns(after).map((c) => c.name),
    outputColumns(before).map((c) => c.name),
    "the root keeps its columns",
  );
  assert.equal(outputColumns(after).length, names.length);
  return after;
}

function scanColumns(p: LogicalPlan, table: string): string[][] {
  return find(p, "scan").filter((s) => s.table === table).map((s) => s.columns.map((c) => c.name));
}

Deno.test("a scan keeps only the projected columns", async () => {
  const after = await pruned("SELECT a, s FROM t");
  assert.deepEqual(scanColumns(after, "t"), [["a", "s"]], show(after));
});

Deno.test("columns read by a filter (or pushed into the scan) are kept", async () => {
  const after = await pruned("SELECT a FROM t WHERE b > 3");
  assert.deepEqual(scanColumns(after, "t"), [["a", "b"]], show(after));
  const pushed = await pruned("SELECT a FROM t WHERE b > 3 AND d IS NOT NULL", pushFilters);
  assert.deepEqual(scanColumns(pushed, "t"), [["a", "b", "d"]], show(pushed));
});

Deno.test("COUNT(*) keeps one column, a non-string one", async () => {
  const after = await pruned("SELECT count(*) FROM t");
  const cols = scanColumns(after, "t");
  assert.equal(cols[0].length, 1, show(after));
  assert.notEqual(cols[0][0], "s", "not the string column");
});

Deno.test("join keys and conditions are kept on each side, nothing else", async () => {
  const after = await pruned("SELECT t.a FROM t JOIN u ON t.k = u.k AND t.b < u.x");
  assert.deepEqual(scanColumns(after, "t"), [["k", "a", "b"]], show(after));
  assert.deepEqual(scanColumns(after, "u"), [["k", "x"]], show(after));
});

Deno.test("sort keys that are not selected are still read", async () => {
  const after = await pruned("SELECT a FROM t ORDER BY b DESC, a");
  assert.deepEqual(scanColumns(after, "t"), [["a", "b"]], show(after));
});

Deno.test("unused aggregates are dropped, with the columns only they read", async () => {
  const after = await pruned(
    "SELECT k FROM (SELECT k, sum(a) AS sa, max(s) AS ms, count(*) AS c FROM t GROUP BY k) q",
  );
  const agg = find(after, "aggregate")[0];
  assert.deepEqual(agg.aggregates, [], show(after));
  assert.deepEqual(scanColumns(after, "t"), [["k"]], show(after));
  const kept = await pruned(
    "SELECT k, sa FROM (SELECT k, sum(a) AS sa, max(s) AS ms FROM t WHERE b > 0 GROUP BY k) q",
  );
  assert.deepEqual(find(kept, "aggregate")[0].aggregates.map((a) => a.fn), ["sum"], show(kept));
  assert.deepEqual(scanColumns(kept, "t"), [["k", "a", "b"]], show(kept));
});

Deno.test("an unused window call is removed with its node", async () => {
  const after = await pruned(
    "SELECT k FROM (SELECT k, row_number() OVER (PARTITION BY s ORDER BY a) AS rn FROM t) q",
  );
  assert.deepEqual(find(after, "window"), [], show(after));
  assert.deepEqual(scanColumns(after, "t"), [["k"]], show(after));
  const used = await pruned(
    "SELECT rn FROM (SELECT k, row_number() OVER (PARTITION BY s ORDER BY a) AS rn FROM t) q",
  );
  assert.equal(find(used, "window").length, 1);
  assert.deepEqual(scanColumns(used, "t"), [["a", "s"]], show(used));
});

Deno.test("UNION columns nobody reads are dropped from every input", async () => {
  const after = await pruned(
    "SELECT v FROM (SELECT a AS v, s AS w FROM t UNION ALL SELECT x, y FROM u) q",
  );
  const union = find(after, "union")[0];
  assert.deepEqual(union.columns.map((c) => c.name), ["v"], show(after));
  assert.deepEqual(scanColumns(after, "t"), [["a"]], show(after));
  assert.deepEqual(scanColumns(after, "u"), [["x"]], show(after));
});

Deno.test("subqueries and their correlated columns keep what the joins need", async () => {
  const after = await pruned(
    "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k AND u.x > 20)",
  );
  assert.deepEqual(scanColumns(after, "t"), [["k", "a"]], show(after));
  assert.deepEqual(scanColumns(after, "u"), [["k", "x"]], show(after));
});

Deno.test("SELECT * keeps every column", async () => {
  const after = await pruned("SELECT * FROM u");
  assert.deepEqual(scanColumns(after, "u"), [["k", "x", "y"]]);
});
