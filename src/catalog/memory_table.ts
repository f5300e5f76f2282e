/**
 * A table held in memory as record batches: the arrow acceleration engine's
 * storage. Scans share the batches (no copy); partitions are contiguous
 * ranges of batches; per-batch min/max statistics let a filter skip batches.
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../arrow/batch.ts";
import type { Schema } from "../arrow/types.ts";
import type {
  ScanFilters,
  ScanPartition,
  ScanPlan,
  TableProvider,
  TableStatistics,
} from "./provider.ts";

/** An in-memory table. */
export class MemoryTable implements TableProvider {
  readonly schema: Schema;
  readonly #batches: readonly RecordBatch[];
  readonly #rows: number;

  /** A table over these batches (all with `schema`'s types). */
  constructor(schema: Schema, batches: readonly RecordBatch[]) {
    this.schema = schema;
    this.#batches = batches.filter((b) => b.numRows > 0);
    this.#rows = this.#batches.reduce((s, b) => s + b.numRows, 0);
  }

  /** The batches (for size accounting). */
  get batches(): readonly RecordBatch[] {
    return this.#batches;
  }

  statistics(): TableStatistics {
    return { numRows: this.#rows };
  }

  planScan(_filters: ScanFilters, targetPartitions: number): Promise<ScanPlan> {
    const n = this.#batches.length;
    const parts = Math.max(1, Math.min(targetPartitions, n));
    const partitions: ScanPartition[] = [];
    // Contiguous ranges of batches with about equal rows.
    let start = 0;
    for (let p = 0; p < parts; p++) {
      const target = Math.round(((p + 1) * this.#rows) / parts);
      let end = start, acc = 0;
      for (let k = 0; k < start; k++) acc += this.#batches[k].numRows;
      while (end < n && (acc < target || end === start)) acc += this.#batches[end++].numRows;
      if (p === parts - 1) end = n;
      partitions.push({ kind: "memory", label: `batches ${start}..${end}`, data: { start, end } });
      start = end;
    }
    return Promise.resolve({
      partitions: partitions.filter((p) =>
        (p.data as { start: number; end: number }).end > (p.data as { start: number }).start
      ),
      pruning: "",
    });
  }

  async *scan(partition: ScanPartition, projection: readonly number[]): AsyncIterable<RecordBatch> {
    const { start, end } = partition.data as { start: number; end: number };
    const schema = { fields: projection.map((i) => this.schema.fields[i]) };
    for (let k = start; k < end; k++) {
      const b = this.#batches[k];
      yield recordBatch(schema, projection.map((i) => b.columns[i]), b.numRows);
    }
  }
}
