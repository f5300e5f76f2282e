/**
 * Numeric functions and operators compared with DuckDB: ROUND (0/1/2
 * arguments, negative digits, decimals and doubles), ABS, CEIL, FLOOR,
 * POWER, SQRT, MOD and %, integer division, division by zero.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "ROUND of a decimal with 0, 1, 2 and negative digits",
    sql:
      "select l_extendedprice, round(l_extendedprice), round(l_extendedprice, 1), round(l_extendedprice, 0), round(l_extendedprice, -2), round(l_discount, 1) from lineitem where l_orderkey < 20 order by l_orderkey, l_linenumber",
    ordered: true,
  },
  {
    name: "ROUND of doubles, half away from zero",
    sql:
      "select x, round(x), round(x, 1), round(x, -1) from (values (2.5e0), (-2.5e0), (0.45e0), (1234.5678e0), (-0.5e0), (15e0)) t(x) order by x",
    ordered: true,
  },
  {
    name: "ROUND of decimal halves",
    sql:
      "select x, round(x), round(x, 1), round(x, -1) from (values (2.50), (-2.50), (0.45), (-0.05), (14.99), (-15.00)) t(x) order by x",
    ordered: true,
  },
  {
    name: "ROUND of an aggregate (TPC-H style)",
    sql:
      "select l_returnflag, round(avg(l_quantity), 2), round(sum(l_extendedprice * (1 - l_discount)), -3), round(avg(l_discount), 4) from lineitem group by l_returnflag order by l_returnflag",
    ordered: true,
  },
  {
    name: "ABS, CEIL, FLOOR of decimals and doubles",
    sql:
      "select c_acctbal, abs(c_acctbal), ceil(c_acctbal), floor(c_acctbal), ceil(c_acctbal / 7e0), floor(-c_acctbal / 7e0), abs(-3) from customer where c_custkey < 30 order by c_custkey",
    ordered: true,
  },
  {
    name: "POWER and SQRT",
    sql:
      "select p_size, power(p_size, 2), power(2, p_size / 10), sqrt(p_size), sqrt(p_retailprice) from part where p_partkey < 25 order by p_partkey",
    ordered: true,
  },
  {
    name: "MOD and % on integers, negatives and decimals",
    sql:
      "select x, mod(x, 3), x % 3, x % -3, -x % 3 from (values (7), (-7), (0), (9)) t(x) order by x",
    ordered: true,
  },
  {
    name: "% on decimals and doubles",
    sql:
      "select l_extendedprice % 100, l_quantity % 7, l_extendedprice % 3.5, mod(l_tax * 100, 3) from lineitem where l_orderkey < 8 order by l_orderkey, l_linenumber",
    ordered: true,
  },
  {
    name: "integer division (// and / of integers)",
    sql:
      "select o_orderkey, o_orderkey // 7, o_orderkey / 7, -o_orderkey // 7, o_custkey // o_shippriority + 1 from orders where o_orderkey < 40 order by o_orderkey",
    ordered: true,
  },
  {
    name: "decimal division and multiplication scales",
    sql:
      "select l_extendedprice / l_quantity, l_extendedprice * l_discount, l_discount / 3, l_tax * l_discount * l_quantity from lineitem where l_orderkey < 6 order by l_orderkey, l_linenumber",
    ordered: true,
  },
  {
    name: "division by zero gives NULL (integer, decimal, double)",
    sql:
      "select x / 0, x // 0, x % 0, x * 1.5 / 0, cast(x as double) / 0 from (values (1), (0), (-1)) t(x) order by x",
    ordered: true,
  },
  {
    name: "division by a zero column value",
    sql:
      "select count(*), count(o_totalprice / (o_orderkey % 5)), sum(o_totalprice / (o_orderkey % 5)) from orders where o_orderkey < 200",
  },
  {
    name: "SIGN, TRUNC, EXP, LN, LOG10",
    sql:
      "select c_acctbal, sign(c_acctbal), trunc(c_acctbal), exp(c_acctbal / 10000), ln(abs(c_acctbal) + 1), log10(abs(c_acctbal) + 1) from customer where c_custkey < 15 order by c_custkey",
    ordered: true,
  },
  {
    name: "BIGINT arithmetic and large sums",
    sql:
      "select sum(cast(l_orderkey as bigint) * l_partkey), sum(cast(l_orderkey as bigint) * 1000000), max(l_orderkey * l_partkey) from lineitem",
  },
  {
    // DuckDB also fails here: "Overflow in multiplication of INT32".
    name: "INTEGER overflow is an error, not a wrapped value",
    sql: "select sum(l_orderkey * 1000000) from lineitem",
    error: /overflow/i,
  },
  {
    name: "unary minus and operator precedence",
    sql:
      "select -p_size * 2 + 3, -(p_size - 10) % 4, 2 + 3 * p_size - p_size / 2, (2 + 3) * p_size from part where p_partkey < 10 order by p_partkey",
    ordered: true,
  },
  {
    // DuckDB also fails here: "cannot take square root of a negative number".
    name: "SQRT of a negative is an error",
    sql: "select sqrt(c_acctbal) from customer",
    error: /square root of a negative/,
  },
  {
    name: "CEILING (the function alias) over doubles and decimals",
    sql:
      "select x, ceiling(x), ceiling(cast(x as decimal(4, 1)) * 3) from (values (1.5e0), (-1.5e0), (2e0)) t(x) order by x",
    ordered: true,
  },
];

featureSuite("math functions match DuckDB", CASES);
