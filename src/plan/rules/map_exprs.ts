/**
 * Applies a function to every expression held by one plan node (not its
 * inputs), for rules that rewrite expressions in place.
 *
 * @module
 */

import type { Expr } from "../expr.ts";
import type { LogicalPlan } from "../logical.ts";

/** Rewrites the expressions of a single node. */
export function mapPlanExprs(p: LogicalPlan, f: (e: Expr) => Expr): LogicalPlan {
  switch (p.kind) {
    case "scan":
      return { ...p, filters: p.filters.map(f) };
    case "values":
      return { ...p, rows: p.rows.map((r) => r.map(f)) };
    case "filter":
      return { ...p, predicate: f(p.predicate) };
    case "project":
      return { ...p, items: p.items.map((i) => ({ ...i, expr: f(i.expr) })) };
    case "aggregate":
      return {
        ...p,
        groupBy: p.groupBy.map((g) => ({ ...g, expr: f(g.expr) })),
        aggregates: p.aggregates.map((a) => ({
          ...a,
          args: a.args.map(f),
          filter: a.filter ? f(a.filter) : null,
        })),
      };
    case "join":
      return {
        ...p,
        on: p.on.map(([a, b]) => [f(a), f(b)] as const),
        filter: p.filter ? f(p.filter) : null,
      };
    case "sort":
      return { ...p, keys: p.keys.map((k) => ({ ...k, expr: f(k.expr) })) };
    case "window":
      return {
        ...p,
        windows: p.windows.map((w) => ({
          ...w,
          args: w.args.map(f),
          partitionBy: w.partitionBy.map(f),
          orderBy: w.orderBy.map((k) => ({ ...k, expr: f(k.expr) })),
        })),
      };
    default:
      return p;
  }
}
