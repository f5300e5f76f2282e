/**
 * The task model: what the scheduler sends an executor to run (a stage's
 * plan fragment for one partition, how to split its output, and where its
 * inputs live), what comes back, and the shuffle writer that runs a task and
 * stores its output buckets.
 *
 * @module
 */

import { concatBatches, type RecordBatch } from "../arrow/batch.ts";
import type { ScanPartition } from "../catalog/provider.ts";
import type { ExchangeSource, OperatorMetrics, TaskContext } from "../exec/context.ts";
import { executePlan } from "../exec/execute.ts";
import { layoutOf } from "../exec/expr.ts";
import { Partitioner } from "../exec/partitioner.ts";
import {
  dealScanPartitions,
  physicalInputs,
  type PhysicalPlan,
  physicalSchema,
  withPhysicalInputs,
} from "../physical/plan.ts";
import type { ShuffleStore } from "./shuffle_store.ts";
import type { OutputPartitioning } from "./stages.ts";

/** Where the output of each map task of an input stage lives. */
export interface InputLocations {
  /** Indexed by map partition. */
  readonly maps: readonly { readonly executorId: string; readonly address: string }[];
}

/** A task as sent to an executor. */
export interface TaskDescriptor {
  readonly job: string;
  readonly stage: number;
  readonly partition: number;
  readonly attempt: number;
  readonly plan: PhysicalPlan;
  readonly output: OutputPartitioning;
  /** Input locations by exchange (stage) id. */
  readonly inputs: Readonly<Record<number, InputLocations>>;
}

/** What a finished task reports. */
export interface TaskResult {
  readonly rows: number;
  readonly bytes: number;
  readonly buckets: readonly {
    readonly bucket: number;
    readonly rows: number;
    readonly bytes: number;
  }[];
  readonly metrics: readonly [number, OperatorMetrics][];
  readonly elapsedMs: number;
}

/**
 * Which scan partitions output partition `part` of a scan reads, when the
 * scheduler deals them itself (to keep a task where its data is); undefined
 * keeps the round-robin dealing. Every partition of the scan must go to
 * exactly one `part`.
 */
export type ScanAssigner = (
  scan: PhysicalPlan & { op: "scan" },
  part: number,
) => readonly ScanPartition[] | undefined;

/**
 * Keeps only the scan partitions that task `partition` reads, so that each
 * task's plan carries its own share of the file list, not everybody's. The
 * partition numbering is unchanged (exchange reads depend on it); trimmed
 * scans are marked `taskLocal` and read every partition they still list.
 */
export function trimForPartition(
  plan: PhysicalPlan,
  partition: number,
  assign?: ScanAssigner,
): PhysicalPlan {
  const trim = (p: PhysicalPlan, part: number): PhysicalPlan => {
    switch (p.op) {
      case "scan": {
        const owner = dealScanPartitions(p.scanPartitions, p.partitions);
        return {
          ...p,
          scanPartitions: assign?.(p, part) ??
            p.scanPartitions.filter((_, i) => owner[i] === part),
          taskLocal: true,
        };
      }
      case "exchange_read":
      case "values":
      case "empty":
        return p;
      case "max_one_row":
        return withPhysicalInputs(p, [trim(p.input, 0)]);
      case "union": {
        let rest = part;
        return withPhysicalInputs(
          p,
          p.inputs.map((input) => {
            const mine = rest >= 0 && rest < input.partitions;
            const out = mine ? trim(input, rest) : input;
            rest -= input.partitions;
            return out;
          }),
        );
      }
      default:
        return withPhysicalInputs(p, physicalInputs(p).map((c) => trim(c, part)));
    }
  };
  return trim(plan, partition);
}

/** Runs one task partition and stores its output buckets. */
export async function runTask(
  desc: TaskDescriptor,
  plan: PhysicalPlan,
  partition: number,
  ctx: TaskContext,
  store: ShuffleStore,
): Promise<TaskResult> {
  const t0 = performance.now();
  const out = desc.output;
  const buckets = out.kind === "hash" ? out.partitions : 1;
  const schema = physicalSchema(plan);
  const partitioner = new Partitioner(
    out.kind === "hash" ? out.keys : null,
    layoutOf(plan.columns.map((c) => c.id)),
    buckets,
  );
  // Pieces of each bucket are gathered into batches of about batch_size
  // rows: hash splitting cuts every input batch into one piece per bucket,
  // and each stored batch costs a message, a decode and a wake-up downstream.
  const target = Math.max(1, ctx.batchSize);
  const stored: RecordBatch[][] = Array.from({ length: buckets }, () => []);
  const pending: RecordBatch[][] = Array.from({ length: buckets }, () => []);
  const pendingRows = new Array<number>(buckets).fill(0);
  const flush = (k: number) => {
    if (pending[k].length === 0) return;
    stored[k].push(concatBatches(schema, pending[k]));
    pending[k] = [];
    pendingRows[k] = 0;
  };
  const emit = (b: RecordBatch, k: number) => {
    if (b.numRows >= target) {
      flush(k); // keeps the order: a sorted stage's output stays sorted
      stored[k].push(b);
      return;
    }
    pending[k].push(b);
    pendingRows[k] += b.numRows;
    if (pendingRows[k] >= target) flush(k);
  };
  let total = 0;
  for await (const b of executePlan(plan, partition, ctx)) {
    if (b.numRows === 0) continue;
    total += b.numRows;
    if (out.kind === "hash" && out.keys === null) {
      emit(b, (total / 65536 | 0) % buckets);
      continue;
    }
    const parts = partitioner.split(b);
    for (let k = 0; k < buckets; k++) if (parts[k]) emit(parts[k]!, k);
  }
  let bytes = 0;
  const written: { bucket: number; rows: number; bytes: number }[] = [];
  for (let k = 0; k < buckets; k++) {
    flush(k);
    const rows = stored[k].reduce((n, b) => n + b.numRows, 0);
    const n = await store.put(
      { job: desc.job, stage: desc.stage, map: desc.partition, bucket: k },
      schema,
      stored[k],
    );
    bytes += n;
    written.push({ bucket: k, rows, bytes: n });
  }
  return {
    rows: total,
    bytes,
    buckets: written,
    metrics: ctx.metrics.entries(),
    elapsedMs: performance.now() - t0,
  };
}

/** The exchange source used by tasks: reads exchange_read nodes from the given source. */
export function taskContext(
  base: Omit<TaskContext, "exchanges">,
  exchanges: ExchangeSource,
): TaskContext {
  return { ...base, exchanges };
}

export { physicalInputs };
