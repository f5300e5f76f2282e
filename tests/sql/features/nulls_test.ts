/**
 * NULL edge cases compared with DuckDB: three-valued logic in WHERE and
 * CASE, NULL in IN lists, NULL ordering (ASC/DESC, NULLS FIRST/LAST), NULL
 * grouping keys, NULL join keys, IS DISTINCT FROM, and NULLs derived from
 * TPC-H columns.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

/** Derived NULLs over TPC-H: every seventh key's value is NULL. */
const NULLY =
  "select c_custkey, case when c_custkey % 7 = 0 then null else c_nationkey end as nk, case when c_custkey % 5 = 0 then null else c_acctbal end as bal from customer";

const CASES: FeatureCase[] = [
  {
    name: "WHERE keeps only TRUE (NULL and FALSE are dropped)",
    sql:
      `with c as (${NULLY}) select count(*), count(*) filter (where not (nk > 10)), count(*) filter (where nk > 10 or bal > 0), count(*) filter (where nk > 10 and bal > 0) from c where nk <> 3`,
  },
  {
    name: "NOT of a NULL comparison stays NULL",
    sql:
      "with t(a) as (values (1), (null)) select a, not (a = 1), not (a <> 1), (a = 1) is null from t order by a nulls last",
    ordered: true,
  },
  {
    name: "AND / OR truth tables with NULL",
    sql:
      "with b(x) as (values (true), (false), (null)) select l.x, r.x, l.x and r.x, l.x or r.x from b l cross join b r",
  },
  {
    name: "NULL in an IN list",
    sql:
      "with t(a) as (values (1), (2), (null)) select a, a in (1, null), a not in (2, null), a in (1, 2), a not in (3) from t order by a nulls first",
    ordered: true,
  },
  {
    name: "NULL in an IN list as a filter on TPC-H",
    sql:
      `with c as (${NULLY}) select count(*) filter (where nk in (1, 2, null)), count(*) filter (where nk not in (1, 2, null)), count(*) filter (where nk not in (1, 2)) from c`,
  },
  {
    name: "NULL ordering: ASC is NULLS LAST, DESC is NULLS FIRST (DuckDB defaults)",
    sql:
      "with t(i, a) as (values (1, 3), (2, null), (3, 1), (4, null), (5, 2)) select i, a from t order by a, i",
    ordered: true,
  },
  {
    name: "NULL ordering with DESC and explicit NULLS FIRST/LAST on two keys",
    sql:
      `with c as (${NULLY}) select c_custkey, nk, bal from c where c_custkey < 60 order by nk desc nulls last, bal asc nulls first, c_custkey`,
    ordered: true,
  },
  {
    name: "NULL grouping key is one group",
    sql: `with c as (${NULLY}) select nk, count(*), sum(bal), count(bal) from c group by nk`,
  },
  {
    name: "NULL grouping keys over two columns",
    sql:
      `with c as (${NULLY}) select nk is null, bal is null, count(*) from c group by nk is null, bal is null`,
  },
  {
    name: "NULL join keys never match (inner join on a derived NULL key)",
    sql:
      `with c as (${NULLY}) select count(*), count(n_name) from c join nation on nk = n_nationkey`,
  },
  {
    name: "NULL join keys in a left join are kept with NULLs",
    sql:
      `with c as (${NULLY}) select count(*), count(n_name), count(*) filter (where nk is null) from c left join nation on nk = n_nationkey`,
  },
  {
    name: "NULLs do not match in a semi join, and a NULL build key blocks NOT IN",
    sql:
      `with c as (${NULLY}) select (select count(*) from nation where n_nationkey in (select nk from c where c_custkey < 30)), (select count(*) from nation where n_nationkey not in (select nk from c where c_custkey < 30)), (select count(*) from nation where n_nationkey not in (select nk from c where c_custkey < 30 and nk is not null))`,
  },
  {
    name: "IS DISTINCT FROM in WHERE",
    sql:
      `with c as (${NULLY}) select count(*) filter (where nk is distinct from 3), count(*) filter (where nk is not distinct from null), count(*) filter (where nk <> 3) from c`,
  },
  {
    name: "IS [NOT] DISTINCT FROM NULL literal in the SELECT list",
    sql:
      "with t(a) as (values (1), (null), (3)) select a, a is distinct from null, a is not distinct from null, null is not distinct from a, a is distinct from 3 from t order by a nulls last",
    ordered: true,
  },
  {
    name: "aggregates of all-NULL groups",
    sql:
      "with t(g, v) as (values (1, cast(null as integer)), (1, null), (2, 5)) select g, sum(v), avg(v), min(v), max(v), count(v), count(*) from t group by g order by g",
    ordered: true,
  },
  {
    name: "arithmetic and string functions propagate NULL",
    sql:
      `with c as (${NULLY}) select c_custkey, nk + 1, bal * 2, nk / 0, -nk, abs(bal), cast(nk as varchar) || 'x' from c where c_custkey < 12 order by c_custkey`,
    ordered: true,
  },
  {
    name: "BETWEEN and LIKE with NULL operands",
    sql:
      "with t(a, s) as (values (1, 'ab'), (null, null), (5, 'b')) select a between 0 and 2, a between null and 10, a not between 2 and null, s like 'a%', s not like null from t order by a nulls last",
    ordered: true,
  },
  {
    name: "MIN/MAX of strings and dates with NULLs",
    sql:
      "with t(s, d) as (values ('b', date '2020-01-01'), (null, null), ('a', date '2019-05-05')) select min(s), max(s), min(d), max(d) from t",
  },
  {
    name: "DISTINCT and UNION fold NULLs together; COUNT DISTINCT ignores them",
    sql:
      `with c as (${NULLY}) select (select count(*) from (select distinct nk from c)), (select count(distinct nk) from c), (select count(*) from (select nk from c union select null))`,
  },
];

featureSuite("NULL edge cases match DuckDB", CASES);
