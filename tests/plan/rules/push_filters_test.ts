/**
 * push_filters alone: conjuncts move below joins to the side they read,
 * equalities between the sides become join keys, outer joins under a
 * NULL-rejecting filter become inner (or one-sided) joins, predicates pass
 * through projections, aggregates (grouping keys only), unions and windows
 * (partition keys only), scans receive their predicates; volatile ones stay.
 * Every rewritten plan gives the same rows as the original.
 */

import assert from "node:assert/strict";
import { exprToString } from "../../../src/plan/explain.ts";
import { conjuncts, type Expr, exprColumns } from "../../../src/plan/expr.ts";
import { type LogicalPlan, outputIds } from "../../../src/plan/logical.ts";
import { nullRejecting, pushFilters } from "../../../src/plan/rules/push_filters.ts";
import { bind, execute, find, nodes, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function pushed(sql: string) {
  const { plan, ids } = await bind(catalog, sql);
  return { before: plan, after: pushFilters(plan), ids };
}

async function sameResults(sql: string): Promise<LogicalPlan> {
  const { before, after, ids } = await pushed(sql);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}${show(after)}`,
  );
  return after;
}

function predicatesOf(p: LogicalPlan): string[] {
  return find(p, "filter").flatMap((f) => conjuncts(f.predicate).map(exprToString));
}

/** The filters that sit (possibly through other filters/scans) directly over a scan of `table`. */
function filtersOver(p: LogicalPlan, table: string): string[] {
  const out: string[] = [];
  for (const f of find(p, "filter")) {
    if (f.input.kind === "scan" && f.input.table === table) {
      out.push(...conjuncts(f.predicate).map(exprToString));
    }
  }
  return out;
}

Deno.test("a WHERE conjunct on one side of an inner join moves below the join", async () => {
  const after = await sameResults(
    "SELECT t.a, u.x FROM t JOIN u ON t.k = u.k WHERE t.a > 5 AND u.x < 100",
  );
  const j = find(after, "join")[0];
  assert.deepEqual(filtersOver(j.left, "t"), ["(a > 5)"], show(after));
  assert.deepEqual(filtersOver(j.right, "u"), ["(x < 100)"], show(after));
  assert.equal(find(after, "filter").filter((f) => f.input.kind === "join").length, 0, show(after));
});

Deno.test("an equality between the two sides becomes a join key", async () => {
  const after = await sameResults("SELECT t.a, u.x FROM t, u WHERE t.k = u.k AND t.a < u.x");
  const j = find(after, "join")[0];
  assert.equal(j.joinKind, "inner");
  assert.deepEqual(
    j.on.map(([l, r]) => [exprToString(l), exprToString(r)]),
    [["k", "k"]],
    show(after),
  );
  assert.equal(j.filter && exprToString(j.filter), "(a < x)", show(after));
  // The keys are oriented: left expression over the left input.
  const lIds = outputIds(j.left);
  assert.ok([...exprColumns(j.on[0][0])].every((id) => lIds.has(id)), show(after));
});

Deno.test("reversed equalities (u.k = t.k) are oriented left/right too", async () => {
  const after = await sameResults("SELECT t.a FROM t, u WHERE u.k = t.k + 0");
  const j = find(after, "join")[0];
  const lIds = outputIds(j.left), rIds = outputIds(j.right);
  const [l, r] = j.on[0];
  assert.ok([...exprColumns(l)].every((id) => lIds.has(id)), show(after));
  assert.ok([...exprColumns(r)].every((id) => rIds.has(id)), show(after));
});

Deno.test("LEFT JOIN under a NULL-rejecting filter on the right side becomes INNER", async () => {
  for (const where of ["u.x > 10", "u.y LIKE 'y%'", "u.x IN (10, 20)", "u.y IS NOT NULL"]) {
    const after = await sameResults(
      `SELECT t.a, u.x FROM t LEFT JOIN u ON t.k = u.k WHERE ${where}`,
    );
    assert.equal(find(after, "join")[0].joinKind, "inner", `${where}${show(after)}`);
  }
});

Deno.test("LEFT JOIN stays LEFT under filters that NULL rows can pass", async () => {
  for (
    const where of [
      "u.x IS NULL",
      "coalesce(u.x, 0) = 0",
      "u.x > 10 OR t.a > 3",
      "u.x IS DISTINCT FROM 10",
      "CASE WHEN u.x IS NULL THEN true ELSE false END",
      "NOT (u.x > 10)",
    ]
  ) {
    const after = await sameResults(
      `SELECT t.a, u.x FROM t LEFT JOIN u ON t.k = u.k WHERE ${where}`,
    );
    assert.equal(find(after, "join")[0].joinKind, "left", `${where}${show(after)}`);
  }
});

Deno.test("greatest / least / concat_ws ignore NULLs, so they do not reject NULL rows", async (t) => {
  for (
    const where of [
      "greatest(u.x, 0) = 0",
      "least(u.x, 0) = 0",
      "concat_ws('-', u.y) = ''",
    ]
  ) {
    await t.step(where, async () => {
      await sameResults(`SELECT t.a, u.x FROM t LEFT JOIN u ON t.k = u.k WHERE ${where}`);
    });
  }
});

Deno.test("FULL JOIN under NULL-rejecting filters becomes LEFT, RIGHT or INNER", async () => {
  const cases: [string, string][] = [
    ["t.a > 3", "left"],
    ["u.x > 30", "right"],
    ["t.a > 3 AND u.x > 30", "inner"],
    ["t.a IS NULL", "full"],
  ];
  for (const [where, kind] of cases) {
    const after = await sameResults(
      `SELECT t.a, u.x FROM t FULL JOIN u ON t.k = u.k WHERE ${where}`,
    );
    assert.equal(find(after, "join")[0].joinKind, kind, `${where}${show(after)}`);
  }
});

Deno.test("LEFT JOIN: WHERE on the left goes below, ON on the right filters the right input", async () => {
  const after = await sameResults(
    "SELECT t.a, u.x FROM t LEFT JOIN u ON t.k = u.k AND u.x > 20 AND t.a > 2 WHERE t.b IS NOT NULL",
  );
  const j = find(after, "join")[0];
  assert.equal(j.joinKind, "left");
  assert.deepEqual(filtersOver(j.left, "t"), ["b IS NOT NULL"], show(after));
  assert.deepEqual(filtersOver(j.right, "u"), ["(x > 20)"], show(after));
  // An ON condition over the preserved side cannot filter it: it stays in the join.
  assert.equal(j.filter && exprToString(j.filter), "(a > 2)", show(after));
});

Deno.test("a WHERE conjunct reaches the scan's pruning filters and stays above it", async () => {
  const after = await sameResults("SELECT a FROM t WHERE a > 3 AND s = 'x'");
  const scan = find(after, "scan")[0];
  assert.deepEqual(scan.filters.map(exprToString).sort(), ["(a > 3)", "(s = 'x')"], show(after));
  assert.deepEqual(filtersOver(after, "t").sort(), ["(a > 3)", "(s = 'x')"], show(after));
});

Deno.test("predicates pass through projections by substitution", async () => {
  const after = await sameResults("SELECT * FROM (SELECT a + 1 AS y, s FROM t) q WHERE y > 10");
  const proj = find(after, "project").find((p) => p.items.some((i) => i.name === "y"))!;
  assert.deepEqual(filtersOver(proj.input, "t"), ["((a + 1) > 10)"], show(after));
});

Deno.test("through an aggregate: conjuncts on grouping keys only", async () => {
  const after = await sameResults(
    "SELECT k, count(*) AS c FROM t GROUP BY k HAVING k > 1 AND count(*) > 2",
  );
  const agg = find(after, "aggregate")[0];
  assert.deepEqual(filtersOver(agg.input, "t"), ["(k > 1)"], show(after));
  const above = find(after, "filter").filter((f) => f.input.kind === "aggregate");
  assert.equal(above.length, 1, show(after));
  assert.match(exprToString(above[0].predicate), /count/, show(after));
});

Deno.test("not through grouping sets (a key can be NULL for a rolled-up row)", async () => {
  const after = await sameResults(
    "SELECT k, count(*) FROM t GROUP BY ROLLUP (k) HAVING k IS NULL",
  );
  const agg = find(after, "aggregate")[0];
  assert.deepEqual(filtersOver(agg.input, "t"), [], show(after));
});

Deno.test("into both inputs of a UNION ALL", async () => {
  const after = await sameResults(
    "SELECT * FROM (SELECT a AS v FROM t UNION ALL SELECT x AS v FROM u) q WHERE v > 50",
  );
  assert.deepEqual(filtersOver(after, "t"), ["(a > 50)"], show(after));
  assert.deepEqual(filtersOver(after, "u"), ["(x > 50)"], show(after));
});

Deno.test("below a window only when it reads just the partition keys", async () => {
  const after = await sameResults(
    "SELECT * FROM (SELECT k, a, row_number() OVER (PARTITION BY k ORDER BY a) AS rn FROM t) q " +
      "WHERE k = 2 AND rn = 1",
  );
  const w = find(after, "window")[0];
  assert.deepEqual(filtersOver(w.input, "t"), ["(k = 2)"], show(after));
  assert.ok(
    predicatesOf(after).some((p) => p.includes("rn") || p.includes("row_number")),
    show(after),
  );
});

Deno.test("volatile predicates are not pushed", async () => {
  const { after } = await pushed("SELECT * FROM (SELECT a FROM t) q WHERE random() < 2");
  const scan = find(after, "scan")[0];
  assert.deepEqual(scan.filters, [], show(after));
  const f = find(after, "filter")[0];
  assert.notEqual(f.input.kind, "scan", show(after));
});

Deno.test("semi and anti joins from IN / NOT IN / EXISTS keep their results", async () => {
  for (
    const sql of [
      "SELECT a FROM t WHERE k IN (SELECT k FROM u WHERE x > 30) AND a > 2",
      "SELECT a FROM t WHERE k NOT IN (SELECT k FROM u WHERE k IS NOT NULL) AND a > 2",
      "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k AND u.x > 20)",
      "SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.k = t.k) AND s = 'x'",
      "SELECT a, k IN (SELECT k FROM u) AS m FROM t WHERE a < 10",
    ]
  ) await sameResults(sql);
});

Deno.test("nullRejecting on its own", () => {
  const x: Expr = { kind: "column", id: 1, type: { id: "int32" }, name: "x" };
  const y: Expr = { kind: "column", id: 2, type: { id: "int32" }, name: "y" };
  const one: Expr = { kind: "literal", value: 1, type: { id: "int32" } };
  const gt = (a: Expr): Expr => ({
    kind: "binary",
    op: ">",
    left: a,
    right: one,
    type: { id: "bool" },
  });
  const ids = new Set([1]);
  assert.equal(nullRejecting(gt(x), ids), true);
  assert.equal(nullRejecting(gt(y), ids), false, "reads none of the ids");
  const or: Expr = { kind: "binary", op: "or", left: gt(x), right: gt(y), type: { id: "bool" } };
  assert.equal(nullRejecting(or, ids), false, "the other branch can be TRUE");
  const and: Expr = { kind: "binary", op: "and", left: gt(x), right: gt(y), type: { id: "bool" } };
  assert.equal(nullRejecting(and, ids), true);
  assert.equal(
    nullRejecting({ kind: "unary", op: "is_null", arg: x, type: { id: "bool" } }, ids),
    false,
  );
});

Deno.test("pushing twice changes nothing more", async () => {
  const { after } = await pushed(
    "SELECT t.a FROM t JOIN u ON t.k = u.k WHERE t.a > 1 AND u.x < 90 AND t.b = u.x",
  );
  const again = pushFilters(after);
  assert.equal(show(again), show(after));
  assert.ok(nodes(after).length > 0);
});

Deno.test("an OR across both sides also filters each side by what every branch says about it", async () => {
  const after = await sameResults(
    "SELECT fact.id FROM fact, dim1 WHERE fact.d1 = dim1.id AND " +
      "((dim1.name = 'n1' AND fact.amount > 10) OR (dim1.name = 'n2' AND fact.amount < 5))",
  );
  const dim1 = filtersOver(after, "dim1").join(" ");
  assert.ok(dim1.includes("n1") && dim1.includes("n2") && dim1.includes("OR"), show(after));
  const fact = filtersOver(after, "fact").join(" ");
  assert.ok(fact.includes("amount") && fact.includes("OR"), show(after));
  // The OR itself still decides at the join.
  const j = find(after, "join")[0];
  assert.ok(j.filter && exprToString(j.filter).includes("n1"), show(after));
});

Deno.test("nothing is implied for a side that some branch does not mention", async () => {
  const after = await sameResults(
    "SELECT fact.id FROM fact, dim1 WHERE fact.d1 = dim1.id AND " +
      "(dim1.name = 'n1' OR fact.amount < 5)",
  );
  assert.equal(filtersOver(after, "dim1").length, 0, show(after));
  assert.equal(filtersOver(after, "fact").length, 0, show(after));
});
