/**
 * fold_constants alone: constant subexpressions become literals (with the
 * run-time kernels), AND/OR with TRUE/FALSE simplify, common conjuncts are
 * factored out of ORs, DATE-vs-TIMESTAMP comparisons become DATE
 * comparisons; expressions that cannot be folded (errors, volatile calls)
 * stay; results never change.
 */

import assert from "node:assert/strict";
import { SpiceError } from "../../../src/errors.ts";
import { exprToString } from "../../../src/plan/explain.ts";
import { conjuncts, type Expr } from "../../../src/plan/expr.ts";
import type { LogicalPlan } from "../../../src/plan/logical.ts";
import { foldConstants, foldExpr } from "../../../src/plan/rules/fold_constants.ts";
import { bind, execute, find, show, sorted, testCatalog } from "../helpers.ts";

const catalog = testCatalog();

async function folded(
  sql: string,
): Promise<
  { before: LogicalPlan; after: LogicalPlan; ids: Awaited<ReturnType<typeof bind>>["ids"] }
> {
  const { plan, ids } = await bind(catalog, sql);
  return { before: plan, after: foldConstants(plan), ids };
}

function items(p: LogicalPlan): Expr[] {
  return find(p, "project")[0].items.map((i) => i.expr);
}

function predicate(p: LogicalPlan): Expr {
  return find(p, "filter")[0].predicate;
}

/** The folded plan gives the same rows as the original. */
async function sameResults(sql: string): Promise<void> {
  const { before, after, ids } = await folded(sql);
  assert.deepEqual(
    sorted(await execute(catalog, after, ids)),
    sorted(await execute(catalog, before, ids)),
    `${sql}${show(after)}`,
  );
}

Deno.test("arithmetic on constants becomes one literal, also inside column expressions", async () => {
  const { after } = await folded("SELECT a + (1 + 2) AS v, 2 * 3 + 1 AS w FROM t");
  const [v, w] = items(after);
  assert.equal(v.kind, "binary", show(after));
  assert.deepEqual(
    (v as Expr & { kind: "binary" }).right,
    { kind: "literal", value: 3, type: { id: "int32" } },
    show(after),
  );
  assert.deepEqual(w, { kind: "literal", value: 7, type: { id: "int32" } }, show(after));
});

Deno.test("casts and decimal arithmetic on constants fold to typed literals", async () => {
  const { after } = await folded(
    "SELECT CAST('12' AS INTEGER) + 1 AS i, 1.5 * 2 AS d, DATE '2024-01-31' + 1 AS dt FROM t",
  );
  const [i, d, dt] = items(after);
  for (const e of [i, d, dt]) assert.equal(e.kind, "literal", show(after));
  assert.equal(exprToString(i), "13");
  assert.equal(exprToString(d), "3.0");
  assert.equal(exprToString(dt), "DATE '2024-02-01'");
});

Deno.test("folding reaches filters, join conditions and aggregate arguments", async () => {
  const { after } = await folded(
    "SELECT sum(t.a * (2 + 3)) FROM t JOIN u ON t.k = u.k + (1 - 1) WHERE t.a > 10 - 5 GROUP BY t.k",
  );
  const agg = find(after, "aggregate")[0];
  assert.match(exprToString(agg.aggregates[0].args[0]), /\* 5\)$/, show(after));
  assert.match(exprToString(predicate(after)), /> 5\)$/, show(after));
  const j = find(after, "join")[0];
  const cond = [...j.on.flat().map(exprToString), j.filter ? exprToString(j.filter) : ""].join(" ");
  assert.match(cond, /\+ 0\)/, show(after));
});

Deno.test("a constant that fails to evaluate is left for run time (and fails there)", async () => {
  const { after, ids } = await folded("SELECT CAST('abc' AS INTEGER) AS x FROM t");
  assert.equal(items(after)[0].kind, "cast", show(after));
  await assert.rejects(
    () => execute(catalog, after, ids),
    (e) => e instanceof SpiceError && e.message.includes("'abc'"),
  );
});

Deno.test("volatile calls are not folded", async () => {
  const { after } = await folded("SELECT random() + 1 AS r FROM t");
  const r = items(after)[0];
  assert.notEqual(r.kind, "literal", show(after));
  assert.match(exprToString(r), /random\(\)/);
});

Deno.test("x AND TRUE is x; x AND FALSE is FALSE; x OR TRUE is TRUE; x OR FALSE is x", async () => {
  const cases: [string, string][] = [
    ["a > 1 AND TRUE", "(a > 1)"],
    ["TRUE AND a > 1", "(a > 1)"],
    ["a > 1 AND 1 = 0", "false"],
    ["a > 1 OR 1 = 1", "true"],
    ["a > 1 OR FALSE", "(a > 1)"],
  ];
  for (const [where, want] of cases) {
    const { after } = await folded(`SELECT a FROM t WHERE ${where}`);
    assert.equal(exprToString(predicate(after)), want, `${where}${show(after)}`);
  }
});

