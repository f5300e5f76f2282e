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
import {
  andAll,
  conjuncts,
  type Expr,
  exprColumns,
  exprKey,
  substitute,
  walkExpr,
} from "../plan/expr.ts";
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
  opts: { forExists?: boolean } = {},
): Decorrelated {
  return pull(plan, outer, ids, opts.forExists ?? false);
}

function notSupported(what: string): SpiceError {
  return new SpiceError("NOT_SUPPORTED", `not supported: correlated subquery ${what}`);
}

function pull(
  plan: LogicalPlan,
  outer: ReadonlySet<number>,
  ids: IdGen,
  exists: boolean,
): Decorrelated {
  if (!subtreeReadsAny(plan, outer)) return { plan, conditions: [] };
  switch (plan.kind) {
    case "filter": {
      const inner = pull(plan.input, outer, ids, exists);
      const keep: Expr[] = [];
      const conds = [...inner.conditions];
      for (const c of conjuncts(plan.predicate)) (readsAny(c, outer) ? conds : keep).push(c);
      return { plan: filter(inner.plan, andAll(keep)), conditions: conds };
    }
    case "project": {
      if (nodeReadsAny(plan, outer)) throw notSupported("with an outer column in its SELECT list");
      const inner = pull(plan.input, outer, ids, exists);
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
      const inner = pull(plan.input, outer, ids, exists);
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
      const l = pull(plan.left, outer, ids, exists), r = pull(plan.right, outer, ids, exists);
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
      return pull(plan.input, outer, ids, exists);
    }
    case "limit": {
      // EXISTS (... LIMIT k), k >= 1: a limit does not change whether a row exists.
      if (exists && plan.skip === 0 && (plan.fetch === null || plan.fetch > 0)) {
        return pull(plan.input, outer, ids, exists);
      }
      throw notSupported("with LIMIT/OFFSET (other than EXISTS ... LIMIT k)");
    }
    default:
      throw notSupported(`in a ${plan.kind}`);
  }
}

/**
 * Decorrelates a scalar aggregate subquery whose correlation is not a plain
 * equality (e.g. `inner.qty > outer.size * 100`), with a domain join: the
 * distinct values of the outer columns it reads are joined into the
 * subquery, which then groups by them; the caller left-joins on those
 * columns (NULLs equal). The outer input is computed twice, which is the
 * price of generality.
 */
export function decorrelateWithDomain(
  sub: LogicalPlan,
  outer: ReadonlySet<number>,
  input: LogicalPlan,
  ids: IdGen,
): Decorrelated {
  if (sub.kind !== "project" || sub.input.kind !== "aggregate" || sub.input.groupingSets) {
    throw notSupported("of this shape (an aggregate under a projection is needed)");
  }
  const agg = sub.input;
  if (nodeReadsAny(sub, outer) || nodeReadsAny(agg, outer)) {
    throw notSupported("with an outer column outside its WHERE clause");
  }
  const pulled = pull(agg.input, outer, ids, false);
  const outerCols = outputColumns(input).filter((c) =>
    pulled.conditions.some((e) => readsAny(e, new Set([c.id])))
  );
  // D: the distinct outer values, under fresh ids.
  const domain = outerCols.map((c) => ({
    id: ids.next(),
    name: c.name,
    expr: { kind: "column", id: c.id, type: c.type, name: c.name } as Expr,
  }));
  const d: LogicalPlan = {
    kind: "aggregate",
    input,
    groupBy: domain,
    aggregates: [],
    groupingSets: null,
    groupingId: null,
  };
  const toDomain = new Map<number, Expr>(
    outerCols.map((
      c,
      k,
    ) => [c.id, { kind: "column", id: domain[k].id, type: c.type, name: c.name } as Expr]),
  );
  const conds = pulled.conditions.map((e) => substitute(e, toDomain));
  const dIds = new Set(domain.map((x) => x.id));
  const iIds = outputIds(pulled.plan);
  const on: [Expr, Expr][] = [];
  const rest: Expr[] = [];
  for (const c of conds) {
    const pair = equiPair(c, dIds, iIds);
    if (pair) on.push(pair);
    else rest.push(c);
  }
  const joined: LogicalPlan = {
    kind: "join",
    left: d,
    right: pulled.plan,
    joinKind: "inner",
    on,
    filter: andAll(rest),
    nullAware: false,
    nullsEqual: false,
    markId: null,
  };
  const keys = domain.map((x) => ({
    id: ids.next(),
    name: x.name,
    expr: { kind: "column", id: x.id, type: x.expr.type, name: x.name } as Expr,
  }));
  const grouped: LogicalPlan = { ...agg, input: joined, groupBy: [...keys, ...agg.groupBy] };
  const projected = project(grouped, [
    ...sub.items,
    ...keys.map((k) => ({
      id: k.id,
      name: k.name,
      expr: { kind: "column", id: k.id, type: k.expr.type, name: k.name } as Expr,
    })),
  ]);
  const conditions = outerCols.map((c, k): Expr => ({
    kind: "binary",
    op: "=",
    left: { kind: "column", id: c.id, type: c.type, name: c.name },
    right: { kind: "column", id: keys[k].id, type: c.type, name: c.name },
    type: { id: "bool" },
  }));
  return { plan: projected, conditions };
}
