/**
 * Date functions compared with DuckDB: EXTRACT (year, month, day, quarter,
 * dow, doy, week), DATE_TRUNC, DATE_PART, date +/- integer, date +/- interval
 * (days, months, years, month-end clamping), date - date.
 */

import { type FeatureCase, featureSuite } from "./cases.ts";

const CASES: FeatureCase[] = [
  {
    name: "EXTRACT year, month, day, quarter",
    sql:
      "select o_orderdate, extract(year from o_orderdate), extract(month from o_orderdate), extract(day from o_orderdate), extract(quarter from o_orderdate) from orders where o_orderkey < 100 order by o_orderkey",
    ordered: true,
  },
  {
    name: "EXTRACT dow, doy, week",
    sql:
      "select d, extract(dow from d), extract(doy from d), extract(week from d), extract(isodow from d) from (values (date '2024-01-01'), (date '2023-01-01'), (date '2021-01-03'), (date '2020-12-31'), (date '2024-02-29'), (date '2024-12-30'), (date '1992-01-01')) t(d) order by d",
    ordered: true,
  },
  {
    name: "EXTRACT in GROUP BY (TPC-H Q9 style)",
    sql:
      "select extract(year from l_shipdate) as y, extract(quarter from l_shipdate) as q, count(*), sum(l_quantity) from lineitem group by y, q order by y, q",
    ordered: true,
  },
  {
    name: "DATE_PART with string part names",
    sql:
      "select o_orderkey, date_part('year', o_orderdate), date_part('month', o_orderdate), date_part('dow', o_orderdate), date_part('doy', o_orderdate), date_part('week', o_orderdate) from orders where o_orderkey < 60 order by o_orderkey",
    ordered: true,
  },
  {
    name: "DATE_TRUNC to year, quarter, month, week",
    sql:
      "select d, date_trunc('year', d), date_trunc('quarter', d), date_trunc('month', d), date_trunc('week', d) from (values (date '2024-02-29'), (date '1995-11-15'), (date '1998-12-31'), (date '2021-01-01')) t(d) order by d",
    ordered: true,
    // DuckDB's date_trunc on a DATE gives a TIMESTAMP for some parts and a DATE
    // for others depending on the version; the comparison treats a date and its
    // midnight timestamp as equal, so no referenceSql is needed.
  },
  {
    name: "DATE_TRUNC in GROUP BY on TPC-H",
    sql:
      "select date_trunc('month', o_orderdate) as m, count(*) from orders where o_orderdate < date '1993-01-01' group by m order by m",
    ordered: true,
  },
  {
    name: "date + integer and date - integer",
    sql:
      "select l_shipdate, l_shipdate + 1, l_shipdate - 365, 30 + l_shipdate from lineitem where l_orderkey < 10 order by l_orderkey, l_linenumber",
    ordered: true,
  },
  {
    name: "date - date is an integer number of days",
    sql: "select l_receiptdate - l_shipdate as d, count(*) from lineitem group by d order by d",
    ordered: true,
  },
  {
    name: "date +/- interval of days, months, years",
    sql:
      "select o_orderdate, o_orderdate + interval '10' day, o_orderdate - interval '3' month, o_orderdate + interval '1' year, o_orderdate + interval '2 months' from orders where o_orderkey < 40 order by o_orderkey",
    ordered: true,
  },
  {
    name: "month-end clamping of + interval month",
    sql:
      "select d, d + interval '1' month, d - interval '1' month, d + interval '12' month, d + interval '1' year from (values (date '2024-01-31'), (date '2024-03-31'), (date '2023-01-31'), (date '2024-02-29'), (date '2024-05-31')) t(d) order by d",
    ordered: true,
  },
  {
    name: "leap day minus a year, and compound intervals",
    sql:
      "select date '2024-02-29' - interval '1' year, date '2024-02-29' + interval '4' year, date '2024-03-31' - interval '1' month, date '2024-01-31' + interval '1 month 1 day', date '2023-12-31' + interval '2 years 2 months'",
  },
  {
    name: "filter with date + interval bounds (TPC-H Q6 style)",
    sql:
      "select count(*), sum(l_extendedprice * l_discount) from lineitem where l_shipdate >= date '1994-01-01' and l_shipdate < date '1994-01-01' + interval '1' year and l_discount between 0.05 and 0.07",
  },
  {
    name: "comparing dates with timestamps and strings",
    sql:
      "select count(*) filter (where o_orderdate < timestamp '1995-01-01 00:00:01'), count(*) filter (where o_orderdate = '1995-01-01'), count(*) filter (where o_orderdate > '1998-07-01') from orders",
  },
  {
    name: "EXTRACT from a timestamp",
    sql:
      "select extract(hour from ts), extract(minute from ts), extract(second from ts), extract(year from ts), date_trunc('hour', ts) from (values (timestamp '2024-03-10 13:45:30'), (timestamp '1999-12-31 23:59:59')) t(ts) order by ts",
    ordered: true,
  },
  {
    name: "timestamp + interval of hours and days",
    sql:
      "select ts + interval '25' hour, ts - interval '1' day, ts + interval '1' month from (values (timestamp '2024-01-31 10:00:00'), (timestamp '2024-02-28 23:30:00')) t(ts) order by ts",
    ordered: true,
  },
  {
    name: "max/min of dates and date arithmetic in aggregates",
    sql:
      "select o_orderpriority, max(o_orderdate) - min(o_orderdate), min(o_orderdate) + 7 from orders group by o_orderpriority order by o_orderpriority",
    ordered: true,
  },
  {
    name: "CAST date to string and string to date",
    sql:
      "select cast(o_orderdate as varchar), cast('1996-' || lpad(cast(o_orderkey % 12 + 1 as varchar), 2, '0') || '-15' as date) from orders where o_orderkey < 30 order by o_orderkey",
    ordered: true,
  },
  {
    name: "EXTRACT over NULL dates",
    sql:
      "with t(d) as (values (date '2024-05-05'), (null)) select extract(year from d), date_trunc('month', d), d + 1, d + interval '1' month from t",
  },
  {
    name: "MAKE_DATE",
    sql:
      "select make_date(cast(extract(year from o_orderdate) as integer), 1, 1) as y, count(*) from orders group by y order by y",
    ordered: true,
  },
];

featureSuite("date functions match DuckDB", CASES);
