/**
 * Logical expressions. Column references name a column by a plan-wide unique
 * id (as DuckDB's column bindings do), never by position: optimizer rules can
 * then move expressions between nodes without renumbering anything, and a
 * correlated subquery's reference to an outer column is just an id that the
 * subquery itself does not produce.
 *
 * @module
 */

import type { DataType } from "../arrow/types.ts";
import type { Value } from "../arrow/column.ts";

/** Binary operators. */
export type BinaryOp =
  | "+"
  | "-"
  | "*"
  | "/"
  | "//"
  | "%"
  | "="
  | "<>"
  | "<"
  | "<="
  | ">"
  | ">="
  | "and"
  | "or"
  | "||"
  | "is_distinct"
  | "is_not_distinct";

/** Unary operators. */
export type UnaryOp = "not" | "neg" | "is_null" | "is_not_null" | "is_true" | "is_false";

/** An interval literal's value. */
export interface IntervalValue {
  readonly months: number;
  readonly days: number;
  readonly micros: number;
}

/** A logical expression; every node carries its result type. */
export type Expr =
  | { readonly kind: "column"; readonly id: number; readonly type: DataType; readonly name: string }
  | {
    readonly kind: "literal";
    readonly value: Value | IntervalValue;
    readonly type: DataType;
  }
  | {
    readonly kind: "binary";
    readonly op: BinaryOp;
    readonly left: Expr;
    readonly right: Expr;
    readonly type: DataType;
  }
  | { readonly kind: "unary"; readonly op: UnaryOp; readonly arg: Expr; readonly type: DataType }
  | {
    readonly kind: "call";
    readonly fn: string;
    readonly args: readonly Expr[];
    readonly type: DataType;
  }
  | { readonly kind: "cast"; readonly arg: Expr; readonly type: DataType; readonly safe?: boolean }
  | {
    readonly kind: "case";
    readonly whens: readonly (readonly [Expr, Expr])[];
    readonly otherwise: Expr | null;
    readonly type: DataType;
  }
  | {
    readonly kind: "in_list";
    readonly arg: Expr;
    readonly list: readonly Expr[];
    readonly negated: boolean;
    readonly type: DataType;
  }
  | {
    readonly kind: "like";
    readonly arg: Expr;
    readonly pattern: Expr;
    readonly negated: boolean;
    readonly caseInsensitive: boolean;
    readonly type: DataType;
  };

/** Aggregate function names the engine implements. */
export type AggFn =
  | "count"
  | "count_star"
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "stddev_samp"
  | "stddev_pop"
  | "var_samp"
  | "var_pop"
  | "bool_and"
  | "bool_or"
  | "any_value";

/** One aggregate call in an Aggregate node. */
export interface AggregateCall {
  readonly id: number;
  readonly fn: AggFn;
  readonly args: readonly Expr[];
  readonly distinct: boolean;
  readonly filter: Expr | null;
  readonly type: DataType;
  readonly name: string;
}

/** Visits every sub-expression (pre-order). */
export function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  for (const c of exprChildren(e)) walkExpr(c, visit);
}

/** The direct children of an expression. */
export function exprChildren(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case "column":
    case "literal":
      return [];
    case "binary":
      return [e.left, e.right];
    case "unary":
    case "cast":
      return [e.arg];
    case "call":
      return e.args;
    case "case": {
      const out: Expr[] = [];
      for (const [w, t] of e.whens) out.push(w, t);
      if (e.otherwise) out.push(e.otherwise);
      return out;
    }
    case "in_list":
      return [e.arg, ...e.list];
    case "like":
      return [e.arg, e.pattern];
  }
}

/** Rebuilds an expression bottom-up, letting `f` replace any node after its children. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  let out: Expr;
  switch (e.kind) {
    case "column":
    case "literal":
      out = e;
      break;
    case "binary":
      out = { ...e, left: mapExpr(e.left, f), right: mapExpr(e.right, f) };
      break;
    case "unary":
      out = { ...e, arg: mapExpr(e.arg, f) };
      break;
    case "cast":
      out = { ...e, arg: mapExpr(e.arg, f) };
      break;
    case "call":
      out = { ...e, args: e.args.map((a) => mapExpr(a, f)) };
      break;
    case "case":
      out = {
        ...e,
        whens: e.whens.map(([w, t]) => [mapExpr(w, f), mapExpr(t, f)] as const),
        otherwise: e.otherwise ? mapExpr(e.otherwise, f) : null,
      };
      break;
    case "in_list":
      out = { ...e, arg: mapExpr(e.arg, f), list: e.list.map((x) => mapExpr(x, f)) };
      break;
    case "like":
      out = { ...e, arg: mapExpr(e.arg, f), pattern: mapExpr(e.pattern, f) };
      break;
  }
  return f(out);
}

/** The ids of every column an expression reads. */
export function exprColumns(e: Expr, into: Set<number> = new Set()): Set<number> {
  walkExpr(e, (x) => {
    if (x.kind === "column") into.add(x.id);
  });
  return into;
}

