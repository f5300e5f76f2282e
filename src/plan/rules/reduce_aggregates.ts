/**
 * Semi-join reduction of aggregates (sideways information passing): when an
 * aggregate's groups are joined on their keys to a small relation, only the
 * groups whose keys that relation holds survive the join, so the
 * aggregate's input can first be filtered by a semi join on those keys.
 * Decorrelated subqueries take this shape: TPC-H Q17 averages l_quantity per
 * part only for the few hundred parts of one brand and container, not for
 * all 200,000; Q20 and Q2 likewise.
 *
 * The small relation is the smallest piece of the other join input that
 * holds the key columns (found through inner joins and column projections),
 * and it is read twice; so the rule applies only when that piece is far
 * smaller than the aggregate's input. The new semi join is then pushed down
 * like any other (push_semi_joins).
 *
 * @module
 */

import { join } from "../builder.ts";
import type { Expr } from "../expr.ts";
import { type LogicalPlan, outputIds, planInputs, withInputs } from "../logical.ts";
import { estimateRows } from "../stats.ts";
import { pushSemiJoins } from "./push_semi_joins.ts";

/** The reduction applies when the key relation is at most this share of the aggregate's input. */
const MAX_SHARE = 0.25;

type ColumnExpr = Expr & { kind: "column" };

/** Adds semi-join reductions below aggregates joined on their keys to small relations. */
export function reduceAggregates(plan: LogicalPlan): LogicalPlan {
  const p = withInputs(plan, planInputs(plan).map(reduceAggregates));
  if (p.kind !== "join" || p.on.length === 0) return p;
  if (p.joinKind !== "inner" && p.joinKind !== "left" && p.joinKind !== "right") return p;
  // The aggregate may be on either side, but not on a side whose rows are preserved.
  if (p.joinKind !== "left") {
    const left = reduce(p.left, p.on.map(([l]) => l), p.right, p.on.map(([, r]) => r));
    if (left) return { ...p, left };
  }
  if (p.joinKind !== "right") {
    const right = reduce(p.right, p.on.map(([, r]) => r), p.left, p.on.map(([l]) => l));
    if (right) return { ...p, right };
  }
  return p;
}

/**
 * `side` with its aggregate's input filtered by the keys of `other`, or null
 * when `side` is not an aggregate joined on group keys or nothing pays.
 */
function reduce(
  side: LogicalPlan,
  sideKeys: readonly Expr[],
  other: LogicalPlan,
  otherKeys: readonly Expr[],
): LogicalPlan | null {
  if (!sideKeys.every(isColumn) || !otherKeys.every(isColumn)) return null;
  // Down to the aggregate: each key must be a grouping key (through column projections).
  const path: LogicalPlan[] = [];
  let node = side;
  let keys = sideKeys as ColumnExpr[];
  for (;;) {
    if (node.kind === "aggregate") break;
    if (node.kind === "filter") {
      path.push(node);
      node = node.input;
      continue;
    }
    if (node.kind !== "project") return null;
    const mapped = mapThrough(node, keys);
    if (!mapped) return null;
    path.push(node);
    keys = mapped;
    node = node.input;
  }
  const agg = node;
  if (agg.groupingSets !== null) return null;
  const inputKeys: ColumnExpr[] = [];
  for (const k of keys) {
    const g = agg.groupBy.find((x) => x.id === k.id);
    if (!g || !isColumn(g.expr)) return null;
    inputKeys.push(g.expr);
  }
  const source = keySource(other, otherKeys as ColumnExpr[]);
  if (estimateRows(source.plan) > MAX_SHARE * estimateRows(agg.input)) return null;
  const semi = join(agg.input, source.plan, "semi", {
    on: inputKeys.map((k, i) => [k, source.keys[i]] as const),
  });
  let rebuilt: LogicalPlan = { ...agg, input: pushSemiJoins(semi) };
  for (let i = path.length - 1; i >= 0; i--) {
    rebuilt = { ...path[i], input: rebuilt } as LogicalPlan;
  }
  return rebuilt;
}

function isColumn(e: Expr): e is ColumnExpr {
  return e.kind === "column";
}

/** The input columns that projection items `keys` pass through unchanged; null if any is computed. */
function mapThrough(
  p: LogicalPlan & { kind: "project" },
  keys: readonly ColumnExpr[],
): ColumnExpr[] | null {
  const out: ColumnExpr[] = [];
  for (const k of keys) {
    const item = p.items.find((i) => i.id === k.id);
    if (!item || !isColumn(item.expr)) return null;
    out.push(item.expr);
  }
  return out;
}

/**
 * The smallest piece of `p` that outputs the key columns: down through
 * inner joins (into the input holding every key) and column projections;
 * a filter or anything else is kept whole (its rows are the ones that count).
 */
function keySource(
  p: LogicalPlan,
  keys: readonly ColumnExpr[],
): { plan: LogicalPlan; keys: readonly ColumnExpr[] } {
  if (p.kind === "join" && p.joinKind === "inner") {
    for (const child of [p.left, p.right]) {
      const ids = outputIds(child);
      if (keys.every((k) => ids.has(k.id))) return keySource(child, keys);
    }
  }
  if (p.kind === "project") {
    const mapped = mapThrough(p, keys);
    if (mapped) return keySource(p.input, mapped);
  }
  return { plan: p, keys };
}
