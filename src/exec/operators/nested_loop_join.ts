/**
 * Nested-loop join for conditions without equality keys (and CROSS JOIN):
 * the right side is gathered whole and each left batch is paired with it in
 * bounded chunks, then filtered. Preserves the left side for LEFT, SEMI,
 * ANTI and MARK joins; the planner routes RIGHT/FULL joins without keys
 * through one partition so that unmatched right rows are known at the end.
 *
 * @module
 */

import { concatBatches, type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import { nullColumn, numericColumn, take } from "../../arrow/column.ts";
import { BOOL } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { compileExpr, layoutOf } from "../expr.ts";
import { selectTrue } from "../kernels/boolean.ts";
import { isScalar } from "../datum.ts";
import { takeOrNull } from "./hash_join.ts";

type NljNode = PhysicalPlan & { op: "nested_loop_join" };

/** Joins left batches against the gathered right side. */
export async function* executeNestedLoopJoin(
  node: NljNode,
  rightBatches: readonly RecordBatch[],
  left: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const R = concatBatches(physicalSchema(node.right), rightBatches);
  const schema = physicalSchema(node);
  const cond = node.filter
    ? compileExpr(
      node.filter,
      layoutOf([...node.left.columns, ...node.right.columns].map((c) => c.id)),
    )
    : null;
  const kind = node.kind;
  const rightMatched = kind === "right" || kind === "full" ? new Uint8Array(R.numRows) : null;
  const pairSchema = {
    fields: [...physicalSchema(node.left).fields, ...physicalSchema(node.right).fields],
  };
  const m = R.numRows;
  for await (const lb of left) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const n = lb.numRows;
    const leftMatched = new Uint8Array(n);
    // NOT IN / IN semantics: a pair whose condition is NULL makes a non-match unknown.
    const leftUnknown = node.nullAware ? new Uint8Array(n) : null;
    // Pairs in chunks of about one batch: rowsPerChunk left rows x all right rows.
    const rowsPerChunk = Math.max(1, Math.floor(ctx.batchSize / Math.max(1, m)));
    for (let s = 0; s < n && m > 0; s += rowsPerChunk) {
      const e = Math.min(n, s + rowsPerChunk);
      const count = (e - s) * m;
      let li = new Int32Array(count), ri = new Int32Array(count);
      let k = 0;
      for (let i = s; i < e; i++) {
        for (let j = 0; j < m; j++) {
          li[k] = i;
          ri[k++] = j;
        }
      }
      if (cond) {
        const pairs = recordBatch(pairSchema, [
          ...lb.columns.map((c) => take(c, li)),
          ...R.columns.map((c) => take(c, ri)),
        ], count);
        const verdict = cond.evaluate(pairs);
        if (leftUnknown) {
          if (isScalar(verdict)) {
            if (verdict.value === null) { for (let q = 0; q < count; q++) leftUnknown[li[q]] = 1; }
          } else if (verdict.validity) {
            for (let q = 0; q < count; q++) if (!verdict.validity[q]) leftUnknown[li[q]] = 1;
          }
        }
        const sel = selectTrue(verdict, count);
        if (sel === "none") continue;
        if (sel !== "all") {
          li = Int32Array.from(sel, (x) => li[x]);
          ri = Int32Array.from(sel, (x) => ri[x]);
        }
      }
      if (node.singleMatch) {
        for (let q = 0; q < li.length; q++) {
          if (leftMatched[li[q]]++) {
            throw new SpiceError("DATA", "scalar subquery returned more than one row");
          }
        }
      }
      for (let q = 0; q < li.length; q++) leftMatched[li[q]] = 1;
      if (rightMatched) { for (let q = 0; q < ri.length; q++) rightMatched[ri[q]] = 1; }
      if (kind === "inner" || kind === "left" || kind === "right" || kind === "full") {
        if (li.length > 0) {
          yield recordBatch(schema, [
            ...lb.columns.map((c) => take(c, li)),
            ...R.columns.map((c) => take(c, ri)),
          ], li.length);
        }
      }
    }
    if (kind === "left" || kind === "full") {
      const miss: number[] = [];
      for (let i = 0; i < n; i++) if (!leftMatched[i]) miss.push(i);
      if (miss.length) {
        const li = Int32Array.from(miss);
        const ri = new Int32Array(li.length).fill(-1);
        yield recordBatch(schema, [
          ...lb.columns.map((c) => take(c, li)),
          ...R.columns.map((c) => takeOrNull(c, ri)),
        ], li.length);
      }
    } else if (kind === "semi" || kind === "anti") {
      const want = kind === "semi" ? 1 : 0;
      const keep: number[] = [];
      for (let i = 0; i < n; i++) {
        if (leftMatched[i] === want && !(kind === "anti" && leftUnknown && leftUnknown[i])) {
          keep.push(i);
        }
      }
      if (keep.length) {
        const li = Int32Array.from(keep);
        yield recordBatch(schema, lb.columns.map((c) => take(c, li)), li.length);
      }
    } else if (kind === "mark") {
      let validity: Uint8Array | null = null;
      if (leftUnknown) {
        for (let i = 0; i < n; i++) {
          if (!leftMatched[i] && leftUnknown[i]) {
            validity ??= new Uint8Array(n).fill(1);
            validity[i] = 0;
          }
        }
      }
      yield recordBatch(schema, [...lb.columns, numericColumn(BOOL, leftMatched, validity)], n);
    }
  }
  if (rightMatched) {
    const miss: number[] = [];
    for (let j = 0; j < m; j++) if (!rightMatched[j]) miss.push(j);
    if (miss.length) {
      const ri = Int32Array.from(miss);
      yield recordBatch(schema, [
        ...node.left.columns.map((c) => nullColumn(c.type, ri.length)),
        ...R.columns.map((c) => take(c, ri)),
      ], ri.length);
    }
  }
}
