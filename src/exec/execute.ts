/**
 * Runs one partition of a physical plan: dispatches each node to its
 * operator, wiring children's streams, and records per-operator metrics.
 *
 * @module
 */

import { type RecordBatch, wireBytes } from "../arrow/batch.ts";
import { SpiceError } from "../errors.ts";
import type { PhysicalPlan } from "../physical/plan.ts";
import type { TaskContext } from "./context.ts";
import { executeAggregate } from "./operators/aggregate.ts";
import { executeFilter } from "./operators/filter.ts";
import { type BuildSide, buildSide, probeJoin } from "./operators/hash_join.ts";
import { executeLimit } from "./operators/limit.ts";
import { executeMaxOneRow, executeWindow, relabelUnion } from "./operators/misc.ts";
import { executeNestedLoopJoin } from "./operators/nested_loop_join.ts";
import { executeProject } from "./operators/project.ts";
import { executeScan } from "./operators/scan.ts";
import { executeSort } from "./operators/sort.ts";
import { executeEmpty, executeValues } from "./operators/source.ts";

/** Streams the batches of one output partition of `plan`. */
export function executePlan(
  plan: PhysicalPlan,
  partition: number,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  if (partition < 0 || partition >= plan.partitions) {
    throw new SpiceError(
      "INTERNAL",
      `partition ${partition} out of range for ${plan.op} (${plan.partitions})`,
    );
  }
  return instrument(plan, dispatch(plan, partition, ctx), ctx);
}

/**
 * Operator work runs on microtasks only (in-memory data never waits for I/O),
 * so without a break a long query would starve timers and I/O: its own
 * timeout would never fire, and cancels, heartbeats, health checks and other
 * queries would wait for it. Every operator stream asks for a turn of the
 * event loop before it pulls its next batch, so at most about one batch of
 * work (or YIELD_EVERY_MS) passes between two turns, across all streams.
 */
const YIELD_EVERY_MS = 20;
let lastYield = 0;
let pendingTurn: Promise<void> | null = null;
const NOTHING = new Uint8Array(0);

/**
 * A full turn of the event loop (timers and network I/O) when the last one is
 * older than YIELD_EVERY_MS, else null; streams asking meanwhile share it.
 * Neither setImmediate (timers run, sockets do not) nor setTimeout(0) (clamped
 * to ~3 ms when nested) does this cheaply in Deno; a trivial async op does, in
 * about 90 us.
 */
function turn(): Promise<void> | null {
  if (pendingTurn) return pendingTurn;
  if (performance.now() - lastYield < YIELD_EVERY_MS) return null;
  pendingTurn = crypto.subtle.digest("SHA-1", NOTHING).then(() => {
    lastYield = performance.now();
    pendingTurn = null;
  });
  return pendingTurn;
}

async function* instrument(
  plan: PhysicalPlan,
  stream: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const m = ctx.metrics.of(plan.id);
  const it = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      // Re-check after each turn: streams woken by the same turn go one at a time.
      for (let t = turn(); t !== null; t = turn()) {
        await t;
        if (ctx.signal.aborted) throw ctx.signal.reason;
      }
      const t0 = performance.now();
      const r = await it.next();
      m.elapsedMs += performance.now() - t0;
      if (r.done) return;
      m.rows += r.value.numRows;
      m.batches++;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Every batch of a stream, each reserved from the query's memory budget for `what`. */
async function collect(
  stream: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
  what: string,
): Promise<RecordBatch[]> {
  const out: RecordBatch[] = [];
  for await (const b of stream) {
    ctx.memory?.reserve(wireBytes(b), what);
    out.push(b);
  }
  return out;
}

function sharedOnce<T>(ctx: TaskContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.shared.get(key) as Promise<T> | undefined;
  if (!p) {
    const made = make();
    p = made;
    ctx.shared.set(key, made);
    // A failure is not shared with later tasks: on an executor, `shared` lives as long as
    // the job, and a retried task (its input re-run elsewhere) must build again, not
    // inherit the rejection (with the lost executor's address in it) forever.
    made.catch(() => {
      if (ctx.shared.get(key) === made) ctx.shared.delete(key);
    });
  }
  return p;
}

function dispatch(
  plan: PhysicalPlan,
  partition: number,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  switch (plan.op) {
    case "scan":
      return executeScan(plan, partition, ctx);
    case "values":
      return executeValues(plan);
    case "empty":
      return executeEmpty(plan);
    case "filter":
      return executeFilter(plan, executePlan(plan.input, partition, ctx), ctx);
    case "project":
      return executeProject(plan, executePlan(plan.input, partition, ctx), ctx);
    case "aggregate":
      return executeAggregate(plan, executePlan(plan.input, partition, ctx), ctx);
    case "sort":
      return executeSort(plan, executePlan(plan.input, partition, ctx), ctx);
    case "limit":
      return executeLimit(plan, executePlan(plan.input, partition, ctx));
    case "window":
      return executeWindow(plan, executePlan(plan.input, partition, ctx), ctx);
    case "max_one_row":
      return executeMaxOneRow(executePlan(plan.input, 0, ctx));
    case "union": {
      let p = partition;
      for (let i = 0; i < plan.inputs.length; i++) {
        const input = plan.inputs[i];
        if (p < input.partitions) return relabelUnion(plan, i, executePlan(input, p, ctx));
        p -= input.partitions;
      }
      throw new SpiceError("INTERNAL", "union partition out of range");
    }
    case "hash_join":
      return hashJoin(plan, partition, ctx);
    case "nested_loop_join":
      return nestedLoopJoin(plan, partition, ctx);
    case "repartition":
    case "coalesce":
    case "broadcast":
    case "exchange_read":
      return ctx.exchanges.read(plan, partition, ctx);
    case "merge":
      throw new SpiceError("INTERNAL", "merge is planned as sort over coalesce");
  }
}

async function* hashJoin(
  plan: PhysicalPlan & { op: "hash_join" },
  partition: number,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const buildPlan = plan.buildSide === "left" ? plan.left : plan.right;
  const probePlan = plan.buildSide === "left" ? plan.right : plan.left;
  let build: BuildSide;
  if (plan.mode === "collect") {
    // Every partition of a broadcast holds all rows: build once per process.
    build = await sharedOnce(
      ctx,
      `join:${plan.id}`,
      async () =>
        buildSide(
          plan,
          await collect(
            executePlan(buildPlan, Math.min(partition, buildPlan.partitions - 1), ctx),
            ctx,
            "building a hash join's table",
          ),
        ),
    );
  } else {
    build = buildSide(
      plan,
      await collect(executePlan(buildPlan, partition, ctx), ctx, "building a hash join's table"),
    );
  }
  yield* probeJoin(plan, build, executePlan(probePlan, partition, ctx), ctx);
}

async function* nestedLoopJoin(
  plan: PhysicalPlan & { op: "nested_loop_join" },
  partition: number,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const right = await sharedOnce(
    ctx,
    `nlj:${plan.id}`,
    () =>
      collect(
        executePlan(plan.right, Math.min(partition, plan.right.partitions - 1), ctx),
        ctx,
        "holding a nested loop join's inner side",
      ),
  );
  yield* executeNestedLoopJoin(plan, right, executePlan(plan.left, partition, ctx), ctx);
}
