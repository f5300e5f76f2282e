/**
 * Runs plans on the worker pool, so a standalone node uses every core: the
 * plan is split into stages at its exchanges (as on a cluster), each stage's
 * tasks run on the workers once the stages it reads are complete, and the
 * final stage's batches stream back. Accelerated tables are in shared memory
 * (every worker scans the same bytes); exchange outputs are moved to the main
 * thread and attached to the tasks that read them.
 *
 * Plans that scan anything but fully loaded accelerated tables (files read
 * on demand, S3, generated tables) run in this process instead, as before.
 *
 * @module
 */

import type { QueryMemory } from "../exec/memory.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import {
  ACCELERATED_KIND,
  type AcceleratedPartitionData,
  AcceleratedTable,
} from "../acceleration/mod.ts";
import type { Catalog } from "../catalog/mod.ts";
import { FINAL_STAGE, splitStages, type Stage } from "../distributed/stages.ts";
import { trimForPartition } from "../distributed/task.ts";
import { SpiceError } from "../errors.ts";
import type { MetricsSink } from "../exec/context.ts";
import { physicalInputs, type PhysicalPlan } from "../physical/plan.ts";
import { runLocal } from "../query/local_runner.ts";
import type { PlanRunner } from "../query/mod.ts";
import type { WorkerPool } from "./pool.ts";
import type { SharedTableData } from "./protocol.ts";

/** A PlanRunner over a worker pool. */
export class ParallelRunner implements PlanRunner {
  readonly #catalog: Catalog;
  readonly #pool: WorkerPool;
  readonly #batchSize: number;

  /** Runs plans over `catalog` on `pool`. */
  constructor(catalog: Catalog, pool: WorkerPool, opts: { batchSize: number }) {
    this.#catalog = catalog;
    this.#pool = pool;
    this.#batchSize = opts.batchSize;
  }

  run(
    plan: PhysicalPlan,
    opts: { signal: AbortSignal; metrics: MetricsSink; queryId: string; memory?: QueryMemory },
  ): AsyncIterable<RecordBatch> {
    const tables = this.#sharedTables(plan);
    if (!tables) {
      return runLocal(plan, this.#catalog, {
        signal: opts.signal,
        batchSize: this.#batchSize,
        metrics: opts.metrics,
        memory: opts.memory,
      });
    }
    return new Job(this.#pool, plan, tables, opts, this.#batchSize).run();
  }

  /** The shared data every scan of the plan reads; null when some scan cannot run in a worker. */
  #sharedTables(plan: PhysicalPlan): SharedTableData[] | null {
    const out = new Map<string, SharedTableData>();
    let ok = true;
    const visit = (p: PhysicalPlan) => {
      if (!ok) return;
      if (p.op === "scan") {
        const provider = this.#catalog.get(p.table);
        if (!(provider instanceof AcceleratedTable)) {
          ok = false;
          return;
        }
        const gens = new Set([provider.generation]);
        for (const part of p.scanPartitions) {
          if (part.kind !== ACCELERATED_KIND) {
            ok = false;
            return;
          }
          gens.add((part.data as AcceleratedPartitionData).gen);
        }
        for (const gen of gens) {
          const data = provider.sharedData(p.table, gen);
          // The current generation is always sent (a scan with no partitions still looks its table up).
          if (!data) {
            if (gen === provider.generation && p.scanPartitions.length === 0) continue;
            ok = false;
            return;
          }
          out.set(`${p.table.toLowerCase()}@${gen}`, data);
        }
      }
      physicalInputs(p).forEach(visit);
    };
    visit(plan);
    return ok ? [...out.values()] : null;
  }
}

/** One query's run: its stages, their outputs, and the streamed result. */
class Job {
  readonly #id = crypto.randomUUID();
  readonly #stages: Stage[];
  /** Outputs of finished stages: by stage, by map task, by bucket. */
  readonly #outputs = new Map<number, (readonly (readonly RecordBatch[])[])[]>();
  readonly #started = new Map<number, Promise<void>>();
  #nextTask = 0;
  #failed: SpiceError | null = null;

  constructor(
    readonly pool: WorkerPool,
    readonly plan: PhysicalPlan,
    readonly tables: readonly SharedTableData[],
    readonly opts: { signal: AbortSignal; metrics: MetricsSink; memory?: QueryMemory },
    readonly batchSize: number,
  ) {
    this.#stages = splitStages(plan);
  }

