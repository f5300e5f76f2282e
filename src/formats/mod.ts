/**
 * File formats: bytes (through a `ByteSource`) <-> engine record batches.
 *
 * - Parquet: footer and statistics decoded by the engine, pages by
 *   parquet-wasm; projection and row-group selection fetch only the bytes
 *   they need.
 * - CSV: RFC 4180 with type inference.
 *
 * @module
 */

export { type CsvOptions, inferCsvSchema, readCsv } from "./csv.ts";
export {
  decodeParquetFooter,
  type ParquetColumnChunk,
  type ParquetMetadata,
  type ParquetRowGroup,
  readParquetMetadata,
  type UnsupportedColumn,
} from "./parquet/metadata.ts";
export type { ColumnStats } from "./parquet/statistics.ts";
export { readParquet, type ReadParquetOptions, readParquetSchema } from "./parquet/reader.ts";
export {
  DEFAULT_ROW_GROUP_SIZE,
  type ParquetCompression,
  writeParquet,
  type WriteParquetOptions,
} from "./parquet/writer.ts";

/** The file formats tables can be read from. */
export type FileFormat = "parquet" | "csv";

/**
 * The format of a file by its extension (case-insensitive): .parquet and .pq
 * are Parquet, .csv and .tsv are CSV; null for anything else.
 */
export function formatFromPath(path: string): FileFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith(".parquet") || lower.endsWith(".pq")) return "parquet";
  if (lower.endsWith(".csv") || lower.endsWith(".tsv")) return "csv";
  return null;
}

/** The CSV delimiter a path implies: a tab for .tsv, else a comma. */
export function csvDelimiterFromPath(path: string): string {
  return path.toLowerCase().endsWith(".tsv") ? "\t" : ",";
}
