/**
 * Small operators: UNION ALL (re-labelling each input's columns), the
 * single-row check of scalar subqueries, and window evaluation over a
 * gathered partition.
 *
 * @module
 */

import { concatBatches, type RecordBatch, recordBatch, sliceBatch } from "../../arrow/batch.ts";
import { SpiceError } from "../../errors.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { layoutOf } from "../expr.ts";
import { computeWindows } from "../window.ts";

/** Re-labels a union input's batch to the union's output columns. */
export async function* relabelUnion(
  node: PhysicalPlan & { op: "union" },
  inputIndex: number,
  input: AsyncIterable<RecordBatch>,
): AsyncIterable<RecordBatch> {
  const schema = physicalSchema(node);
  const src = node.inputs[inputIndex].columns.map((c) => c.id);
  const pick = node.inputColumns[inputIndex].map((id) => src.indexOf(id));
  for await (const b of input) yield recordBatch(schema, pick.map((i) => b.columns[i]), b.numRows);
}

/** Passes at most one row; more is the error a scalar subquery must raise. */
export async function* executeMaxOneRow(
  input: AsyncIterable<RecordBatch>,
): AsyncIterable<RecordBatch> {
  let seen = 0;
  const kept: RecordBatch[] = [];
  for await (const b of input) {
    seen += b.numRows;
    if (seen > 1) {
      throw new SpiceError("DATA", "scalar subquery returned more than one row");
    }
    if (b.numRows) kept.push(b);
  }
  yield* kept;
}

/** Evaluates window functions over one gathered partition. */
export async function* executeWindow(
  node: PhysicalPlan & { op: "window" },
  input: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const inSchema = physicalSchema(node.input);
  const batches: RecordBatch[] = [];
  for await (const b of input) batches.push(b);
  const all = concatBatches(inSchema, batches);
  if (all.numRows === 0) return;
  const cols = computeWindows(all, node.windows, layoutOf(node.input.columns.map((c) => c.id)));
  const out = recordBatch(physicalSchema(node), [...all.columns, ...cols], all.numRows);
  for (let s = 0; s < out.numRows; s += ctx.batchSize) {
    yield sliceBatch(out, s, Math.min(ctx.batchSize, out.numRows - s));
  }
}
