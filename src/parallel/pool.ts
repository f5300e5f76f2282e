/**
 * A pool of Web Workers that run tasks: one task at a time per worker, in the
 * order submitted. Before a worker gets a task, it is sent the generations of
 * the shared tables the task scans that it does not have yet. A worker that
 * dies fails its task and is replaced.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { SpiceError } from "../errors.ts";
import type { OperatorMetrics } from "../exec/context.ts";
import type { FromWorker, SharedTableData, TaskMessage, ToWorker } from "./protocol.ts";
import { KEEP_GENERATIONS } from "./shared_table.ts";

/**
 * Query workers of a standalone node: env SPICED_WORKERS, default one per
 * core (at most 8); 0 runs queries on the main thread.
 */
export function workerCount(): number {
  const env = Deno.env.get("SPICED_WORKERS");
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 0 || n > 256) {
      throw new SpiceError(
        "CONFIG",
        `SPICED_WORKERS must be an integer from 0 to 256, got "${env}"`,
      );
    }
    return n;
  }
  return Math.max(1, Math.min(8, navigator.hardwareConcurrency || 1));
}

/** What the submitter of a task hears back. */
export interface TaskHandler {
  onBatch?(batch: RecordBatch): void;
  onDone(
    buckets: readonly (readonly RecordBatch[])[],
    metrics: readonly [number, OperatorMetrics][],
  ): void;
  onError(err: SpiceError): void;
}

interface Submitted {
  readonly msg: TaskMessage;
  readonly tables: readonly SharedTableData[];
  readonly handler: TaskHandler;
}

interface Slot {
  worker: Worker;
  /** Table generations this worker holds, by table, oldest first (as the worker keeps them). */
  sent: Map<string, string[]>;
  running: Submitted | null;
}

/** Runs tasks on `size` workers. */
export class WorkerPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Submitted[] = [];
  #closed = false;
  #completed = 0;

  /** Starts `size` workers. */
  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
    const slot: Slot = { worker, sent: new Map(), running: null };
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.#receive(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#replace(slot, `worker failed: ${e.message}`);
    };
    return slot;
  }

  #replace(slot: Slot, reason: string): void {
    slot.worker.terminate();
    const running = slot.running;
    const fresh = this.#spawn();
    slot.worker = fresh.worker;
    slot.sent = fresh.sent;
    slot.running = null;
    fresh.worker.onmessage = (e: MessageEvent<FromWorker>) => this.#receive(slot, e.data);
    fresh.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#replace(slot, `worker failed: ${e.message}`);
    };
    running?.handler.onError(new SpiceError("EXECUTION", reason));
    this.#dispatch();
  }

  /** Queues a task; `tables` are the shared tables (generations) its scans read. */
  submit(msg: TaskMessage, tables: readonly SharedTableData[], handler: TaskHandler): void {
    if (this.#closed) {
      handler.onError(new SpiceError("UNAVAILABLE", "the worker pool is shut down"));
      return;
    }
    this.#queue.push({ msg, tables, handler });
    this.#dispatch();
  }

  /** Tasks the workers have finished (successfully or not) since the pool started. */
  get tasksCompleted(): number {
    return this.#completed;
  }

  /** Tells the worker running a streamed task that one of its batches was consumed. */
  ack(job: string, task: number): void {
    for (const s of this.#slots) {
      if (s.running?.msg.job === job && s.running.msg.task === task) {
        this.#send(s, { type: "ack", job, task });
      }
    }
  }

  /** Cancels a job's queued and running tasks. */
  cancel(job: string, reason: string): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i].msg.job === job) this.#queue.splice(i, 1);
    }
    for (const s of this.#slots) this.#send(s, { type: "cancel", job, reason });
  }

  /** Frees what a finished job left in the workers. */
  end(job: string): void {
    for (const s of this.#slots) this.#send(s, { type: "end", job });
  }

  /** Stops every worker. */
  close(): void {
    this.#closed = true;
    for (const s of this.#slots) s.worker.terminate();
    for (const q of this.#queue.splice(0)) {
      q.handler.onError(new SpiceError("UNAVAILABLE", "the worker pool is shut down"));
    }
  }

  #send(slot: Slot, msg: ToWorker): void {
    slot.worker.postMessage(msg);
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.running || this.#queue.length === 0) continue;
      const next = this.#queue.shift()!;
      slot.running = next;
      const missing = next.tables.filter((t) =>
        !slot.sent.get(t.name.toLowerCase())?.includes(t.generation)
      );
      if (missing.length > 0) {
        this.#send(slot, { type: "tables", tables: missing });
        for (const t of missing) {
          const gens = slot.sent.get(t.name.toLowerCase()) ?? [];
          gens.push(t.generation);
          if (gens.length > KEEP_GENERATIONS) gens.shift();
          slot.sent.set(t.name.toLowerCase(), gens);
        }
      }
      this.#send(slot, next.msg);
    }
  }

  #receive(slot: Slot, msg: FromWorker): void {
    if (msg.type === "ready") return;
    const running = slot.running;
    if (!running || running.msg.job !== msg.job || running.msg.task !== msg.task) return;
    switch (msg.type) {
      case "batch":
        running.handler.onBatch?.(msg.batch);
        return;
      case "done":
        this.#completed++;
        slot.running = null;
        running.handler.onDone(msg.buckets, msg.metrics);
        break;
      case "error":
        this.#completed++;
        slot.running = null;
        running.handler.onError(new SpiceError(msg.code, msg.message));
        break;
    }
    this.#dispatch();
  }
}
