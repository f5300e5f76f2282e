/**
 * Predicate pushdown: moves each conjunct of every filter as close to the
 * data as it can go (through projections by substitution, into the sides of
 * joins, below aggregates when it reads only grouping keys, into union
 * inputs) and hands scan-level conjuncts to the table provider for pruning.
 * Equalities between the two sides of an inner join become hash-join keys,
 * and an outer join whose null-extended side is filtered by a null-rejecting
 * predicate becomes an inner join.
 *
 * @module
 */

import { equiPair, filter, join } from "../builder.ts";
import {
  andAll,
  conjuncts,
  disjuncts,
  type Expr,
  exprColumns,
  exprKey,
  isConstant,
  orAll,
  substitute,
  VOLATILE,
  walkExpr,
} from "../expr.ts";
import { type LogicalPlan, outputIds } from "../logical.ts";

function subset(e: Expr, ids: ReadonlySet<number>): boolean {
  for (const id of exprColumns(e)) if (!ids.has(id)) return false;
  return true;
}

function volatile(e: Expr): boolean {
  let v = false;
  walkExpr(e, (x) => {
    if (x.kind === "call" && VOLATILE.has(x.fn)) v = true;
  });
  return v;
}

const NULL_TOLERANT = new Set(["coalesce", "concat", "concat_ws", "greatest", "least", "nullif"]);

/** True when the predicate is never TRUE if all columns in `ids` that it reads are NULL. */
export function nullRejecting(e: Expr, ids: ReadonlySet<number>): boolean {
  const reads = [...exprColumns(e)].some((id) => ids.has(id));
  if (!reads) return false;
  if (e.kind === "binary" && e.op === "and") {
    return nullRejecting(e.left, ids) || nullRejecting(e.right, ids);
  }
  if (e.kind === "binary" && e.op === "or") {
    return nullRejecting(e.left, ids) && nullRejecting(e.right, ids);
  }
  let tolerant = false;
  walkExpr(e, (x) => {
    // Functions that skip NULL arguments can turn a NULL row into a match.
    if (x.kind === "case" || (x.kind === "call" && NULL_TOLERANT.has(x.fn))) tolerant = true;
    if (
      x.kind === "unary" &&
      (x.op === "is_null" || x.op === "not" || x.op === "is_true" || x.op === "is_false")
    ) {
      tolerant = true;
    }
    if (
      x.kind === "binary" && (x.op === "is_distinct" || x.op === "is_not_distinct" || x.op === "or")
    ) {
      tolerant = true;
    }
  });
  if (tolerant) return false;
  if (e.kind === "binary" && ["=", "<>", "<", "<=", ">", ">="].includes(e.op)) return true;
  if (e.kind === "like" || e.kind === "in_list") return true;
  if (e.kind === "unary" && e.op === "is_not_null") return true;
  return false;
}

