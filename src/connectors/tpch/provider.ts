/**
 * `from: tpch:<table>`: the generated TPC-H tables as a table provider. Each
 * scan partition generates its own slice of the table, so scans run in
 * parallel and executors can generate their share without any data moving.
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import type { Schema } from "../../arrow/types.ts";
import type {
  ScanPartition,
  ScanPlan,
  TableProvider,
  TableStatistics,
} from "../../catalog/provider.ts";
import {
  generateTpchPartition,
  tpchPartitionCount,
  tpchRowCount,
  tpchSchema,
  type TpchTable,
} from "./mod.ts";

/** A generated TPC-H table. */
export class TpchTableProvider implements TableProvider {
  readonly schema: Schema;
  readonly #table: TpchTable;
  readonly #sf: number;

  /** The table at a scale factor. */
  constructor(table: TpchTable, sf: number) {
    this.#table = table;
    this.#sf = sf;
    this.schema = tpchSchema(table);
  }

  statistics(): TableStatistics {
    return { numRows: tpchRowCount(this.#table, this.#sf) };
  }

  planScan(_filters: unknown, targetPartitions: number): Promise<ScanPlan> {
    const n = Math.max(tpchPartitionCount(this.#table, this.#sf), Math.min(targetPartitions, 64));
    const parts = this.#table === "region" || this.#table === "nation" ? 1 : n;
    const partitions: ScanPartition[] = Array.from({ length: parts }, (_, p) => ({
      kind: "tpch",
      label: `${this.#table} ${p + 1}/${parts}`,
      data: { partition: p, of: parts },
    }));
    return Promise.resolve({ partitions, pruning: "" });
  }

  async *scan(partition: ScanPartition, projection: readonly number[]): AsyncIterable<RecordBatch> {
    const { partition: p, of } = partition.data as { partition: number; of: number };
    const schema = { fields: projection.map((i) => this.schema.fields[i]) };
    for (const b of generateTpchPartition(this.#table, this.#sf, p, of)) {
      yield recordBatch(schema, projection.map((i) => b.columns[i]), b.numRows);
    }
  }
}
