/**
 * String functions and pattern matching compared with DuckDB: SUBSTRING
 * (both forms), UPPER, LOWER, TRIM (plain and LEADING/TRAILING/BOTH x FROM),
 * LENGTH, CONCAT and ||, REPLACE, POSITION, STARTS_WITH, LIKE/ILIKE.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "SUBSTRING, FROM/FOR form and function form",
    sql:
      "select c_phone, substring(c_phone from 1 for 2), substring(c_phone, 4, 3), substring(c_phone from 5), substr(c_name, 10) from customer where c_custkey < 20 order by c_custkey",
    ordered: true,
  },
  {
    name: "SUBSTRING with start 0, negative start and length past the end",
    sql:
      "select n_name, substring(n_name, 0, 3), substring(n_name, -2, 4), substring(n_name, 3, 100), substring(n_name, 20) from nation order by n_nationkey",
    ordered: true,
  },
  {
    name: "grouping on a SUBSTRING (TPC-H Q22 style)",
    sql:
      "select substring(c_phone from 1 for 2) as cc, count(*), avg(c_acctbal) from customer group by cc order by cc",
    ordered: true,
  },
  {
    name: "UPPER, LOWER and LENGTH",
    sql:
      "select p_name, upper(p_name), lower(p_mfgr), length(p_name), length(p_comment) from part where p_partkey < 15 order by p_partkey",
    ordered: true,
  },
  {
    name: "TRIM, LTRIM, RTRIM of spaces",
    sql:
      "with t(s) as (values ('  a b  '), ('x'), ('   '), (''), (null)) select '[' || trim(s) || ']', '[' || ltrim(s) || ']', '[' || rtrim(s) || ']', length(trim(s)) from t",
  },
  {
    name: "TRIM LEADING / TRAILING / BOTH x FROM",
    sql:
      "select n_name, trim(leading 'A' from n_name), trim(trailing 'A' from n_name), trim(both 'A' from n_name), trim('AN' from n_name) from nation order by n_nationkey",
    ordered: true,
  },
  {
    name: "CONCAT and || with NULLs and numbers",
    sql:
      "with t(a, b) as (values ('x', 'y'), ('x', null), (null, null)) select a || b, concat(a, b), concat(a, '-', b, 1, 2.5), a || 1 from t",
  },
  {
    name: "CONCAT on TPC-H columns",
    sql:
      "select concat(n_name, ' (', r_name, ')') as label, n_name || '/' || n_nationkey from nation join region on n_regionkey = r_regionkey order by label",
    ordered: true,
  },
  {
    name: "REPLACE",
    sql:
      "select p_type, replace(p_type, 'BRASS', 'brass'), replace(p_type, ' ', ''), replace(p_type, 'X', 'yy') from part where p_partkey < 30 order by p_partkey",
    ordered: true,
  },
  {
    name: "POSITION and STRPOS",
    sql:
      "select c_name, position('0' in c_name), strpos(c_address, 'a'), position('' in c_name), position('zzz' in c_name) from customer where c_custkey < 20 order by c_custkey",
    ordered: true,
  },
  {
    name: "STARTS_WITH in a filter and in the SELECT list",
    sql:
      "select p_brand, count(*), sum(case when starts_with(p_type, 'PROMO') then 1 else 0 end) from part where starts_with(p_name, 'a') or starts_with(p_name, 'g') group by p_brand order by p_brand",
    ordered: true,
  },
  {
    name: "LIKE with % and _",
    sql:
      "select count(*) filter (where p_type like 'PROMO%'), count(*) filter (where p_name like '%lace%'), count(*) filter (where p_container like '_M %'), count(*) filter (where p_brand like 'Brand#_3'), count(*) filter (where p_comment like '%') from part",
  },
  {
    name: "NOT LIKE and LIKE with no wildcard",
    sql:
      "select count(*) from customer where c_mktsegment like 'BUILDING' and c_name not like '%1%'",
  },
  {
    name: "ILIKE",
    sql:
      "select count(*) filter (where p_type ilike 'promo%'), count(*) filter (where p_name ilike '%GREEN%'), count(*) filter (where p_name not ilike '%Blue%') from part",
  },
  {
    name: "LIKE over NULL and with ESCAPE",
    sql:
      "with t(s) as (values ('10%'), ('10x'), ('a_b'), ('ab'), (null)) select s, s like '10\\%' escape '\\', s like 'a\\_b' escape '\\', s like '%' from t",
  },
  {
    name: "LIKE patterns containing regular-expression metacharacters",
    sql:
      "select 'abc' like 'a.c', 'a.c' like 'a.c', 'a(b' like 'a(%', '[x]' like '[%]', 'a+b' like 'a+b', 'aaa' like 'a*', 'x^y$' like '%^y$', 'AbC' ilike 'a_c', 'a|b' like 'a|%'",
  },
  {
    name: "multi-byte strings: UPPER, LENGTH, SUBSTRING, POSITION, LIKE _",
    sql:
      "select upper('straße'), lower('ÀÉÎ'), length('héllo'), substring('héllo wörld', 2, 4), position('ö' in 'héllo wörld'), 'héllo' like 'h_llo', reverse('añb'), lpad('é', 3, 'ü'), left('héllo', 2), 'é' < 'f'",
  },
  {
    name: "CONCAT_WS skips NULLs; REPLACE with overlapping matches",
    sql:
      "select concat_ws('-', 'a', null, 'b'), concat_ws(', ', n_name, null, r_name), replace('aaaa', 'aa', 'b'), substring('abc', 2, 0) from nation join region on n_regionkey = r_regionkey where n_nationkey < 4 order by n_nationkey",
    ordered: true,
  },
  {
    name: "string comparison and ordering",
    sql:
      "select n_name from nation where n_name between 'C' and 'JAPAN' or n_name >= 'UNITED' order by n_name desc",
    ordered: true,
  },
  {
    name: "LEFT, RIGHT, LPAD, RPAD, REVERSE, REPEAT, SPLIT_PART",
    sql:
      "select r_name, left(r_name, 2), right(r_name, 3), lpad(r_name, 8, '*'), rpad(r_name, 3, '*'), reverse(r_name), repeat(r_name, 2), split_part(r_comment, ' ', 2) from region order by r_regionkey",
    ordered: true,
  },
  {
    name: "string functions over NULL inputs",
    sql:
      "with t(s) as (values (cast(null as varchar)), ('abc')) select upper(s), length(s), substring(s, 2), replace(s, 'b', 'x'), position('b' in s), starts_with(s, 'a'), trim(s) from t",
  },
];

featureSuite("string functions match DuckDB", CASES);
