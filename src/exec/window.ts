/**
 * Window functions over one batch that holds whole partitions.
 *
 * The work for one window specification (PARTITION BY + ORDER BY) is a single
 * sort of row indices; every call that shares the specification reuses it.
 * From the sorted permutation we derive, per sorted position, the partition
 * and peer-group bounds (Int32Arrays), then per frame the frame bounds, and
 * each function is one linear pass over those arrays:
 *
 * - ranking functions read the partition and peer bounds;
 * - count/sum/avg subtract prefix sums (exact for integers and decimals,
 *   double-double for floats so that sliding frames do not cancel badly);
 * - min/max use a monotonic deque, since every frame we build moves forward;
 * - value functions (lag, lead, first/last/nth_value, min/max) pick a source
 *   row per output row, and one gather builds the column.
 *
 * Results are written at `perm[i]`, so every output column is in the input
 * row order. Semantics follow DuckDB (our reference engine), including its
 * treatment of NULL ORDER BY keys in RANGE frames with offsets.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import {
  allocValues,
  type Column,
  columnFromValues,
  concatColumns,
  type NumericColumn,
  numericColumn,
  take,
} from "../arrow/column.ts";
import { GrowableColumn } from "../arrow/growable.ts";
import { type DataType, FLOAT64, INT64, typeEquals, typeToString } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import { type AggFn, type Expr, exprKey } from "../plan/expr.ts";
import type { SortKey, WindowCall, WindowFrame } from "../plan/logical.ts";
import { createAccumulator } from "./aggregates.ts";
import { isScalar } from "./datum.ts";
import { type CompiledExpr, compileExprs, evaluateColumn, type Layout } from "./expr.ts";
import { castColumn, pow10, roundHalfAway } from "./kernels/cast.ts";
import { keyComparator, rowComparator, sortIndices } from "./sort.ts";

/** Above this absolute value doubles stop being exact integers. */
const EXACT = 2 ** 53;
/** Microseconds per day: RANGE offsets over timestamps are given in days. */
const MICROS_PER_DAY = 86_400_000_000;
/** Rows per chunk of the generic (accumulator-based) frame aggregation. */
const GENERIC_CHUNK = 1 << 20;

/** Partition and peer bounds of one window specification, by sorted position. */
interface Spec {
  /** Sorted position -> input row. */
  readonly perm: Int32Array;
  /** First sorted position of the row's partition. */
  readonly partBegin: Int32Array;
  /** One past the last sorted position of the row's partition. */
  readonly partEnd: Int32Array;
  /** First sorted position of the row's peer group (rows equal on ORDER BY). */
  readonly peerBegin: Int32Array;
  /** One past the last sorted position of the row's peer group. */
  readonly peerEnd: Int32Array;
  readonly orderBy: readonly SortKey[];
  readonly orderCols: readonly Column[];
  /** Frame bounds by frame key, shared by calls with the same frame. */
  readonly frames: Map<string, Frames>;
}

/** Frame bounds by sorted position: [begin, end) in sorted positions, clamped to the partition. */
interface Frames {
  readonly begin: Int32Array;
  readonly end: Int32Array;
  /** Both bounds never move backwards within a partition (lets min/max use a deque). */
  readonly monotone: boolean;
}

/** Evaluates each distinct expression at most once per call of `computeWindows`. */
class ExprColumns {
  readonly #exprs: Expr[] = [];
  readonly #index = new Map<string, number>();
  #compiled: CompiledExpr[] | null = null;
  readonly #cols = new Map<number, Column>();
  constructor(private readonly batch: RecordBatch, private readonly layout: Layout) {}

  /** Registers an expression; returns its slot. */
  add(e: Expr): number {
    const k = exprKey(e);
    let i = this.#index.get(k);
    if (i === undefined) {
      i = this.#exprs.length;
      this.#exprs.push(e);
      this.#index.set(k, i);
    }
    return i;
  }

