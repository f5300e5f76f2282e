/**
 * The Flight SQL catalog commands: GetCatalogs, GetDbSchemas, GetTables,
 * GetTableTypes and GetSqlInfo, each as the result schema the specification
 * fixes plus one Arrow batch of rows. spiced has one catalog (`spice`) with
 * one schema (`public`) holding every registered table.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import meta from "../../../deno.json" with { type: "json" };
import { toArrowSchema } from "../../arrow/interop.ts";
import type { Catalog } from "../../catalog/mod.ts";
import { ipcSchemaBytes } from "./ipc.ts";

/** The one catalog name spiced reports. */
export const CATALOG_NAME = "spice";
/** The one schema name spiced reports. */
export const DB_SCHEMA_NAME = "public";
/** The one table type spiced reports. */
export const TABLE_TYPE = "TABLE";
/** The escape character of LIKE patterns in metadata filters (reported as SQL_SEARCH_STRING_ESCAPE). */
export const SEARCH_ESCAPE = "\\";

/** A metadata command's result: its schema and its rows as one batch. */
export interface MetadataResult {
  readonly schema: arrow.Schema;
  readonly batch: arrow.RecordBatch;
}

// ---------------------------------------------------------------------------
// helpers

function utf8(name: string, nullable: boolean): arrow.Field {
  return new arrow.Field(name, new arrow.Utf8(), nullable);
}

/** One column's data from JavaScript values, built by apache-arrow's builder (one chunk). */
function columnData(type: arrow.DataType, values: readonly unknown[]): arrow.Data {
  const b = arrow.makeBuilder({ type, nullValues: [null, undefined] });
  for (const v of values) b.append(v);
  return b.finish().flush();
}

function batchOf(
  schema: arrow.Schema,
  columns: readonly arrow.Data[],
  length: number,
): arrow.RecordBatch {
  const data = arrow.makeData({
    type: new arrow.Struct(schema.fields),
    length,
    nullCount: 0,
    children: [...columns],
  });
  return new arrow.RecordBatch(schema, data);
}

function rowsBatch(schema: arrow.Schema, rows: readonly (readonly unknown[])[]): arrow.RecordBatch {
  const cols = schema.fields.map((f, i) => columnData(f.type, rows.map((r) => r[i])));
  return batchOf(schema, cols, rows.length);
}

/**
 * A matcher for a SQL LIKE pattern: `%` any run, `_` one character, `\`
 * escapes the next character. Absent pattern = match everything.
 */
export function likeMatcher(pattern: string | null | undefined): (s: string) => boolean {
  if (pattern === null || pattern === undefined) return () => true;
  let re = "^";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === SEARCH_ESCAPE && i + 1 < chars.length) {
      re += escapeRegExp(chars[++i]);
    } else if (c === "%") re += "[\\s\\S]*";
    else if (c === "_") re += "[\\s\\S]";
    else re += escapeRegExp(c);
  }
  const rx = new RegExp(re + "$", "u");
  return (s) => rx.test(s);
}

