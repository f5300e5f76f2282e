/**
 * Splitting a physical plan into stages at its exchanges (Ballista's model):
 * each exchange's input becomes a stage whose tasks write their output split
 * into buckets (by hash, into one bucket, or one bucket read by every
 * consumer), and the exchange itself becomes an `exchange_read` node in the
 * consuming stage. The root fragment is the final stage, whose output goes
 * back to the client.
 *
 * @module
 */

import type { Expr } from "../plan/expr.ts";
import {
  EXCHANGES,
  physicalInputs,
  type PhysicalPlan,
  withPhysicalInputs,
} from "../physical/plan.ts";

/** How a stage's task output is split into buckets. */
export type OutputPartitioning =
  | { readonly kind: "hash"; readonly keys: readonly Expr[] | null; readonly partitions: number }
  | { readonly kind: "single" }
  | { readonly kind: "result" };

/** One stage of a job. */
export interface Stage {
  /** The exchange node id this stage feeds (0 for the final stage). */
  readonly id: number;
  /** The plan fragment one task runs (per partition). */
  readonly plan: PhysicalPlan;
  /** Number of tasks: one per output partition of the fragment. */
  readonly tasks: number;
  readonly output: OutputPartitioning;
  /** Stages whose output this stage reads. */
  readonly inputs: readonly number[];
}

/** The id of the final stage. */
export const FINAL_STAGE = 0;

/** Splits a plan into stages; the last element is the final stage. */
export function splitStages(root: PhysicalPlan): Stage[] {
  const stages: Stage[] = [];
  const cut = (p: PhysicalPlan, inputs: number[]): PhysicalPlan => {
    const children = physicalInputs(p);
    if (children.length === 0) return p;
    return withPhysicalInputs(
      p,
      children.map((c) => {
        if (!EXCHANGES.has(c.op)) return cut(c, inputs);
        const ex = c as PhysicalPlan & { op: "repartition" | "coalesce" | "broadcast" };
        const childInputs: number[] = [];
        const fragment = cut(ex.input, childInputs);
        stages.push({
          id: ex.id,
          plan: fragment,
          tasks: fragment.partitions,
          output: ex.op === "repartition"
            ? { kind: "hash", keys: ex.keys, partitions: ex.partitions }
            : { kind: "single" },
          inputs: childInputs,
        });
        inputs.push(ex.id);
        return {
          op: "exchange_read",
          id: ex.id,
          exchangeId: ex.id,
          read: ex.op === "repartition" ? "partition" : "all",
          columns: ex.columns,
          partitions: ex.partitions,
        };
      }),
    );
  };
  const finalInputs: number[] = [];
  const finalPlan = EXCHANGES.has(root.op) ? root : cut(root, finalInputs);
  if (EXCHANGES.has(root.op)) {
    // A plan that is just an exchange: its input is the final stage.
    const ex = root as PhysicalPlan & { input: PhysicalPlan };
    return [...splitStages(ex.input)];
  }
  stages.push({
    id: FINAL_STAGE,
    plan: finalPlan,
    tasks: finalPlan.partitions,
    output: { kind: "result" },
    inputs: finalInputs,
  });
  return stages;
}