  #compile(): CompiledExpr[] {
    // Compiled together so that common subexpressions are evaluated once;
    // recompiled only if an expression was registered after the first use.
    if (this.#compiled === null || this.#compiled.length !== this.#exprs.length) {
      this.#compiled = compileExprs(this.#exprs, this.layout);
    }
    return this.#compiled;
  }

  /** The expression's value as a full column. */
  column(e: Expr): Column {
    const i = this.add(e);
    let c = this.#cols.get(i);
    if (!c) {
      c = evaluateColumn(this.#compile()[i], this.batch);
      this.#cols.set(i, c);
    }
    return c;
  }

  /**
   * An integer argument (offsets, bucket counts) per input row, NaN for NULL.
   * Constants are the common case and cost one fill.
   */
  integers(e: Expr): Float64Array {
    const n = this.batch.numRows;
    const out = new Float64Array(n);
    const slot = this.add(e);
    const d = this.#compile()[slot].evaluate(this.batch);
    if (isScalar(d)) {
      const v = d.value;
      out.fill(v === null ? NaN : roundHalfAway(Number(v as number)));
      return out;
    }
    const c = d as NumericColumn;
    const v = c.values, valid = c.validity;
    for (let i = 0; i < n; i++) {
      out[i] = valid !== null && valid[i] === 0 ? NaN : roundHalfAway(Number(v[i]));
    }
    return out;
  }
}

/**
 * Computes window functions over a batch that holds every row of the
 * partitions it touches.
 *
 * @param batch the input rows (whole partitions)
 * @param windows the calls to compute; arguments, PARTITION BY and ORDER BY
 *   are expressions over the batch's columns
 * @param layout maps column ids in those expressions to batch column indexes
 * @returns one column per call, with one value per input row in input order
 */
export function computeWindows(
  batch: RecordBatch,
  windows: readonly WindowCall[],
  layout: Layout,
): Column[] {
  const n = batch.numRows;
  if (n === 0) return windows.map((w) => columnFromValues(w.type, []));
  const cols = new ExprColumns(batch, layout);
  for (const w of windows) {
    for (const e of w.partitionBy) cols.add(e);
    for (const k of w.orderBy) cols.add(k.expr);
    for (const a of w.args) cols.add(a);
  }
  const specs = new Map<string, Spec>();
  return windows.map((w) => {
    const key = specKey(w);
    let spec = specs.get(key);
    if (!spec) {
      spec = buildSpec(w, cols, n);
      specs.set(key, spec);
    }
    return computeCall(w, spec, cols, n);
  });
}

/** Calls with equal keys share one sort. */
function specKey(w: WindowCall): string {
  const parts = w.partitionBy.map(exprKey).join(",");
  const order = w.orderBy.map((k) =>
    `${exprKey(k.expr)} ${k.asc ? "a" : "d"}${k.nullsFirst ? "f" : "l"}`
  );
  return `${parts}|${order.join(",")}`;
}

/** Sorts by (PARTITION BY, ORDER BY) and finds partition and peer bounds. */
function buildSpec(w: WindowCall, cols: ExprColumns, n: number): Spec {
  const partCols = w.partitionBy.map((e) => cols.column(e));
  const orderCols = w.orderBy.map((k) => cols.column(k.expr));
  // Partition keys only need to group equal values; any fixed order does.
  const partOrders = partCols.map(() => ({ asc: true, nullsFirst: false }));
  const perm = sortIndices([...partCols, ...orderCols], [...partOrders, ...w.orderBy], n);
  const partCmp = partCols.length > 0 ? rowComparator(partCols, partOrders) : null;
  const peerCmp = orderCols.length > 0 ? rowComparator(orderCols, w.orderBy) : null;

  const partBegin = new Int32Array(n), partEnd = new Int32Array(n);
  const peerBegin = new Int32Array(n), peerEnd = new Int32Array(n);
  let pb = 0, qb = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const a = perm[i - 1], b = perm[i];
      if (partCmp !== null && partCmp(a, b) !== 0) pb = qb = i;
      else if (peerCmp !== null && peerCmp(a, b) !== 0) qb = i;
    }
    partBegin[i] = pb;
    peerBegin[i] = qb;
  }
  // Ends by a backward pass: a group ends where the next one begins.
  let pe = n, qe = n;
  for (let i = n - 1; i >= 0; i--) {
    partEnd[i] = pe;
    peerEnd[i] = peerCmp === null ? pe : qe;
    if (partBegin[i] === i) pe = qe = i;
    else if (peerBegin[i] === i) qe = i;
  }
  return {
    perm,
    partBegin,
    partEnd,
    peerBegin,
    peerEnd,
    orderBy: w.orderBy,
    orderCols,
    frames: new Map(),
  };
}

