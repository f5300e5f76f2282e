/**
 * Splits a batch into output partitions by the hash of key expressions (or
 * round-robin): the routing of both the in-process exchange and the cluster
 * shuffle writer, so that both place every row identically.
 *
 * @module
 */

import { type RecordBatch, takeBatch } from "../arrow/batch.ts";
import type { Expr } from "../plan/expr.ts";
import { toColumn } from "./datum.ts";
import { type CompiledExpr, compileExprs, type Layout } from "./expr.ts";
import { hashColumns, mix32 } from "./kernels/hash.ts";

/** Routes batches to `partitions` outputs. */
export class Partitioner {
  readonly #keys: CompiledExpr[] | null;
  readonly #n: number;
  #rr = 0;

  /** A hash partitioner on `keys` (round-robin when null). */
  constructor(keys: readonly Expr[] | null, layout: Layout, partitions: number) {
    this.#keys = keys ? compileExprs(keys, layout) : null;
    this.#n = partitions;
  }

  /** The batch's rows for each partition (undefined where a partition gets none). */
  split(batch: RecordBatch): (RecordBatch | undefined)[] {
    const P = this.#n;
    const out: (RecordBatch | undefined)[] = new Array(P);
    if (P === 1) {
      out[0] = batch;
      return out;
    }
    if (!this.#keys) {
      out[this.#rr++ % P] = batch;
      return out;
    }
    const n = batch.numRows;
    const cols = this.#keys.map((k) => toColumn(k.evaluate(batch), n));
    const h = hashColumns(cols, n);
    const counts = new Int32Array(P);
    const part = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Re-mix so that partition choice and in-partition hash-table buckets use different bits.
      const p = mix32(h[i] + 0x7f4a7c15) % P;
      part[i] = p;
      counts[p]++;
    }
    const idx = Array.from({ length: P }, (_, p) => new Int32Array(counts[p]));
    const fill = new Int32Array(P);
    for (let i = 0; i < n; i++) {
      const p = part[i];
      idx[p][fill[p]++] = i;
    }
    for (let p = 0; p < P; p++) {
      if (counts[p] === 0) continue;
      out[p] = counts[p] === n ? batch : takeBatch(batch, idx[p]);
    }
    return out;
  }
}
