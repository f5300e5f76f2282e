/**
 * Web Worker of `scripts/tpch.ts`: generates one partition of a TPC-H table,
 * encodes it as Parquet and writes the file. Encoding happens here too, so
 * that the WebAssembly Parquet writer also runs on every core.
 *
 * Protocol: receives a `TpchFileTask`, answers a `TpchFileResult`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { generateTpchPartition, tpchSchema, type TpchTable } from "../src/connectors/tpch/mod.ts";
import { writeParquet } from "../src/formats/parquet/writer.ts";

/** One file to write: partition `partition` of `numPartitions` of a table. */
export interface TpchFileTask {
  readonly table: TpchTable;
  readonly sf: number;
  readonly partition: number;
  readonly numPartitions: number;
  readonly path: string;
}

/** The outcome of a task: rows and bytes written, or an error message. */
export type TpchFileResult =
  | { readonly ok: true; readonly rows: number; readonly bytes: number }
  | { readonly ok: false; readonly error: string };

self.onmessage = async (e: MessageEvent<TpchFileTask>) => {
  const { table, sf, partition, numPartitions, path } = e.data;
  let result: TpchFileResult;
  try {
    let rows = 0;
    const batches = [];
    for (const b of generateTpchPartition(table, sf, partition, numPartitions)) {
      rows += b.numRows;
      batches.push(b);
    }
    const bytes = writeParquet(tpchSchema(table), batches);
    await Deno.writeFile(path, bytes);
    result = { ok: true, rows, bytes: bytes.length };
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(result);
};