// ---------------------------------------------------------------------------
// frames

/** The frame bounds of a call, computed once per (specification, frame). */
function framesOf(spec: Spec, frame: WindowFrame | null): Frames {
  const key = frame === null
    ? "default"
    : `${frame.units}:${frame.start.kind}${frame.start.offset ?? ""}:${frame.end.kind}${
      frame.end.offset ?? ""
    }`;
  let f = spec.frames.get(key);
  if (!f) {
    f = frame === null ? defaultFrames(spec) : explicitFrames(spec, frame);
    spec.frames.set(key, f);
  }
  return f;
}

/** With ORDER BY: RANGE UNBOUNDED PRECEDING to CURRENT ROW (peers included); without: the partition. */
function defaultFrames(spec: Spec): Frames {
  return {
    begin: spec.partBegin,
    end: spec.orderBy.length > 0 ? spec.peerEnd : spec.partEnd,
    monotone: true,
  };
}

type Bound = WindowFrame["start"];

function explicitFrames(spec: Spec, frame: WindowFrame): Frames {
  const begin = boundPositions(spec, frame, frame.start, true);
  const end = boundPositions(spec, frame, frame.end, false);
  const { partBegin } = spec;
  let monotone = true;
  for (let i = 1; i < begin.length && monotone; i++) {
    if (partBegin[i] !== i && (begin[i] < begin[i - 1] || end[i] < end[i - 1])) monotone = false;
  }
  return { begin, end, monotone };
}

/** Sorted positions of one frame bound (start or exclusive end) for every row. */
function boundPositions(spec: Spec, frame: WindowFrame, b: Bound, isStart: boolean): Int32Array {
  const { partBegin, partEnd, peerBegin, peerEnd } = spec;
  const n = partBegin.length;
  if (b.kind === "unbounded") return isStart ? partBegin : partEnd;
  if (frame.units === "range" && b.kind === "current") return isStart ? peerBegin : peerEnd;
  const out = new Int32Array(n);
  if (b.kind === "current") {
    // ROWS CURRENT ROW.
    for (let i = 0; i < n; i++) out[i] = isStart ? i : i + 1;
    return out;
  }
  const offset = b.offset;
  if (offset === undefined || offset === null || !Number.isFinite(offset)) {
    throw new SpiceError("PLAN", `window frame ${b.kind.toUpperCase()} needs an offset`);
  }
  if (frame.units === "range") return rangeBound(spec, b.kind, offset, isStart);
  // ROWS n PRECEDING / FOLLOWING; a negative offset simply moves the other way (as DuckDB).
  const delta = (b.kind === "preceding" ? -1 : 1) * roundHalfAway(offset) + (isStart ? 0 : 1);
  for (let i = 0; i < n; i++) {
    const x = i + delta, lo = partBegin[i], hi = partEnd[i];
    out[i] = x < lo ? lo : x > hi ? hi : x;
  }
  return out;
}

/**
 * RANGE n PRECEDING / FOLLOWING over the single numeric ORDER BY key.
 *
 * Keys are mapped to an ascending scale (negated for DESC) so that one
 * forward-moving pointer per partition finds every bound: O(n). Rows whose
 * key is NULL get their peer group (all NULLs) for an offset bound, and the
 * NULL rows are never inside the offset bound of a non-NULL row (DuckDB).
 */
