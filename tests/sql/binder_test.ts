/**
 * The binder: name resolution (qualified, ambiguous, unknown), GROUP BY and
 * aggregate placement checks, CTE scoping, USING / NATURAL column merging,
 * parameters, decorrelation of subqueries into joins, LIKE escapes, and the
 * error codes of unsupported constructs. Results of bound plans are checked
 * against DuckDB over the same tables.
 */

import assert from "node:assert/strict";
import type { Value } from "../../src/arrow/column.ts";
import { type DataType, typeToString } from "../../src/arrow/types.ts";
import { formatDecimal } from "../../src/exec/kernels/cast.ts";
import { formatDate, formatTimestamp } from "../../src/sql/literals.ts";
import { type ErrorCode, SpiceError } from "../../src/errors.ts";
import { exprToString } from "../../src/plan/explain.ts";
import type { Expr } from "../../src/plan/expr.ts";
import { type LogicalPlan, outputColumns } from "../../src/plan/logical.ts";
import { outerReferences } from "../../src/sql/decorrelate.ts";
import type { Parameters } from "../../src/sql/binder.ts";
import {
  bind,
  duckRows,
  execute,
  find,
  loadIntoDuckDB,
  nodes,
  show,
  sorted,
  testCatalog,
} from "../plan/helpers.ts";

const catalog = testCatalog();
let loaded: Promise<void> | null = null;

async function fails(
  sql: string,
  code: ErrorCode,
  ...mentions: (string | RegExp)[]
): Promise<void> {
  await assert.rejects(
    () => bind(catalog, sql),
    (e) => {
      assert.ok(e instanceof SpiceError, `${sql}: ${e}`);
      assert.equal(e.code, code, `${sql}: ${e.message}`);
      for (const m of mentions) {
        if (typeof m === "string") {
          assert.ok(e.message.includes(m), `${sql}: "${e.message}" mentions ${m}`);
        } else assert.match(e.message, m, sql);
      }
      return true;
    },
  );
}

/** An engine cell in DuckDB's JSON form (dates as text, decimals as numbers). */
function fromEngine(v: Value, t: DataType): unknown {
  if (v === null) return null;
  if (t.id === "date32") return formatDate(Number(v));
  if (t.id === "timestamp") return formatTimestamp(Number(v));
  if (t.id === "decimal") return formatDecimal(v as number | bigint, t.scale);
  return v;
}

