/**
 * The logical optimizer: a fixed sequence of rules, each a function
 * LogicalPlan -> LogicalPlan in `rules/` with its own tests.
 *
 * @module
 */

import type { LogicalPlan } from "./logical.ts";
import { foldConstants } from "./rules/fold_constants.ts";
import { pruneColumns } from "./rules/prune_columns.ts";
import { reduceAggregates } from "./rules/reduce_aggregates.ts";
import { pushFilters } from "./rules/push_filters.ts";
import { pushSemiJoins } from "./rules/push_semi_joins.ts";
import { reorderJoins } from "./rules/reorder_joins.ts";

/** A named rule. */
export interface OptimizerRule {
  readonly name: string;
  readonly apply: (plan: LogicalPlan) => LogicalPlan;
}

/** The rules, in the order they run. */
export const RULES: readonly OptimizerRule[] = [
  { name: "fold_constants", apply: foldConstants },
  { name: "push_filters", apply: pushFilters },
  { name: "push_semi_joins", apply: pushSemiJoins },
  { name: "reorder_joins", apply: reorderJoins },
  { name: "reduce_aggregates", apply: reduceAggregates },
  // Reordering can move conjuncts into new joins; push again, then prune.
  { name: "push_filters_again", apply: pushFilters },
  { name: "prune_columns", apply: pruneColumns },
];

/** Optimizes a logical plan. */
export function optimize(plan: LogicalPlan): LogicalPlan {
  let p = plan;
  for (const r of RULES) p = r.apply(p);
  return p;
}
