/**
 * In-process exchanges: the first consumer of an exchange runs every input
 * partition (concurrently), routes the batches into output buckets with the
 * same partitioner the cluster shuffle uses, and all consumers then read
 * their bucket.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { SpiceError } from "../errors.ts";
import type { PhysicalPlan } from "../physical/plan.ts";
import type { ExchangeSource, TaskContext } from "./context.ts";
import { layoutOf } from "./expr.ts";
import { Partitioner } from "./partitioner.ts";

type Execute = (
  plan: PhysicalPlan,
  partition: number,
  ctx: TaskContext,
) => AsyncIterable<RecordBatch>;

/** Exchanges materialised in memory, per query. */
export class LocalExchanges implements ExchangeSource {
  readonly #results = new Map<number, Promise<RecordBatch[][]>>();
  readonly #execute: Execute;

  /** Uses `execute` to run exchange inputs. */
  constructor(execute: Execute) {
    this.#execute = execute;
  }

  /** Reads one output partition of an exchange. */
  async *read(node: PhysicalPlan, partition: number, ctx: TaskContext): AsyncIterable<RecordBatch> {
    if (node.op === "exchange_read") {
      throw new SpiceError("INTERNAL", "exchange_read needs the distributed runtime");
    }
    let p = this.#results.get(node.id);
    if (!p) {
      p = this.#materialize(node, ctx);
      this.#results.set(node.id, p);
    }
    const buckets = await p;
    yield* buckets[node.op === "broadcast" ? 0 : partition] ?? [];
  }

  async #materialize(node: PhysicalPlan, ctx: TaskContext): Promise<RecordBatch[][]> {
    if (node.op !== "repartition" && node.op !== "coalesce" && node.op !== "broadcast") {
      throw new SpiceError("INTERNAL", `${node.op} is not an exchange`);
    }
    const input = node.input;
    const outParts = node.op === "repartition" ? node.partitions : 1;
    const buckets: RecordBatch[][] = Array.from({ length: outParts }, () => []);
    const keys = node.op === "repartition" ? node.keys : null;
    await Promise.all(
      Array.from({ length: input.partitions }, async (_, p) => {
        const partitioner = new Partitioner(
          keys,
          layoutOf(input.columns.map((c) => c.id)),
          outParts,
        );
        for await (const b of this.#execute(input, p, ctx)) {
          if (b.numRows === 0) continue;
          partitioner.split(b).forEach((part, k) => {
            if (part) buckets[k].push(part);
          });
        }
      }),
    );
    return buckets;
  }
}