/** Replaces column references by id. */
export function substitute(e: Expr, map: ReadonlyMap<number, Expr>): Expr {
  return mapExpr(e, (x) => (x.kind === "column" && map.has(x.id) ? map.get(x.id)! : x));
}

/** Splits a predicate into its AND-ed conjuncts. */
export function conjuncts(e: Expr | null): Expr[] {
  if (!e) return [];
  if (e.kind === "binary" && e.op === "and") return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

/** Splits a predicate into its OR-ed disjuncts. */
export function disjuncts(e: Expr): Expr[] {
  if (e.kind === "binary" && e.op === "or") return [...disjuncts(e.left), ...disjuncts(e.right)];
  return [e];
}

const BOOL_TYPE: DataType = { id: "bool" };

/** ANDs predicates together (null for none). */
export function andAll(preds: readonly Expr[]): Expr | null {
  if (preds.length === 0) return null;
  return preds.reduce((a, b) => ({
    kind: "binary",
    op: "and",
    left: a,
    right: b,
    type: BOOL_TYPE,
  }));
}

/** ORs predicates together. */
export function orAll(preds: readonly Expr[]): Expr {
  return preds.reduce((a, b) => ({ kind: "binary", op: "or", left: a, right: b, type: BOOL_TYPE }));
}

/** A column reference expression. */
export function col(id: number, type: DataType, name: string): Expr {
  return { kind: "column", id, type, name };
}

/** A literal expression. */
export function lit(value: Value | IntervalValue, type: DataType): Expr {
  return { kind: "literal", value, type };
}

/** Structural equality of expressions (ignores column display names). */
export function exprEquals(a: Expr, b: Expr): boolean {
  return exprKey(a) === exprKey(b);
}

/** A canonical string for an expression: equal strings mean equal expressions. */
export function exprKey(e: Expr): string {
  switch (e.kind) {
    case "column":
      return `#${e.id}`;
    case "literal":
      return `lit(${typeof e.value === "bigint" ? e.value + "n" : JSON.stringify(e.value)}:${
        typeKey(e.type)
      })`;
    case "binary":
      return `(${exprKey(e.left)} ${e.op} ${exprKey(e.right)})`;
    case "unary":
      return `${e.op}(${exprKey(e.arg)})`;
    case "cast":
      return `${e.safe ? "try_" : ""}cast(${exprKey(e.arg)} as ${typeKey(e.type)})`;
    case "call":
      return `${e.fn}(${e.args.map(exprKey).join(",")})`;
    case "case":
      return `case(${e.whens.map(([w, t]) => exprKey(w) + "->" + exprKey(t)).join(";")};${
        e.otherwise ? exprKey(e.otherwise) : ""
      })`;
    case "in_list":
      return `${e.negated ? "not_" : ""}in(${exprKey(e.arg)};${e.list.map(exprKey).join(",")})`;
    case "like":
      return `${e.negated ? "not_" : ""}${e.caseInsensitive ? "i" : ""}like(${exprKey(e.arg)},${
        exprKey(e.pattern)
      })`;
  }
}

function typeKey(t: DataType): string {
  return t.id === "decimal" ? `decimal(${t.precision},${t.scale})` : t.id;
}

/** True when an expression reads no columns (it can be folded to a constant). */
export function isConstant(e: Expr): boolean {
  let constant = true;
  walkExpr(e, (x) => {
    if (x.kind === "column") constant = false;
    if (x.kind === "call" && VOLATILE.has(x.fn)) constant = false;
  });
  return constant;
}

/** Functions whose value changes between calls: never folded or deduplicated. */
export const VOLATILE: ReadonlySet<string> = new Set(["random", "now", "current_timestamp"]);