  async *run(): AsyncIterable<RecordBatch> {
    const signal = this.opts.signal;
    const abortError = () =>
      signal.reason instanceof SpiceError
        ? signal.reason
        : new SpiceError("CANCELLED", "query cancelled");
    signal.throwIfAborted();
    const final = this.#stages[this.#stages.length - 1];
    // Results arrive from the workers and wait here until the consumer pulls them.
    const queue: { batch: RecordBatch; task: number }[] = [];
    let wake: (() => void) | null = null;
    let finalLeft = final.tasks;
    let error: SpiceError | null = null;
    const notify = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const onAbort = () => {
      error ??= abortError();
      this.pool.cancel(this.#id, error.message);
      notify();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      Promise.all(final.inputs.map((s) => this.#stage(s))).then(() => {
        for (let p = 0; p < final.tasks; p++) {
          this.#submit(final, p, {
            onBatch: (batch, task) => {
              queue.push({ batch, task });
              notify();
            },
            onDone: () => {
              finalLeft--;
              notify();
            },
          });
        }
        if (final.tasks === 0) notify();
      }).catch((e: unknown) => {
        error ??= toSpiceError(e);
        notify();
      });
      while (true) {
        if (error) throw error;
        if (this.#failed) throw this.#failed;
        const next = queue.shift();
        if (next) {
          yield next.batch;
          this.pool.ack(this.#id, next.task);
          continue;
        }
        if (finalLeft === 0) break;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (error || this.#failed || finalLeft > 0) this.pool.cancel(this.#id, "query ended");
      this.pool.end(this.#id);
    }
  }

  /** Runs a (non-final) stage once its inputs are complete; resolves when its outputs are in. */
  #stage(id: number): Promise<void> {
    let p = this.#started.get(id);
    if (p) return p;
    const stage = this.#stages.find((s) => s.id === id);
    if (!stage) return Promise.reject(new SpiceError("INTERNAL", `no stage ${id}`));
    p = Promise.all(stage.inputs.map((s) => this.#stage(s))).then(() =>
      new Promise<void>((resolve, reject) => {
        const outputs: (readonly (readonly RecordBatch[])[])[] = new Array(stage.tasks);
        let left = stage.tasks;
        if (left === 0) {
          this.#outputs.set(id, outputs);
          resolve();
          return;
        }
        for (let part = 0; part < stage.tasks; part++) {
          this.#submit(stage, part, {
            onDone: (buckets) => {
              outputs[part] = buckets;
              if (--left === 0) {
                this.#outputs.set(id, outputs);
                resolve();
              }
            },
          }, reject);
        }
      })
    );
    this.#started.set(id, p);
    return p;
  }

  #submit(
    stage: Stage,
    partition: number,
    on: {
      onBatch?: (b: RecordBatch, task: number) => void;
      onDone: (buckets: readonly (readonly RecordBatch[])[]) => void;
    },
    reject?: (e: SpiceError) => void,
  ): void {
    const task = this.#nextTask++;
    this.pool.submit(
      {
        type: "task",
        job: this.#id,
        task,
        plan: trimForPartition(stage.plan, partition),
        partition,
        output: stage.output,
        inputs: this.#inputsFor(stage, partition),
        batchSize: this.batchSize,
        memory: this.opts.memory?.shared(),
      },
      this.tables,
      {
        onBatch: on.onBatch ? (b) => on.onBatch!(b, task) : undefined,
        onDone: (buckets, metrics) => {
          this.opts.metrics.merge(metrics);
          on.onDone(buckets);
        },
        onError: (e) => {
          this.#failed ??= e;
          reject?.(e);
          // A failed final task wakes the consumer, who sees the failure.
          if (stage.id === FINAL_STAGE) on.onDone([]);
        },
      },
    );
  }

  /** The batches each exchange read of a stage's task gets. */
  #inputsFor(stage: Stage, partition: number): Record<number, RecordBatch[]> {
    const out: Record<number, RecordBatch[]> = {};
    const visit = (p: PhysicalPlan) => {
      if (p.op === "exchange_read") {
        const maps = this.#outputs.get(p.exchangeId) ?? [];
        out[p.exchangeId] = p.read === "partition"
          ? maps.flatMap((buckets) => buckets[partition] ?? [])
          : maps.flatMap((buckets) => buckets.flat());
        return;
      }
      physicalInputs(p).forEach(visit);
    };
    visit(stage.plan);
    return out;
  }
}

function toSpiceError(e: unknown): SpiceError {
  return e instanceof SpiceError
    ? e
    : new SpiceError("EXECUTION", String((e as Error)?.message ?? e));
}