function rangeBound(
  spec: Spec,
  kind: "preceding" | "following",
  offset: number,
  isStart: boolean,
): Int32Array {
  if (spec.orderBy.length !== 1) {
    throw new SpiceError("PLAN", "RANGE with an offset needs exactly one ORDER BY expression");
  }
  if (offset < 0) {
    throw new SpiceError(
      "INVALID_ARGUMENT",
      `invalid RANGE ${kind.toUpperCase()} value ${offset}: must not be negative`,
    );
  }
  const col = spec.orderCols[0];
  const t = col.type;
  let off = offset;
  switch (t.id) {
    case "int32":
    case "int64":
    case "float64":
    case "date32":
      break;
    case "decimal":
      // Keys are unscaled integers; so is the offset after scaling.
      off = Math.round(offset * pow10(t.scale));
      break;
    case "timestamp":
      off = Math.round(offset * MICROS_PER_DAY);
      break;
    default:
      throw new SpiceError(
        "TYPE",
        `RANGE with an offset needs a numeric or date ORDER BY key, got ${typeToString(t)}`,
      );
  }
  const { perm, partEnd, peerBegin, peerEnd } = spec;
  const n = perm.length;
  const dir = spec.orderBy[0].asc ? 1 : -1;
  const values = (col as NumericColumn).values;
  const valid = col.validity;
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = dir * Number(values[perm[i]]);
  const isValid = (i: number) => valid === null || valid[perm[i]] === 1;
  const sign = kind === "preceding" ? -1 : 1;
  const out = new Int32Array(n);
  for (let pb = 0; pb < n; pb = partEnd[pb]) {
    const pe = partEnd[pb];
    // NULL keys sit together at one end of the partition.
    let vs = pb, ve = pe;
    while (vs < ve && !isValid(vs)) vs++;
    while (ve > vs && !isValid(ve - 1)) ve--;
    let p = vs;
    for (let i = pb; i < pe; i++) {
      if (i < vs || i >= ve) {
        out[i] = isStart ? peerBegin[i] : peerEnd[i];
        continue;
      }
      const target = key[i] + sign * off;
      // Start: first key >= target (lower bound); end: first key > target (upper bound).
      if (isStart) { while (p < ve && key[p] < target) p++; }
      else while (p < ve && key[p] <= target) p++;
      out[i] = p;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// functions

function computeCall(w: WindowCall, spec: Spec, cols: ExprColumns, n: number): Column {
  const { perm, partBegin, partEnd, peerBegin, peerEnd } = spec;
  switch (w.fn) {
    case "row_number": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[perm[i]] = i - partBegin[i] + 1;
      return numericColumn(INT64, out);
    }
    case "rank": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[perm[i]] = peerBegin[i] - partBegin[i] + 1;
      return numericColumn(INT64, out);
    }
    case "dense_rank": {
      const out = new Float64Array(n);
      let d = 0;
      for (let i = 0; i < n; i++) {
        if (partBegin[i] === i) d = 1;
        else if (peerBegin[i] === i) d++;
        out[perm[i]] = d;
      }
      return numericColumn(INT64, out);
    }
    case "percent_rank": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const denom = partEnd[i] - partBegin[i] - 1;
        out[perm[i]] = denom > 0 ? (peerBegin[i] - partBegin[i]) / denom : 0;
      }
      return numericColumn(FLOAT64, out);
    }
    case "cume_dist": {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        out[perm[i]] = (peerEnd[i] - partBegin[i]) / (partEnd[i] - partBegin[i]);
      }
      return numericColumn(FLOAT64, out);
    }
    case "ntile":
      return ntile(spec, requireArg(w, 0, cols, "integers") as Float64Array, n);
    case "lag":
    case "lead":
      return leadLag(w, spec, cols, n);
    case "first_value":
    case "last_value":
    case "nth_value":
      return frameValue(w, spec, cols, n);
    case "count_star":
    case "count":
    case "sum":
    case "avg":
    case "min":
    case "max":
      return frameAggregate(w, spec, cols, n);
    default:
      // Other aggregates (stddev, var, bool_and, ...) through their accumulators.
      return genericAggregate(w, spec, cols, n);
  }
}

function requireArg(
  w: WindowCall,
  k: number,
  cols: ExprColumns,
  as: "column" | "integers",
): Column | Float64Array {
  const e = w.args[k];
  if (!e) {
    throw new SpiceError("PLAN", `${w.fn}() needs at least ${k + 1} argument${k === 0 ? "" : "s"}`);
  }
  return as === "column" ? cols.column(e) : cols.integers(e);
}

