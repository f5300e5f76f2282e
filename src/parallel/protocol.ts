/**
 * Messages between the worker pool (main thread) and its Web Workers. Plans
 * are plain data and batches are plain objects of typed arrays, so both
 * travel by structured clone: shared memory is shared, task outputs are
 * transferred.
 *
 * @module
 */

import type { SharedMemoryBudget } from "../exec/memory.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import type { Schema } from "../arrow/types.ts";
import type { OutputPartitioning } from "../distributed/stages.ts";
import type { ErrorCode } from "../errors.ts";
import type { OperatorMetrics } from "../exec/context.ts";
import type { PhysicalPlan } from "../physical/plan.ts";

/** One generation of an accelerated table, as its units of shared batches. */
export interface SharedTableData {
  readonly name: string;
  readonly generation: string;
  readonly schema: Schema;
  readonly units: readonly (readonly RecordBatch[])[];
}

/** A task: one partition of a stage's fragment, with its exchange inputs attached. */
export interface TaskMessage {
  readonly type: "task";
  readonly job: string;
  readonly task: number;
  readonly plan: PhysicalPlan;
  readonly partition: number;
  /** How to split the output into buckets; "result" streams batches back. */
  readonly output: OutputPartitioning;
  /** The batches each exchange_read of the fragment reads, by exchange id. */
  readonly inputs: Readonly<Record<number, readonly RecordBatch[]>>;
  readonly batchSize: number;
  /** The query's memory budget, drawn on by every worker (runtime.query.memory_limit). */
  readonly memory?: SharedMemoryBudget;
}

/** Main thread -> worker. */
export type ToWorker =
  | { readonly type: "tables"; readonly tables: readonly SharedTableData[] }
  | TaskMessage
  /** The main thread consumed a streamed batch (flow control). */
  | { readonly type: "ack"; readonly job: string; readonly task: number }
  | { readonly type: "cancel"; readonly job: string; readonly reason: string }
  /** The job is over: drop what its tasks shared (broadcast hash tables). */
  | { readonly type: "end"; readonly job: string };

/** Worker -> main thread. */
export type FromWorker =
  | { readonly type: "ready" }
  | {
    readonly type: "batch";
    readonly job: string;
    readonly task: number;
    readonly batch: RecordBatch;
  }
  | {
    readonly type: "done";
    readonly job: string;
    readonly task: number;
    /** Output buckets (empty for a streamed result). */
    readonly buckets: readonly (readonly RecordBatch[])[];
    readonly metrics: readonly [number, OperatorMetrics][];
  }
  | {
    readonly type: "error";
    readonly job: string;
    readonly task: number;
    readonly code: ErrorCode;
    readonly message: string;
  };

/** Streamed batches a worker may have in flight before it waits for acks. */
export const STREAM_WINDOW = 4;
