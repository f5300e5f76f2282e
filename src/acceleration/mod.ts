/**
 * The arrow acceleration engine: a dataset's rows held in memory as record
 * batches, in "units" (the source's own scan partitions, planned the same way
 * on every node, so that a unit number means the same rows on the scheduler
 * and on every executor). Loaded in parallel unit by unit; a refresh builds a
 * new table and swaps it in only once complete.
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
import { dictionaryEncode } from "./dictionary.ts";

/** How many units a source is split into (a constant, so every node splits alike). */
export const ACCELERATION_UNITS = 32;

/** An accelerated table: units of in-memory batches over a source. */
export class AcceleratedTable implements TableProvider {
  readonly schema: Schema;
  readonly #source: TableProvider;
  readonly #units: readonly ScanPartition[];
  readonly #data: (readonly RecordBatch[] | null)[];
  readonly #rows: number | null;

  /** A table over `units` of `source`, with the data of those units that are loaded. */
  constructor(
    source: TableProvider,
    units: readonly ScanPartition[],
    data: (readonly RecordBatch[] | null)[],
  ) {
    this.schema = source.schema;
    this.#source = source;
    this.#units = units;
    this.#data = data;
    const loaded = data.every((d) => d !== null);
    this.#rows = loaded
      ? data.reduce((s, d) => s + d!.reduce((a, b) => a + b.numRows, 0), 0)
      : null;
  }

  /** The units a source splits into (deterministic for a given source). */
  static async units(source: TableProvider): Promise<ScanPartition[]> {
    return [...(await source.planScan([], ACCELERATION_UNITS)).partitions];
  }

  /** A table that knows the units but holds no data (the scheduler plans with it). */
  static async planOnly(source: TableProvider): Promise<AcceleratedTable> {
    const units = await AcceleratedTable.units(source);
    return new AcceleratedTable(source, units, units.map(() => null));
  }

  /** Every batch held (for memory accounting). */
  get batches(): readonly RecordBatch[] {
    return this.#data.flatMap((d) => d ?? []);
  }

  statistics(): TableStatistics {
    return { numRows: this.#rows ?? this.#source.statistics().numRows };
  }

  planScan(_filters: ScanFilters, _target: number): Promise<ScanPlan> {
    const partitions = this.#units.map((u, i): ScanPartition => ({
      kind: "accelerated",
      label: `unit ${i}: ${u.label}`,
      data: { unit: i },
      rows: u.rows,
    }));
    return Promise.resolve({ partitions, pruning: `units=${partitions.length} (in memory)` });
  }

  async *scan(
    partition: ScanPartition,
    projection: readonly number[],
    filters: ScanFilters,
  ): AsyncIterable<RecordBatch> {
    // A plan made before the acceleration was swapped in carries source partitions.
    if (partition.kind !== "accelerated") {
      yield* this.#source.scan(partition, projection, filters);
      return;
    }
    const i = (partition.data as { unit: number }).unit;
    const held = this.#data[i];
    const schema = { fields: projection.map((k) => this.schema.fields[k]) };
    if (held) {
      for (const b of held) {
        yield recordBatch(
          schema,
          projection.map((k) => b.columns[k]),
          b.numRows,
        );
      }
      return;
    }
    // Not held here: read the unit from the source.
    yield* this.#source.scan(this.#units[i], projection, filters);
  }
}

/** Loads every unit of a source into memory (`parallelism` units at a time). */
export async function loadIntoMemory(
  source: TableProvider,
  opts: { parallelism: number; signal?: AbortSignal },
): Promise<AcceleratedTable> {
  const units = await AcceleratedTable.units(source);
  const projection = source.schema.fields.map((_, i) => i);
  const parts: RecordBatch[][] = units.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < units.length) {
      const k = next++;
      for await (const b of source.scan(units[k], projection, [])) {
        opts.signal?.throwIfAborted();
        if (b.numRows > 0) parts[k].push(b);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallelism) }, worker));
  // One dictionary per string column across every unit.
  const encoded = dictionaryEncode(source.schema, parts.flat());
  const data: RecordBatch[][] = [];
  let at = 0;
  for (const p of parts) {
    data.push(encoded.slice(at, at + p.length));
    at += p.length;
  }
  return new AcceleratedTable(source, units, data);
}