/** ntile(n): DuckDB's (SQLite's) bucket arithmetic; frames do not apply. */
function ntile(spec: Spec, buckets: Float64Array, n: number): Column {
  const { perm, partBegin, partEnd } = spec;
  const out = new Float64Array(n);
  let validity: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const r = perm[i];
    let k = buckets[r];
    if (Number.isNaN(k)) {
      validity ??= new Uint8Array(n).fill(1);
      validity[r] = 0;
      continue;
    }
    if (k <= 0) {
      throw new SpiceError("INVALID_ARGUMENT", "argument for ntile must be greater than zero");
    }
    const total = partEnd[i] - partBegin[i];
    if (k > total) k = total;
    const size = Math.floor(total / k);
    const large = total - k * size; // buckets that get one extra row
    const smallStart = large * (size + 1);
    const at = i - partBegin[i];
    out[r] = at < smallStart
      ? 1 + Math.floor(at / (size + 1))
      : 1 + large + Math.floor((at - smallStart) / size);
  }
  return numericColumn(INT64, out, validity);
}

/** Marks an output row as "take the default" in a source-row array. */
const USE_DEFAULT = -2;

/** lag/lead(x [, offset [, default]]): rows of the partition, frames do not apply. */
function leadLag(w: WindowCall, spec: Spec, cols: ExprColumns, n: number): Column {
  const x = requireArg(w, 0, cols, "column") as Column;
  const offsets = w.args.length > 1 ? cols.integers(w.args[1]) : null;
  let fallback: Column | null = w.args.length > 2 ? cols.column(w.args[2]) : null;
  // The binder normally casts the default already; a mismatch would mix storages.
  if (fallback !== null && fallback.type.id !== "null" && !typeEquals(fallback.type, w.type)) {
    fallback = castColumn(fallback, w.type);
  }
  const { perm, partBegin, partEnd } = spec;
  const sign = w.fn === "lag" ? -1 : 1;
  const src = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = perm[i];
    const off = offsets === null ? 1 : offsets[r];
    if (Number.isNaN(off)) {
      src[r] = -1; // NULL offset: NULL, not the default (DuckDB)
      continue;
    }
    const j = i + sign * off;
    src[r] = j >= partBegin[i] && j < partEnd[i] ? perm[j] : USE_DEFAULT;
  }
  return gather(w.type, x, src, fallback);
}

/** first_value / last_value / nth_value over the frame. */
function frameValue(w: WindowCall, spec: Spec, cols: ExprColumns, n: number): Column {
  const x = requireArg(w, 0, cols, "column") as Column;
  const { begin, end } = framesOf(spec, w.frame);
  const perm = spec.perm;
  const src = new Int32Array(n);
  if (w.fn === "nth_value") {
    const nth = requireArg(w, 1, cols, "integers") as Float64Array;
    for (let i = 0; i < n; i++) {
      const r = perm[i];
      const k = nth[r];
      // NULL or non-positive n gives NULL (DuckDB).
      const j = begin[i] + k - 1;
      src[r] = k >= 1 && j < end[i] ? perm[j] : -1;
    }
  } else {
    const last = w.fn === "last_value";
    for (let i = 0; i < n; i++) {
      const b = begin[i], e = end[i];
      src[perm[i]] = b < e ? perm[last ? e - 1 : b] : -1;
    }
  }
  return gather(w.type, x, src, null);
}

/**
 * Builds a column whose row r is `x[src[r]]`, NULL when src[r] is -1, and
 * `fallback[r]` when src[r] is USE_DEFAULT.
 */
function gather(type: DataType, x: Column, src: Int32Array, fallback: Column | null): Column {
  const n = src.length;
  const validity = new Uint8Array(n);
  let anyNull = false;
  const xv = x.validity, fv = fallback?.validity ?? null;
  if (type.id === "utf8") {
    const out = new GrowableColumn(type, n);
    for (let r = 0; r < n; r++) {
      const s = src[r];
      if (s >= 0) out.append(x, s);
      else if (s === USE_DEFAULT && fallback !== null) out.append(fallback, r);
      else out.appendNull();
    }
    return out.finish();
  }
  const xs = (x as NumericColumn).values;
  const fs = fallback === null ? null : (fallback as NumericColumn).values;
  const wide = xs instanceof BigInt64Array || fs instanceof BigInt64Array;
  if (wide) {
    const out = new BigInt64Array(n);
    for (let r = 0; r < n; r++) {
      const s = src[r];
      if (s >= 0) {
        if (xv !== null && xv[s] === 0) continue;
        out[r] = BigInt(xs[s]);
      } else if (s === USE_DEFAULT && fs !== null) {
        if (fv !== null && fv[r] === 0) continue;
        out[r] = BigInt(fs[r]);
      } else continue;
      validity[r] = 1;
    }
    for (let r = 0; r < n && !anyNull; r++) if (validity[r] === 0) anyNull = true;
    return numericColumn(type, out, anyNull ? validity : null);
  }
  const out = allocValues(type, n) as Float64Array;
  const xa = xs as Float64Array, fa = fs as Float64Array | null;
  for (let r = 0; r < n; r++) {
    const s = src[r];
    if (s >= 0 && (xv === null || xv[s] === 1)) {
      out[r] = xa[s];
      validity[r] = 1;
    } else if (s === USE_DEFAULT && fa !== null && (fv === null || fv[r] === 1)) {
      out[r] = fa[r];
      validity[r] = 1;
    } else anyNull = true;
  }
  return numericColumn(type, out, anyNull ? validity : null);
}

