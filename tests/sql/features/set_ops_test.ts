/**
 * Set operations compared with DuckDB: UNION, UNION ALL, INTERSECT, EXCEPT,
 * INTERSECT ALL, EXCEPT ALL, with ORDER BY / LIMIT on the result, NULLs and
 * type coercion between branches.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "UNION removes duplicates",
    sql:
      "select n_regionkey from nation union select r_regionkey from region union select 7 order by 1",
    ordered: true,
  },
  {
    name: "UNION ALL keeps duplicates",
    sql:
      "select count(*), sum(k) from (select n_regionkey as k from nation union all select r_regionkey from region) t",
  },
  {
    name: "UNION with ORDER BY and LIMIT on the result",
    sql:
      "select c_name as name, c_acctbal as bal from customer where c_nationkey = 1 union select s_name, s_acctbal from supplier where s_nationkey = 1 order by bal desc, name limit 7",
    ordered: true,
  },
  {
    name: "UNION ALL with ORDER BY a column name of the first branch and OFFSET",
    sql:
      "select n_name as x from nation union all select r_name from region order by x limit 5 offset 3",
    ordered: true,
  },
  {
    name: "INTERSECT",
    sql:
      "select o_custkey from orders where o_orderpriority = '1-URGENT' intersect select o_custkey from orders where o_orderpriority = '5-LOW' order by 1 limit 20",
    ordered: true,
  },
  {
    name: "EXCEPT",
    sql:
      "select c_custkey from customer where c_custkey < 200 except select o_custkey from orders order by 1",
    ordered: true,
  },
  {
    name: "INTERSECT ALL keeps the smaller multiplicity",
    sql:
      "with a(x) as (values (1), (1), (1), (2), (3), (null), (null)), b(x) as (values (1), (1), (2), (2), (4), (null)) select x from a intersect all select x from b",
  },
  {
    name: "EXCEPT ALL subtracts multiplicities",
    sql:
      "with a(x) as (values (1), (1), (1), (2), (3), (null), (null)), b(x) as (values (1), (2), (2), (4), (null)) select x from a except all select x from b",
  },
  {
    name: "INTERSECT ALL and EXCEPT ALL on TPC-H",
    sql:
      "select (select count(*) from (select l_linenumber from lineitem where l_orderkey < 500 intersect all select l_linenumber from lineitem where l_orderkey between 500 and 700)), (select count(*) from (select l_linenumber from lineitem where l_orderkey < 500 except all select l_linenumber from lineitem where l_orderkey between 500 and 700))",
  },
  {
    name: "UNION treats NULLs as equal",
    sql:
      "with a(x, y) as (values (1, null), (null, null), (1, null)) select x, y from a union select null, null",
  },
  {
    name: "EXCEPT / INTERSECT treat NULLs as equal",
    sql:
      "with a(x) as (values (1), (null), (2)), b(x) as (values (null), (2)) select 'e', x from (select x from a except select x from b) t union all select 'i', x from (select x from a intersect select x from b) u",
  },
  {
    name: "coercion between branches: int and decimal",
    sql:
      "select 1 as v union all select 2.50 union all select n_nationkey from nation where n_nationkey < 3",
  },
  {
    name: "coercion between branches: int, decimal and double",
    sql: "select 1 as v union all select 2.5 union all select 1e0 / 3",
  },
  {
    name: "coercion between branches: decimals of different scales",
    sql:
      "select l_discount as v from lineitem where l_orderkey = 1 union select cast(l_extendedprice as decimal(12, 1)) from lineitem where l_orderkey = 1 order by v",
    ordered: true,
  },
  {
    name: "coercion between branches: date and timestamp",
    sql:
      "select date '1995-03-01' as d union all select timestamp '1995-03-01 12:00:00' order by d",
    ordered: true,
  },
  {
    name: "precedence: INTERSECT binds tighter than UNION",
    sql: "select 1 as x union select 2 intersect select 3 order by x",
    ordered: true,
  },
  {
    name: "parenthesised set operations",
    sql:
      "(select n_nationkey from nation where n_nationkey < 10 union select 20) except (select r_regionkey from region) order by 1",
    ordered: true,
  },
  {
    name: "set operation with an aggregate in each branch",
    sql:
      "select 'orders' as t, count(*) as n from orders union all select 'lineitem', count(*) from lineitem union all select 'part', count(*) from part order by n",
    ordered: true,
  },
];

featureSuite("set operations match DuckDB", CASES);
