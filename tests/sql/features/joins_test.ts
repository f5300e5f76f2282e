/**
 * Joins compared with DuckDB: inner, outer (left, right, full), cross, USING,
 * NATURAL, non-equi and OR conditions, ON vs WHERE filters on outer joins,
 * self joins and many-table joins.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "inner join with ON",
    sql:
      "select n_name, r_name from nation join region on n_regionkey = r_regionkey where r_name <> 'ASIA' order by n_name",
    ordered: true,
  },
  {
    name: "inner join with USING",
    sql:
      "with a(k, x) as (select n_regionkey, n_name from nation), b(k, y) as (select r_regionkey, r_name from region) select k, x, y from a join b using (k) order by x",
    ordered: true,
  },
  {
    name: "USING column is unqualified and coalesced in a full join",
    sql:
      "with a(k, x) as (values (1, 'a1'), (2, 'a2'), (null, 'an')), b(k, y) as (values (2, 'b2'), (3, 'b3'), (null, 'bn')) select k, x, y from a full join b using (k)",
  },
  {
    name: "NATURAL join",
    sql:
      "with a(k, x) as (select n_nationkey, n_name from nation), b(k, z) as (select s_nationkey, count(*) from supplier group by s_nationkey) select * from a natural join b order by k",
    ordered: true,
  },
  {
    name: "left join keeps unmatched rows with NULLs",
    sql:
      "select c_custkey, count(o_orderkey) as n, sum(o_totalprice) from customer left join orders on o_custkey = c_custkey where c_custkey < 60 group by c_custkey order by c_custkey",
    ordered: true,
  },
  {
    name: "left join: filter on the right side in ON vs in WHERE",
    sql:
      "select c_custkey, o_orderkey from customer left join orders on o_custkey = c_custkey and o_orderstatus = 'F' and o_totalprice > 300000 where c_custkey < 40 order by c_custkey, o_orderkey",
    ordered: true,
  },
  {
    name: "left join: WHERE filter on the right side turns it into an inner join",
    sql:
      "select c_custkey, o_orderkey from customer left join orders on o_custkey = c_custkey where o_totalprice > 300000 and c_custkey < 400 order by c_custkey, o_orderkey",
    ordered: true,
  },
  {
    name: "left join: IS NULL in WHERE (anti join pattern)",
    sql:
      "select count(*) from customer left join orders on o_custkey = c_custkey where o_orderkey is null",
  },
  {
    name: "left join: filter on the left side in ON keeps every left row",
    sql:
      "select n_nationkey, s_suppkey from nation left join supplier on s_nationkey = n_nationkey and n_regionkey = 1 where n_nationkey < 10 order by n_nationkey, s_suppkey",
    ordered: true,
  },
  {
    name: "right join",
    sql:
      "select o_orderkey, c_custkey, c_name from orders right join customer on o_custkey = c_custkey and o_orderdate < date '1992-02-01' where c_custkey between 100 and 160 order by c_custkey, o_orderkey",
    ordered: true,
  },
  {
    name: "full outer join with unmatched rows on both sides",
    sql:
      "with a as (select n_nationkey as k, n_name from nation where n_nationkey < 15), b as (select s_nationkey as k, count(*) as c from supplier where s_nationkey > 5 group by s_nationkey) select a.k, n_name, b.k, c from a full join b on a.k = b.k",
  },
  {
    name: "full outer join with ON filter and aggregation on top",
    sql:
      "select count(*), count(o_orderkey), count(c_custkey) from customer full join orders on c_custkey = o_custkey and o_orderpriority = '1-URGENT' and c_mktsegment = 'BUILDING'",
  },
  {
    name: "cross join",
    sql: "select r_name, count(*) from region cross join nation group by r_name order by r_name",
    ordered: true,
  },
  {
    name: "comma join with WHERE equi condition",
    sql:
      "select n_name, count(*) from nation, supplier where s_nationkey = n_nationkey and s_acctbal > 5000 group by n_name order by n_name",
    ordered: true,
  },
  {
    name: "non-equi join ON a.x < b.y",
    sql:
      "select a.r_regionkey, b.r_regionkey from region a join region b on a.r_regionkey < b.r_regionkey order by 1, 2",
    ordered: true,
  },
  {
    name: "equi plus range condition",
    sql:
      "select count(*), sum(l_quantity) from orders join lineitem on l_orderkey = o_orderkey and l_shipdate > o_orderdate + 100",
  },
  {
    name: "join ON with OR",
    sql:
      "select n1.n_nationkey, n2.n_nationkey from nation n1 join nation n2 on n1.n_nationkey = n2.n_nationkey + 1 or n1.n_regionkey = n2.n_nationkey order by 1, 2",
    ordered: true,
  },
  {
    name: "left join with a non-equi condition",
    sql:
      "select p_partkey, count(ps_suppkey) from part left join partsupp on ps_partkey = p_partkey and ps_supplycost < p_retailprice / 10 where p_partkey <= 30 group by p_partkey order by p_partkey",
    ordered: true,
  },
  {
    name: "self join",
    sql:
      "select c1.c_nationkey, count(*) from customer c1 join customer c2 on c1.c_nationkey = c2.c_nationkey and c1.c_custkey < c2.c_custkey and c1.c_mktsegment = c2.c_mktsegment where c1.c_custkey < 200 group by c1.c_nationkey order by 1",
    ordered: true,
  },
  {
    name: "five-table join",
    sql:
      "select r_name, n_name, count(distinct c_custkey), sum(l_extendedprice) from region join nation on n_regionkey = r_regionkey join customer on c_nationkey = n_nationkey join orders on o_custkey = c_custkey join lineitem on l_orderkey = o_orderkey where o_orderdate >= date '1997-01-01' group by r_name, n_name order by r_name, n_name",
    ordered: true,
  },
  {
    name: "six tables in a comma join (TPC-H style)",
    sql:
      "select n_name, sum(l_extendedprice * (1 - l_discount)) as revenue from customer, orders, lineitem, supplier, nation, region where c_custkey = o_custkey and l_orderkey = o_orderkey and l_suppkey = s_suppkey and c_nationkey = s_nationkey and s_nationkey = n_nationkey and n_regionkey = r_regionkey and r_name = 'EUROPE' group by n_name order by revenue desc",
    ordered: true,
  },
  {
    name: "chain of left joins",
    sql:
      "select r_name, n_name, s_suppkey from region left join nation on n_regionkey = r_regionkey and n_name like 'A%' left join supplier on s_nationkey = n_nationkey and s_acctbal > 9000 order by r_name, n_name nulls first, s_suppkey",
    ordered: true,
  },
  {
    name: "join keys of different types (int vs bigint vs decimal)",
    sql:
      "with a(k) as (values (1), (2), (3)), b(k) as (values (1.0), (2.5), (3.00)) select a.k, b.k from a join b on a.k = b.k",
  },
  {
    name: "join on an expression of both sides",
    sql:
      "select count(*) from part p1 join part p2 on p1.p_size = p2.p_size + 1 and p1.p_brand = p2.p_brand where p1.p_partkey < 100",
  },
  {
    name: "full outer join with a non-equi condition",
    sql:
      "with a(x) as (values (1), (5), (9)), b(y) as (values (2), (3), (20)) select x, y from a full join b on x > y and x < y + 3",
  },
  {
    name: "right join with a non-equi condition only",
    sql:
      "select r_regionkey, n_nationkey from nation right join region on n_nationkey < r_regionkey order by 1, 2",
    ordered: true,
  },
  {
    name: "left join ON false keeps every left row once",
    sql: "select r_name, n_name from region left join nation on 1 = 0 order by r_name",
    ordered: true,
  },
  {
    name: "USING with two columns and select *",
    sql:
      "with a(k1, k2, x) as (values (1, 'a', 10), (1, 'b', 11), (2, 'a', 12)), b(k1, k2, y) as (values (1, 'a', 20), (2, 'a', 21), (2, 'b', 22)) select * from a join b using (k1, k2) order by k1, k2",
    ordered: true,
  },
  {
    name: "NULL join keys never match, in inner and outer joins",
    sql:
      "with a(k, x) as (values (1, 'a1'), (null, 'an')), b(k, y) as (values (1, 'b1'), (null, 'bn')) select a.k, x, b.k, y from a full join b on a.k = b.k",
  },
  {
    name: "IS NOT DISTINCT FROM join condition matches NULLs",
    sql:
      "with a(k, x) as (values (1, 'a1'), (null, 'an')), b(k, y) as (values (1, 'b1'), (null, 'bn')) select x, y from a join b on a.k is not distinct from b.k",
  },
  {
    name: "join output used by window-free aggregate over both sides' columns",
    sql:
      "select s_nationkey = c_nationkey as same, count(*) from supplier join customer on s_suppkey = c_custkey group by 1",
  },
];

featureSuite("joins match DuckDB", CASES);
