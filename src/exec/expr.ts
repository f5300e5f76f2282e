/**
 * Expression evaluation: a logical expression is compiled once per operator
 * into a tree of closures that evaluate a whole batch at a time, calling the
 * vectorised kernels. Expressions compiled together share a cache keyed by
 * their canonical form, so a common subexpression (TPC-H Q1's
 * `l_extendedprice * (1 - l_discount)`) is computed once per batch.
 *
 * @module
 */

import {
  type Column,
  decodeUtf8,
  type NumericColumn,
  numericColumn,
  type Utf8Column,
  type Value,
} from "../arrow/column.ts";
import { GrowableColumn } from "../arrow/growable.ts";
import type { RecordBatch } from "../arrow/batch.ts";
import { BOOL, type DataType } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import { type Expr, exprKey, type IntervalValue } from "../plan/expr.ts";
import { type Datum, isScalar, scalar, toColumn } from "./datum.ts";
import { SCALAR_FUNCTIONS } from "./functions/mod.ts";
import { arithmetic, negate } from "./kernels/arith.ts";
import { isBool, isNull, logical, not } from "./kernels/boolean.ts";
import { castDatum, castDatumSafe } from "./kernels/cast.ts";
import { compare } from "./kernels/compare.ts";
import { like } from "./kernels/like.ts";

/** Maps a column id to its index in the input batch. */
export type Layout = ReadonlyMap<number, number>;

/** A compiled expression. */
export interface CompiledExpr {
  readonly type: DataType;
  evaluate(batch: RecordBatch): Datum;
}

type Eval = (batch: RecordBatch) => Datum;

/** Makes a layout from the ids of a node's input columns. */
export function layoutOf(ids: readonly number[]): Layout {
  return new Map(ids.map((id, i) => [id, i]));
}

/** Compiles several expressions with a shared common-subexpression cache. */
export function compileExprs(exprs: readonly Expr[], layout: Layout): CompiledExpr[] {
  const cache = new Map<string, { batch: RecordBatch | null; value: Datum | null; uses: number }>();
  // Count uses so that only repeated subexpressions are cached.
  const counts = new Map<string, number>();
  const count = (e: Expr) => {
    const k = exprKey(e);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if ((counts.get(k) ?? 0) > 1) return;
    forChildren(e, count);
  };
  exprs.forEach(count);
  const compile = (e: Expr): Eval => {
    const inner = compileNode(e, layout, compile);
    const k = exprKey(e);
    if ((counts.get(k) ?? 0) < 2 || e.kind === "column" || e.kind === "literal") return inner;
    let slot = cache.get(k);
    if (!slot) cache.set(k, slot = { batch: null, value: null, uses: 0 });
    const s = slot;
    return (b) => {
      if (s.batch !== b) {
        s.value = inner(b);
        s.batch = b;
      }
      return s.value!;
    };
  };
  return exprs.map((e) => ({ type: e.type, evaluate: compile(e) }));
}

/** Compiles one expression. */
export function compileExpr(e: Expr, layout: Layout): CompiledExpr {
  return compileExprs([e], layout)[0];
}

/** Evaluates a compiled expression to a full column. */
export function evaluateColumn(e: CompiledExpr, batch: RecordBatch): Column {
  return toColumn(e.evaluate(batch), batch.numRows);
}

function forChildren(e: Expr, f: (e: Expr) => void): void {
  switch (e.kind) {
    case "binary":
      f(e.left);
      f(e.right);
      break;
    case "unary":
    case "cast":
      f(e.arg);
      break;
    case "call":
      e.args.forEach(f);
      break;
    case "case":
      for (const [w, t] of e.whens) {
        f(w);
        f(t);
      }
      if (e.otherwise) f(e.otherwise);
      break;
    case "in_list":
      f(e.arg);
      e.list.forEach(f);
      break;
    case "like":
      f(e.arg);
      f(e.pattern);
      break;
  }
}

