/**
 * Small constructors for plan nodes and the id generator shared by the
 * binder and the optimizer rules.
 *
 * @module
 */

import { andAll, conjuncts, type Expr, exprColumns } from "./expr.ts";
import { type JoinKind, type LogicalPlan, outputIds, type ProjectItem } from "./logical.ts";

/** Hands out plan-wide unique column ids. */
export class IdGen {
  #next: number;
  /** Starts at `start` (ids below it are taken). */
  constructor(start = 1) {
    this.#next = start;
  }
  /** A fresh id. */
  next(): number {
    return this.#next++;
  }
}

/** A Filter node, or the input itself when there is no predicate. */
export function filter(input: LogicalPlan, predicate: Expr | null): LogicalPlan {
  return predicate ? { kind: "filter", input, predicate } : input;
}

/** A Project node. */
export function project(input: LogicalPlan, items: readonly ProjectItem[]): LogicalPlan {
  return { kind: "project", input, items };
}

/** Options for `join`. */
export interface JoinOptions {
  readonly on?: readonly (readonly [Expr, Expr])[];
  readonly filter?: Expr | null;
  readonly nullAware?: boolean;
  readonly nullsEqual?: boolean;
  readonly markId?: number | null;
  readonly singleMatch?: boolean;
}

/** A Join node. */
export function join(
  left: LogicalPlan,
  right: LogicalPlan,
  joinKind: JoinKind,
  opts: JoinOptions = {},
): LogicalPlan {
  return {
    kind: "join",
    left,
    right,
    joinKind,
    on: opts.on ?? [],
    filter: opts.filter ?? null,
    nullAware: opts.nullAware ?? false,
    nullsEqual: opts.nullsEqual ?? false,
    markId: opts.markId ?? null,
    ...(opts.singleMatch ? { singleMatch: true } : {}),
  };
}

/** True when every column the expression reads is in `ids`. */
export function readsOnly(e: Expr, ids: ReadonlySet<number>): boolean {
  for (const id of exprColumns(e)) if (!ids.has(id)) return false;
  return true;
}

/**
 * Splits a join condition into equi-key pairs (left side over left ids, right
 * side over right ids) and the residual predicate.
 */
export function splitJoinCondition(
  cond: Expr | null,
  left: LogicalPlan,
  right: LogicalPlan,
): { on: [Expr, Expr][]; residual: Expr | null } {
  const l = outputIds(left), r = outputIds(right);
  const on: [Expr, Expr][] = [];
  const rest: Expr[] = [];
  for (const c of conjuncts(cond)) {
    const pair = equiPair(c, l, r);
    if (pair) on.push(pair);
    else rest.push(c);
  }
  return { on, residual: andAll(rest) };
}

/** If `c` is `a = b` with a over `l` and b over `r` (either order), the pair [a, b]. */
export function equiPair(
  c: Expr,
  l: ReadonlySet<number>,
  r: ReadonlySet<number>,
): [Expr, Expr] | null {
  if (c.kind !== "binary" || c.op !== "=") return null;
  const a = exprColumns(c.left), b = exprColumns(c.right);
  if (a.size === 0 || b.size === 0) return null;
  const inL = (s: Set<number>) => [...s].every((id) => l.has(id));
  const inR = (s: Set<number>) => [...s].every((id) => r.has(id));
  if (inL(a) && inR(b)) return [c.left, c.right];
  if (inR(a) && inL(b)) return [c.right, c.left];
  return null;
}
