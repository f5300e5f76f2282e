/**
 * Decorrelation: turns a subquery that refers to columns of its enclosing
 * query into a plain plan plus join conditions, so that it runs once as a
 * join instead of once per outer row.
 *
 * Correlated conjuncts are pulled up out of filters; through an aggregate,
 * an `inner = outer` condition becomes a new grouping key and the condition
 * is re-stated on that key (the classic rewrite of a correlated scalar
 * aggregate into a grouped aggregate joined on the correlation keys).
 *
 * @module
 */

import { SpiceError } from "../errors.ts";
import { equiPair, filter, type IdGen, project } from "../plan/builder.ts";
import { andAll, conjuncts, type Expr, exprColumns, exprKey, walkExpr } from "../plan/expr.ts";
import { type LogicalPlan, outputColumns, outputIds, planInputs } from "../plan/logical.ts";

/** Every column id produced anywhere in a plan. */
export function producedIds(plan: LogicalPlan, into: Set<number> = new Set()): Set<number> {
  for (const c of outputColumns(plan)) into.add(c.id);
  for (const i of planInputs(plan)) producedIds(i, into);
  if (plan.kind === "aggregate") { for (const g of plan.groupBy) into.add(g.id); }
  return into;
}

/** Every expression that a single node (not its inputs) evaluates. */
export function nodeExprs(plan: LogicalPlan): Expr[] {
  switch (plan.kind) {
    case "scan":
      return [...plan.filters];
    case "values":
      return plan.rows.flat();
    case "filter":
      return [plan.predicate];
    case "project":
      return plan.items.map((i) => i.expr);
    case "aggregate":
      return [
        ...plan.groupBy.map((g) => g.expr),
        ...plan.aggregates.flatMap((a) => [...a.args, ...(a.filter ? [a.filter] : [])]),
      ];
    case "join":
      return [...plan.on.flat(), ...(plan.filter ? [plan.filter] : [])];
    case "sort":
      return plan.keys.map((k) => k.expr);
    case "window":
      return plan.windows.flatMap((w) => [
        ...w.args,
        ...w.partitionBy,
        ...w.orderBy.map((k) => k.expr),
      ]);
    default:
      return [];
  }
}

/** Every column id read by expressions anywhere in a plan. */
export function referencedIds(plan: LogicalPlan, into: Set<number> = new Set()): Set<number> {
  for (const e of nodeExprs(plan)) exprColumns(e, into);
  for (const i of planInputs(plan)) referencedIds(i, into);
  return into;
}

/** The ids a plan reads but does not produce: its correlated (outer) references. */
export function outerReferences(plan: LogicalPlan): Set<number> {
  const produced = producedIds(plan);
  const out = new Set<number>();
  for (const id of referencedIds(plan)) if (!produced.has(id)) out.add(id);
  return out;
}

function readsAny(e: Expr, ids: ReadonlySet<number>): boolean {
  let hit = false;
  walkExpr(e, (x) => {
    if (x.kind === "column" && ids.has(x.id)) hit = true;
  });
  return hit;
}

function nodeReadsAny(plan: LogicalPlan, ids: ReadonlySet<number>): boolean {
  return nodeExprs(plan).some((e) => readsAny(e, ids));
}

function subtreeReadsAny(plan: LogicalPlan, ids: ReadonlySet<number>): boolean {
  if (nodeReadsAny(plan, ids)) return true;
  return planInputs(plan).some((i) => subtreeReadsAny(i, ids));
}

/** The result of pulling correlated conditions out of a subquery plan. */
export interface Decorrelated {
  /** The subquery plan without correlated references. */
  readonly plan: LogicalPlan;
  /** Conditions over the plan's output columns and outer columns, to join on. */
  readonly conditions: readonly Expr[];
}

/**
 * Pulls correlated conditions to the top of `plan`. `outer` holds the ids of
 * enclosing-query columns. Constructs that cannot be decorrelated get a clear
 * NOT_SUPPORTED error rather than a wrong answer.
 */
