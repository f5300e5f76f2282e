/**
 * Sort within a partition, or top-k when the plan carries a fetch (ORDER BY
 * ... LIMIT k): then only the best k rows are kept as batches arrive, so
 * memory stays O(k).
 *
 * @module
 */

import {
  concatBatches,
  type RecordBatch,
  recordBatch,
  sliceBatch,
  takeBatch,
  wireBytes,
} from "../../arrow/batch.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { toColumn } from "../datum.ts";
import { compileExprs, layoutOf } from "../expr.ts";
import { sortIndices, topKIndices } from "../sort.ts";

type SortNode = PhysicalPlan & { op: "sort" };

/** Sorts (or top-k's) one partition. */
export async function* executeSort(
  node: SortNode,
  input: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const schema = physicalSchema(node);
  const keys = compileExprs(
    node.keys.map((k) => k.expr),
    layoutOf(node.input.columns.map((c) => c.id)),
  );
  const orders = node.keys.map((k) => ({ asc: k.asc, nullsFirst: k.nullsFirst }));
  const fetch = node.fetch;
  const order = (b: RecordBatch, limit: number | null): RecordBatch => {
    const cols = keys.map((k) => toColumn(k.evaluate(b), b.numRows));
    const idx = limit === null
      ? sortIndices(cols, orders, b.numRows)
      : topKIndices(cols, orders, b.numRows, limit);
    return takeBatch(b, idx);
  };
  let held: RecordBatch[] = [];
  let heldRows = 0;
  for await (const b of input) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    // A top-k keeps at most about 2 x fetch rows: only a full sort holds its input.
    if (fetch === null) ctx.memory?.reserve(wireBytes(b), "sorting");
    held.push(b);
    heldRows += b.numRows;
    if (fetch !== null && heldRows > Math.max(2 * fetch, ctx.batchSize)) {
      const top = order(concatBatches(schema, held), fetch);
      held = [top];
      heldRows = top.numRows;
    }
  }
  if (heldRows === 0) return;
  const sorted = order(concatBatches(schema, held), fetch);
  const out = recordBatch(schema, sorted.columns, sorted.numRows);
  for (let s = 0; s < out.numRows; s += ctx.batchSize) {
    yield sliceBatch(out, s, Math.min(ctx.batchSize, out.numRows - s));
  }
}
