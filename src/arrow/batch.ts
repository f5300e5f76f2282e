/**
 * RecordBatch: the unit of data between operators, in the shuffle and on the wire.
 *
 * @module
 */

import {
  type Column,
  columnFromValues,
  concatColumns,
  slice as sliceColumn,
  take as takeColumn,
  type Value,
  valueAt,
} from "./column.ts";
import type { Schema } from "./types.ts";

/** A set of equal-length columns with their schema. */
export interface RecordBatch {
  readonly schema: Schema;
  readonly columns: readonly Column[];
  readonly numRows: number;
}

/** The preferred number of rows per batch: large enough to amortise per-batch work. */
export const BATCH_SIZE = 65536;

/** Makes a record batch; the row count is taken from the first column unless given. */
export function recordBatch(
  schema: Schema,
  columns: readonly Column[],
  numRows?: number,
): RecordBatch {
  return { schema, columns, numRows: numRows ?? (columns.length > 0 ? columns[0].length : 0) };
}

/** A batch with no rows. */
export function emptyBatch(schema: Schema): RecordBatch {
  return recordBatch(schema, schema.fields.map((f) => columnFromValues(f.type, [])), 0);
}

/** Gathers the given rows of every column. */
export function takeBatch(batch: RecordBatch, indices: Int32Array): RecordBatch {
  return recordBatch(
    batch.schema,
    batch.columns.map((c) => takeColumn(c, indices)),
    indices.length,
  );
}

/** Rows [start, start+len) of a batch, sharing buffers. */
export function sliceBatch(batch: RecordBatch, start: number, len: number): RecordBatch {
  if (start === 0 && len === batch.numRows) return batch;
  return recordBatch(batch.schema, batch.columns.map((c) => sliceColumn(c, start, len)), len);
}

/**
 * The bytes a batch takes as Arrow IPC, estimated without converting it
 * (dictionary columns are decoded on the wire: estimated with the average
 * entry). Used to size wire messages and to account for shuffle memory.
 */
export function wireBytes(batch: RecordBatch): number {
  let bytes = 0;
  for (const c of batch.columns) {
    const n = c.length;
    switch (c.enc) {
      case "num":
        bytes += c.type.id === "decimal" ? 16 * n : c.values.BYTES_PER_ELEMENT * n;
        break;
      case "utf8":
        bytes += c.offsets[n] - c.offsets[0] + 4 * (n + 1);
        break;
      case "dict": {
        const d = c.dict;
        const avg = d.length > 0 ? (d.offsets[d.length] - d.offsets[0]) / d.length : 0;
        bytes += Math.ceil(avg * n) + 4 * (n + 1);
        break;
      }
    }
  }
  return bytes;
}

/** Concatenates batches of the same schema into one batch. */
export function concatBatches(schema: Schema, batches: readonly RecordBatch[]): RecordBatch {
  if (batches.length === 0) return emptyBatch(schema);
  if (batches.length === 1) return batches[0];
  const columns = schema.fields.map((_, i) => concatColumns(batches.map((b) => b.columns[i])));
  let n = 0;
  for (const b of batches) n += b.numRows;
  return recordBatch(schema, columns, n);
}

/** Builds a batch from rows of JavaScript values (tests and small results). */
export function batchFromRows(schema: Schema, rows: readonly (readonly Value[])[]): RecordBatch {
  const columns = schema.fields.map((f, i) => columnFromValues(f.type, rows.map((r) => r[i])));
  return recordBatch(schema, columns, rows.length);
}

/** Reads a batch as rows of JavaScript values (slow path: output and tests). */
export function batchToRows(batch: RecordBatch): Value[][] {
  const rows: Value[][] = [];
  for (let r = 0; r < batch.numRows; r++) {
    rows.push(batch.columns.map((c) => valueAt(c, r)));
  }
  return rows;
}

/** Replaces the schema of a batch (same types, new names). */
export function withSchema(batch: RecordBatch, schema: Schema): RecordBatch {
  return { schema, columns: batch.columns, numRows: batch.numRows };
}