// ---------------------------------------------------------------------------
// aggregates over frames

function frameAggregate(w: WindowCall, spec: Spec, cols: ExprColumns, n: number): Column {
  const frames = framesOf(spec, w.frame);
  const { begin, end } = frames;
  const perm = spec.perm;
  if (w.fn === "count_star" || (w.fn === "count" && w.args.length === 0)) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[perm[i]] = Math.max(0, end[i] - begin[i]);
    return numericColumn(INT64, out);
  }
  const x = requireArg(w, 0, cols, "column") as Column;
  if (w.fn === "min" || w.fn === "max") {
    if (!frames.monotone) return genericAggregate(w, spec, cols, n);
    return gather(w.type, x, minMax(spec, frames, x, w.fn === "min"), null);
  }
  // Prefix counts of non-NULL values in sorted order.
  const valid = x.validity;
  const count = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) count[i + 1] = count[i] + (valid === null ? 1 : valid[perm[i]]);
  const frameCount = (i: number) => (end[i] > begin[i] ? count[end[i]] - count[begin[i]] : 0);
  if (w.fn === "count") {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[perm[i]] = frameCount(i);
    return numericColumn(INT64, out);
  }
  if (x.type.id === "null") return numericColumn(w.type, allocValues(w.type, n), new Uint8Array(n));
  if (
    x.enc !== "num" ||
    (x.type.id !== "float64" && x.type.id !== "decimal" && x.type.id !== "int32" &&
      x.type.id !== "int64")
  ) {
    throw new SpiceError(
      "TYPE",
      `${w.fn}() over a window needs a numeric argument, got ${typeToString(x.type)}`,
    );
  }
  const isAvg = w.fn === "avg";
  const validity = new Uint8Array(n);
  let anyNull = false;
  for (let i = 0; i < n; i++) {
    if (frameCount(i) > 0) validity[perm[i]] = 1;
    else anyNull = true;
  }
  const outValidity = anyNull ? validity : null;
  if (x.type.id === "float64") {
    const sums = floatFrameSums(x, perm, begin, end);
    if (isAvg) { for (let i = 0; i < n; i++) sums[i] = sums[i] / frameCount(i); }
    return numericColumn(isAvg ? FLOAT64 : w.type, scatter(sums, perm), outValidity);
  }
  // Integers and unscaled decimals: exact sums.
  const divisor = x.type.id === "decimal" ? pow10(x.type.scale) : 1;
  const exact = exactFrameSums(x, perm, begin, end);
  if (exact instanceof Float64Array) {
    if (isAvg) {
      // DuckDB divides by count * 10^scale in one step.
      for (let i = 0; i < n; i++) exact[i] = exact[i] / (frameCount(i) * divisor);
    }
    return numericColumn(isAvg ? FLOAT64 : w.type, scatter(exact, perm), outValidity);
  }
  if (isAvg) {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[perm[i]] = Number(exact[i]) / (frameCount(i) * divisor);
    return numericColumn(FLOAT64, out, outValidity);
  }
  if (w.type.id === "decimal") {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[perm[i]] = exact[i];
    return numericColumn(w.type, out, outValidity);
  }
  // int64 results are doubles in storage: exact only up to 2^53, as everywhere.
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[perm[i]] = Number(exact[i]);
  return numericColumn(w.type, out, outValidity);
}

