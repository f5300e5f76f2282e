/**
 * An engine over TPC-H Parquet files (through the file connector, the same
 * files DuckDB reads), and a helper that runs a query on both engines and
 * reports the first difference.
 *
 * @module
 */

import type { RecordBatch } from "../../src/arrow/batch.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { ListingTable } from "../../src/connectors/listing_table.ts";
import { localStore } from "../../src/connectors/local_file.ts";
import { TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { type EngineOptions, QueryEngine } from "../../src/query/mod.ts";
import { canonicalReference, canonicalRows, diffResults } from "./compare.ts";
import { Reference } from "./duckdb.ts";
import { tpchParquet } from "./tpch_data.ts";

/** Our engine and DuckDB over the same TPC-H Parquet files. */
export interface TpchPair {
  readonly engine: QueryEngine;
  readonly reference: Reference;
  readonly dir: string;
  close(): void;
}

/** Opens both engines on TPC-H data at a scale factor. */
export async function tpchPair(
  sf: number,
  options: Partial<EngineOptions> = {},
): Promise<TpchPair> {
  const dir = await tpchParquet(sf);
  const catalog = new Catalog();
  for (const t of TPCH_TABLES) {
    catalog.register(
      t,
      await ListingTable.create(localStore(`${dir}/${t}`), {
        format: "parquet",
        hivePartitioning: false,
        partitionCols: [],
      }),
    );
  }
  const reference = await Reference.open();
  await reference.loadParquetDir(dir, TPCH_TABLES);
  return {
    engine: new QueryEngine(catalog, options),
    reference,
    dir,
    close: () => reference.close(),
  };
}

/** Runs SQL on our engine, all batches. */
export async function runOurs(engine: QueryEngine, sql: string): Promise<RecordBatch[]> {
  const r = await engine.query(sql);
  const out: RecordBatch[] = [];
  for await (const b of r.batches) out.push(b);
  return out;
}

/** Compares one query on both engines; null when they agree, else the difference. */
export async function compareQuery(
  pair: { engine: QueryEngine; reference: Reference },
  sql: string,
  ordered: boolean,
  referenceSql: string = sql,
): Promise<string | null> {
  const ours = canonicalRows(await runOurs(pair.engine, sql));
  const d = await pair.reference.rows(referenceSql);
  return diffResults(ours, canonicalReference(d.rows, d.types), ordered);
}