function escapeRegExp(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

// ---------------------------------------------------------------------------
// the commands

/** Result schema of CommandGetCatalogs. */
export const CATALOGS_SCHEMA: arrow.Schema = new arrow.Schema([utf8("catalog_name", false)]);

/** CommandGetCatalogs: the single catalog. */
export function getCatalogs(): MetadataResult {
  return { schema: CATALOGS_SCHEMA, batch: rowsBatch(CATALOGS_SCHEMA, [[CATALOG_NAME]]) };
}

/** Result schema of CommandGetDbSchemas. */
export const DB_SCHEMAS_SCHEMA: arrow.Schema = new arrow.Schema([
  utf8("catalog_name", true),
  utf8("db_schema_name", false),
]);

/** The filters of CommandGetDbSchemas (absent = no filter). */
export interface DbSchemasFilter {
  readonly catalog?: string | null;
  readonly db_schema_filter_pattern?: string | null;
}

function catalogMatches(catalog: string | null | undefined): boolean {
  // Absent = any catalog; "" = tables without a catalog, which spiced has none of.
  return catalog === null || catalog === undefined || catalog === CATALOG_NAME;
}

/** CommandGetDbSchemas: `public`, if it passes the filters. */
export function getDbSchemas(cmd: DbSchemasFilter): MetadataResult {
  const ok = catalogMatches(cmd.catalog) &&
    likeMatcher(cmd.db_schema_filter_pattern)(DB_SCHEMA_NAME);
  return {
    schema: DB_SCHEMAS_SCHEMA,
    batch: rowsBatch(DB_SCHEMAS_SCHEMA, ok ? [[CATALOG_NAME, DB_SCHEMA_NAME]] : []),
  };
}

/** Result schema of CommandGetTables (with or without the table_schema column). */
export function tablesSchema(includeSchema: boolean): arrow.Schema {
  const fields = [
    utf8("catalog_name", true),
    utf8("db_schema_name", true),
    utf8("table_name", false),
    utf8("table_type", false),
  ];
  if (includeSchema) fields.push(new arrow.Field("table_schema", new arrow.Binary(), false));
  return new arrow.Schema(fields);
}

/** The filters of CommandGetTables (absent = no filter). */
export interface TablesFilter extends DbSchemasFilter {
  readonly table_name_filter_pattern?: string | null;
  readonly table_types?: readonly string[] | null;
  readonly include_schema?: boolean;
}

/** CommandGetTables: the catalog's tables that pass the filters, ordered by name. */
export function getTables(catalog: Catalog, cmd: TablesFilter): MetadataResult {
  const include = cmd.include_schema === true;
  const schema = tablesSchema(include);
  const types = cmd.table_types ?? [];
  const ok = catalogMatches(cmd.catalog) &&
    likeMatcher(cmd.db_schema_filter_pattern)(DB_SCHEMA_NAME) &&
    (types.length === 0 || types.some((t) => t.toUpperCase() === TABLE_TYPE));
  const match = likeMatcher(cmd.table_name_filter_pattern);
  const rows: unknown[][] = [];
  if (ok) {
    for (const name of catalog.names()) {
      if (!match(name)) continue;
      const row: unknown[] = [CATALOG_NAME, DB_SCHEMA_NAME, name, TABLE_TYPE];
      if (include) {
        const provider = catalog.get(name);
        row.push(provider ? ipcSchemaBytes(toArrowSchema(provider.schema)) : new Uint8Array(0));
      }
      rows.push(row);
    }
  }
  return { schema, batch: rowsBatch(schema, rows) };
}

/** Result schema of CommandGetTableTypes. */
export const TABLE_TYPES_SCHEMA: arrow.Schema = new arrow.Schema([utf8("table_type", false)]);

/** CommandGetTableTypes: `TABLE`. */
export function getTableTypes(): MetadataResult {
  return { schema: TABLE_TYPES_SCHEMA, batch: rowsBatch(TABLE_TYPES_SCHEMA, [[TABLE_TYPE]]) };
}

// ---------------------------------------------------------------------------
// SqlInfo

/** The SqlInfo ids spiced answers (numbers from FlightSql.proto's `SqlInfo`). */
export const SqlInfo = {
  FLIGHT_SQL_SERVER_NAME: 0,
  FLIGHT_SQL_SERVER_VERSION: 1,
  FLIGHT_SQL_SERVER_ARROW_VERSION: 2,
  FLIGHT_SQL_SERVER_READ_ONLY: 3,
  FLIGHT_SQL_SERVER_SQL: 4,
  FLIGHT_SQL_SERVER_SUBSTRAIT: 5,
  FLIGHT_SQL_SERVER_TRANSACTION: 8,
  FLIGHT_SQL_SERVER_CANCEL: 9,
  FLIGHT_SQL_SERVER_BULK_INGESTION: 10,
  FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT: 100,
  FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT: 101,
  SQL_DDL_CATALOG: 500,
  SQL_DDL_SCHEMA: 501,
  SQL_DDL_TABLE: 502,
  SQL_IDENTIFIER_CASE: 503,
  SQL_IDENTIFIER_QUOTE_CHAR: 504,
  SQL_QUOTED_IDENTIFIER_CASE: 505,
  SQL_ALL_TABLES_ARE_SELECTABLE: 506,
  SQL_KEYWORDS: 508,
  SQL_SEARCH_STRING_ESCAPE: 513,
  SQL_SUPPORTS_COLUMN_ALIASING: 515,
  SQL_NULL_PLUS_NULL_IS_NULL: 516,
  SQL_SUPPORTS_EXPRESSIONS_IN_ORDER_BY: 520,
  SQL_SUPPORTED_SUBQUERIES: 538,
  SQL_CORRELATED_SUBQUERIES_SUPPORTED: 539,
  SQL_SUPPORTED_UNIONS: 540,
  SQL_TRANSACTIONS_SUPPORTED: 563,
  SQL_BATCH_UPDATES_SUPPORTED: 572,
  SQL_SAVEPOINTS_SUPPORTED: 573,
} as const;

/** One SqlInfo value: which union member it is, and the value. */
export type SqlInfoValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "bigint"; readonly value: bigint }
  | { readonly kind: "bitmask"; readonly value: number }
  | { readonly kind: "string_list"; readonly value: readonly string[] };

