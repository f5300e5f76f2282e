/**
 * Constant folding and boolean simplification: subexpressions that read no
 * column are evaluated once at planning time (with the same kernels as at run
 * time, so folding never changes a result), `x AND TRUE` becomes `x`, and a
 * DATE column compared with a TIMESTAMP constant is compared with the
 * equivalent DATE constant instead of casting every row.
 *
 * @module
 */

import { recordBatch } from "../../arrow/batch.ts";
import { DATE32 } from "../../arrow/types.ts";
import { isScalar } from "../../exec/datum.ts";
import { compileExpr } from "../../exec/expr.ts";
import { valueAt } from "../../arrow/column.ts";
import {
  andAll,
  conjuncts,
  disjuncts,
  type Expr,
  exprKey,
  isConstant,
  lit,
  mapExpr,
  orAll,
} from "../expr.ts";
import { type LogicalPlan, planInputs, withInputs } from "../logical.ts";
import { mapPlanExprs } from "./map_exprs.ts";

const ONE_ROW = recordBatch({ fields: [] }, [], 1);
const DAY_US = 86400e6;

/** Evaluates a constant expression to a literal; returns the input if it cannot. */
function evaluateConstant(e: Expr): Expr {
  if (e.kind === "literal" || e.type.id === "interval") return e;
  try {
    const d = compileExpr(e, new Map()).evaluate(ONE_ROW);
    const value = isScalar(d) ? d.value : valueAt(d, 0);
    return lit(value as never, e.type);
  } catch {
    // Leave it: the error (e.g. a bad cast) is raised when the query runs.
    return e;
  }
}

function isTrue(e: Expr): boolean {
  return e.kind === "literal" && e.value === true;
}
function isFalse(e: Expr): boolean {
  return e.kind === "literal" && e.value === false;
}

/** Folds one expression. */
export function foldExpr(e: Expr): Expr {
  return mapExpr(e, (x) => {
    if (x.kind === "binary" && x.op === "and") {
      if (isTrue(x.left)) return x.right;
      if (isTrue(x.right)) return x.left;
      if (isFalse(x.left) || isFalse(x.right)) return lit(false, x.type);
    }
    if (x.kind === "binary" && x.op === "or") {
      if (isFalse(x.left)) return x.right;
      if (isFalse(x.right)) return x.left;
      if (isTrue(x.left) || isTrue(x.right)) return lit(true, x.type);
      const factored = factorOr(x);
      if (factored) return factored;
    }
    const dateCmp = dateVsTimestamp(x);
    if (dateCmp) return dateCmp;
    if (x.kind !== "literal" && x.kind !== "column" && isConstant(x)) return evaluateConstant(x);
    return x;
  });
}

/**
 * `(a AND b) OR (a AND c)` -> `a AND (b OR c)`: pulls conjuncts common to every
 * branch out of a disjunction, so that a join key hidden in each branch (TPC-H
 * Q19) becomes a join key.
 */
function factorOr(x: Expr): Expr | null {
  const branches = disjuncts(x).map((d) => conjuncts(d));
  const keys = branches.map((b) => new Set(b.map(exprKey)));
  const common = branches[0].filter((c) => keys.every((k) => k.has(exprKey(c))));
  if (common.length === 0) return null;
  const commonKeys = new Set(common.map(exprKey));
  const rests = branches.map((b) => b.filter((c) => !commonKeys.has(exprKey(c))));
  if (rests.some((r) => r.length === 0)) return andAll(common);
  return andAll([...common, orAll(rests.map((r) => andAll(r)!))]);
}

/**
 * `CAST(date_col AS TIMESTAMP) op ts_literal` -> `date_col op' date_literal`,
 * exact for every operator (a non-midnight constant rounds the right way).
 */
function dateVsTimestamp(x: Expr): Expr | null {
  if (x.kind !== "binary") return null;
  const ops = ["<", "<=", ">", ">=", "=", "<>"];
  if (!ops.includes(x.op)) return null;
  let colSide = x.left, litSide = x.right, op = x.op;
  if (colSide.kind === "literal") {
    [colSide, litSide] = [litSide, colSide];
    op = ({ "<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>" } as Record<
      string,
      string
    >)[op] as typeof op;
  }
  if (
    colSide.kind !== "cast" || colSide.type.id !== "timestamp" ||
    colSide.arg.type.id !== "date32" ||
    litSide.kind !== "literal" || typeof litSide.value !== "number"
  ) return null;
  const ts = litSide.value;
  const exact = ts % DAY_US === 0;
  const floor = Math.floor(ts / DAY_US);
  let day: number;
  switch (op) {
    case "<": // d*DAY < ts  <=>  d < ceil(ts/DAY)
      day = Math.ceil(ts / DAY_US);
      break;
    case ">=":
      day = Math.ceil(ts / DAY_US);
      break;
    case "<=": // d*DAY <= ts <=> d <= floor
    case ">":
      day = floor;
      break;
    default:
      // = / <> a non-midnight timestamp: a date never equals it, but a NULL date gives NULL,
      // so the comparison is left as it is rather than folded to a constant.
      if (!exact) return null;
      day = floor;
  }
  return { ...x, op: op as never, left: colSide.arg, right: lit(day, DATE32) };
}

/** Folds every expression of a plan. */
export function foldConstants(plan: LogicalPlan): LogicalPlan {
  const inputs = planInputs(plan).map(foldConstants);
  const p = withInputs(plan, inputs);
  return mapPlanExprs(p, foldExpr);
}
