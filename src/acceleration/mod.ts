/**
 * The arrow acceleration engine: a dataset's rows held in memory as record
 * batches, in "units" (the source's own scan partitions, planned with a
 * fixed target, so that a unit number means the same rows on the scheduler
 * and on every executor). Each unit keeps what is known of its values (hive
 * partition values, Parquet statistics, and min/max computed at load time),
 * so a scan's filters skip whole units: `EXPLAIN` shows `units=kept/total`.
 *
 * A set of units is a generation: its id (`generation`) changes when a
 * refresh lists the source again, and scan partitions carry it, so that a
 * partition planned against one generation is never answered from another.
 *
 * Three ways to hold a dataset (see `DatasetManager`):
 * - standalone: `loadIntoMemory` loads every unit, in parallel, and the
 *   table is swapped in once complete;
 * - scheduler: `AcceleratedTable.planOnly` knows the units and their
 *   statistics but holds no data;
 * - executor: `ShardedAcceleration` (shards.ts) loads the units its tasks
 *   read, on first use, and keeps them: each executor holds its share.
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
import { canSkip, type RangeStats, type UnitStats } from "../connectors/pruning.ts";
import { hashColumns } from "../exec/kernels/hash.ts";
import { take } from "../arrow/column.ts";
import { dictionaryEncode } from "./dictionary.ts";
import type { SharedTableData } from "../parallel/protocol.ts";
import { batchIsShared, type DictMemo, shareBatch } from "../parallel/shared_memory.ts";
import { batchStatistics } from "./stats.ts";

/** How many units a source is split into (a constant, so every node splits alike). */
export const ACCELERATION_UNITS = 32;

/** The `kind` of an accelerated scan partition. */
export const ACCELERATED_KIND = "accelerated";

/** What an accelerated scan partition carries (plain JSON: it travels in task plans). */
export interface AcceleratedPartitionData {
  /** The unit's number in its generation. */
  readonly unit: number;
  /** The generation the unit belongs to. */
  readonly gen: string;
  /** How many units the generation has. */
  readonly of: number;
  /** The source partition the unit is read from where it is not held. */
  readonly source: ScanPartition;
  /**
   * Set by the scheduler for the executor that runs the task: whether that
   * executor keeps the unit after loading it (it is the unit's owner), or
   * reads it through from the source (absent: keep).
   */
  readonly keep?: boolean;
}

/** How long a swapped-out generation still answers the partitions planned against it. */
const RETIRE_GRACE_MS = 60_000;

