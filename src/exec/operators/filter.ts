/**
 * Filter: evaluates the predicate over each batch and keeps the rows where
 * it is TRUE (a selection vector, then one gather per column).
 *
 * @module
 */

import { type RecordBatch, recordBatch, takeBatch } from "../../arrow/batch.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { compileExpr, layoutOf } from "../expr.ts";
import { selectTrue } from "../kernels/boolean.ts";
import { compileFusedFilter } from "../fused_filter.ts";

type FilterNode = PhysicalPlan & { op: "filter" };

/** Filters a stream of batches. */
export async function* executeFilter(
  node: FilterNode,
  input: AsyncIterable<RecordBatch>,
  _ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const layout = layoutOf(node.input.columns.map((c) => c.id));
  const pred = compileExpr(node.predicate, layout);
  // One generated loop for comparisons on numeric columns; the vectorised path otherwise.
  const fused = compileFusedFilter(node.predicate, layout);
  const schema = physicalSchema(node);
  for await (const b of input) {
    const sel = fused?.select(b) ?? selectTrue(pred.evaluate(b), b.numRows);
    if (sel === "none") continue;
    if (sel === "all") {
      yield recordBatch(schema, b.columns, b.numRows);
      continue;
    }
    yield { ...takeBatch(b, sel), schema };
  }
}
