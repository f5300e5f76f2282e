/**
 * Hash join: builds a typed-array hash table on one side and streams the
 * other through it. Supports inner, left, right, full, semi, anti (with NOT
 * IN's null-aware rule) and mark joins, equi keys plus a residual condition.
 *
 * In `collect` mode the build side is the whole (broadcast) input and the
 * table is built once per process and shared by all probe partitions; the
 * planner then always builds on the side that is not preserved, so that no
 * partition needs to know what another matched. In `partitioned` mode both
 * sides are co-partitioned by the keys and each partition joins alone.
 *
 * @module
 */

import { concatBatches, type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import { type Column, nullColumn, numericColumn, take } from "../../arrow/column.ts";
import { BOOL, type Schema } from "../../arrow/types.ts";
import { SpiceError } from "../../errors.ts";
import { type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";
import { toColumn } from "../datum.ts";
import { compileExpr, compileExprs, layoutOf } from "../expr.ts";
import { JoinHashTable } from "../hash_table.ts";
import { selectTrue } from "../kernels/boolean.ts";
import { anyNullMask, hashColumns } from "../kernels/hash.ts";

type JoinNode = PhysicalPlan & { op: "hash_join" };

/** The build side, indexed. */
export interface BuildSide {
  readonly batch: RecordBatch;
  readonly table: JoinHashTable;
}

/** Gathers rows by index where -1 means a NULL row. */
export function takeOrNull(c: Column, idx: Int32Array): Column {
  let anyMissing = false;
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] < 0) {
      anyMissing = true;
      break;
    }
  }
  if (!anyMissing) return take(c, idx);
  if (c.length === 0) return nullColumn(c.type, idx.length);
  const safe = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) safe[i] = idx[i] < 0 ? 0 : idx[i];
  const out = take(c, safe);
  const validity = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    validity[i] = idx[i] < 0 ? 0 : (c.validity === null ? 1 : c.validity[idx[i]]);
  }
  return { ...out, validity } as Column;
}

/** Builds the hash table over a side's batches. */
export function buildSide(node: JoinNode, batches: readonly RecordBatch[]): BuildSide {
  const buildPlan = node.buildSide === "left" ? node.left : node.right;
  const batch = concatBatches(physicalSchema(buildPlan), batches);
  const keyExprs = node.on.map((pair) => (node.buildSide === "left" ? pair[0] : pair[1]));
  const keys = compileExprs(keyExprs, layoutOf(buildPlan.columns.map((c) => c.id)))
    .map((k) => toColumn(k.evaluate(batch), batch.numRows));
  return { batch, table: new JoinHashTable(keys, batch.numRows, node.nullsEqual) };
}

