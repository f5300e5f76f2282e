/**
 * Fused filter predicates: a WHERE clause's AND/OR/NOT tree of comparisons
 * on numeric columns is compiled into one JavaScript loop (generated code,
 * specialised per batch shape) that writes the selection vector directly,
 * instead of one pass and one boolean array per comparison and per AND.
 * TPC-H Q6's five comparisons become one loop over lineitem.
 *
 * Three-valued logic is kept: for every node the generator emits "is TRUE"
 * and "is FALSE" conditions (NOT x is TRUE when x is FALSE, not when x is
 * NULL). Parts it does not fuse (string predicates, functions, arithmetic)
 * are evaluated by the vectorised engine into boolean columns that the loop
 * reads, so any predicate can go through here.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import type { Column } from "../arrow/column.ts";
import type { Expr } from "../plan/expr.ts";
import { isScalar, toColumn } from "./datum.ts";
import { type CompiledExpr, compileExprs, type Layout } from "./expr.ts";

/** Rows where a predicate is TRUE: indices, or all / none. */
export type Selection = Int32Array | "all" | "none";

/** A predicate compiled for selection. */
export interface FusedFilter {
  /** The selection, or null when this batch's storage needs the vectorised path. */
  select(batch: RecordBatch): Selection | null;
}

type Cmp = "=" | "<>" | "<" | "<=" | ">" | ">=";
const CMPS = new Set<string>(["=", "<>", "<", "<=", ">", ">="]);
const JS_OP: Record<Cmp, string> = {
  "=": "===",
  "<>": "!==",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};