Deno.test("OR factoring pulls a conjunct common to every branch out of the OR", async () => {
  const { after } = await folded(
    "SELECT a FROM t WHERE (k = 1 AND a > 2) OR (k = 1 AND b < 5) OR (a < 0 AND k = 1)",
  );
  const cs = conjuncts(predicate(after)).map(exprToString);
  assert.deepEqual(cs, ["(k = 1)", "(((a > 2) OR (b < 5)) OR (a < 0))"], show(after));
  await sameResults(
    "SELECT a FROM t WHERE (k = 1 AND a > 2) OR (k = 1 AND b < 5) OR (a < 0 AND k = 1)",
  );
});

Deno.test("OR factoring makes a join key out of an equality hidden in every branch", async () => {
  const sql = "SELECT t.a, u.x FROM t, u WHERE (t.k = u.k AND t.a > 3) OR (t.k = u.k AND u.x < 50)";
  const { after } = await folded(sql);
  const cs = conjuncts(predicate(after)).map(exprToString);
  assert.ok(cs.includes("(k = k)"), `common equality is a conjunct: ${cs}${show(after)}`);
  await sameResults(sql);
});

Deno.test("OR with a branch that is only the common part reduces to it (absorption)", async () => {
  const { after } = await folded("SELECT a FROM t WHERE k = 2 OR (k = 2 AND a > 5)");
  assert.equal(exprToString(predicate(after)), "(k = 2)", show(after));
});

Deno.test("DATE column vs TIMESTAMP constant becomes a DATE comparison with the right day", async () => {
  const cases: [string, string][] = [
    ["<", "(d < DATE '2024-01-06')"],
    ["<=", "(d <= DATE '2024-01-05')"],
    [">", "(d > DATE '2024-01-05')"],
    [">=", "(d >= DATE '2024-01-06')"],
  ];
  for (const [op, want] of cases) {
    const sql = `SELECT a FROM t WHERE d ${op} TIMESTAMP '2024-01-05 12:00:00'`;
    const { after } = await folded(sql);
    assert.equal(exprToString(predicate(after)), want, `${op}${show(after)}`);
    await sameResults(sql);
  }
  // Midnight: exact, every operator keeps its day.
  const { after } = await folded("SELECT a FROM t WHERE TIMESTAMP '2024-01-05 00:00:00' <= d");
  assert.equal(exprToString(predicate(after)), "(d >= DATE '2024-01-05')", show(after));
});

Deno.test("DATE =/<> non-midnight TIMESTAMP is NULL, not a constant, when the date is NULL", async (t) => {
  await t.step("in a projection", async () => {
    const sql = "SELECT a, d = TIMESTAMP '2024-01-05 12:00:00' AS eq, " +
      "d <> TIMESTAMP '2024-01-05 12:00:00' AS ne FROM t";
    const { before, after, ids } = await folded(sql);
    const want = await execute(catalog, before, ids);
    assert.ok(want.some((r) => r[1] === null), "some dates are NULL");
    assert.deepEqual(sorted(await execute(catalog, after, ids)), sorted(want), show(after));
  });
  await t.step(
    "<> in WHERE keeps out NULL dates",
    () => sameResults("SELECT a FROM t WHERE d <> TIMESTAMP '2024-01-05 12:00:00'"),
  );
  await t.step(
    "= in WHERE",
    () => sameResults("SELECT a FROM t WHERE d = TIMESTAMP '2024-01-05 12:00:00'"),
  );
});

Deno.test("foldExpr leaves columns and literals alone", () => {
  const c: Expr = { kind: "column", id: 1, type: { id: "int32" }, name: "c" };
  assert.equal(foldExpr(c), c);
  const l: Expr = { kind: "literal", value: 1, type: { id: "int32" } };
  assert.equal(foldExpr(l), l);
});

Deno.test("folding never changes results", async () => {
  for (
    const sql of [
      "SELECT a * (1 + 1), s || 'x' || 'y', CASE WHEN 1 = 1 THEN a ELSE 0 END FROM t",
      "SELECT k, count(*) FROM t WHERE a BETWEEN 1 + 1 AND 20 - 5 GROUP BY k",
      "SELECT t.a FROM t JOIN u ON t.k = u.k WHERE NOT (1 = 2) AND u.x > 10 * 2",
      "SELECT a FROM t WHERE a IN (1 + 1, 3, 2 * 5) OR s LIKE 'z' || '%'",
    ]
  ) await sameResults(sql);
});
