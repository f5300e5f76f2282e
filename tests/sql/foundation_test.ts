/**
 * The first-cut SQL surface (expressions, filters, grouping, ordering,
 * joins, CASE/CAST/LIKE/IN/BETWEEN, NULL logic, dates and intervals, every
 * type) compared with DuckDB on TPC-H data at scale factor 0.01.
 */

import { compareQuery, tpchPair } from "../support/engine.ts";

/** [name, sql, ordered] */
const CASES: [string, string, boolean][] = [
  [
    "arithmetic and comparison",
    "select l_orderkey, l_quantity * 2 + 1 as q, l_extendedprice / l_quantity as unit, l_tax - l_discount as d from lineitem where l_orderkey < 50 order by l_orderkey, q, unit",
    true,
  ],
  [
    "group by with every aggregate",
    "select l_returnflag, count(*), count(l_comment), sum(l_quantity), avg(l_extendedprice), min(l_shipdate), max(l_receiptdate), count(distinct l_suppkey) from lineitem group by l_returnflag order by l_returnflag",
    true,
  ],
  [
    "having",
    "select o_custkey, count(*) as n, sum(o_totalprice) from orders group by o_custkey having count(*) > 20 order by n desc, o_custkey",
    true,
  ],
  [
    "order by desc nulls first/last with limit and offset",
    "select c_custkey, c_acctbal from customer order by c_acctbal desc nulls first, c_custkey limit 10 offset 5",
    true,
  ],
  ["distinct", "select distinct l_shipmode, l_returnflag from lineitem order by 1, 2", true],
  [
    "inner equi-join of three tables",
    "select n_name, count(*) as suppliers, sum(s_acctbal) from supplier join nation on s_nationkey = n_nationkey join region on n_regionkey = r_regionkey where r_name = 'ASIA' group by n_name order by n_name",
    true,
  ],
  [
    "case, cast, like, in, between",
    "select p_partkey, case when p_size < 10 then 'small' when p_size < 30 then 'medium' else 'large' end as sz, cast(p_retailprice as integer) as ip, cast(p_size as varchar) || '-' || p_brand as tag from part where p_name like '%green%' and p_brand in ('Brand#12', 'Brand#23', 'Brand#34') and p_size between 5 and 40 order by p_partkey",
    true,
  ],
  [
    "not like, not in, not between",
    "select count(*) from part where p_type not like '%BRASS' and p_size not in (1, 2, 3) and p_retailprice not between 1000 and 1500",
    false,
  ],
  [
    "date literals and interval arithmetic",
    "select o_orderpriority, count(*) from orders where o_orderdate >= date '1995-01-01' and o_orderdate < date '1995-01-01' + interval '3' month and o_orderdate > date '1996-01-01' - interval '1' year group by 1 order by 1",
    true,
  ],
  [
    "date arithmetic in the select list",
    "select l_orderkey, l_shipdate + 30 as later, l_receiptdate - l_shipdate as days, l_shipdate - interval '2' day as earlier from lineitem where l_orderkey < 20 order by 1, 2, 3",
    true,
  ],
  [
    "three-valued logic over NULLs",
    "with t(a, b) as (values (1, null), (null, 2), (null, null), (3, 4)) select a, b, a = b, a <> b, a is null, b is not null, (a > 1) and (b > 1), (a > 1) or (b > 1), not (a > 1), coalesce(a, b, -1), nullif(a, 3) from t order by a nulls first, b nulls last",
    true,
  ],
  [
    "aggregates skip NULLs",
    "with t(g, v) as (values (1, null), (1, 2), (2, null), (2, null), (3, 5)) select g, count(*), count(v), sum(v), avg(v), min(v), max(v) from t group by g order by g",
    true,
  ],
  [
    "null ordering defaults",
    "with t(v) as (values (3), (null), (1)) select v from t order by v desc",
    true,
  ],
  [
    "types: int, bigint, double, decimal, varchar, bool, date, timestamp",
    "select 2147483647 + 0 as i, 9007199254740 * 10 as b, 1.5e0 * 2 as f, 12.345 * 2 as dec, 'x' || 'y' as s, true and not false as bo, date '2024-02-29' + 1 as d, timestamp '2024-01-01 10:30:00' + interval '90' minute as ts",
    true,
  ],
  [
    "integer division is double, // truncates",
    "select 7 / 2, 7 // 2, -7 // 2, 7 % 3, -7 % 3, 1.0 / 3",
    true,
  ],
  [
    "string comparisons and lengths",
    "select n_name, length(n_name), n_name < 'FRANCE' from nation order by n_name",
    true,
  ],
  [
    "join with filter on both sides and expressions",
    "select o_orderkey, o_orderdate, sum(l_extendedprice * (1 - l_discount)) as revenue from orders join lineitem on l_orderkey = o_orderkey where o_orderdate < date '1993-03-01' and l_shipdate > date '1993-03-10' group by o_orderkey, o_orderdate order by revenue desc, o_orderkey limit 15",
    true,
  ],
];

Deno.test("foundation SQL matches DuckDB", async (t) => {
  const pair = await tpchPair(0.01);
  try {
    for (const [name, sql, ordered] of CASES) {
      await t.step(name, async () => {
        const diff = await compareQuery(pair, sql, ordered);
        if (diff) throw new Error(`${name}: ${diff}\nSQL: ${sql}`);
      });
    }
  } finally {
    pair.close();
  }
});
