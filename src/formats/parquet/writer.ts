/**
 * Writing record batches as a Parquet file, through parquet-wasm.
 *
 * The batches go to Arrow (`interop.ts`), then as an IPC stream into
 * WebAssembly, where arrow-rs writes Parquet with chunk-level statistics so
 * that readers (ours included) can prune row groups. Engine types map to
 * Parquet as: decimal -> DECIMAL (INT32/INT64/FIXED_LEN_BYTE_ARRAY by
 * precision), date32 -> DATE, timestamp -> TIMESTAMP(MICROS, not adjusted to
 * UTC), utf8 -> STRING, int64 -> INT64, int32 -> INT32, float64 -> DOUBLE,
 * bool -> BOOLEAN.
 *
 * @module
 */

import * as pw from "parquet-wasm";
import type { RecordBatch } from "../../arrow/batch.ts";
import { batchesToIPC } from "../../arrow/interop.ts";
import type { Schema } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";

/** Parquet compression codecs the writer offers. */
export type ParquetCompression = "snappy" | "zstd" | "none";

/** Options of `writeParquet`. */
export interface WriteParquetOptions {
  /**
   * Rows per row group (default 122880, DuckDB's default: large enough for
   * efficient scans, small enough for useful statistics and parallelism).
   */
  readonly rowGroupSize?: number;
  /** Page compression (default "snappy"). */
  readonly compression?: ParquetCompression;
}

/** The default number of rows per row group. */
export const DEFAULT_ROW_GROUP_SIZE = 122880;

const CODECS: Record<ParquetCompression, pw.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  none: pw.Compression.UNCOMPRESSED,
};

/** Encodes batches of one schema as a complete Parquet file. */
export function writeParquet(
  schema: Schema,
  batches: Iterable<RecordBatch>,
  opts: WriteParquetOptions = {},
): Uint8Array {
  for (const f of schema.fields) {
    if (f.type.id === "interval") {
      throw new SpiceError(
        "NOT_SUPPORTED",
        `not supported: writing INTERVAL column ${f.name} to Parquet`,
      );
    }
  }
  const rowGroupSize = opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `rowGroupSize must be a positive integer, got ${rowGroupSize}`,
    );
  }
  const codec = CODECS[opts.compression ?? "snappy"];
  if (codec === undefined) {
    throw new SpiceError("INVALID_ARGUMENT", `unknown Parquet compression ${opts.compression}`);
  }
  const ipc = batchesToIPC(schema, batches);
  // Both objects are consumed (freed) by pw.writeParquet; free them only if it is never reached.
  const table = pw.Table.fromIPCStream(ipc);
  let props: pw.WriterProperties;
  try {
    props = new pw.WriterPropertiesBuilder()
      .setMaxRowGroupSize(rowGroupSize)
      .setCompression(codec)
      .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
      .build();
  } catch (e) {
    table.free();
    throw e;
  }
  try {
    return pw.writeParquet(table, props);
  } catch (e) {
    throw new SpiceError("IO", `writing Parquet failed: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
}
