/**
 * Hash aggregation in three modes: `partial` (per input partition, emits
 * group keys plus accumulator states), `final` (merges states after a hash
 * repartition on the keys) and `single` (raw rows to final values). GROUPING
 * SETS expand each batch once per set, with the keys outside the set nulled
 * and a grouping-id key added.
 *
 * @module
 */

import { type RecordBatch, recordBatch, sliceBatch } from "../../arrow/batch.ts";
import { type Column, nullColumn, numericColumn } from "../../arrow/column.ts";
import { INT64 } from "../../arrow/types.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import { type Accumulator, createAccumulator } from "../aggregates.ts";
import type { TaskContext } from "../context.ts";
import { toColumn } from "../datum.ts";
import { compileExprs, layoutOf } from "../expr.ts";
import { createGroupTable, type GroupTable } from "../hash_table.ts";
import { selectTrue } from "../kernels/boolean.ts";

type AggregateNode = PhysicalPlan & { op: "aggregate" };

/** Aggregates a stream of batches. */
export async function* executeAggregate(
  node: AggregateNode,
  input: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const accs: Accumulator[] = node.aggregates.map(createAccumulator);
  const keyTypes = node.groupBy.map((g) => g.expr.type);
  const hasSets = node.groupingSets !== null;
  const allKeyTypes = hasSets ? [...keyTypes, INT64] : keyTypes;
  const noKeys = allKeyTypes.length === 0;
  const table: GroupTable | null = noKeys ? null : createGroupTable(allKeyTypes);
  const schema = physicalSchema(node);
  // Bytes a group holds, estimated: keys (strings at 32 bytes), states, hash slots.
  const groupBytes = 16 + allKeyTypes.reduce((s, t) => s + (t.id === "utf8" ? 32 : 8), 0) +
    accs.reduce((s, a) => s + 8 * a.stateTypes.length, 0);
  let accounted = 0;
  /** Reserves the groups added since the last call from the query's memory budget. */
  const account = () => {
    const size = table?.size ?? 0;
    if (size <= accounted) return;
    ctx.memory?.reserve((size - accounted) * groupBytes, "aggregating");
    accounted = size;
  };

  if (node.mode === "final") {
    // Input: keys (and grouping id last among keys), then each aggregate's state columns.
    const nk = allKeyTypes.length;
    const stateStart: number[] = [];
    let at = nk;
    for (const a of accs) {
      stateStart.push(at);
      at += a.stateTypes.length;
    }
    for await (const b of input) {
      const n = b.numRows;
      const groups = table ? table.insert(b.columns.slice(0, nk), n) : new Int32Array(n);
      const size = table ? table.size : 1;
      account();
      accs.forEach((a, k) =>
        a.merge(
          groups,
          b.columns.slice(stateStart[k], stateStart[k] + a.stateTypes.length),
          n,
          size,
        )
      );
    }
  } else {
    const layout = layoutOf(node.input.columns.map((c) => c.id));
    const keyExprs = node.groupBy.map((g) => g.expr);
    const argExprs = node.aggregates.flatMap((a) => a.args);
    const filterExprs = node.aggregates.filter((a) => a.filter).map((a) => a.filter!);
    const compiled = compileExprs([...keyExprs, ...argExprs, ...filterExprs], layout);
    const keyC = compiled.slice(0, keyExprs.length);
    let pos = keyExprs.length;
    const argC = node.aggregates.map((a) => {
      const c = compiled.slice(pos, pos + a.args.length);
      pos += a.args.length;
      return c;
    });
    const filterC = node.aggregates.map((a) => (a.filter ? compiled[pos++] : null));
    const sets = node.groupingSets ?? [keyExprs.map((_, i) => i)];
    for await (const b of input) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const n = b.numRows;
      const keys = keyC.map((k) => toColumn(k.evaluate(b), n));
      const args = argC.map((cs) => cs.map((c) => toColumn(c.evaluate(b), n)));
      for (const set of sets) {
        let groups: Int32Array;
        if (table) {
          let setKeys: Column[] = keys;
          if (hasSets) {
            const inSet = new Set(set);
            let gid = 0;
            setKeys = keys.map((k, i) => {
              if (inSet.has(i)) return k;
              gid |= 1 << i;
              return nullColumn(k.type, n);
            });
            setKeys.push(numericColumn(INT64, new Float64Array(n).fill(gid)));
          }
          groups = table.insert(setKeys, n);
        } else groups = new Int32Array(n);
        const size = table ? table.size : 1;
        account();
        accs.forEach((a, k) => {
          let g = groups;
          const f = filterC[k];
          if (f) {
            const sel = selectTrue(f.evaluate(b), n);
            if (sel !== "all") {
              g = new Int32Array(n).fill(-1);
              if (sel !== "none") { for (const i of sel) g[i] = groups[i]; }
            }
          }
          a.update(g, args[k], n, size);
        });
      }
    }
  }

  let numGroups = table ? table.size : 1;
  if (noKeys && node.mode === "partial") numGroups = 1;
  if (numGroups === 0) return;
  const keyCols = table ? table.keyColumns() : [];
  const valueCols: Column[] = [];
  for (const a of accs) {
    if (node.mode === "partial") valueCols.push(...a.state(numGroups));
    else valueCols.push(a.finish(numGroups));
  }
  // Output order: group keys, aggregate values (or states), then the grouping id.
  const gidCol = hasSets ? [keyCols.pop()!] : [];
  const columns = node.mode === "partial"
    ? [...keyCols, ...gidCol, ...valueCols]
    : [...keyCols, ...valueCols, ...gidCol];
  const out = recordBatch(schema, columns, numGroups);
  for (let s = 0; s < numGroups; s += ctx.batchSize) {
    yield sliceBatch(out, s, Math.min(ctx.batchSize, numGroups - s));
  }
}