const FLIP: Record<Cmp, Cmp> = { "=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

/** Storage types whose values compare as JavaScript numbers (no NaN ordering to mind). */
const FUSABLE_TYPES = new Set(["int32", "int64", "date32", "timestamp", "decimal", "bool"]);

/** Same type, parameters included (decimal scales must agree for raw values to compare). */
function sameType(a: Expr, b: Expr): boolean {
  return JSON.stringify(a.type) === JSON.stringify(b.type);
}

/** The predicate tree, with leaves as slots of the per-batch inputs. */
type Node =
  | { readonly k: "and" | "or"; readonly a: Node; readonly b: Node }
  | { readonly k: "not"; readonly a: Node }
  /** Column slot `s` compared with constant `c` or with column slot `t`. */
  | {
    readonly k: "cmp";
    readonly op: Cmp;
    readonly s: number;
    readonly c?: number;
    readonly t?: number;
  }
  | { readonly k: "in"; readonly s: number; readonly list: readonly number[] }
  | { readonly k: "null"; readonly s: number; readonly negated: boolean }
  /** A boolean slot: a bool column, or a sub-predicate evaluated by the engine. */
  | { readonly k: "bool"; readonly s: number };

/** Where a slot's column comes from: an input column, or an expression the engine evaluates. */
type Slot = { readonly column: number } | { readonly expr: CompiledExpr };

/**
 * Compiles a predicate for selection; null when nothing in it can be fused
 * (then the plain vectorised path is as good).
 */
export function compileFusedFilter(e: Expr, layout: Layout): FusedFilter | null {
  const slots: Slot[] = [];
  const leaves: Expr[] = [];
  const columnSlot = new Map<number, number>();
  let fused = 0;
  const slotOfColumn = (id: number): number => {
    let s = columnSlot.get(id);
    if (s === undefined) {
      s = slots.length;
      slots.push({ column: layout.get(id)! });
      columnSlot.set(id, s);
    }
    return s;
  };
  const leaf = (x: Expr): Node => {
    const s = slots.length;
    slots.push({ column: -1 }); // filled in once the leaves are compiled together
    leaves.push(x);
    return { k: "bool", s };
  };
  const isCol = (x: Expr): x is Expr & { kind: "column" } =>
    x.kind === "column" && FUSABLE_TYPES.has(x.type.id) && layout.has(x.id);
  const constant = (x: Expr): number | null => {
    if (x.kind !== "literal") return null;
    const v = x.value;
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const build = (x: Expr): Node => {
    if (x.kind === "binary" && (x.op === "and" || x.op === "or")) {
      return { k: x.op, a: build(x.left), b: build(x.right) };
    }
    if (x.kind === "unary" && x.op === "not") return { k: "not", a: build(x.arg) };
    if (x.kind === "unary" && (x.op === "is_null" || x.op === "is_not_null") && isCol(x.arg)) {
      fused++;
      return { k: "null", s: slotOfColumn(x.arg.id), negated: x.op === "is_not_null" };
    }
    if (x.kind === "binary" && CMPS.has(x.op)) {
      const op = x.op as Cmp;
      if (isCol(x.left) && sameType(x.left, x.right)) {
        const c = constant(x.right);
        if (c !== null) {
          fused++;
          return { k: "cmp", op, s: slotOfColumn(x.left.id), c };
        }
        if (isCol(x.right)) {
          fused++;
          return { k: "cmp", op, s: slotOfColumn(x.left.id), t: slotOfColumn(x.right.id) };
        }
      }
      if (isCol(x.right) && sameType(x.left, x.right)) {
        const c = constant(x.left);
        if (c !== null) {
          fused++;
          return { k: "cmp", op: FLIP[op], s: slotOfColumn(x.right.id), c };
        }
      }
    }
    if (x.kind === "in_list" && !x.negated && isCol(x.arg)) {
      const list = x.list.map((v) => (sameType(v, x.arg) ? constant(v) : null));
      if (list.every((v) => v !== null) && list.length <= 64) {
        fused++;
        return { k: "in", s: slotOfColumn(x.arg.id), list: list as number[] };
      }
    }
    if (x.kind === "column" && x.type.id === "bool" && layout.has(x.id)) {
      return { k: "bool", s: slotOfColumn(x.id) };
    }
    return leaf(x);
  };
  const root = build(e);
  if (fused === 0) return null;
  // Sub-predicates the loop cannot fuse, compiled together (shared subexpressions).
  const compiled = compileExprs(leaves, layout);
  let at = 0;
  for (let s = 0; s < slots.length; s++) {
    if ("column" in slots[s] && (slots[s] as { column: number }).column === -1) {
      slots[s] = { expr: compiled[at++] };
    }
  }
  return new Generated(root, slots);
}

/** Runs the generated loop, regenerating it for each new batch shape. */
class Generated implements FusedFilter {
  readonly #root: Node;
  readonly #slots: readonly Slot[];
  /** Loops by batch shape (which slots have validity, and their array kinds). */
  readonly #loops = new Map<string, LoopFn>();

  constructor(root: Node, slots: readonly Slot[]) {
    this.#root = root;
    this.#slots = slots;
  }

  select(batch: RecordBatch): Selection | null {
    const n = batch.numRows;
    const values: unknown[] = [];
    const valids: (Uint8Array | null)[] = [];
    let shape = "";
    for (const slot of this.#slots) {
      let col: Column;
      if ("column" in slot) col = batch.columns[slot.column];
      else {
        const d = slot.expr.evaluate(batch);
        if (isScalar(d) && d.value === null) {
          col = {
            enc: "num",
            type: slot.expr.type,
            length: n,
            values: new Uint8Array(n),
            validity: new Uint8Array(n),
          };
        } else col = toColumn(d, n);
      }
      // Wide decimals (BigInt64Array) and strings: the engine evaluates the whole predicate.
      if (col.enc !== "num" || col.values instanceof BigInt64Array) return null;
      values.push(col.values);
      valids.push(col.validity);
      shape += (col.validity ? "v" : "-") + col.values.constructor.name[0];
    }
    let loop = this.#loops.get(shape);
    if (!loop) this.#loops.set(shape, loop = generate(this.#root, valids.map((v) => v !== null)));
    const out = new Int32Array(n);
    const k = loop(values, valids, n, out);
    if (k === n) return "all";
    if (k === 0) return "none";
    return out.subarray(0, k);
  }
}

type LoopFn = (
  values: readonly unknown[],
  valids: readonly (Uint8Array | null)[],
  n: number,
  out: Int32Array,
) => number;

/** Generates the selection loop for a tree and a validity shape. */
function generate(root: Node, hasValidity: readonly boolean[]): LoopFn {
  const valid = (s: number) => (hasValidity[s] ? `n${s}[i] === 1` : "true");
  const both = (a: string, b: string) => (a === "true" ? b : b === "true" ? a : `${a} && ${b}`);
  const val = (s: number) => `v${s}[i]`;
  // [is TRUE, is FALSE] for each node.
  const gen = (x: Node): [string, string] => {
    switch (x.k) {
      case "and": {
        const [at, af] = gen(x.a), [bt, bf] = gen(x.b);
        return [`(${at}) && (${bt})`, `(${af}) || (${bf})`];
      }
      case "or": {
        const [at, af] = gen(x.a), [bt, bf] = gen(x.b);
        return [`(${at}) || (${bt})`, `(${af}) && (${bf})`];
      }
      case "not": {
        const [t, f] = gen(x.a);
        return [f, t];
      }
      case "cmp": {
        const rhs = x.t !== undefined ? val(x.t) : String(x.c);
        const ok = x.t !== undefined ? both(valid(x.s), valid(x.t)) : valid(x.s);
        const test = `${val(x.s)} ${JS_OP[x.op]} ${rhs}`;
        return [both(ok, `(${test})`), both(ok, `!(${test})`)];
      }
      case "in": {
        const test = x.list.map((c) => `${val(x.s)} === ${c}`).join(" || ") || "false";
        return [both(valid(x.s), `(${test})`), both(valid(x.s), `!(${test})`)];
      }
      case "null": {
        const isNull = hasValidity[x.s] ? `n${x.s}[i] === 0` : "false";
        const notNull = hasValidity[x.s] ? `n${x.s}[i] === 1` : "true";
        return x.negated ? [notNull, isNull] : [isNull, notNull];
      }
      case "bool":
        return [both(valid(x.s), `${val(x.s)} === 1`), both(valid(x.s), `${val(x.s)} === 0`)];
    }
  };
  const [isTrue] = gen(root);
  const decl = hasValidity.map((_, s) =>
    `const v${s} = values[${s}];` + (hasValidity[s] ? ` const n${s} = valids[${s}];` : "")
  ).join("\n");
  const body = `${decl}
let k = 0;
for (let i = 0; i < n; i++) {
  if (${isTrue}) out[k++] = i;
}
return k;`;
  return new Function("values", "valids", "n", "out", body) as LoopFn;
}
