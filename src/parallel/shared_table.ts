/**
 * A worker's view of an accelerated table: the units of shared batches the
 * main thread posted, by generation. Workers only scan (the main thread
 * plans), and a scan partition names its unit and generation, so a query
 * planned before a refresh still reads the generation it was planned on.
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
} from "../catalog/provider.ts";
import { ACCELERATED_KIND, type AcceleratedPartitionData } from "../acceleration/mod.ts";
import { SpiceError } from "../errors.ts";
import type { SharedTableData } from "./protocol.ts";

/** How many generations of a table a worker keeps (the current one and the one before). */
export const KEEP_GENERATIONS = 2;

/** Scans shared units of an accelerated table inside a worker. */
export class SharedTable implements TableProvider {
  readonly #generations = new Map<string, SharedTableData>();
  #schema: Schema;

  /** A table holding its first generation. */
  constructor(first: SharedTableData) {
    this.#schema = first.schema;
    this.add(first);
  }

  get schema(): Schema {
    return this.#schema;
  }

  /** Adds a generation, dropping the oldest beyond KEEP_GENERATIONS. */
  add(data: SharedTableData): void {
    this.#generations.delete(data.generation);
    this.#generations.set(data.generation, data);
    this.#schema = data.schema;
    while (this.#generations.size > KEEP_GENERATIONS) {
      this.#generations.delete(this.#generations.keys().next().value!);
    }
  }

  statistics(): TableStatistics {
    return { numRows: null };
  }

  planScan(_filters: ScanFilters, _target: number): Promise<ScanPlan> {
    return Promise.reject(new SpiceError("INTERNAL", "workers do not plan scans"));
  }

  async *scan(
    partition: ScanPartition,
    projection: readonly number[],
    _filters: ScanFilters,
  ): AsyncIterable<RecordBatch> {
    const d = partition.data as AcceleratedPartitionData;
    const gen = partition.kind === ACCELERATED_KIND ? this.#generations.get(d.gen) : undefined;
    const held = gen?.units[d.unit];
    if (!gen || !held) {
      throw new SpiceError("INTERNAL", `worker lacks ${partition.label} (generation ${d?.gen})`);
    }
    const schema = { fields: projection.map((k) => gen.schema.fields[k]) };
    for (const b of held) {
      yield recordBatch(schema, projection.map((k) => b.columns[k]), b.numRows);
    }
  }
}
