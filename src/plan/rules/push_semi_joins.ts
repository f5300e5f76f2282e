/**
 * Semi-join pushdown: a semi or anti join (IN, EXISTS, NOT IN, NOT EXISTS
 * after decorrelation) is a filter on the rows of its left input, so when
 * that input is a join and the semi join reads only one of its sides, the
 * filter can be applied to that side first. TPC-H Q18's `o_orderkey IN
 * (large orders)` then filters orders down to a handful of rows before the
 * six million lineitem rows are joined, instead of after.
 *
 * Pushing pays when the side has fewer rows than the join (the semi join
 * then probes fewer rows, and the join gets smaller inputs); otherwise the
 * semi join stays where it is (TPC-H Q21's EXISTS runs after the joins that
 * reduce lineitem). Pushing is allowed into either side of an inner join and
 * into the preserved side of a left join.
 *
 * @module
 */

import { type Expr, exprColumns, substitute } from "../expr.ts";
import { type LogicalPlan, outputIds, planInputs, withInputs } from "../logical.ts";
import { estimateRows } from "../stats.ts";

type JoinPlan = LogicalPlan & { kind: "join" };

/** Pushes every semi and anti join of the plan as far down as it pays. */
export function pushSemiJoins(plan: LogicalPlan): LogicalPlan {
  const p = withInputs(plan, planInputs(plan).map(pushSemiJoins));
  if (p.kind === "join" && (p.joinKind === "semi" || p.joinKind === "anti") && !p.singleMatch) {
    return sink(p);
  }
  return p;
}

/** The columns of its left input that a semi join reads. */
function leftColumnsRead(semi: JoinPlan): Set<number> {
  const left = outputIds(semi.left);
  const out = new Set<number>();
  const add = (ids: Iterable<number>) => {
    for (const id of ids) if (left.has(id)) out.add(id);
  };
  for (const [l] of semi.on) add(exprColumns(l));
  if (semi.filter) add(exprColumns(semi.filter));
  return out;
}

function sink(semi: JoinPlan): LogicalPlan {
  const below = semi.left;
  if (below.kind === "project") return sinkThroughProject(semi, below);
  if (below.kind !== "join" || !(below.joinKind === "inner" || below.joinKind === "left")) {
    return semi;
  }
  const reads = leftColumnsRead(semi);
  const rows = estimateRows(below);
  const sides = below.joinKind === "inner" ? [below.left, below.right] : [below.left];
  for (const side of sides) {
    const ids = outputIds(side);
    if (![...reads].every((id) => ids.has(id)) || estimateRows(side) > rows) continue;
    const pushed = sink({ ...semi, left: side });
    return side === below.left ? { ...below, left: pushed } : { ...below, right: pushed };
  }
  return semi;
}

/**
 * Below a projection when the semi join reads only columns it passes through
 * unchanged (renamed to the columns they come from).
 */
function sinkThroughProject(semi: JoinPlan, proj: LogicalPlan & { kind: "project" }): LogicalPlan {
  const map = new Map<number, Expr>();
  for (const id of leftColumnsRead(semi)) {
    const item = proj.items.find((i) => i.id === id);
    if (!item || item.expr.kind !== "column") return semi;
    map.set(id, item.expr);
  }
  const on = semi.on.map(([l, r]) => [substitute(l, map), r] as const);
  const filter = semi.filter ? substitute(semi.filter, map) : null;
  return { ...proj, input: sink({ ...semi, left: proj.input, on, filter }) };
}
