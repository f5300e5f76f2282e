/**
 * LIMIT/OFFSET within one partition; stops pulling its input as soon as it
 * has enough rows, which cancels the work below it.
 *
 * @module
 */

import { type RecordBatch, sliceBatch } from "../../arrow/batch.ts";
import type { PhysicalPlan } from "../../physical/plan.ts";

type LimitNode = PhysicalPlan & { op: "limit" };

/** Applies skip/fetch to a stream. */
export async function* executeLimit(
  node: LimitNode,
  input: AsyncIterable<RecordBatch>,
): AsyncIterable<RecordBatch> {
  let skip = node.skip;
  let remaining = node.fetch ?? Infinity;
  if (remaining <= 0) return;
  for await (const b of input) {
    let start = 0;
    if (skip > 0) {
      const s = Math.min(skip, b.numRows);
      skip -= s;
      start = s;
    }
    const take = Math.min(remaining, b.numRows - start);
    if (take > 0) {
      yield sliceBatch(b, start, take);
      remaining -= take;
    }
    if (remaining <= 0) return;
  }
}