export function decorrelate(
  plan: LogicalPlan,
  outer: ReadonlySet<number>,
  ids: IdGen,
): Decorrelated {
  return pull(plan, outer, ids);
}

function notSupported(what: string): SpiceError {
  return new SpiceError("NOT_SUPPORTED", `not supported: correlated subquery ${what}`);
}

function pull(plan: LogicalPlan, outer: ReadonlySet<number>, ids: IdGen): Decorrelated {
  if (!subtreeReadsAny(plan, outer)) return { plan, conditions: [] };
  switch (plan.kind) {
    case "filter": {
      const inner = pull(plan.input, outer, ids);
      const keep: Expr[] = [];
      const conds = [...inner.conditions];
      for (const c of conjuncts(plan.predicate)) (readsAny(c, outer) ? conds : keep).push(c);
      return { plan: filter(inner.plan, andAll(keep)), conditions: conds };
    }
    case "project": {
      if (nodeReadsAny(plan, outer)) throw notSupported("with an outer column in its SELECT list");
      const inner = pull(plan.input, outer, ids);
      const have = new Set(plan.items.map((i) => i.id));
      const items = [...plan.items];
      const innerOut = new Map(outputColumns(inner.plan).map((c) => [c.id, c]));
      for (const cond of inner.conditions) {
        for (const id of exprColumns(cond)) {
          if (outer.has(id) || have.has(id)) continue;
          const c = innerOut.get(id);
          if (!c) continue;
          have.add(id);
          items.push({
            id,
            name: c.name,
            expr: { kind: "column", id, type: c.type, name: c.name },
          });
        }
      }
      return { plan: project(inner.plan, items), conditions: inner.conditions };
    }
    case "aggregate": {
      if (nodeReadsAny(plan, outer)) throw notSupported("with an outer column inside an aggregate");
      if (plan.groupingSets) throw notSupported("with GROUPING SETS");
      const inner = pull(plan.input, outer, ids);
      const innerIds = outputIds(inner.plan);
      const groupBy = [...plan.groupBy];
      const conds: Expr[] = [];
      for (const c of inner.conditions) {
        const pair = equiPair(c, innerIds, outer);
        if (!pair) {
          throw notSupported(
            "whose correlation is not an equality above an aggregate (e.g. a.x < b.y)",
          );
        }
        const [innerExpr, outerExpr] = pair;
        const key = exprKey(innerExpr);
        let item = groupBy.find((g) => exprKey(g.expr) === key);
        if (!item) {
          item = { id: ids.next(), name: "__corr", expr: innerExpr };
          groupBy.push(item);
        }
        conds.push({
          kind: "binary",
          op: "=",
          left: { kind: "column", id: item.id, type: innerExpr.type, name: item.name },
          right: outerExpr,
          type: { id: "bool" },
        });
      }
      return { plan: { ...plan, input: inner.plan, groupBy }, conditions: conds };
    }
    case "join": {
      if (plan.joinKind !== "inner") throw notSupported(`inside a ${plan.joinKind} join`);
      if (plan.on.some(([a, b]) => readsAny(a, outer) || readsAny(b, outer))) {
        throw notSupported("in a join key");
      }
      const l = pull(plan.left, outer, ids), r = pull(plan.right, outer, ids);
      const keep: Expr[] = [];
      const conds = [...l.conditions, ...r.conditions];
      for (const c of conjuncts(plan.filter)) (readsAny(c, outer) ? conds : keep).push(c);
      return {
        plan: { ...plan, left: l.plan, right: r.plan, filter: andAll(keep) },
        conditions: conds,
      };
    }
    case "sort": {
      // Order does not change existence or an aggregate's value.
      return pull(plan.input, outer, ids);
    }
    default:
      throw notSupported(`in a ${plan.kind}`);
  }
}
