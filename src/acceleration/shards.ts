/**
 * An executor's share of an accelerated dataset. The scheduler plans scans
 * over the dataset's units (`AcceleratedTable.planOnly`) and sends each unit
 * to the executor that owns it; the executor loads a unit the first time a
 * task reads it (from the source partition the task carries) and keeps it in
 * memory, so every later scan of that unit is a memory read, and each
 * executor holds only the units it owns. A task placed elsewhere (the owner
 * was busy too long) is told not to keep: it reads the unit through.
 *
 * Units are held per generation: a refresh on the scheduler makes a new
 * generation, whose units are loaded beside the old ones (queries planned
 * before the swap keep reading the old data), and the scheduler tells the
 * executor, in its heartbeat replies, which units to drop: units of a
 * generation no longer in use, and units whose owner is now another
 * executor (one joined).
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
import type { UnitStats } from "../connectors/pruning.ts";
import { ACCELERATED_KIND, type AcceleratedPartitionData, readUnit } from "./mod.ts";
import { dictionaryEncode } from "./dictionary.ts";

/** Units held, by generation: `{gen: [unit, ...]}`. */
export type ShardHoldings = Record<string, number[]>;

interface HeldUnit {
  readonly batches: readonly RecordBatch[];
  readonly rows: number;
  readonly bytes: number;
}

function batchBytes(b: RecordBatch): number {
  let n = 0;
  for (const c of b.columns) {
    if (c.enc === "num") n += c.values.byteLength;
    else if (c.enc === "utf8") n += c.data.byteLength + c.offsets.byteLength;
    else n += c.indices.byteLength; // the dictionary is shared within the unit, counted once below
    if (c.validity) n += c.validity.byteLength;
  }
  return n;
}

function unitBytes(batches: readonly RecordBatch[]): number {
  let n = 0;
  const dicts = new Set<unknown>();
  for (const b of batches) {
    n += batchBytes(b);
    for (const c of b.columns) {
      if (c.enc === "dict" && !dicts.has(c.dict)) {
        dicts.add(c.dict);
        n += c.dict.data.byteLength + c.dict.offsets.byteLength;
      }
    }
  }
  return n;
}

/** The units of one accelerated dataset that this executor holds. */
export class ShardedAcceleration implements TableProvider {
  readonly schema: Schema;
  readonly #source: TableProvider;
  /** Held units by `gen/unit`. */
  readonly #held = new Map<string, HeldUnit>();
  /** Loads in progress by `gen/unit`: concurrent tasks share one load. */
  readonly #loading = new Map<string, Promise<HeldUnit>>();
  /** Keys dropped while their load was running (the load must not resurrect them). */
  readonly #dropped = new Set<string>();
  /** Counters for status and tests. */
  readonly counters = { loads: 0, hits: 0, readThrough: 0 };

  /** A share of `source`, empty until tasks read units. */
  constructor(source: TableProvider) {
    this.schema = source.schema;
    this.#source = source;
  }

  /** The source this share is loaded from. */
  get source(): TableProvider {
    return this.#source;
  }

  statistics(): TableStatistics {
    return this.#source.statistics();
  }

  planScan(filters: ScanFilters, target: number): Promise<ScanPlan> {
    return this.#source.planScan(filters, target);
  }

  partitionStatistics(partition: ScanPartition): Promise<UnitStats | null> {
    if (partition.kind === ACCELERATED_KIND) {
      const d = partition.data as AcceleratedPartitionData;
      return this.#source.partitionStatistics?.(d.source) ?? Promise.resolve(null);
    }
    return this.#source.partitionStatistics?.(partition) ?? Promise.resolve(null);
  }

  /** Units held now, by generation. */
  holdings(): ShardHoldings {
    const out: ShardHoldings = {};
    for (const key of this.#held.keys()) {
      const [gen, unit] = splitKey(key);
      (out[gen] ??= []).push(unit);
    }
    for (const units of Object.values(out)) units.sort((a, b) => a - b);
    return out;
  }

  /** Rows and bytes held now. */
  get held(): { units: number; rows: number; bytes: number } {
    let rows = 0, bytes = 0;
    for (const u of this.#held.values()) {
      rows += u.rows;
      bytes += u.bytes;
    }
    return { units: this.#held.size, rows, bytes };
  }

  /** Drops held units (`{gen: [unit, ...]}`); returns how many were held. */
  drop(units: ShardHoldings): number {
    let n = 0;
    for (const [gen, list] of Object.entries(units)) {
      for (const u of list) {
        const key = `${gen}/${u}`;
        if (this.#held.delete(key)) n++;
        if (this.#loading.has(key)) this.#dropped.add(key);
      }
    }
    return n;
  }

  async *scan(
    partition: ScanPartition,
    projection: readonly number[],
    filters: ScanFilters,
  ): AsyncIterable<RecordBatch> {
    if (partition.kind !== ACCELERATED_KIND) {
      yield* this.#source.scan(partition, projection, filters);
      return;
    }
    const d = partition.data as AcceleratedPartitionData;
    const key = `${d.gen}/${d.unit}`;
    let held = this.#held.get(key);
    if (held) this.counters.hits++;
    else if (d.keep !== false) held = await this.#load(key, d.source);
    if (!held) {
      this.counters.readThrough++;
      yield* this.#source.scan(d.source, projection, filters);
      return;
    }
    const schema = { fields: projection.map((k) => this.schema.fields[k]) };
    for (const b of held.batches) {
      yield recordBatch(schema, projection.map((k) => b.columns[k]), b.numRows);
    }
  }

  #load(key: string, unit: ScanPartition): Promise<HeldUnit> {
    let p = this.#loading.get(key);
    if (!p) {
      this.#dropped.delete(key);
      p = (async () => {
        const batches = dictionaryEncode(this.schema, await readUnit(this.#source, unit));
        const u: HeldUnit = {
          batches,
          rows: batches.reduce((s, b) => s + b.numRows, 0),
          bytes: unitBytes(batches),
        };
        this.counters.loads++;
        if (!this.#dropped.delete(key)) this.#held.set(key, u);
        return u;
      })();
      this.#loading.set(key, p);
      p.then(() => this.#loading.delete(key), () => this.#loading.delete(key));
    }
    return p;
  }
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf("/");
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