/** The union's type ids, in the specification's member order. */
const UNION_IDS = {
  string: 0,
  bool: 1,
  bigint: 2,
  bitmask: 3,
  string_list: 4,
  int32_to_int32_list_map: 5,
} as const;

/** The `value` column's dense union, exactly as the specification lays it out. */
function sqlInfoUnion(): arrow.DenseUnion {
  return new arrow.DenseUnion([0, 1, 2, 3, 4, 5], [
    new arrow.Field("string_value", new arrow.Utf8(), true),
    new arrow.Field("bool_value", new arrow.Bool(), true),
    new arrow.Field("bigint_value", new arrow.Int64(), true),
    new arrow.Field("int32_bitmask", new arrow.Int32(), true),
    new arrow.Field(
      "string_list",
      new arrow.List(new arrow.Field("item", new arrow.Utf8(), true)),
      true,
    ),
    new arrow.Field(
      "int32_to_int32_list_map",
      new arrow.Map_(
        new arrow.Field(
          "entries",
          new arrow.Struct<{ key: arrow.Int32; value: arrow.List<arrow.Int32> }>([
            new arrow.Field("key", new arrow.Int32(), false),
            new arrow.Field(
              "value",
              new arrow.List(new arrow.Field("item", new arrow.Int32(), true)),
              true,
            ),
          ]),
          false,
        ),
      ),
      true,
    ),
  ]);
}

/** Result schema of CommandGetSqlInfo. */
export const SQL_INFO_SCHEMA: arrow.Schema = new arrow.Schema([
  new arrow.Field("info_name", new arrow.Uint32(), false),
  new arrow.Field("value", sqlInfoUnion(), false),
]);

function arrowVersion(): string {
  const spec = (meta.imports as Record<string, string>)["apache-arrow"] ?? "";
  return spec.slice(spec.lastIndexOf("@") + 1) || "unknown";
}

/** Bit i set for each listed enum ordinal (the spec's int32 bitmasks). */
function bits(...ordinals: number[]): number {
  return ordinals.reduce((m, o) => m | (1 << o), 0);
}