/** A short hash of text (FNV-1a, 2 x 32 bits), as hex. */
export function shortHash(text: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/**
 * The id of a generation: a hash of its units (what they read), plus a salt
 * that a refresh sets so that reloading unchanged files still makes a new
 * generation. The same listing at start-up gives the same id on every node,
 * so a restarted scheduler finds the executors' units still valid.
 */
export function generationOf(units: readonly ScanPartition[], salt = ""): string {
  return shortHash(JSON.stringify(units.map((u) => [u.kind, u.data])) + "\u0000" + salt);
}

/** Column statistics from the data win; the source's fill in columns the data gave no bounds for. */
function combineStats(fromData: UnitStats, fromSource: UnitStats | null): UnitStats {
  if (!fromSource) return fromData;
  const columns = new Map<number, RangeStats>(fromData.columns);
  for (const [c, s] of fromSource.columns) {
    const d = columns.get(c);
    if (!d || d.min === null || d.max === null) {
      if (d && d.nullCount === fromData.rows) continue; // all null: already exact
      columns.set(c, { min: s.min, max: s.max, nullCount: d?.nullCount ?? s.nullCount });
    }
  }
  return { columns, rows: fromData.rows };
}

/** Options of an `AcceleratedTable`. */
export interface AcceleratedTableOptions {
  /** The generation id (default: from the units). */
  readonly generation?: string;
  /** What is known of each unit's values, by unit. */
  readonly stats?: readonly (UnitStats | null)[];
  /** Where the data lives, for EXPLAIN (default "in memory"). */
  readonly where?: string;
}

/** An accelerated table: units of in-memory batches over a source. */
export class AcceleratedTable implements TableProvider {
  readonly schema: Schema;
  /** The generation these units belong to. */
  readonly generation: string;
  readonly #source: TableProvider;
  readonly #units: readonly ScanPartition[];
  readonly #data: (readonly RecordBatch[] | null)[];
  readonly #stats: readonly (UnitStats | null)[];
  readonly #rows: number | null;
  #distinct: (number | null)[] | null = null;
  readonly #where: string;
  #previous: AcceleratedTable | null = null;
  readonly #shared: boolean;

  /** A table over `units` of `source`, with the data of those units that are loaded. */
  constructor(
    source: TableProvider,
    units: readonly ScanPartition[],
    data: (readonly RecordBatch[] | null)[],
    opts: AcceleratedTableOptions = {},
  ) {
    this.schema = source.schema;
    this.#source = source;
    this.#units = units;
    this.#data = data;
    this.#stats = opts.stats ?? units.map(() => null);
    this.#where = opts.where ?? "in memory";
    this.#shared = data.every((d) => d !== null && d.every((b) => batchIsShared(b)));
    this.generation = opts.generation ?? generationOf(units);
    const loaded = data.every((d) => d !== null);
    this.#rows = loaded
      ? data.reduce((s, d) => s + d!.reduce((a, b) => a + b.numRows, 0), 0)
      : null;
  }

  /** The units a source splits into (deterministic for a given source). */
  static async units(source: TableProvider): Promise<ScanPartition[]> {
    return [...(await source.planScan([], ACCELERATION_UNITS)).partitions];
  }

  /**
   * A table that knows the units and what the source says of their values,
   * but holds no data: the scheduler plans with it, executors hold the data.
   */
  static async planOnly(
    source: TableProvider,
    opts: { salt?: string } = {},
  ): Promise<AcceleratedTable> {
    const units = await AcceleratedTable.units(source);
    const stats = await sourceStats(source, units);
    return new AcceleratedTable(source, units, units.map(() => null), {
      generation: generationOf(units, opts.salt),
      stats,
      where: "sharded on executors",
    });
  }

  /** The source this table accelerates. */
  get source(): TableProvider {
    return this.#source;
  }

  /** Every batch held (for memory accounting). */
  get batches(): readonly RecordBatch[] {
    return this.#data.flatMap((d) => d ?? []);
  }

  /**
   * The units of generation `gen` as shared batches for the worker pool
   * (this table's or the one it replaced); null unless every unit is loaded
   * and in shared memory.
   */
  sharedData(name: string, gen: string): SharedTableData | null {
    if (gen !== this.generation) return this.#previous?.sharedData(name, gen) ?? null;
    if (!this.#shared) return null;
    return {
      name,
      generation: this.generation,
      schema: this.schema,
      units: this.#data as RecordBatch[][],
    };
  }

  /** How many units the table has. */
  get unitCount(): number {
    return this.#units.length;
  }

  statistics(): TableStatistics {
    if (this.#rows === null) {
      // Not held here (the scheduler plans over executors' data): what the
      // units' statistics say, so that join order does not depend on the role.
      const source = this.#source.statistics();
      this.#distinct ??= rangeDistinct(this.schema, this.#stats, source.numRows);
      return { ...source, distinct: source.distinct ?? this.#distinct };
    }
    if (!this.#distinct) {
      const bounds = rangeDistinct(this.schema, this.#stats, this.#rows);
      this.#distinct = estimateDistinct(
        this.schema,
        this.#data.flatMap((d) => d ?? []),
        this.#rows,
      ).map((d, c) => {
        const bound = bounds[c];
        return d === null ? bound : bound === null ? d : Math.min(d, bound);
      });
    }
    return { numRows: this.#rows, distinct: this.#distinct };
  }

  partitionStatistics(partition: ScanPartition): Promise<UnitStats | null> {
    if (partition.kind !== ACCELERATED_KIND) {
      return this.#source.partitionStatistics?.(partition) ?? Promise.resolve(null);
    }
    const d = partition.data as AcceleratedPartitionData;
    return Promise.resolve(d.gen === this.generation ? this.#stats[d.unit] ?? null : null);
  }

  /**
   * Keeps `previous` answering the partitions planned against it (queries
   * that were planned before this table was swapped in) for a grace period.
   */
  retire(previous: TableProvider | undefined): void {
    if (!(previous instanceof AcceleratedTable) || previous === this) return;
    previous.#previous = null; // one generation back, never a chain
    this.#previous = previous;
    const timer = setTimeout(() => {
      if (this.#previous === previous) this.#previous = null;
    }, RETIRE_GRACE_MS);
    Deno.unrefTimer(timer);
  }

  planScan(filters: ScanFilters, _target: number): Promise<ScanPlan> {
    const partitions: ScanPartition[] = [];
    this.#units.forEach((u, i) => {
      const s = this.#stats[i];
      if (s && filters.some((f) => canSkip(f, s))) return;
      const data: AcceleratedPartitionData = {
        unit: i,
        gen: this.generation,
        of: this.#units.length,
        source: u,
      };
      const rows = this.#data[i]?.reduce((a, b) => a + b.numRows, 0) ?? u.rows ?? s?.rows;
      partitions.push({
        kind: ACCELERATED_KIND,
        label: `unit ${i}: ${u.label}`,
        data,
        rows: rows !== undefined && Number.isFinite(rows) ? rows : undefined,
      });
    });
    return Promise.resolve({
      partitions,
      pruning: `units=${partitions.length}/${this.#units.length} (${this.#where})`,
    });
  }

  async *scan(
    partition: ScanPartition,
    projection: readonly number[],
    filters: ScanFilters,
  ): AsyncIterable<RecordBatch> {
    // A plan made before the acceleration was swapped in carries source partitions.
    if (partition.kind !== ACCELERATED_KIND) {
      yield* this.#source.scan(partition, projection, filters);
      return;
    }
    const d = partition.data as AcceleratedPartitionData;
    if (d.gen !== this.generation) {
      // Planned against another generation: the one swapped out, if still here.
      if (this.#previous && this.#previous.generation === d.gen) {
        yield* this.#previous.scan(partition, projection, filters);
      } else {
        yield* this.#source.scan(d.source, projection, filters);
      }
      return;
    }
    const held = this.#data[d.unit];
    if (!held) {
      // Not held here: read the unit from the source.
      yield* this.#source.scan(d.source ?? this.#units[d.unit], projection, filters);
      return;
    }
    const schema = { fields: projection.map((k) => this.schema.fields[k]) };
    for (const b of held) {
      yield recordBatch(schema, projection.map((k) => b.columns[k]), b.numRows);
    }
  }
}

/** What the source knows of each unit's values. */
async function sourceStats(
  source: TableProvider,
  units: readonly ScanPartition[],
): Promise<(UnitStats | null)[]> {
  if (!source.partitionStatistics) return units.map(() => null);
  const out: (UnitStats | null)[] = [];
  for (let i = 0; i < units.length; i += 16) {
    out.push(
      ...await Promise.all(
        units.slice(i, i + 16).map((u) => source.partitionStatistics!(u).catch(() => null)),
      ),
    );
  }
  return out;
}

/** Reads one unit whole (every column), without empty batches. */
export async function readUnit(
  source: TableProvider,
  unit: ScanPartition,
  signal?: AbortSignal,
): Promise<RecordBatch[]> {
  const projection = source.schema.fields.map((_, i) => i);
  const out: RecordBatch[] = [];
  for await (const b of source.scan(unit, projection, [])) {
    signal?.throwIfAborted();
    if (b.numRows > 0) out.push(b);
  }
  return out;
}

/**
 * Distinct values per integer or date column bounded by its value range
 * over every unit (max - min + 1, at most the rows): known without the data,
 * and the bound that tells a nation key (25 values) from an order key.
 * Null where a unit has no statistics for the column.
 */
export function rangeDistinct(
  schema: Schema,
  stats: readonly (UnitStats | null)[],
  rows: number | null,
): (number | null)[] {
  const integral = new Set(["int32", "int64", "date32"]);
  return schema.fields.map((f, c) => {
    if (!integral.has(f.type.id) || stats.length === 0) return null;
    let lo = Infinity, hi = -Infinity;
    for (const u of stats) {
      const r = u?.columns.get(c);
      if (!r || r.min === null || r.max === null) return null;
      const a = Number(r.min), b = Number(r.max);
      if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
      lo = Math.min(lo, a);
      hi = Math.max(hi, b);
    }
    const span = hi - lo + 1;
    return rows === null ? span : Math.max(1, Math.min(span, rows));
  });
}

/**
 * Distinct values per column, estimated from a sample of up to 65536 rows
 * spread over the batches (for join ordering): a column whose sampled values
 * are nearly all different is taken as unique; otherwise the GEE estimator
 * (sqrt(N/n) * singletons + the other values) scales the sample up.
 */
export function estimateDistinct(
  schema: Schema,
  batches: readonly RecordBatch[],
  rows: number,
): (number | null)[] {
  const SAMPLE = 65536;
  const step = Math.max(1, Math.floor(rows / SAMPLE));
  return schema.fields.map((_, c) => {
    const counts = new Map<number, number>();
    let n = 0;
    let seen = 0;
    for (const b of batches) {
      // Hash only the sampled rows.
      const first = (step - (seen % step)) % step;
      seen += b.numRows;
      if (first >= b.numRows) continue;
      const idx = new Int32Array(Math.ceil((b.numRows - first) / step));
      for (let k = 0; k < idx.length; k++) idx[k] = first + k * step;
      const h = hashColumns([take(b.columns[c], idx)], idx.length);
      for (let k = 0; k < h.length; k++) counts.set(h[k], (counts.get(h[k]) ?? 0) + 1);
      n += h.length;
    }
    if (n === 0) return 0;
    let f1 = 0;
    for (const v of counts.values()) if (v === 1) f1++;
    const d = counts.size;
    if (f1 >= 0.9 * n) return Math.round((d / n) * rows);
    return Math.min(rows, Math.round(Math.sqrt(rows / n) * f1 + (d - f1)));
  });
}

/** Loads every unit of a source into memory (`parallelism` units at a time). */
export async function loadIntoMemory(
  source: TableProvider,
  opts: { parallelism: number; signal?: AbortSignal; salt?: string },
): Promise<AcceleratedTable> {
  const units = await AcceleratedTable.units(source);
  const parts: RecordBatch[][] = units.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < units.length) {
      const k = next++;
      parts[k] = await readUnit(source, units[k], opts.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallelism) }, worker));
  // One dictionary per string column across every unit; in shared memory so
  // that the worker pool's workers all scan these same bytes.
  const memo: DictMemo = new WeakMap();
  const encoded = dictionaryEncode(source.schema, parts.flat()).map((b) => shareBatch(b, memo));
  const data: RecordBatch[][] = [];
  let at = 0;
  for (const p of parts) {
    data.push(encoded.slice(at, at + p.length));
    at += p.length;
  }
  const fromSource = await sourceStats(source, units);
  const stats = data.map((d, k) => combineStats(batchStatistics(source.schema, d), fromSource[k]));
  return new AcceleratedTable(source, units, data, {
    generation: generationOf(units, opts.salt),
    stats,
  });
}

/** Statistics of one loaded unit: from its data, completed by the source's. */
export async function unitStatistics(
  source: TableProvider,
  unit: ScanPartition,
  batches: readonly RecordBatch[],
): Promise<UnitStats> {
  const fromSource = await (source.partitionStatistics?.(unit).catch(() => null) ?? null);
  return combineStats(batchStatistics(source.schema, batches), fromSource);
}
