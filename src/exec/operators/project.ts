/**
 * Projection: computes the output expressions of each batch (sharing common
 * subexpressions between them).
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { toColumn } from "../datum.ts";
import { compileExprs, layoutOf } from "../expr.ts";

type ProjectNode = PhysicalPlan & { op: "project" };

/** Projects a stream of batches. */
export async function* executeProject(
  node: ProjectNode,
  input: AsyncIterable<RecordBatch>,
  _ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const exprs = compileExprs(
    node.items.map((i) => i.expr),
    layoutOf(node.input.columns.map((c) => c.id)),
  );
  const schema = physicalSchema(node);
  for await (const b of input) {
    const n = b.numRows;
    yield recordBatch(schema, exprs.map((e) => toColumn(e.evaluate(b), n)), n);
  }
}