/** Joins a stream of probe batches against a built side. */
export async function* probeJoin(
  node: JoinNode,
  build: BuildSide,
  probe: AsyncIterable<RecordBatch>,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  if (node.nullAware && node.mode === "partitioned") {
    throw new SpiceError(
      "INTERNAL",
      "a null-aware (NOT IN / IN) join needs the whole build side, not a partition",
    );
  }
  const probeIsLeft = node.buildSide === "right";
  const probePlan = probeIsLeft ? node.left : node.right;
  const buildPlan = probeIsLeft ? node.right : node.left;
  const schema = physicalSchema(node);
  const kind = node.kind;
  const probeKeys = compileExprs(
    node.on.map((pair) => (probeIsLeft ? pair[0] : pair[1])),
    layoutOf(probePlan.columns.map((c) => c.id)),
  );
  const residual = node.filter
    ? compileExpr(
      node.filter,
      layoutOf([...node.left.columns, ...node.right.columns].map((c) => c.id)),
    )
    : null;
  const B = build.batch;
  const table = build.table;
  const buildEmpty = B.numRows === 0;
  // Preserved sides.
  const keepProbe = kind === "full" || (probeIsLeft ? kind === "left" : kind === "right");
  const keepBuild = kind === "full" || (probeIsLeft ? kind === "right" : kind === "left");
  const buildMatched = keepBuild || (!probeIsLeft && (kind === "semi" || kind === "anti"))
    ? new Uint8Array(B.numRows)
    : null;
  // NOT IN: a NULL on the build side makes every comparison unknown.
  if (kind === "anti" && node.nullAware && !buildEmpty && table.hasNullKey && probeIsLeft) return;

  // Output columns as (side, index) pairs: the node's projection, or every
  // left column then every right one. The residual condition sees them all.
  const nLeft = node.left.columns.length;
  const allColumns = [...node.left.columns, ...node.right.columns];
  const pick = (sel: readonly number[]) =>
    sel.map((i) => ({ probe: probeIsLeft === i < nLeft, at: i < nLeft ? i : i - nLeft }));
  const gather = (
    sel: readonly { probe: boolean; at: number }[],
    out: Schema,
  ) =>
  (pb: RecordBatch, pi: Int32Array, bi: Int32Array): RecordBatch =>
    recordBatch(
      out,
      sel.map((c) => c.probe ? takeOrNull(pb.columns[c.at], pi) : takeOrNull(B.columns[c.at], bi)),
      pi.length,
    );
  const assemble = gather(pick(node.projection ?? allColumns.map((_, i) => i)), schema);
  const candidate = residual
    ? gather(pick(allColumns.map((_, i) => i)), {
      fields: allColumns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
    })
    : assemble;

  // Pairs gathered per probe step: a batch whose keys fan out to many build
  // rows is probed in steps, so its index arrays stay bounded.
  const stepPairs = Math.max(ctx.batchSize, 1) * 4;
  const outer = kind === "inner" || kind === "left" || kind === "right" || kind === "full";
  for await (const pb of probe) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const n = pb.numRows;
    const keys = probeKeys.map((k) => toColumn(k.evaluate(pb), n));
    const hashes = hashColumns(keys, n);
    // Probe rows with at least one match (for preserved probe rows and semi, anti, mark).
    const matched = keepProbe || !outer ? new Uint8Array(n) : null;
    for (let from = 0; from < n;) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const step = table.probeRange(keys, hashes, from, n, stepPairs);
      from = step.next;
      let pi = step.probe, bi = step.build;
      if (residual && pi.length > 0) {
        const cand = candidate(pb, pi, bi);
        const sel = selectTrue(residual.evaluate(cand), cand.numRows);
        if (sel === "none") {
          pi = new Int32Array(0);
          bi = new Int32Array(0);
        } else if (sel !== "all") {
          const npi = new Int32Array(sel.length), nbi = new Int32Array(sel.length);
          for (let k = 0; k < sel.length; k++) {
            npi[k] = pi[sel[k]];
            nbi[k] = bi[sel[k]];
          }
          pi = npi;
          bi = nbi;
        }
      }
      if (buildMatched) { for (let k = 0; k < bi.length; k++) buildMatched[bi[k]] = 1; }
      if (matched) { for (let k = 0; k < pi.length; k++) matched[pi[k]] = 1; }
      if (outer) {
        for (let s = 0; s < pi.length; s += ctx.batchSize) {
          const e = Math.min(pi.length, s + ctx.batchSize);
          yield assemble(pb, pi.subarray(s, e), bi.subarray(s, e));
        }
      }
    }
    if (outer) {
      if (!keepProbe) continue;
      // The batch's probe rows without a match, paired with a NULL build row.
      let unmatched = 0;
      for (let i = 0; i < n; i++) unmatched += 1 - matched![i];
      if (unmatched === 0) continue;
      const pi = new Int32Array(unmatched), bi = new Int32Array(unmatched).fill(-1);
      let at = 0;
      for (let i = 0; i < n; i++) if (!matched![i]) pi[at++] = i;
      for (let s = 0; s < unmatched; s += ctx.batchSize) {
        const e = Math.min(unmatched, s + ctx.batchSize);
        yield assemble(pb, pi.subarray(s, e), bi.subarray(s, e));
      }
      continue;
    }
    // semi, anti, mark
    if (!probeIsLeft) continue; // build-side semi/anti emit at the end
    if (kind === "mark") {
      let validity: Uint8Array | null = null;
      if (node.nullAware && !buildEmpty) {
        // x IN (subquery): no match is NULL when x is NULL or the subquery has a NULL.
        const probeNull = anyNullMask(keys, n);
        for (let i = 0; i < n; i++) {
          if (matched![i]) continue;
          if (table.hasNullKey || (probeNull && probeNull[i])) {
            validity ??= new Uint8Array(n).fill(1);
            validity[i] = 0;
          }
        }
      }
      yield recordBatch(schema, [...pb.columns, numericColumn(BOOL, matched!, validity)], n);
      continue;
    }
    const want = kind === "semi" ? 1 : 0;
    let probeNull: Uint8Array | null = null;
    if (kind === "anti" && node.nullAware && !buildEmpty) probeNull = anyNullMask(keys, n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (matched![i] === want && !(probeNull && probeNull[i])) count++;
    }
    if (count === 0) continue;
    if (count === n) {
      yield recordBatch(schema, pb.columns, n);
      continue;
    }
    const idx = new Int32Array(count);
    let at = 0;
    for (let i = 0; i < n; i++) {
      if (matched![i] === want && !(probeNull && probeNull[i])) idx[at++] = i;
    }
    yield recordBatch(schema, pb.columns.map((c) => take(c, idx)), count);
  }

  // Rows of the build side decided only now that every probe row was seen.
  if (buildMatched) {
    const emitUnmatched = keepBuild || kind === "anti";
    const rows: number[] = [];
    for (let j = 0; j < B.numRows; j++) if ((buildMatched[j] === 0) === emitUnmatched) rows.push(j);
    if (rows.length === 0) return;
    const bi = Int32Array.from(rows);
    if (kind === "semi" || kind === "anti") {
      yield recordBatch(schema, B.columns.map((c) => take(c, bi)), bi.length);
      return;
    }
    const pi = new Int32Array(bi.length).fill(-1);
    const emptyProbe = recordBatch(
      physicalSchema(probePlan),
      probePlan.columns.map((c) => nullColumn(c.type, 0)),
      0,
    );
    for (let s = 0; s < bi.length; s += ctx.batchSize) {
      const e = Math.min(bi.length, s + ctx.batchSize);
      yield assemble(emptyProbe, pi.subarray(s, e), bi.subarray(s, e));
    }
  }
  void buildPlan;
}
