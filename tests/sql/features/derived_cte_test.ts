/**
 * Derived tables (with column lists), CTEs (several, chained, referenced
 * twice) and nested subqueries in FROM, compared with DuckDB.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "derived table with a column list",
    sql:
      "select seg, n from (select c_mktsegment, count(*) from customer group by c_mktsegment) as t(seg, n) order by seg",
    ordered: true,
  },
  {
    name: "derived table with a partial column list keeps the other names",
    sql:
      "select a, n_name from (select n_nationkey, n_name from nation) as t(a) where a < 5 order by a",
    ordered: true,
  },
  {
    name: "derived tables joined to each other",
    sql:
      "select t1.k, t1.c, t2.s from (select o_custkey, count(*) from orders group by o_custkey) t1(k, c) join (select c_custkey, c_acctbal from customer) t2(k, s) on t1.k = t2.k where t1.c > 25 order by t1.k",
    ordered: true,
  },
  {
    name: "several CTEs, one referring to another",
    sql:
      "with big as (select o_custkey, sum(o_totalprice) as tot from orders group by o_custkey), ranked as (select o_custkey, tot from big where tot > (select avg(tot) from big)), named as (select c_name, tot from ranked join customer on c_custkey = o_custkey) select count(*), min(tot), max(c_name) from named",
  },
  {
    name: "CTE referenced twice (self join of a CTE)",
    sql:
      "with rev as (select l_suppkey as s, sum(l_extendedprice) as r from lineitem group by l_suppkey) select a.s, b.s from rev a join rev b on a.r < b.r and b.r < a.r * 1.001 order by 1, 2",
    ordered: true,
  },
  {
    name: "CTE with a column list",
    sql:
      "with t(region, nations) as (select r_name, count(*) from region join nation on n_regionkey = r_regionkey group by r_name) select region, nations from t order by region",
    ordered: true,
  },
  {
    name: "CTE shadowing a table name",
    sql:
      "with nation as (select n_nationkey, n_name from nation where n_regionkey = 2) select count(*), min(n_name) from nation",
  },
  {
    name: "nested derived tables three deep",
    sql:
      "select max(c) from (select k, count(*) as c from (select o_custkey as k from (select * from orders where o_orderstatus = 'O') x) y group by k) z",
  },
  {
    name: "CTE used in a subquery and in FROM",
    sql:
      "with asia as (select n_nationkey from nation join region on n_regionkey = r_regionkey where r_name = 'ASIA') select count(*) from supplier where s_nationkey in (select n_nationkey from asia) and s_nationkey <> (select min(n_nationkey) from asia)",
  },
  {
    name: "derived table with ORDER BY and LIMIT inside",
    sql:
      "select sum(o_totalprice) from (select o_totalprice from orders order by o_totalprice desc, o_orderkey limit 10) t",
  },
  {
    name: "CTE inside a derived table",
    sql:
      "select * from (with x as (select r_regionkey as k from region) select k * 2 as d from x) t order by d",
    ordered: true,
  },
  {
    name: "aggregate over a UNION in a derived table",
    sql:
      "select kind, count(*) from (select 'c' as kind, c_nationkey as n from customer union all select 's', s_nationkey from supplier) t group by kind order by kind",
    ordered: true,
  },
];

featureSuite("derived tables and CTEs match DuckDB", CASES);
