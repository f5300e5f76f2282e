/**
 * Runs a physical plan in this process: every output partition of the root
 * concurrently, exchanges materialised in memory. The standalone runtime's
 * executor, and the reference the distributed runner must agree with.
 *
 * @module
 */

import type { QueryMemory } from "../exec/memory.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import type { Catalog } from "../catalog/mod.ts";
import { MetricsSink, type TaskContext } from "../exec/context.ts";
import { executePlan } from "../exec/execute.ts";
import { LocalExchanges } from "../exec/local_exchange.ts";
import type { PhysicalPlan } from "../physical/plan.ts";

/** Options of one run. */
export interface RunOptions {
  readonly signal: AbortSignal;
  readonly batchSize: number;
  readonly metrics?: MetricsSink;
  readonly memory?: QueryMemory;
}

/** Pulls several streams concurrently, yielding batches as they arrive. */
export async function* mergeStreams<T>(streams: AsyncIterable<T>[]): AsyncIterable<T> {
  if (streams.length === 1) {
    yield* streams[0];
    return;
  }
  const its = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ k: number; r: IteratorResult<T> }>>();
  const pull = (k: number) => pending.set(k, its[k].next().then((r) => ({ k, r })));
  its.forEach((_, k) => pull(k));
  try {
    while (pending.size > 0) {
      const { k, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(k);
        continue;
      }
      pull(k);
      yield r.value;
    }
  } finally {
    for (const k of pending.keys()) await its[k].return?.();
  }
}

/** Executes a plan locally. */
export function runLocal(
  plan: PhysicalPlan,
  catalog: Catalog,
  opts: RunOptions,
): AsyncIterable<RecordBatch> {
  const ctx: TaskContext = {
    signal: opts.signal,
    catalog,
    exchanges: new LocalExchanges(executePlan),
    metrics: opts.metrics ?? new MetricsSink(),
    batchSize: opts.batchSize,
    shared: new Map(),
    memory: opts.memory,
  };
  const parts = Array.from({ length: plan.partitions }, (_, p) => executePlan(plan, p, ctx));
  return mergeStreams(parts);
}
