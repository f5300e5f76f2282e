/**
 * GROUPING SETS, ROLLUP, CUBE and GROUPING() compared with DuckDB.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "ROLLUP of two columns",
    sql:
      "select l_returnflag, l_linestatus, count(*), sum(l_quantity) from lineitem group by rollup (l_returnflag, l_linestatus)",
  },
  {
    name: "CUBE of two columns with GROUPING()",
    sql:
      "select l_returnflag, l_linestatus, grouping(l_returnflag) as gf, grouping(l_linestatus) as gs, count(*) from lineitem group by cube (l_returnflag, l_linestatus)",
  },
  {
    name: "GROUPING SETS with an empty set",
    sql:
      "select o_orderstatus, o_orderpriority, count(*), avg(o_totalprice) from orders group by grouping sets ((o_orderstatus), (o_orderpriority), ())",
  },
  {
    name: "GROUPING() of several columns as a bit mask",
    sql:
      "select r_name, n_name, grouping(r_name, n_name) as g, count(*) from nation join region on n_regionkey = r_regionkey group by rollup (r_name, n_name)",
  },
  {
    name: "ROLLUP with ORDER BY GROUPING() and NULLs for rolled-up keys",
    sql:
      "select c_mktsegment, c_nationkey, sum(c_acctbal) from customer where c_nationkey < 3 group by rollup (c_mktsegment, c_nationkey) order by grouping(c_mktsegment), c_mktsegment, grouping(c_nationkey), c_nationkey",
    ordered: true,
  },
  {
    name: "ROLLUP over data with NULL keys: GROUPING() tells them apart",
    sql:
      "with t(a, b, v) as (values (1, null, 10), (1, 2, 20), (null, 2, 30), (null, null, 40)) select a, b, grouping(a), grouping(b), sum(v), count(*) from t group by rollup (a, b)",
  },
  {
    name: "plain column plus ROLLUP",
    sql:
      "select o_orderstatus, o_orderpriority, extract(year from o_orderdate) as y, count(*) from orders group by o_orderstatus, rollup (o_orderpriority, extract(year from o_orderdate))",
  },
  {
    name: "GROUPING SETS with HAVING",
    sql:
      "select s_nationkey, s_acctbal > 0 as pos, count(*) from supplier group by grouping sets ((s_nationkey), (s_acctbal > 0)) having count(*) > 4",
  },
  {
    name: "CUBE with COUNT DISTINCT",
    sql:
      "select l_returnflag, l_shipmode, count(distinct l_suppkey), count(*) from lineitem where l_orderkey < 3000 group by cube (l_returnflag, l_shipmode)",
  },
];

featureSuite("grouping sets match DuckDB", CASES);