/** Moves values from sorted positions to input rows. */
function scatter(bySorted: Float64Array, perm: Int32Array): Float64Array {
  const out = new Float64Array(bySorted.length);
  for (let i = 0; i < perm.length; i++) out[perm[i]] = bySorted[i];
  return out;
}

/**
 * Frame sums of doubles by sorted position. The prefix is kept as a
 * double-double (hi + lo) so that subtracting two large prefixes does not
 * lose the small frame in between; NaN and infinities are counted apart
 * because they cannot be subtracted out of a prefix.
 */
function floatFrameSums(
  x: Column,
  perm: Int32Array,
  begin: Int32Array,
  end: Int32Array,
): Float64Array {
  const n = perm.length;
  const v = (x as NumericColumn).values as Float64Array;
  const valid = x.validity;
  const hi = new Float64Array(n + 1), lo = new Float64Array(n + 1);
  let nan: Int32Array | null = null, pinf: Int32Array | null = null, ninf: Int32Array | null = null;
  let sh = 0, sl = 0;
  for (let i = 0; i < n; i++) {
    const r = perm[i];
    let a = valid === null || valid[r] === 1 ? v[r] : 0;
    if (!Number.isFinite(a)) {
      if (nan === null) {
        nan = new Int32Array(n + 1);
        pinf = new Int32Array(n + 1);
        ninf = new Int32Array(n + 1);
      }
      if (Number.isNaN(a)) nan[i + 1] = 1;
      else if (a > 0) pinf![i + 1] = 1;
      else ninf![i + 1] = 1;
      a = 0;
    }
    // TwoSum, then renormalise (hi, lo).
    const s = sh + a;
    const bb = s - sh;
    const err = (sh - (s - bb)) + (a - bb);
    sl += err;
    sh = s + sl;
    sl -= sh - s;
    hi[i + 1] = sh;
    lo[i + 1] = sl;
  }
  if (nan !== null) {
    for (let i = 0; i < n; i++) {
      nan[i + 1] += nan[i];
      pinf![i + 1] += pinf![i];
      ninf![i + 1] += ninf![i];
    }
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = begin[i], e = end[i];
    if (e <= b) continue;
    if (nan !== null) {
      const cn = nan[e] - nan[b], cp = pinf![e] - pinf![b], cm = ninf![e] - ninf![b];
      if (cn > 0 || (cp > 0 && cm > 0)) {
        out[i] = NaN;
        continue;
      }
      if (cp > 0 || cm > 0) {
        out[i] = cp > 0 ? Infinity : -Infinity;
        continue;
      }
    }
    // TwoDiff of the high parts, plus the difference of the low parts.
    const ah = hi[e], bh = hi[b];
    const d = ah - bh;
    const bb = d - ah;
    const err = (ah - (d - bb)) + (-bh - bb);
    out[i] = d + (err + (lo[e] - lo[b]));
  }
  return out;
}

/**
 * Exact frame sums of integers or unscaled decimals by sorted position: in
 * doubles when no prefix can pass 2^53 (the common case), else in BigInt.
 */
function exactFrameSums(
  x: Column,
  perm: Int32Array,
  begin: Int32Array,
  end: Int32Array,
): Float64Array | BigInt64Array {
  const n = perm.length;
  const values = (x as NumericColumn).values;
  const valid = x.validity;
  if (!(values instanceof BigInt64Array)) {
    const v = values as Float64Array;
    let total = 0;
    for (let r = 0; r < n; r++) if (valid === null || valid[r] === 1) total += Math.abs(v[r]);
    if (total < EXACT) {
      const prefix = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) {
        const r = perm[i];
        prefix[i + 1] = prefix[i] + (valid === null || valid[r] === 1 ? v[r] : 0);
      }
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) if (end[i] > begin[i]) out[i] = prefix[end[i]] - prefix[begin[i]];
      return out;
    }
  }
  const prefix = new BigInt64Array(n + 1);
  let acc = 0n;
  for (let i = 0; i < n; i++) {
    const r = perm[i];
    if (valid === null || valid[r] === 1) acc += BigInt(values[r]);
    prefix[i + 1] = acc;
  }
  const out = new BigInt64Array(n);
  let small = true;
  for (let i = 0; i < n; i++) {
    if (end[i] <= begin[i]) continue;
    const s = prefix[end[i]] - prefix[begin[i]];
    out[i] = s;
    if (s >= 9007199254740992n || s <= -9007199254740992n) small = false;
  }
  // Results that fit stay in the usual double storage.
  return small ? Float64Array.from(out, Number) : out;
}