function norm(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

/** Binds and runs `sql` (unoptimised plan) and compares the rows with DuckDB's. */
async function agrees(
  sql: string,
  opts: { params?: Parameters; duckSql?: string; ordered?: boolean } = {},
): Promise<Value[][]> {
  loaded ??= loadIntoDuckDB(catalog, ["t", "u", "dim2"]);
  await loaded;
  const { plan, ids } = await bind(catalog, sql, opts.params);
  const types = outputColumns(plan).map((c) => c.type);
  const ours = (await execute(catalog, plan, ids)).map((r) =>
    r.map((v, i) => norm(fromEngine(v, types[i])))
  );
  const theirs = (await duckRows(opts.duckSql ?? sql)).map((r) => r.map(norm));
  if (opts.ordered) assert.deepEqual(ours, theirs, `${sql}${show(plan)}`);
  else {assert.deepEqual(
      sorted(ours as Value[][]),
      sorted(theirs as Value[][]),
      `${sql}${show(plan)}`,
    );}
  return ours as Value[][];
}

// ---------------------------------------------------------------------------
// names

Deno.test("qualified and unqualified names resolve to the right table's column", async () => {
  const { plan, names } = await bind(
    catalog,
    "SELECT t.k, u.k AS uk, x, T.A FROM t JOIN u ON t.k = u.k",
  );
  assert.deepEqual(names, ["k", "uk", "x", "A"]);
  assert.deepEqual(outputColumns(plan).map((c) => typeToString(c.type)), [
    "INTEGER",
    "INTEGER",
    "INTEGER",
    "INTEGER",
  ]);
  await agrees("SELECT t.k, u.k AS uk, x, T.A FROM t JOIN u ON t.k = u.k");
  await agrees("SELECT q.a FROM (SELECT a FROM t) AS q WHERE q.a > 10");
  await agrees("SELECT tt.a FROM t AS tt WHERE tt.k = 1");
});

Deno.test("an ambiguous name is an error naming it and where it is", async () => {
  await fails("SELECT k FROM t JOIN u ON t.k = u.k", "PLAN", `"k"`, "ambiguous", "t", "u");
});

Deno.test("an unknown column is an error listing what is available", async () => {
  await fails("SELECT nope FROM t", "COLUMN_NOT_FOUND", `"nope"`, "available", "t.k", "t.a", "t.s");
  await fails("SELECT t.x FROM t JOIN u ON t.k = u.k", "COLUMN_NOT_FOUND", `"t.x"`, "u.x");
});

Deno.test("an unknown table or qualifier is TABLE_NOT_FOUND listing the tables", async () => {
  await fails("SELECT * FROM missing", "TABLE_NOT_FOUND", `"missing"`, "dim1", "fact", "t", "u");
  await fails("SELECT z.a FROM t", "TABLE_NOT_FOUND", `"z"`);
  await fails("SELECT z.* FROM t", "TABLE_NOT_FOUND", `"z"`);
});

Deno.test("the same table twice without aliases is an error; with aliases it works", async () => {
  await fails("SELECT 1 FROM t, t", "PLAN", "more than once");
  await agrees("SELECT a.k, b.a FROM t a, t b WHERE a.a = b.a + 1");
});

// ---------------------------------------------------------------------------
// aggregates

Deno.test("a non-grouped column in SELECT is an error naming the column", async () => {
  await fails("SELECT a, count(*) FROM t GROUP BY k", "PLAN", `"a"`, "GROUP BY");
  await fails("SELECT k, count(*) FROM t GROUP BY k ORDER BY a", "PLAN", `"a"`);
  await fails("SELECT k FROM t GROUP BY k HAVING a > 1", "PLAN", `"a"`);
});

Deno.test("aggregates are not allowed in WHERE, GROUP BY or ON", async () => {
  await fails("SELECT a FROM t WHERE sum(a) > 1", "PLAN", "sum()", "WHERE");
  await fails("SELECT count(*) FROM t GROUP BY sum(a)", "PLAN", "sum()", "GROUP BY");
  await fails("SELECT 1 FROM t JOIN u ON max(t.k) = u.k", "PLAN", "max()");
});

Deno.test("GROUP BY expressions, aliases and ordinals; expressions over keys are allowed", async () => {
  await agrees("SELECT k + 1 AS kk, count(*) FROM t GROUP BY k + 1");
  await agrees("SELECT k AS key, sum(a) FROM t GROUP BY key");
  await agrees("SELECT s, k, count(*) FROM t GROUP BY 2, 1");
  await agrees("SELECT k * 2, max(a) - min(a) FROM t GROUP BY k HAVING count(*) > 2");
  await fails("SELECT k FROM t GROUP BY 3", "PLAN", "position 3");
});

Deno.test("ROLLUP / CUBE / GROUPING SETS with GROUPING()", async () => {
  await agrees("SELECT k, s, count(*), GROUPING(k), GROUPING(k, s) FROM t GROUP BY ROLLUP (k, s)");
  await agrees("SELECT k, s, sum(a) FROM t GROUP BY CUBE (k, s)");
  await agrees("SELECT k, s, count(*) FROM t GROUP BY GROUPING SETS ((k), (s), ())");
});

Deno.test("window functions are not allowed in WHERE, and need OVER", async () => {
  await fails("SELECT a FROM t WHERE row_number() OVER () > 1", "PLAN", "row_number()");
  await fails("SELECT row_number() FROM t", "PLAN", "OVER");
});

// ---------------------------------------------------------------------------
// CTEs

Deno.test("CTEs: visible in their query, chained, shadowing a table, re-bound per use", async () => {
  await agrees("WITH c AS (SELECT k, a FROM t WHERE a > 5) SELECT k, count(*) FROM c GROUP BY k");
  await agrees(
    "WITH c1 AS (SELECT k, a FROM t), c2 AS (SELECT k, a * 2 AS a2 FROM c1) SELECT * FROM c2",
  );
  // A CTE named like a table hides it.
  const { names } = await bind(catalog, "WITH t AS (SELECT 1 AS z) SELECT * FROM t");
  assert.deepEqual(names, ["z"]);
  // Used twice: two independent inputs (a self-join).
  const { plan } = await bind(
    catalog,
    "WITH c AS (SELECT k, a FROM t) SELECT x.a, y.a FROM c x JOIN c y ON x.k = y.k",
  );
  const scans = find(plan, "scan");
  assert.equal(scans.length, 2);
  assert.notDeepEqual(scans[0].columns.map((c) => c.id), scans[1].columns.map((c) => c.id));
  await agrees("WITH c AS (SELECT k, a FROM t) SELECT x.a, y.a FROM c x JOIN c y ON x.k = y.k");
  // Column aliases on the CTE.
  await agrees("WITH c(kk, aa) AS (SELECT k, a FROM t) SELECT kk + aa FROM c");
});

Deno.test("a CTE is not visible outside the query that defines it", async () => {
  await fails(
    "SELECT * FROM (WITH c AS (SELECT 1 AS x) SELECT * FROM c) q, c",
    "TABLE_NOT_FOUND",
    `"c"`,
  );
});

Deno.test("WITH RECURSIVE is NOT_SUPPORTED", async () => {
  await fails("WITH RECURSIVE r AS (SELECT 1 AS n) SELECT * FROM r", "NOT_SUPPORTED", "RECURSIVE");
});

// ---------------------------------------------------------------------------
// USING / NATURAL

Deno.test("JOIN USING merges the column: once in *, first, resolvable unqualified", async () => {
  const { names } = await bind(catalog, "SELECT * FROM t JOIN u USING (k)");
  assert.deepEqual(names, ["k", "a", "b", "s", "d", "x", "y"]);
  await agrees("SELECT * FROM t JOIN u USING (k)");
  await agrees("SELECT k, t.k, u.k, x FROM t JOIN u USING (k)");
});

Deno.test("LEFT / RIGHT / FULL JOIN USING: the merged column comes from the preserved side", async () => {
  await agrees("SELECT k, a, x FROM t LEFT JOIN u USING (k)");
  await agrees("SELECT k, a, x FROM t RIGHT JOIN u USING (k)");
  await agrees("SELECT k, a, x FROM t FULL JOIN u USING (k)");
});

Deno.test("NATURAL JOIN joins on the common column names", async () => {
  const { names } = await bind(catalog, "SELECT * FROM t NATURAL JOIN u");
  assert.deepEqual(names, ["k", "a", "b", "s", "d", "x", "y"]);
  await agrees("SELECT * FROM t NATURAL JOIN u");
});

Deno.test("USING a column missing on one side names the side", async () => {
  await fails("SELECT * FROM t JOIN u USING (a)", "COLUMN_NOT_FOUND", `"a"`, "right");
  await fails("SELECT * FROM t JOIN u USING (x)", "COLUMN_NOT_FOUND", `"x"`, "left");
});

// ---------------------------------------------------------------------------
// parameters

Deno.test("parameters: $n, ? and :name, typed from their JavaScript values", async () => {
  await agrees("SELECT a FROM t WHERE a > $1 AND s = $2", {
    params: [10, "x"],
    duckSql: "SELECT a FROM t WHERE a > 10 AND s = 'x'",
  });
  await agrees("SELECT a FROM t WHERE a BETWEEN ? AND ?", {
    params: [3, 8],
    duckSql: "SELECT a FROM t WHERE a BETWEEN 3 AND 8",
  });
  await agrees("SELECT a FROM t WHERE k = :key", {
    params: { key: 2 },
    duckSql: "SELECT a FROM t WHERE k = 2",
  });
  const { plan } = await bind(
    catalog,
    "SELECT $1 AS i, $2 AS l, $3 AS f, $4 AS s, $5 AS b, $6 AS n",
    [
      1,
      2 ** 40,
      1.5,
      "x",
      true,
      null,
    ],
  );
  assert.deepEqual(outputColumns(plan).map((c) => typeToString(c.type)), [
    "INTEGER",
    "BIGINT",
    "DOUBLE",
    "VARCHAR",
    "BOOLEAN",
    "NULL",
  ]);
});

Deno.test("a missing parameter is INVALID_ARGUMENT naming it", async () => {
  for (
    const [sql, params, name] of [
      ["SELECT $2", [1], "$2"],
      ["SELECT :k", { j: 1 }, ":k"],
      ["SELECT :k", undefined, ":k"],
      ["SELECT ?, ?", [1], "2"],
      ["SELECT ?", undefined, "?"],
    ] as const
  ) {
    await assert.rejects(
      () => bind(catalog, sql, params as Parameters | undefined),
      (e) => e instanceof SpiceError && e.code === "INVALID_ARGUMENT" && e.message.includes(name),
      sql,
    );
  }
});

// ---------------------------------------------------------------------------
// subqueries

function joinsOf(p: LogicalPlan) {
  return find(p, "join");
}

/** No plan node below the root reads a column it does not get from its own inputs. */
function noCorrelationLeft(p: LogicalPlan): void {
  for (const n of nodes(p)) {
    assert.equal(outerReferences(n).size, 0, `a correlated reference remains in${show(n)}`);
  }
}

Deno.test("EXISTS / NOT EXISTS with correlation become semi / anti joins on the key", async () => {
  const sql = "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.k AND u.x > 20)";
  const { plan } = await bind(catalog, sql);
  const [j] = joinsOf(plan);
  assert.equal(j.joinKind, "semi", show(plan));
  assert.deepEqual(
    j.on.map(([a, b]) => `${exprToString(a)} = ${exprToString(b)}`),
    ["k = k"],
    show(plan),
  );
  noCorrelationLeft(plan);
  await agrees(sql);
  const anti = "SELECT a FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.k = t.k)";
  assert.equal(joinsOf((await bind(catalog, anti)).plan)[0].joinKind, "anti");
  await agrees(anti);
});

Deno.test("IN / NOT IN subqueries become semi / null-aware anti joins", async () => {
  const inSql = "SELECT a FROM t WHERE k IN (SELECT k FROM u WHERE x > 30)";
  const { plan } = await bind(catalog, inSql);
  assert.equal(joinsOf(plan)[0].joinKind, "semi");
  await agrees(inSql);
  const notIn = "SELECT a FROM t WHERE k NOT IN (SELECT k FROM u WHERE x > 30)";
  const j = joinsOf((await bind(catalog, notIn)).plan)[0];
  assert.equal(j.joinKind, "anti");
  assert.equal(j.nullAware, true);
  await agrees(notIn);
  // u.k holds a NULL: NOT IN is then never TRUE.
  await agrees("SELECT a FROM t WHERE k NOT IN (SELECT k FROM u)");
});

Deno.test("IN inside an expression becomes a mark join", async () => {
  const sql = "SELECT a, k IN (SELECT k FROM u WHERE x > 30) AS m FROM t";
  const { plan } = await bind(catalog, sql);
  const j = joinsOf(plan)[0];
  assert.equal(j.joinKind, "mark");
  assert.equal(j.nullAware, true);
  await agrees(sql);
  await agrees("SELECT a FROM t WHERE k IN (SELECT k FROM u WHERE x > 100) OR a > 15");
});

Deno.test("a correlated scalar aggregate becomes a grouped left join, COUNT of nothing is 0", async () => {
  const sql = "SELECT a, (SELECT count(*) FROM u WHERE u.k = t.k) AS c, " +
    "(SELECT max(x) FROM u WHERE u.k = t.k) AS m FROM t";
  const { plan } = await bind(catalog, sql);
  const js = joinsOf(plan);
  assert.ok(js.length >= 2 && js.every((j) => j.joinKind === "left"), show(plan));
  for (const j of js) {
    const agg = find(j.right, "aggregate")[0];
    assert.ok(agg && agg.groupBy.length === 1, `grouped by the correlation key${show(plan)}`);
  }
  noCorrelationLeft(plan);
  await agrees(sql);
});

Deno.test("an uncorrelated scalar subquery is a single-row join", async () => {
  const sql = "SELECT a, (SELECT max(x) FROM u) AS m FROM t WHERE a > (SELECT min(x) FROM u)";
  const { plan } = await bind(catalog, sql);
  assert.ok(find(plan, "max_one_row").length >= 1 || joinsOf(plan).length >= 2, show(plan));
  await agrees(sql);
  await assert.rejects(async () => {
    const b = await bind(catalog, "SELECT (SELECT x FROM u) FROM t");
    await execute(catalog, b.plan, b.ids);
  }, (e) => e instanceof SpiceError && /more than one row/.test(e.message));
});

// ---------------------------------------------------------------------------
// expressions

Deno.test("LIKE without ESCAPE treats backslash as an ordinary character, as DuckDB", async () => {
  await agrees(
    "SELECT 'a\\b' LIKE 'a\\b' AS x, 'a%' LIKE 'a\\%' AS y, 'ab' LIKE 'a\\b' AS z",
  );
});

Deno.test("LIKE ... ESCAPE with any escape character", async () => {
  await agrees(
    "SELECT 'a_c' LIKE 'a#_c' ESCAPE '#' AS x, 'abc' LIKE 'a#_c' ESCAPE '#' AS y, " +
      "'a\\c' LIKE 'a\\c' ESCAPE '#' AS z, '50%' LIKE '50!%' ESCAPE '!' AS w",
  );
});

Deno.test("type errors name the operator and types", async () => {
  await fails("SELECT s + 1 FROM t", "TYPE", "VARCHAR", "+");
  await fails("SELECT a FROM t WHERE a", "TYPE", "WHERE", "BOOLEAN");
  await fails("SELECT sum(s) FROM t", "TYPE", "sum()", "VARCHAR");
  await fails("SELECT CAST(d AS INTEGER) FROM t", "TYPE", "DATE", "INTEGER");
});

Deno.test("a string literal next to a number or date takes the other operand's type", async () => {
  await agrees("SELECT a + '1', d > '2024-01-10' FROM t", {
    duckSql: "SELECT a + 1, d > DATE '2024-01-10' FROM t",
  });
  const { plan } = await bind(catalog, "SELECT '1' + a FROM t");
  const e = find(plan, "project")[0].items[0].expr as Expr & { kind: "binary" };
  assert.equal(typeToString(e.type), "INTEGER");
});

Deno.test("ORDER BY ordinals, aliases and hidden expressions", async () => {
  await agrees("SELECT k, a FROM t ORDER BY 2 DESC", { ordered: true });
  await agrees("SELECT a * 2 AS v FROM t ORDER BY v", { ordered: true });
  await agrees("SELECT a FROM t ORDER BY b NULLS FIRST, a", { ordered: true });
  await fails("SELECT a FROM t ORDER BY 5", "PLAN", "position 5");
  await fails("SELECT DISTINCT k FROM t ORDER BY a", "PLAN", "DISTINCT");
});

// ---------------------------------------------------------------------------
// unsupported constructs and statements

Deno.test("unsupported constructs are NOT_SUPPORTED errors naming the construct", async () => {
  const cases: [string, string][] = [
    ["INSERT INTO t VALUES (1, 2, 3, 'x', NULL)", "Insert"],
    ["CREATE TABLE z (a INT)", "CreateTable"],
    ["SELECT DISTINCT ON (k) k, a FROM t", "DISTINCT ON"],
    ["SELECT k FROM t UNION BY NAME SELECT k FROM u", "BY NAME"],
    ["SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.k = t.k) q", "LATERAL"],
    ["SELECT a FROM t WHERE s SIMILAR TO 'x'", "SIMILAR TO"],
    ["SELECT (1, 2)", "row values"],
    ["SELECT [1, 2]", "arrays"],
    ["SELECT * FROM t GROUP BY ALL", "GROUP BY ALL"],
  ];
  for (const [sql, what] of cases) await fails(sql, "NOT_SUPPORTED", what);
});

Deno.test("a syntax error is SQL_PARSE with its line and column", async () => {
  await assert.rejects(
    () => bind(catalog, "SELECT a\nFROM t WHERE a > > 1"),
    (e) =>
      e instanceof SpiceError && e.code === "SQL_PARSE" && /line 2, column 18/.test(e.message) &&
      (e as unknown as { line: number }).line === 2,
  );
});

Deno.test("EXPLAIN binds the inner query", async () => {
  const { plan, names } = await bind(catalog, "EXPLAIN SELECT a FROM t");
  assert.deepEqual(names, ["a"]);
  assert.equal(find(plan, "scan")[0].table, "t");
});