/** What spiced reports for each SqlInfo id it knows. */
export function sqlInfoValues(): ReadonlyMap<number, SqlInfoValue> {
  const s = (value: string): SqlInfoValue => ({ kind: "string", value });
  const b = (value: boolean): SqlInfoValue => ({ kind: "bool", value });
  const i = (value: number): SqlInfoValue => ({ kind: "bigint", value: BigInt(value) });
  const m = (value: number): SqlInfoValue => ({ kind: "bitmask", value });
  return new Map<number, SqlInfoValue>([
    [SqlInfo.FLIGHT_SQL_SERVER_NAME, s("spiced")],
    [SqlInfo.FLIGHT_SQL_SERVER_VERSION, s(meta.version)],
    [SqlInfo.FLIGHT_SQL_SERVER_ARROW_VERSION, s(arrowVersion())],
    [SqlInfo.FLIGHT_SQL_SERVER_READ_ONLY, b(true)],
    [SqlInfo.FLIGHT_SQL_SERVER_SQL, b(true)],
    [SqlInfo.FLIGHT_SQL_SERVER_SUBSTRAIT, b(false)],
    // SqlSupportedTransaction.SQL_SUPPORTED_TRANSACTION_NONE, as an int32.
    [SqlInfo.FLIGHT_SQL_SERVER_TRANSACTION, m(0)],
    [SqlInfo.FLIGHT_SQL_SERVER_CANCEL, b(true)],
    [SqlInfo.FLIGHT_SQL_SERVER_BULK_INGESTION, b(false)],
    [SqlInfo.FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT, m(0)],
    [SqlInfo.FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT, m(0)],
    [SqlInfo.SQL_DDL_CATALOG, b(false)],
    [SqlInfo.SQL_DDL_SCHEMA, b(false)],
    [SqlInfo.SQL_DDL_TABLE, b(false)],
    // SqlSupportedCaseSensitivity.SQL_CASE_SENSITIVITY_CASE_INSENSITIVE: table names match any case.
    [SqlInfo.SQL_IDENTIFIER_CASE, i(1)],
    [SqlInfo.SQL_IDENTIFIER_QUOTE_CHAR, s('"')],
    [SqlInfo.SQL_QUOTED_IDENTIFIER_CASE, i(1)],
    [SqlInfo.SQL_ALL_TABLES_ARE_SELECTABLE, b(true)],
    [SqlInfo.SQL_KEYWORDS, { kind: "string_list", value: SQL_KEYWORDS }],
    [SqlInfo.SQL_SEARCH_STRING_ESCAPE, s(SEARCH_ESCAPE)],
    [SqlInfo.SQL_SUPPORTS_COLUMN_ALIASING, b(true)],
    [SqlInfo.SQL_NULL_PLUS_NULL_IS_NULL, b(true)],
    [SqlInfo.SQL_SUPPORTS_EXPRESSIONS_IN_ORDER_BY, b(true)],
    // SqlSupportedSubqueries: comparisons, EXISTS, IN.
    [SqlInfo.SQL_SUPPORTED_SUBQUERIES, m(bits(0, 1, 2))],
    [SqlInfo.SQL_CORRELATED_SUBQUERIES_SUPPORTED, b(true)],
    // SqlSupportedUnions: UNION and UNION ALL.
    [SqlInfo.SQL_SUPPORTED_UNIONS, m(bits(0, 1))],
    [SqlInfo.SQL_TRANSACTIONS_SUPPORTED, b(false)],
    [SqlInfo.SQL_BATCH_UPDATES_SUPPORTED, b(false)],
    [SqlInfo.SQL_SAVEPOINTS_SUPPORTED, b(false)],
  ]);
}

/** Non-ANSI keywords the SQL dialect reserves (SQL_KEYWORDS). */
const SQL_KEYWORDS: readonly string[] = [
  "EXPLAIN",
  "ANALYZE",
  "LIMIT",
  "OFFSET",
  "QUALIFY",
  "ILIKE",
];

/** CommandGetSqlInfo: the requested ids (all known ids when none are asked for) that spiced knows. */
export function getSqlInfo(ids: readonly number[]): MetadataResult {
  const known = sqlInfoValues();
  const wanted = ids.length === 0 ? [...known.keys()] : ids.filter((id) => known.has(id));
  const members: Record<keyof typeof UNION_IDS, unknown[]> = {
    string: [],
    bool: [],
    bigint: [],
    bitmask: [],
    string_list: [],
    int32_to_int32_list_map: [],
  };
  const typeIds = new Int8Array(wanted.length);
  const offsets = new Int32Array(wanted.length);
  wanted.forEach((id, row) => {
    const v = known.get(id)!;
    const list = members[v.kind];
    typeIds[row] = UNION_IDS[v.kind];
    offsets[row] = list.length;
    list.push(v.value);
  });
  const union = sqlInfoUnion();
  const order = [
    "string",
    "bool",
    "bigint",
    "bitmask",
    "string_list",
    "int32_to_int32_list_map",
  ] as const;
  const children = union.children.map((f, k) => columnData(f.type, members[order[k]]));
  const value = arrow.makeData({
    type: union,
    length: wanted.length,
    nullCount: 0,
    typeIds,
    valueOffsets: offsets,
    children,
  });
  const names = arrow.makeData({
    type: new arrow.Uint32(),
    length: wanted.length,
    data: Uint32Array.from(wanted),
  });
  return {
    schema: SQL_INFO_SCHEMA,
    batch: batchOf(SQL_INFO_SCHEMA, [names, value], wanted.length),
  };
}