/**
 * The input row holding the min (or max) of each row's frame, -1 when the
 * frame has no non-NULL value. A monotonic deque of sorted positions: each
 * position enters and leaves once, so the pass is O(n) for any frame whose
 * bounds only move forward.
 */
function minMax(spec: Spec, frames: Frames, x: Column, isMin: boolean): Int32Array {
  const { perm, partEnd } = spec;
  const { begin, end } = frames;
  const n = perm.length;
  const cmp = keyComparator(x, { asc: true, nullsFirst: false });
  const valid = x.validity;
  const src = new Int32Array(n);
  const deque = new Int32Array(n);
  for (let pb = 0; pb < n; pb = partEnd[pb]) {
    const pe = partEnd[pb];
    let head = 0, tail = 0, next = pb;
    for (let i = pb; i < pe; i++) {
      const b = begin[i], e = end[i];
      for (; next < e; next++) {
        const r = perm[next];
        if (valid !== null && valid[r] === 0) continue;
        // Drop values the newcomer beats: they can never be the answer again.
        while (tail > head) {
          const c = cmp(r, perm[deque[tail - 1]]);
          if (isMin ? c <= 0 : c >= 0) tail--;
          else break;
        }
        deque[tail++] = next;
      }
      while (head < tail && deque[head] < b) head++;
      src[perm[i]] = head < tail && b < e ? perm[deque[head]] : -1;
    }
  }
  return src;
}

/**
 * Any aggregate over frames through its group accumulator: each distinct
 * consecutive frame is one group fed the rows of its frame. Linear in the
 * total frame size, so reserved for aggregates without a dedicated pass
 * (variance family, bool_and/or, any_value) and non-monotone min/max.
 */
function genericAggregate(w: WindowCall, spec: Spec, cols: ExprColumns, n: number): Column {
  const fn = w.fn as AggFn;
  const { begin, end } = framesOf(spec, w.frame);
  const perm = spec.perm;
  const args = w.args.map((e) => cols.column(e));
  // Group g covers sorted positions with the same frame as their predecessor.
  const groupOf = new Int32Array(n);
  const gBegin: number[] = [], gEnd: number[] = [];
  for (let i = 0; i < n; i++) {
    const b = begin[i], e = Math.max(begin[i], end[i]);
    const g = gBegin.length - 1;
    if (g >= 0 && gBegin[g] === b && gEnd[g] === e && spec.partBegin[i] !== i) groupOf[i] = g;
    else {
      gBegin.push(b);
      gEnd.push(e);
      groupOf[i] = g + 1;
    }
  }
  const call = {
    id: w.id,
    fn,
    args: w.args,
    distinct: false,
    filter: null,
    type: w.type,
    name: w.name,
  };
  const results: Column[] = [];
  const numGroups = gBegin.length;
  for (let g0 = 0; g0 < numGroups;) {
    // Take groups until the chunk holds about GENERIC_CHUNK rows (at least one group).
    let g1 = g0, size = 0;
    while (g1 < numGroups && (g1 === g0 || size + gEnd[g1] - gBegin[g1] <= GENERIC_CHUNK)) {
      size += gEnd[g1] - gBegin[g1];
      g1++;
    }
    const groups = new Int32Array(size), rows = new Int32Array(size);
    let at = 0;
    for (let g = g0; g < g1; g++) {
      for (let j = gBegin[g]; j < gEnd[g]; j++) {
        groups[at] = g - g0;
        rows[at++] = perm[j];
      }
    }
    const acc = createAccumulator(call);
    acc.update(groups, args.map((c) => take(c, rows)), size, g1 - g0);
    results.push(acc.finish(g1 - g0));
    g0 = g1;
  }
  const all = concatColumns(results);
  const pick = new Int32Array(n);
  for (let i = 0; i < n; i++) pick[perm[i]] = groupOf[i];
  return take(all, pick);
}
