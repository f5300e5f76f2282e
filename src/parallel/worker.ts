/**
 * The entry point of a pool worker: keeps the shared tables it was sent and
 * runs tasks (a stage fragment for one partition). A task's output is split
 * into buckets as the stage's output partitioning says and transferred to
 * the main thread (copied once into buffers of its own, then moved); the
 * final stage's batches stream back one window at a time.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { QueryMemory } from "../exec/memory.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import { Catalog } from "../catalog/mod.ts";
import { SpiceError } from "../errors.ts";
import { type ExchangeSource, MetricsSink, type TaskContext } from "../exec/context.ts";
import { executePlan } from "../exec/execute.ts";
import { layoutOf } from "../exec/expr.ts";
import { Partitioner } from "../exec/partitioner.ts";
import type { PhysicalPlan } from "../physical/plan.ts";
import { type FromWorker, STREAM_WINDOW, type TaskMessage, type ToWorker } from "./protocol.ts";
import { transferableBatch } from "./shared_memory.ts";
import { SharedTable } from "./shared_table.ts";

const catalog = new Catalog();
const tables = new Map<string, SharedTable>();

/** Per job: its cancellation and the work its tasks share in this worker. */
interface JobState {
  readonly abort: AbortController;
  readonly shared: Map<string, Promise<unknown>>;
}
const jobs = new Map<string, JobState>();
/** Streamed result tasks: batches posted and not yet acknowledged, and who waits for an ack. */
interface StreamState {
  inFlight: number;
  wake: (() => void) | null;
}
const streams = new Map<string, StreamState>();

function post(msg: FromWorker, transfer?: Set<ArrayBuffer>): void {
  self.postMessage(msg, transfer ? [...transfer] : []);
}

function jobState(job: string): JobState {
  let s = jobs.get(job);
  if (!s) jobs.set(job, s = { abort: new AbortController(), shared: new Map() });
  return s;
}

/** Exchange inputs come attached to the task. */
function inputsSource(inputs: TaskMessage["inputs"]): ExchangeSource {
  return {
    async *read(node: PhysicalPlan): AsyncIterable<RecordBatch> {
      if (node.op !== "exchange_read") {
        throw new SpiceError("INTERNAL", `${node.op} is not split into stages`);
      }
      yield* inputs[node.exchangeId] ?? [];
    },
  };
}

async function runTask(msg: TaskMessage): Promise<void> {
  const state = jobState(msg.job);
  const ctx: TaskContext = {
    signal: state.abort.signal,
    catalog,
    exchanges: inputsSource(msg.inputs),
    metrics: new MetricsSink(),
    batchSize: msg.batchSize,
    shared: state.shared,
    memory: msg.memory ? QueryMemory.attach(msg.memory) : undefined,
  };
  const out = msg.output;
  const stream = executePlan(msg.plan, msg.partition, ctx);
  if (out.kind === "result") {
    const key = `${msg.job}/${msg.task}`;
    const flow: StreamState = { inFlight: 0, wake: null };
    streams.set(key, flow);
    try {
      for await (const b of stream) {
        if (b.numRows === 0) continue;
        const transfer = new Set<ArrayBuffer>();
        const batch = transferableBatch(b, transfer);
        post({ type: "batch", job: msg.job, task: msg.task, batch }, transfer);
        flow.inFlight++;
        while (flow.inFlight >= STREAM_WINDOW && !state.abort.signal.aborted) {
          await new Promise<void>((resolve) => (flow.wake = resolve));
        }
        state.abort.signal.throwIfAborted();
      }
    } finally {
      streams.delete(key);
    }
    post({
      type: "done",
      job: msg.job,
      task: msg.task,
      buckets: [],
      metrics: ctx.metrics.entries(),
    });
    return;
  }
  const buckets = out.kind === "hash" ? out.partitions : 1;
  const outBuckets: RecordBatch[][] = Array.from({ length: buckets }, () => []);
  const partitioner = new Partitioner(
    out.kind === "hash" ? out.keys : null,
    layoutOf(msg.plan.columns.map((c) => c.id)),
    buckets,
  );
  let rows = 0;
  // Every output buffer moves to the main thread with the one "done" message.
  const transfer = new Set<ArrayBuffer>();
  for await (const b of stream) {
    if (b.numRows === 0) continue;
    if (out.kind === "hash" && out.keys === null) {
      // Round-robin by blocks of rows, as the cluster's shuffle writer does.
      outBuckets[(rows / 65536 | 0) % buckets].push(transferableBatch(b, transfer));
    } else {
      partitioner.split(b).forEach((part, k) => {
        if (part) outBuckets[k].push(transferableBatch(part, transfer));
      });
    }
    rows += b.numRows;
  }
  post({
    type: "done",
    job: msg.job,
    task: msg.task,
    buckets: outBuckets,
    metrics: ctx.metrics.entries(),
  }, transfer);
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "tables":
      for (const t of msg.tables) {
        const existing = tables.get(t.name.toLowerCase());
        if (existing) existing.add(t);
        else {
          const table = new SharedTable(t);
          tables.set(t.name.toLowerCase(), table);
          catalog.register(t.name, table);
        }
      }
      break;
    case "task":
      runTask(msg).catch((err: unknown) => {
        const code = err instanceof SpiceError ? err.code : "EXECUTION";
        const message = err instanceof Error ? err.message : String(err);
        post({ type: "error", job: msg.job, task: msg.task, code, message });
      });
      break;
    case "ack": {
      const flow = streams.get(`${msg.job}/${msg.task}`);
      if (flow) {
        flow.inFlight--;
        const wake = flow.wake;
        flow.wake = null;
        wake?.();
      }
      break;
    }
    case "cancel": {
      jobState(msg.job).abort.abort(new SpiceError("CANCELLED", msg.reason));
      // A task waiting for an ack must wake up to see the cancel.
      for (const [key, flow] of streams) {
        if (!key.startsWith(`${msg.job}/`)) continue;
        const wake = flow.wake;
        flow.wake = null;
        wake?.();
      }
      break;
    }
    case "end":
      jobs.delete(msg.job);
      break;
  }
};

post({ type: "ready" });
