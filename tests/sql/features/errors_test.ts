/**
 * Queries our engine must reject: each must fail with a clear message (a
 * "not supported: <construct>", a plan or type error, or an execution error
 * where DuckDB fails too), never with a wrong answer. The message is asserted,
 * not a result.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "LATERAL subquery",
    sql:
      "select n_name, t.c from nation, lateral (select count(*) as c from supplier where s_nationkey = n_nationkey) t",
    error: /not supported: LATERAL/,
  },
  {
    name: "WITH RECURSIVE",
    sql:
      "with recursive r(i) as (select 1 union all select i + 1 from r where i < 5) select * from r",
    error: /not supported: WITH RECURSIVE/,
  },
  {
    name: "window GROUPS frame",
    sql:
      "select n_nationkey, sum(n_nationkey) over (order by n_regionkey groups between 1 preceding and current row) from nation",
    error: /not supported: GROUPS frames/i,
  },
  {
    name: "table functions",
    sql: "select * from generate_series(1, 3)",
    error: /not supported: table functions/,
  },
  {
    name: "SIMILAR TO",
    sql: "select count(*) from part where p_name similar to '%(green|blue)%'",
    error: /not supported: SIMILAR TO/,
  },
  {
    name: "row values",
    sql: "select count(*) from orders where (o_custkey, o_orderstatus) = (1, 'F')",
    error: /not supported: row values/,
  },
  {
    name: "DML is refused: spiced is read-only",
    sql: "delete from nation where n_nationkey = 1",
    error: /not supported: .*read-only/,
  },
  {
    name: "unknown table names the table",
    sql: "select * from nations",
    error: /table "nations" not found/,
  },
  {
    name: "unknown column names the column",
    sql: "select n_nam from nation",
    error: /column "n_nam" not found/,
  },
  {
    name: "ambiguous column",
    sql: "select n_name from nation a join nation b on a.n_nationkey = b.n_nationkey",
    error: /ambiguous/i,
  },
  {
    name: "column neither grouped nor aggregated",
    sql: "select n_regionkey, n_name, count(*) from nation group by n_regionkey",
    error: /GROUP BY|aggregate/i,
  },
  {
    name: "aggregate in WHERE",
    sql: "select n_name from nation where count(*) > 1",
    error: /aggregate|WHERE/i,
  },
  {
    name: "scalar subquery with two columns",
    sql: "select (select n_name, n_nationkey from nation limit 1)",
    error: /scalar subquery returns 2 columns/,
  },
  {
    name: "type error comparing a date with an integer",
    sql: "select count(*) from orders where o_orderdate > 5",
    error: /cannot|type|compare/i,
  },
  {
    name: "set operation branches with different column counts",
    sql: "select n_name, n_nationkey from nation union select r_name from region",
    error: /column|number/i,
  },
  {
    name: "syntax error carries a position",
    sql: "select n_name form nation where",
    error: /line \d+.*column \d+|at Line/i,
  },
  {
    name: "window function in WHERE",
    sql: "select n_name from nation where row_number() over (order by n_name) < 3",
    error: /window|WHERE/i,
  },
];

featureSuite("rejected queries fail with clear errors", CASES);
