/**
 * Join ordering for trees of inner joins: gathers the relations and join
 * predicates of each tree and rebuilds it left-deep, greedily. The largest
 * relation (after its own filters) starts the chain and is streamed; each
 * step adds the connected relation with the fewest estimated rows, so hash
 * tables are built on the small sides and the big one flows through them.
 *
 * @module
 */

import { equiPair, join, readsOnly } from "../builder.ts";
import { andAll, conjuncts, type Expr } from "../expr.ts";
import { type LogicalPlan, outputIds, planInputs, withInputs } from "../logical.ts";
import { estimateRows } from "../stats.ts";

interface Relation {
  plan: LogicalPlan;
  ids: Set<number>;
  rows: number;
}

function isInner(p: LogicalPlan): p is LogicalPlan & { kind: "join" } {
  return p.kind === "join" && p.joinKind === "inner" && !p.nullsEqual && !p.singleMatch;
}

function gather(p: LogicalPlan, rels: LogicalPlan[], preds: Expr[]): void {
  if (isInner(p)) {
    gather(p.left, rels, preds);
    gather(p.right, rels, preds);
    for (const [a, b] of p.on) {
      preds.push({ kind: "binary", op: "=", left: a, right: b, type: { id: "bool" } });
    }
    preds.push(...conjuncts(p.filter));
    return;
  }
  rels.push(p);
}

/** Reorders every inner-join tree in the plan. */
export function reorderJoins(plan: LogicalPlan): LogicalPlan {
  if (!isInner(plan)) return withInputs(plan, planInputs(plan).map(reorderJoins));
  const leaves: LogicalPlan[] = [];
  const preds: Expr[] = [];
  gather(plan, leaves, preds);
  const rels: Relation[] = leaves.map(reorderJoins).map((r) => ({
    plan: r,
    ids: outputIds(r),
    rows: estimateRows(r),
  }));
  if (rels.length <= 2) {
    return rebuild(rels, preds);
  }
  rels.sort((a, b) => b.rows - a.rows);
  let current = rels.shift()!;
  let pending = [...preds];
  while (rels.length > 0) {
    const connected = rels.filter((r) =>
      pending.some((e) => equiPair(e, current.ids, r.ids) !== null)
    );
    const pool = connected.length > 0 ? connected : rels;
    pool.sort((a, b) => a.rows - b.rows);
    const next = pool[0];
    rels.splice(rels.indexOf(next), 1);
    const ids = new Set([...current.ids, ...next.ids]);
    const on: [Expr, Expr][] = [];
    const residual: Expr[] = [];
    const rest: Expr[] = [];
    for (const e of pending) {
      if (!readsOnly(e, ids)) {
        rest.push(e);
        continue;
      }
      const pair = equiPair(e, current.ids, next.ids);
      if (pair) on.push(pair);
      else residual.push(e);
    }
    pending = rest;
    const j = join(current.plan, next.plan, "inner", { on, filter: andAll(residual) });
    current = { plan: j, ids, rows: estimateRows(j) };
  }
  if (pending.length === 0) return current.plan;
  return { kind: "filter", input: current.plan, predicate: andAll(pending)! };
}

function rebuild(rels: Relation[], preds: Expr[]): LogicalPlan {
  if (rels.length === 1) {
    return preds.length
      ? { kind: "filter", input: rels[0].plan, predicate: andAll(preds)! }
      : rels[0].plan;
  }
  const [a, b] = rels;
  const on: [Expr, Expr][] = [];
  const residual: Expr[] = [];
  for (const e of preds) {
    const pair = equiPair(e, a.ids, b.ids);
    if (pair) on.push(pair);
    else residual.push(e);
  }
  return join(a.plan, b.plan, "inner", { on, filter: andAll(residual) });
}
