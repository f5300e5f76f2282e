/**
 * Leaf operators without a table: VALUES rows and the empty relation
 * (SELECT without FROM reads one row of no columns).
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import { concatColumns } from "../../arrow/column.ts";
import { toColumn } from "../datum.ts";
import { compileExpr } from "../expr.ts";

/** Streams a VALUES node. */
export async function* executeValues(
  node: PhysicalPlan & { op: "values" },
): AsyncIterable<RecordBatch> {
  const one = recordBatch({ fields: [] }, [], 1);
  const schema = physicalSchema(node);
  const empty = new Map<number, number>();
  const columns = node.columns.map((_, c) =>
    concatColumns(node.rows.map((row) => toColumn(compileExpr(row[c], empty).evaluate(one), 1)))
  );
  yield recordBatch(schema, columns, node.rows.length);
}

/** Streams an empty relation (one row with no columns when `oneRow`). */
export async function* executeEmpty(
  node: PhysicalPlan & { op: "empty" },
): AsyncIterable<RecordBatch> {
  if (node.oneRow) yield recordBatch(physicalSchema(node), [], 1);
}