function compileNode(e: Expr, layout: Layout, sub: (e: Expr) => Eval): Eval {
  switch (e.kind) {
    case "column": {
      const idx = layout.get(e.id);
      if (idx === undefined) {
        throw new SpiceError("INTERNAL", `column ${e.name}#${e.id} is not in the operator's input`);
      }
      return (b) => b.columns[idx];
    }
    case "literal": {
      const s = scalar(e.type, e.value as Value | IntervalValue);
      return () => s;
    }
    case "cast": {
      const a = sub(e.arg);
      const t = e.type;
      if (e.safe) return (b) => castDatumSafe(a(b), t, b.numRows);
      return (b) => castDatum(a(b), t);
    }
    case "binary": {
      const l = sub(e.left), r = sub(e.right);
      const op = e.op, t = e.type;
      switch (op) {
        case "and":
        case "or":
          return (b) => logical(op, l(b), r(b), b.numRows);
        case "=":
        case "<>":
        case "<":
        case "<=":
        case ">":
        case ">=":
        case "is_distinct":
        case "is_not_distinct":
          return (b) => compare(op, l(b), r(b), b.numRows);
        case "||":
          return (b) => concatStrict(l(b), r(b), b.numRows, t);
        default:
          return (b) => arithmetic(op, l(b), r(b), t, b.numRows);
      }
      break;
    }
    case "unary": {
      const a = sub(e.arg);
      switch (e.op) {
        case "not":
          return (b) => not(a(b), b.numRows);
        case "neg":
          return (b) => negate(a(b), b.numRows);
        case "is_null":
          return (b) => isNull(a(b), b.numRows, false);
        case "is_not_null":
          return (b) => isNull(a(b), b.numRows, true);
        case "is_true":
          return (b) => isBool(a(b), b.numRows, true);
        case "is_false":
          return (b) => isBool(a(b), b.numRows, false);
      }
      break;
    }
    case "call": {
      const impl = SCALAR_FUNCTIONS[e.fn];
      if (!impl) throw new SpiceError("NOT_SUPPORTED", `not supported: function ${e.fn}()`);
      const args = e.args.map(sub);
      const t = e.type;
      return (b) => impl(args.map((a) => a(b)), b.numRows, t);
    }
    case "like": {
      const a = sub(e.arg), p = sub(e.pattern);
      const neg = e.negated, ci = e.caseInsensitive;
      return (b) => like(a(b), p(b), neg, ci, b.numRows);
    }
    case "in_list":
      return compileInList(e, sub);
    case "case":
      return compileCase(e, sub);
  }
  throw new SpiceError("INTERNAL", `cannot compile ${(e as Expr).kind}`);
}

/** `a || b`: like concat(), but NULL when either side is NULL (SQL's rule for ||). */
function concatStrict(a: Datum, b: Datum, n: number, t: DataType): Datum {
  if ((isScalar(a) && a.value === null) || (isScalar(b) && b.value === null)) {
    return scalar(t, null);
  }
  const out = SCALAR_FUNCTIONS.concat([a, b], n, t);
  const va = isScalar(a) ? null : a.validity, vb = isScalar(b) ? null : b.validity;
  if (isScalar(out) || (!va && !vb)) return out;
  const validity = new Uint8Array(n);
  for (let i = 0; i < n; i++) validity[i] = (va ? va[i] : 1) & (vb ? vb[i] : 1);
  return { ...(out as Column), validity } as Column;
}

function compileInList(e: Expr & { kind: "in_list" }, sub: (e: Expr) => Eval): Eval {
  const arg = sub(e.arg);
  const negated = e.negated;
  const allLiteral = e.list.every((x) => x.kind === "literal");
  if (!allLiteral) {
    // General form: OR of equalities, with SQL's NULL rules.
    const items = e.list.map(sub);
    return (b) => {
      const a = arg(b);
      let acc: Datum = scalar(BOOL, false);
      for (const it of items) {
        acc = logical("or", acc, compare("=", a, it(b), b.numRows), b.numRows);
      }
      return negated ? not(acc, b.numRows) : acc;
    };
  }
  const values = e.list.map((x) => (x as { value: Value }).value);
  const hasNull = values.some((v) => v === null);
  const nonNull = values.filter((v) => v !== null);
  const isString = e.arg.type.id === "utf8";
  const numSet = new Set<number>(
    isString ? [] : nonNull.map((v) => (typeof v === "boolean" ? Number(v) : Number(v))),
  );
  const strSet = new Set<string>(isString ? nonNull.map(String) : []);
  const finish = (hit: Uint8Array, validity: Uint8Array | null, n: number): Datum => {
    // x IN (...) is NULL when there is no match and the list has a NULL.
    let v = validity;
    if (hasNull) {
      v = new Uint8Array(n);
      for (let i = 0; i < n; i++) v[i] = (validity === null || validity[i]) && hit[i] ? 1 : 0;
    }
    if (negated) { for (let i = 0; i < n; i++) hit[i] ^= 1; }
    return numericColumn(BOOL, hit, v);
  };
  return (b) => {
    const n = b.numRows;
    const a = arg(b);
    if (isScalar(a)) {
      if (a.value === null) return scalar(BOOL, null);
      const hit = isString ? strSet.has(String(a.value)) : numSet.has(Number(a.value));
      if (!hit && hasNull) return scalar(BOOL, null);
      return scalar(BOOL, hit !== negated);
    }
    const c = a as Column;
    const hit = new Uint8Array(n);
    if (c.enc === "num") {
      const v = c.values;
      for (let i = 0; i < n; i++) hit[i] = numSet.has(Number(v[i])) ? 1 : 0;
    } else if (c.enc === "dict") {
      const d = c.dict;
      const dh = new Uint8Array(d.length);
      for (let k = 0; k < d.length; k++) {
        dh[k] = strSet.has(decodeUtf8(d.data.subarray(d.offsets[k], d.offsets[k + 1]))) ? 1 : 0;
      }
      for (let i = 0; i < n; i++) hit[i] = dh[c.indices[i]];
    } else {
      const u = c as Utf8Column;
      // Compare bytes against each literal: no string decoding per row.
      const enc = [...strSet].map((s) => new TextEncoder().encode(s));
      for (let i = 0; i < n; i++) {
        const s = u.offsets[i], len = u.offsets[i + 1] - s;
        for (const lit of enc) {
          if (lit.length !== len) continue;
          let k = 0;
          while (k < len && u.data[s + k] === lit[k]) k++;
          if (k === len) {
            hit[i] = 1;
            break;
          }
        }
      }
    }
    return finish(hit, c.validity, n);
  };
}

