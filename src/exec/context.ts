/**
 * What an operator needs while it runs: cancellation, the catalog (for
 * scans), the source of exchange inputs (in-process buckets or remote
 * shuffle partitions) and the metrics sink.
 *
 * @module
 */

import type { QueryMemory } from "./memory.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import type { Catalog } from "../catalog/mod.ts";
import type { PhysicalPlan } from "../physical/plan.ts";

/** Per-operator counters, for EXPLAIN ANALYZE and metrics. */
export interface OperatorMetrics {
  rows: number;
  batches: number;
  /** Wall-clock milliseconds spent producing this operator's output, children included. */
  elapsedMs: number;
}

/** Collects operator metrics by node id. */
export class MetricsSink {
  readonly #byNode = new Map<number, OperatorMetrics>();

  /** The metrics record of a node (created on first use). */
  of(id: number): OperatorMetrics {
    let m = this.#byNode.get(id);
    if (!m) this.#byNode.set(id, m = { rows: 0, batches: 0, elapsedMs: 0 });
    return m;
  }

  /** All records. */
  entries(): [number, OperatorMetrics][] {
    return [...this.#byNode.entries()];
  }

  /** Adds another sink's counts (a task's metrics into the query's). */
  merge(entries: readonly [number, OperatorMetrics][]): void {
    for (const [id, m] of entries) {
      const t = this.of(id);
      t.rows += m.rows;
      t.batches += m.batches;
      t.elapsedMs += m.elapsedMs;
    }
  }
}

/** Where the batches of an exchange come from. */
export interface ExchangeSource {
  /** Batches of output partition `partition` of an exchange node (or an exchange_read node). */
  read(node: PhysicalPlan, partition: number, ctx: TaskContext): AsyncIterable<RecordBatch>;
}

/** The context a task runs in. */
export interface TaskContext {
  readonly signal: AbortSignal;
  readonly catalog: Catalog;
  readonly exchanges: ExchangeSource;
  readonly metrics: MetricsSink;
  /** Preferred rows per output batch. */
  readonly batchSize: number;
  /** Work shared by the tasks of one query in this process (e.g. a broadcast join's hash table). */
  readonly shared: Map<string, Promise<unknown>>;
  /** The query's memory bound (runtime.query.memory_limit); none when unset. */
  readonly memory?: QueryMemory;
}