function dedupe(preds: readonly Expr[]): Expr[] {
  const seen = new Set<string>();
  return preds.filter((p) => {
    const k = exprKey(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Pushes every filter of the plan down as far as it goes. */
export function pushFilters(plan: LogicalPlan): LogicalPlan {
  return push(plan, []);
}

function push(p: LogicalPlan, predsIn: readonly Expr[]): LogicalPlan {
  const preds = dedupe(predsIn.filter((e) => !(e.kind === "literal" && e.value === true)));
  switch (p.kind) {
    case "filter":
      return push(p.input, [...preds, ...conjuncts(p.predicate)]);
    case "project": {
      const map = new Map(p.items.map((i) => [i.id, i.expr]));
      const down: Expr[] = [];
      const keep: Expr[] = [];
      for (const e of preds) {
        const sub = substitute(e, map);
        if (volatile(sub)) keep.push(e);
        else down.push(sub);
      }
      return filter({ ...p, input: push(p.input, down) }, andAll(keep));
    }
    case "join":
      return pushJoin(p, preds);
    case "aggregate": {
      const keys = new Map(p.groupBy.map((g) => [g.id, g.expr]));
      const keyIds = new Set(keys.keys());
      const down: Expr[] = [];
      const keep: Expr[] = [];
      for (const e of preds) {
        if (
          p.groupingSets === null && p.groupBy.length > 0 && subset(e, keyIds) && !isConstant(e)
        ) {
          down.push(substitute(e, keys));
        } else keep.push(e);
      }
      return filter({ ...p, input: push(p.input, down) }, andAll(keep));
    }
    case "sort":
      return { ...p, input: push(p.input, preds) };
    case "window": {
      const inputIds = outputIds(p.input);
      const partitionIds = p.windows.map((w) =>
        new Set(
          w.partitionBy.filter((x) => x.kind === "column").map((x) => (x as { id: number }).id),
        )
      );
      const down: Expr[] = [];
      const keep: Expr[] = [];
      for (const e of preds) {
        const cols = exprColumns(e);
        const ok = subset(e, inputIds) && cols.size > 0 &&
          partitionIds.every((s) => [...cols].every((id) => s.has(id)));
        (ok ? down : keep).push(e);
      }
      return filter({ ...p, input: push(p.input, down) }, andAll(keep));
    }
    case "union": {
      const inputs = p.inputs.map((inp, i) => {
        const map = new Map(
          p.columns.map((c, k) => [
            c.id,
            { kind: "column", id: p.inputColumns[i][k], type: c.type, name: c.name } as Expr,
          ]),
        );
        return push(inp, preds.map((e) => substitute(e, map)));
      });
      return { ...p, inputs };
    }
    case "scan": {
      const scanPreds = preds.filter((e) => !volatile(e));
      const scan = { ...p, filters: dedupe([...p.filters, ...scanPreds]) };
      return filter(scan, andAll(preds));
    }
    case "limit":
    case "max_one_row":
      return filter({ ...p, input: push(p.input, []) }, andAll(preds));
    default:
      return filter(p, andAll(preds));
  }
}

/**
 * For `e` = OR(b1, ..., bn), the predicate OR(side(b1), ..., side(bn)) where
 * side(b) is the AND of b's conjuncts that read only `ids`; null when some
 * branch says nothing about that side (then nothing is implied).
 */
function impliedBySide(e: Expr, ids: ReadonlySet<number>): Expr | null {
  const branches = disjuncts(e);
  if (branches.length < 2) return null;
  const sides: Expr[] = [];
  for (const b of branches) {
    const own = conjuncts(b).filter((c) => subset(c, ids) && !volatile(c));
    const and = andAll(own);
    if (!and) return null;
    sides.push(and);
  }
  return orAll(sides);
}

function pushJoin(p: LogicalPlan & { kind: "join" }, preds: readonly Expr[]): LogicalPlan {
  const lIds = outputIds(p.left), rIds = outputIds(p.right);
  let kind = p.joinKind;
  // Outer join simplification (not for a scalar subquery's join: its match count is checked).
  if (
    !p.singleMatch && (kind === "left" || kind === "full") &&
    preds.some((e) => nullRejecting(e, rIds))
  ) {
    kind = kind === "left" ? "inner" : "right";
  }
  if ((kind === "right" || kind === "full") && preds.some((e) => nullRejecting(e, lIds))) {
    kind = kind === "right" ? "inner" : "left";
  }
  const on: (readonly [Expr, Expr])[] = [...p.on];
  const leftPreds: Expr[] = [];
  const rightPreds: Expr[] = [];
  const residual: Expr[] = [];
  const above: Expr[] = [];
  const onConj = conjuncts(p.filter);

  if (kind === "inner") {
    for (const e of [...preds, ...onConj]) {
      if (volatile(e)) {
        above.push(e);
        continue;
      }
      if (subset(e, lIds)) leftPreds.push(e);
      else if (subset(e, rIds)) rightPreds.push(e);
      else {
        const pair = equiPair(e, lIds, rIds);
        if (pair) on.push(pair);
        else {
          residual.push(e);
          // An OR across both sides still implies, for each side, the OR of
          // what each branch says about that side alone: filtering early
          // (TPC-H Q7's nation pairs, Q19's part/lineitem branches) keeps the
          // join from building on rows no branch can accept.
          const l = impliedBySide(e, lIds), r = impliedBySide(e, rIds);
          if (l) leftPreds.push(l);
          if (r) rightPreds.push(r);
        }
      }
    }
  } else {
    // WHERE conjuncts: only those over the preserved side can go below.
    for (const e of preds) {
      const leftOnly = subset(e, lIds) && !volatile(e);
      if (leftOnly && (kind === "left" || kind === "semi" || kind === "anti" || kind === "mark")) {
        leftPreds.push(e);
      } else if (subset(e, rIds) && kind === "right" && !volatile(e)) rightPreds.push(e);
      else above.push(e);
    }
    // ON conjuncts: those over the non-preserved side filter that side first
    // (not for NOT IN / IN marks: there a NULL in the condition is meaningful).
    for (const e of onConj) {
      if (p.nullAware) {
        const pair = equiPair(e, lIds, rIds);
        if (pair) on.push(pair);
        else residual.push(e);
        continue;
      }
      if (
        subset(e, rIds) &&
        (kind === "left" || kind === "semi" || kind === "anti" || kind === "mark")
      ) {
        rightPreds.push(e);
      } else if (subset(e, lIds) && kind === "right") leftPreds.push(e);
      else if (subset(e, lIds) && kind === "semi") leftPreds.push(e);
      else {
        const pair = equiPair(e, lIds, rIds);
        if (pair) on.push(pair);
        else residual.push(e);
      }
    }
  }
  const j = join(push(p.left, leftPreds), push(p.right, rightPreds), kind, {
    on,
    filter: andAll(residual),
    nullAware: p.nullAware,
    nullsEqual: p.nullsEqual,
    markId: p.markId,
    singleMatch: p.singleMatch,
  });
  return filter(j, andAll(above));
}