function compileCase(e: Expr & { kind: "case" }, sub: (e: Expr) => Eval): Eval {
  const conds = e.whens.map(([w]) => sub(w));
  const results = e.whens.map(([, r]) => sub(r));
  const otherwise = e.otherwise ? sub(e.otherwise) : null;
  const type = e.type;
  return (b) => {
    const n = b.numRows;
    // choice[i] = index of the first true WHEN, or -1 for ELSE.
    const choice = new Int32Array(n).fill(-1);
    let undecided = n;
    for (let k = 0; k < conds.length && undecided > 0; k++) {
      const c = conds[k](b);
      if (isScalar(c)) {
        if (c.value === true) {
          for (let i = 0; i < n; i++) if (choice[i] === -1) choice[i] = k;
          undecided = 0;
        }
        continue;
      }
      const cv = (c as NumericColumn).values as Uint8Array;
      const valid = c.validity;
      for (let i = 0; i < n; i++) {
        if (choice[i] === -1 && cv[i] === 1 && (valid === null || valid[i] === 1)) {
          choice[i] = k;
          undecided--;
        }
      }
    }
    const branches: Datum[] = results.map((r) => r(b));
    const elseD: Datum = otherwise ? otherwise(b) : scalar(type, null);
    return gather(type, choice, branches, elseD, n);
  };
}

/** Builds a column taking row i from branches[choice[i]] (or `other` when -1). */
function gather(
  type: DataType,
  choice: Int32Array,
  branches: Datum[],
  other: Datum,
  n: number,
): Datum {
  const all = [...branches, other];
  const pick = (i: number) => (choice[i] < 0 ? branches.length : choice[i]);
  if (type.id === "utf8") {
    const out = new GrowableColumn(type, n);
    const cols = all.map((d) => toColumn(d, n));
    for (let i = 0; i < n; i++) out.append(cols[pick(i)], i);
    return out.finish();
  }
  const cols = all.map((d) => (isScalar(d) ? null : d as NumericColumn));
  const wide = cols.some((c) => c?.values instanceof BigInt64Array) ||
    all.some((d) => isScalar(d) && typeof d.value === "bigint");
  const out = wide
    ? new BigInt64Array(n)
    : (type.id === "int32" || type.id === "date32"
      ? new Int32Array(n)
      : type.id === "bool"
      ? new Uint8Array(n)
      : new Float64Array(n));
  const validity = new Uint8Array(n);
  let anyNull = false;
  for (let i = 0; i < n; i++) {
    const k = pick(i);
    const d = all[k];
    const c = cols[k];
    let v: Value;
    if (c === null) v = (d as { value: Value }).value;
    else v = c.validity && !c.validity[i] ? null : c.values[i] as number;
    if (v === null) {
      anyNull = true;
      continue;
    }
    validity[i] = 1;
    if (wide) (out as BigInt64Array)[i] = BigInt(v as number);
    else (out as Float64Array)[i] = typeof v === "boolean" ? Number(v) : v as number;
  }
  return numericColumn(type, out, anyNull ? validity : null);
}
