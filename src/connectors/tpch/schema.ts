/**
 * The eight TPC-H tables: names, schemas and cardinalities.
 *
 * Types follow DuckDB's tpch extension: keys and other integers are int32,
 * money and quantities decimal(15,2), dates date32, the rest utf8. No column
 * is nullable.
 *
 * @module
 */

import {
  type DataType,
  DATE32,
  decimal,
  field,
  INT32,
  type Schema,
  schema,
  UTF8,
} from "../../arrow/mod.ts";
import { SpiceError } from "../../errors.ts";

/** The TPC-H tables, smallest first. */
export const TPCH_TABLES = [
  "region",
  "nation",
  "supplier",
  "customer",
  "part",
  "partsupp",
  "orders",
  "lineitem",
] as const;

/** The name of a TPC-H table. */
export type TpchTable = typeof TPCH_TABLES[number];

const MONEY = decimal(15, 2);

function table(columns: readonly (readonly [string, DataType])[]): Schema {
  return schema(columns.map(([name, type]) => field(name, type, false)));
}

const SCHEMAS: Record<TpchTable, Schema> = {
  region: table([["r_regionkey", INT32], ["r_name", UTF8], ["r_comment", UTF8]]),
  nation: table([
    ["n_nationkey", INT32],
    ["n_name", UTF8],
    ["n_regionkey", INT32],
    ["n_comment", UTF8],
  ]),
  supplier: table([
    ["s_suppkey", INT32],
    ["s_name", UTF8],
    ["s_address", UTF8],
    ["s_nationkey", INT32],
    ["s_phone", UTF8],
    ["s_acctbal", MONEY],
    ["s_comment", UTF8],
  ]),
  customer: table([
    ["c_custkey", INT32],
    ["c_name", UTF8],
    ["c_address", UTF8],
    ["c_nationkey", INT32],
    ["c_phone", UTF8],
    ["c_acctbal", MONEY],
    ["c_mktsegment", UTF8],
    ["c_comment", UTF8],
  ]),
  part: table([
    ["p_partkey", INT32],
    ["p_name", UTF8],
    ["p_mfgr", UTF8],
    ["p_brand", UTF8],
    ["p_type", UTF8],
    ["p_size", INT32],
    ["p_container", UTF8],
    ["p_retailprice", MONEY],
    ["p_comment", UTF8],
  ]),
  partsupp: table([
    ["ps_partkey", INT32],
    ["ps_suppkey", INT32],
    ["ps_availqty", INT32],
    ["ps_supplycost", MONEY],
    ["ps_comment", UTF8],
  ]),
  orders: table([
    ["o_orderkey", INT32],
    ["o_custkey", INT32],
    ["o_orderstatus", UTF8],
    ["o_totalprice", MONEY],
    ["o_orderdate", DATE32],
    ["o_orderpriority", UTF8],
    ["o_clerk", UTF8],
    ["o_shippriority", INT32],
    ["o_comment", UTF8],
  ]),
  lineitem: table([
    ["l_orderkey", INT32],
    ["l_partkey", INT32],
    ["l_suppkey", INT32],
    ["l_linenumber", INT32],
    ["l_quantity", MONEY],
    ["l_extendedprice", MONEY],
    ["l_discount", MONEY],
    ["l_tax", MONEY],
    ["l_returnflag", UTF8],
    ["l_linestatus", UTF8],
    ["l_shipdate", DATE32],
    ["l_commitdate", DATE32],
    ["l_receiptdate", DATE32],
    ["l_shipinstruct", UTF8],
    ["l_shipmode", UTF8],
    ["l_comment", UTF8],
  ]),
};

/** True when `name` is a TPC-H table name (lower case). */
export function isTpchTable(name: string): name is TpchTable {
  return (TPCH_TABLES as readonly string[]).includes(name);
}

/** Checks a table name, with an error that lists the valid ones. */
export function checkTable(name: string): TpchTable {
  if (!isTpchTable(name)) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `unknown TPC-H table '${name}': expected one of ${TPCH_TABLES.join(", ")}`,
    );
  }
  return name;
}

/** The schema of a TPC-H table. */
export function tpchSchema(table: TpchTable): Schema {
  return SCHEMAS[checkTable(table)];
}

/**
 * Row counts of the scaled tables at a scale factor (clause 4.2.5), and the
 * domains that other columns draw from. Counts are rounded rather than
 * truncated so that 0.1 * 1500000 is 150000 despite binary floating point;
 * each is at least 1 so that tiny scale factors still give joinable tables.
 */
export interface TpchScale {
  /** The scale factor. */
  readonly sf: number;
  /** Rows of supplier: SF * 10,000. */
  readonly suppliers: number;
  /** Rows of customer: SF * 150,000. */
  readonly customers: number;
  /** Rows of part: SF * 200,000 (partsupp has 4 per part). */
  readonly parts: number;
  /** Rows of orders: SF * 1,500,000. */
  readonly orders: number;
  /** O_CLERK numbers are drawn from [1, clerks]. */
  readonly clerks: number;
}

/** The largest order key must fit int32: 4 keys of 32 per 8 orders, i.e. about SF * 6,000,000. */
const MAX_ORDER_KEY = 2147483647;

/** Checks a scale factor and derives the table sizes. */
export function tpchScale(sf: number): TpchScale {
  if (typeof sf !== "number" || !Number.isFinite(sf) || sf <= 0) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `TPC-H scale factor must be a positive number, got ${sf}`,
    );
  }
  const count = (base: number) => Math.max(1, Math.round(sf * base));
  const scale: TpchScale = {
    sf,
    suppliers: count(10_000),
    customers: count(150_000),
    parts: count(200_000),
    orders: count(1_500_000),
    clerks: count(1_000),
  };
  if (orderKey(scale.orders - 1) > MAX_ORDER_KEY) {
    throw new SpiceError(
      "NOT_SUPPORTED",
      `TPC-H scale factor ${sf} needs 64-bit order keys; this generator keeps keys int32 (SF <= 350)`,
    );
  }
  return scale;
}

/**
 * The order key of the order with 0-based index `i`: keys are sparse, only
 * the first 8 of every 32 are used (dbgen's mk_sparse: 1..7, 32..39, 64..71, ...).
 */
export function orderKey(i: number): number {
  const k = i + 1;
  return Math.floor(k / 8) * 32 + (k % 8);
}

/** Rows of a table whose size does not depend on generated values (all but lineitem). */
export function fixedRowCount(table: Exclude<TpchTable, "lineitem">, scale: TpchScale): number {
  switch (table) {
    case "region":
      return 5;
    case "nation":
      return 25;
    case "supplier":
      return scale.suppliers;
    case "customer":
      return scale.customers;
    case "part":
      return scale.parts;
    case "partsupp":
      return scale.parts * 4;
    case "orders":
      return scale.orders;
  }
}
