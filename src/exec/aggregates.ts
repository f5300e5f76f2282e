/**
 * Aggregate accumulators, vectorised over group ids: each update walks a
 * batch's group-id array and typed value arrays, never row objects. Every
 * accumulator can emit a partial state (as columns, for the shuffle between
 * partial and final aggregation) and merge such states.
 *
 * Decimal sums are exact: per group the sum is kept as `hi * 2^32 + lo` in
 * two doubles, with `lo` renormalised before it can pass 2^53.
 *
 * @module
 */

import {
  type Column,
  type NumericArray,
  type NumericColumn,
  numericColumn,
  stringAt,
} from "../arrow/column.ts";
import { GrowableColumn } from "../arrow/growable.ts";
import { BOOL, type DataType, FLOAT64, INT64 } from "../arrow/types.ts";
import { SpiceError } from "../errors.ts";
import type { AggregateCall } from "../plan/expr.ts";
import { compareBytes } from "./kernels/compare.ts";
import { pow10 } from "./kernels/cast.ts";
import { createGroupTable, type GroupTable } from "./hash_table.ts";

const TWO32 = 4294967296;
const SAFE = 2 ** 52;

/** Accumulates one aggregate for many groups. */
export interface Accumulator {
  /** Types of the partial-state columns. */
  readonly stateTypes: readonly DataType[];
  /** Adds raw input rows; rows whose group id is negative are skipped. */
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void;
  /** Merges partial states (as emitted by `state`). */
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void;
  /** The partial state of every group. */
  state(numGroups: number): Column[];
  /** The final value of every group. */
  finish(numGroups: number): Column;
}

function grow<T extends Float64Array | Uint8Array | Int32Array>(a: T, n: number): T {
  if (a.length >= n) return a;
  const b = new (a.constructor as { new (n: number): T })(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

function f64(c: Column): Float64Array | Int32Array | Uint8Array {
  return (c as NumericColumn).values as Float64Array;
}

// ---------------------------------------------------------------------------
// COUNT

class CountAccumulator implements Accumulator {
  readonly stateTypes = [INT64];
  #counts = new Float64Array(64);
  constructor(private readonly star: boolean) {}
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    const c = (this.#counts = grow(this.#counts, numGroups));
    const valid = this.star ? null : args[0].validity;
    if (valid === null) {
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g >= 0) c[g]++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g >= 0) c[g] += valid[i];
      }
    }
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    const c = (this.#counts = grow(this.#counts, numGroups));
    const v = f64(state[0]);
    for (let i = 0; i < n; i++) if (groups[i] >= 0) c[groups[i]] += v[i];
  }
  state(numGroups: number): Column[] {
    return [this.finish(numGroups)];
  }
  finish(numGroups: number): Column {
    this.#counts = grow(this.#counts, numGroups);
    return numericColumn(INT64, this.#counts.slice(0, numGroups));
  }
}

// ---------------------------------------------------------------------------
// SUM / AVG

/** Exact sums of unscaled decimals (or plain sums of doubles when `exact` is false). */
class SumState {
  hi = new Float64Array(64);
  lo = new Float64Array(64);
  count = new Float64Array(64);
  constructor(readonly exact: boolean) {}

  ensure(n: number): void {
    this.hi = grow(this.hi, n);
    this.lo = grow(this.lo, n);
    this.count = grow(this.count, n);
  }

  add(
    groups: Int32Array,
    values: NumericArray,
    valid: Uint8Array | null,
    n: number,
    numGroups: number,
  ): void {
    const lo = this.lo, cnt = this.count;
    if (values instanceof BigInt64Array) {
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g < 0 || (valid !== null && !valid[i])) continue;
        const v = values[i];
        const h = v / BigInt(TWO32);
        this.hi[g] += Number(h);
        lo[g] += Number(v - h * BigInt(TWO32));
        cnt[g]++;
      }
      this.normalizeGroups(groups, 0, n);
      return;
    }
    const v = values as Float64Array;
    if (!this.exact) {
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g < 0 || (valid !== null && !valid[i])) continue;
        lo[g] += v[i];
        cnt[g]++;
      }
      return;
    }
    // Chunk so that no group's `lo` can pass 2^53 before renormalising.
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(v[i]);
      if (a > maxAbs) maxAbs = a;
    }
    const chunk = maxAbs === 0 ? n : Math.max(1, Math.floor(SAFE / maxAbs));
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      if (valid === null) {
        for (let i = start; i < end; i++) {
          const g = groups[i];
          if (g < 0) continue;
          lo[g] += v[i];
          cnt[g]++;
        }
      } else {
        for (let i = start; i < end; i++) {
          const g = groups[i];
          if (g < 0 || !valid[i]) continue;
          lo[g] += v[i];
          cnt[g]++;
        }
      }
      // Few groups (Q1's four): carry over the groups; many: over the rows just added.
      if (numGroups * 4 < end - start) this.normalizeFirst(numGroups);
      else this.normalizeGroups(groups, start, end);
    }
  }

  /** Carries `lo` into `hi` for groups [0, numGroups). */
  normalizeFirst(numGroups: number): void {
    const lo = this.lo, hi = this.hi;
    for (let g = 0; g < numGroups; g++) {
      const x = lo[g];
      if (x > TWO32 || x < -TWO32) {
        const carry = Math.trunc(x / TWO32);
        hi[g] += carry;
        lo[g] = x - carry * TWO32;
      }
    }
  }

  mergeFrom(
    groups: Int32Array,
    hi: Float64Array,
    lo: Float64Array,
    count: Float64Array,
    n: number,
  ): void {
    for (let i = 0; i < n; i++) {
      const g = groups[i];
      if (g < 0) continue;
      this.hi[g] += hi[i];
      this.lo[g] += lo[i];
      this.count[g] += count[i];
      // Keep |lo| within 2^32, as `add` assumes of every group.
      if (this.exact && Math.abs(this.lo[g]) > TWO32) this.normalizeOne(g);
    }
  }

  normalizeOne(g: number): void {
    const carry = Math.trunc(this.lo[g] / TWO32);
    if (carry !== 0) {
      this.hi[g] += carry;
      this.lo[g] -= carry * TWO32;
    }
  }

  /**
   * Carries `lo` into `hi` for the groups of rows [start, end) (only groups
   * just added to can have grown, so the cost follows the batch, not the
   * number of groups).
   */
  normalizeGroups(groups: Int32Array, start: number, end: number): void {
    if (!this.exact) return;
    const lo = this.lo, hi = this.hi;
    for (let i = start; i < end; i++) {
      const g = groups[i];
      if (g < 0) continue;
      const x = lo[g];
      if (x > TWO32 || x < -TWO32) {
        const carry = Math.trunc(x / TWO32);
        hi[g] += carry;
        lo[g] = x - carry * TWO32;
      }
    }
  }

  /** Sum of group g as a double (exact when it fits in 53 bits). */
  value(g: number): number {
    return this.hi[g] * TWO32 + this.lo[g];
  }

  /** Sum of group g exactly, as a bigint. */
  big(g: number): bigint {
    return BigInt(this.hi[g]) * BigInt(TWO32) + BigInt(this.lo[g]);
  }
}

class SumAccumulator implements Accumulator {
  readonly stateTypes = [FLOAT64, FLOAT64, INT64];
  readonly #s: SumState;
  constructor(private readonly type: DataType, exact: boolean) {
    this.#s = new SumState(exact);
  }
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    this.#s.ensure(numGroups);
    const c = args[0] as NumericColumn;
    this.#s.add(groups, c.values, c.validity, n, numGroups);
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    this.#s.ensure(numGroups);
    this.#s.mergeFrom(
      groups,
      f64(state[0]) as Float64Array,
      f64(state[1]) as Float64Array,
      f64(state[2]) as Float64Array,
      n,
    );
  }
  state(numGroups: number): Column[] {
    const s = this.#s;
    s.ensure(numGroups);
    return [
      numericColumn(FLOAT64, s.hi.slice(0, numGroups)),
      numericColumn(FLOAT64, s.lo.slice(0, numGroups)),
      numericColumn(INT64, s.count.slice(0, numGroups)),
    ];
  }
  finish(numGroups: number): Column {
    const s = this.#s;
    s.ensure(numGroups);
    const validity = new Uint8Array(numGroups);
    let anyNull = false;
    let wide = false;
    const isDecimal = this.type.id === "decimal";
    for (let g = 0; g < numGroups; g++) {
      validity[g] = s.count[g] > 0 ? 1 : 0;
      if (!validity[g]) anyNull = true;
      if (s.exact && validity[g] && Math.abs(s.value(g)) >= 2 ** 53) {
        if (!isDecimal) {
          throw new SpiceError(
            "NOT_SUPPORTED",
            "not supported: a SUM beyond ±2^53, the exact BIGINT range of this engine",
          );
        }
        const b = s.big(g);
        if (b > 9223372036854775807n || b < -9223372036854775808n) {
          throw new SpiceError("NOT_SUPPORTED", "not supported: a DECIMAL SUM wider than 64 bits");
        }
        wide = true;
      }
    }
    const v = anyNull ? validity : null;
    if (wide) {
      const out = new BigInt64Array(numGroups);
      for (let g = 0; g < numGroups; g++) out[g] = s.big(g);
      return numericColumn(this.type, out, v);
    }
    const out = new Float64Array(numGroups);
    for (let g = 0; g < numGroups; g++) out[g] = s.value(g);
    return numericColumn(this.type, out, v);
  }
}

class AvgAccumulator implements Accumulator {
  readonly stateTypes = [FLOAT64, FLOAT64, INT64];
  readonly #s: SumState;
  readonly #scale: number;
  constructor(argType: DataType) {
    this.#s = new SumState(
      argType.id === "decimal" || argType.id === "int32" || argType.id === "int64",
    );
    this.#scale = argType.id === "decimal" ? pow10(argType.scale) : 1;
  }
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    this.#s.ensure(numGroups);
    const c = args[0] as NumericColumn;
    this.#s.add(groups, c.values, c.validity, n, numGroups);
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    this.#s.ensure(numGroups);
    this.#s.mergeFrom(
      groups,
      f64(state[0]) as Float64Array,
      f64(state[1]) as Float64Array,
      f64(state[2]) as Float64Array,
      n,
    );
  }
  state(numGroups: number): Column[] {
    const s = this.#s;
    s.ensure(numGroups);
    return [
      numericColumn(FLOAT64, s.hi.slice(0, numGroups)),
      numericColumn(FLOAT64, s.lo.slice(0, numGroups)),
      numericColumn(INT64, s.count.slice(0, numGroups)),
    ];
  }
  finish(numGroups: number): Column {
    const s = this.#s;
    s.ensure(numGroups);
    const out = new Float64Array(numGroups);
    const validity = new Uint8Array(numGroups);
    let anyNull = false;
    for (let g = 0; g < numGroups; g++) {
      const c = s.count[g];
      if (c === 0) {
        anyNull = true;
        continue;
      }
      validity[g] = 1;
      const sum = s.exact && Math.abs(s.value(g)) >= 2 ** 53 ? Number(s.big(g)) : s.value(g);
      // One division, as DuckDB does, so the last digit rounds the same way.
      out[g] = sum / (c * this.#scale);
    }
    return numericColumn(FLOAT64, out, anyNull ? validity : null);
  }
}

// ---------------------------------------------------------------------------
// MIN / MAX / ANY_VALUE

class MinMaxAccumulator implements Accumulator {
  readonly stateTypes: DataType[];
  #vals = new Float64Array(64);
  #seen = new Uint8Array(64);
  #strings: (string | null)[] = [];
  #bytes: (Uint8Array | null)[] = [];
  #wide: bigint[] | null = null;
  constructor(private readonly type: DataType, private readonly kind: "min" | "max" | "any") {
    this.stateTypes = [type];
  }
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    this.#apply(groups, args[0], n, numGroups);
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    this.#apply(groups, state[0], n, numGroups);
  }
  #apply(groups: Int32Array, c: Column, n: number, numGroups: number): void {
    this.#vals = grow(this.#vals, numGroups);
    this.#seen = grow(this.#seen, numGroups);
    const seen = this.#seen, vals = this.#vals;
    const valid = c.validity;
    const isMin = this.kind === "min", isAny = this.kind === "any";
    if (c.enc !== "num") {
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g < 0 || (valid !== null && !valid[i])) continue;
        let data: Uint8Array, s: number, e: number;
        if (c.enc === "dict") {
          const k = c.indices[i];
          data = c.dict.data;
          s = c.dict.offsets[k];
          e = c.dict.offsets[k + 1];
        } else {
          data = c.data;
          s = c.offsets[i];
          e = c.offsets[i + 1];
        }
        const cur = this.#bytes[g];
        if (!seen[g] || cur == null) {
          this.#bytes[g] = data.slice(s, e);
          seen[g] = 1;
          continue;
        }
        if (isAny) continue;
        const cmp = compareBytes(data, s, e, cur, 0, cur.length);
        if (isMin ? cmp < 0 : cmp > 0) this.#bytes[g] = data.slice(s, e);
      }
      return;
    }
    const v = c.values;
    if (v instanceof BigInt64Array || this.#wide) {
      // DECIMAL in BigInt64 storage: from then on every value is kept as a
      // bigint, including those already seen in Float64 storage (inputs may
      // mix the two, e.g. partial states of different partitions).
      if (!this.#wide) {
        this.#wide = [];
        for (let g = 0; g < seen.length; g++) if (seen[g]) this.#wide[g] = BigInt(vals[g]);
      }
      const wide = this.#wide;
      const big = v instanceof BigInt64Array ? v : null;
      for (let i = 0; i < n; i++) {
        const g = groups[i];
        if (g < 0 || (valid !== null && !valid[i])) continue;
        const x = big !== null ? big[i] : BigInt(v[i] as number);
        if (!seen[g] || (!isAny && (isMin ? x < wide[g] : x > wide[g]))) wide[g] = x;
        seen[g] = 1;
      }
      return;
    }
    const a = v as Float64Array;
    for (let i = 0; i < n; i++) {
      const g = groups[i];
      if (g < 0 || (valid !== null && !valid[i])) continue;
      const x = a[i];
      if (!seen[g]) {
        vals[g] = x;
        seen[g] = 1;
      } else if (!isAny && (isMin ? x < vals[g] : x > vals[g])) vals[g] = x;
      // DuckDB orders NaN above every number: MAX is NaN if any is, MIN only if all are.
      else if (!isAny && !isMin && x !== x) vals[g] = x;
      else if (!isAny && isMin && vals[g] !== vals[g] && x === x) vals[g] = x;
    }
  }
  state(numGroups: number): Column[] {
    return [this.finish(numGroups)];
  }
  finish(numGroups: number): Column {
    this.#seen = grow(this.#seen, numGroups);
    this.#vals = grow(this.#vals, numGroups);
    const validity = this.#seen.slice(0, numGroups);
    const anyNull = validity.some((x) => x === 0);
    if (this.type.id === "utf8") {
      const out = new GrowableColumn(this.type, numGroups);
      for (let g = 0; g < numGroups; g++) {
        const b = this.#bytes[g];
        if (!validity[g] || !b) out.appendNull();
        else {
          out.append({
            enc: "utf8",
            type: this.type,
            length: 1,
            offsets: Int32Array.of(0, b.length),
            data: b,
            validity: null,
          }, 0);
        }
      }
      return out.finish();
    }
    if (this.#wide) {
      const out = new BigInt64Array(numGroups);
      for (let g = 0; g < numGroups; g++) out[g] = this.#wide[g] ?? 0n;
      return numericColumn(this.type, out, anyNull ? validity : null);
    }
    const t = this.type;
    const out: NumericArray = t.id === "int32" || t.id === "date32"
      ? Int32Array.from(this.#vals.subarray(0, numGroups))
      : t.id === "bool"
      ? Uint8Array.from(this.#vals.subarray(0, numGroups))
      : this.#vals.slice(0, numGroups);
    return numericColumn(t, out, anyNull ? validity : null);
  }
}

// ---------------------------------------------------------------------------
// variance family (Welford per group, Chan's merge)

class VarianceAccumulator implements Accumulator {
  readonly stateTypes = [FLOAT64, FLOAT64, FLOAT64];
  #n = new Float64Array(64);
  #mean = new Float64Array(64);
  #m2 = new Float64Array(64);
  constructor(private readonly fn: string, private readonly scale: number) {}
  #ensure(k: number) {
    this.#n = grow(this.#n, k);
    this.#mean = grow(this.#mean, k);
    this.#m2 = grow(this.#m2, k);
  }
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    this.#ensure(numGroups);
    const c = args[0] as NumericColumn;
    const v = c.values as Float64Array;
    const valid = c.validity;
    const div = this.scale;
    for (let i = 0; i < n; i++) {
      const g = groups[i];
      if (g < 0 || (valid !== null && !valid[i])) continue;
      const x = Number(v[i]) / div;
      const cnt = ++this.#n[g];
      const d = x - this.#mean[g];
      this.#mean[g] += d / cnt;
      this.#m2[g] += d * (x - this.#mean[g]);
    }
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    this.#ensure(numGroups);
    const sn = f64(state[0]), sm = f64(state[1]), s2 = f64(state[2]);
    for (let i = 0; i < n; i++) {
      const g = groups[i];
      if (g < 0 || sn[i] === 0) continue;
      const na = this.#n[g], nb = sn[i];
      const nt = na + nb;
      const d = sm[i] - this.#mean[g];
      this.#mean[g] += d * nb / nt;
      this.#m2[g] += s2[i] + d * d * na * nb / nt;
      this.#n[g] = nt;
    }
  }
  state(numGroups: number): Column[] {
    this.#ensure(numGroups);
    return [
      numericColumn(FLOAT64, this.#n.slice(0, numGroups)),
      numericColumn(FLOAT64, this.#mean.slice(0, numGroups)),
      numericColumn(FLOAT64, this.#m2.slice(0, numGroups)),
    ];
  }
  finish(numGroups: number): Column {
    this.#ensure(numGroups);
    const out = new Float64Array(numGroups);
    const validity = new Uint8Array(numGroups);
    const sample = this.fn.endsWith("samp");
    const root = this.fn.startsWith("stddev");
    for (let g = 0; g < numGroups; g++) {
      const n = this.#n[g];
      if (n === 0 || (sample && n < 2)) continue;
      validity[g] = 1;
      const v = this.#m2[g] / (sample ? n - 1 : n);
      out[g] = root ? Math.sqrt(v) : v;
    }
    return numericColumn(FLOAT64, out, validity);
  }
}

// ---------------------------------------------------------------------------
// BOOL_AND / BOOL_OR

class BoolAccumulator implements Accumulator {
  readonly stateTypes = [BOOL];
  #v = new Uint8Array(64);
  #seen = new Uint8Array(64);
  constructor(private readonly isAnd: boolean) {}
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    this.#v = grow(this.#v, numGroups);
    this.#seen = grow(this.#seen, numGroups);
    const c = args[0] as NumericColumn;
    const v = c.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      const g = groups[i];
      if (g < 0 || (c.validity !== null && !c.validity[i])) continue;
      if (!this.#seen[g]) {
        this.#seen[g] = 1;
        this.#v[g] = v[i];
      } else this.#v[g] = this.isAnd ? this.#v[g] & v[i] : this.#v[g] | v[i];
    }
  }
  merge(groups: Int32Array, state: readonly Column[], n: number, numGroups: number): void {
    this.update(groups, state, n, numGroups);
  }
  state(numGroups: number): Column[] {
    return [this.finish(numGroups)];
  }
  finish(numGroups: number): Column {
    this.#v = grow(this.#v, numGroups);
    this.#seen = grow(this.#seen, numGroups);
    return numericColumn(BOOL, this.#v.slice(0, numGroups), this.#seen.slice(0, numGroups));
  }
}

// ---------------------------------------------------------------------------
// DISTINCT wrapper

/** Feeds the inner accumulator each (group, value) pair only the first time it is seen. */
class DistinctAccumulator implements Accumulator {
  readonly stateTypes: readonly DataType[];
  readonly #seen: GroupTable;
  #pairs = 0;
  constructor(private readonly inner: Accumulator, argType: DataType) {
    this.stateTypes = inner.stateTypes;
    this.#seen = createGroupTable([INT64, argType]);
  }
  update(groups: Int32Array, args: readonly Column[], n: number, numGroups: number): void {
    const gcol = numericColumn(INT64, Float64Array.from(groups.subarray(0, n)));
    const ids = this.#seen.insert([gcol, args[0]], n);
    const first = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      if (groups[i] >= 0 && ids[i] >= this.#pairs) {
        first[i] = groups[i];
        this.#pairs = Math.max(this.#pairs, ids[i] + 1);
      }
    }
    this.inner.update(first, args, n, numGroups);
  }
  merge(): void {
    throw new SpiceError("INTERNAL", "DISTINCT aggregates do not merge partial states");
  }
  state(): Column[] {
    throw new SpiceError("INTERNAL", "DISTINCT aggregates have no partial state");
  }
  finish(numGroups: number): Column {
    return this.inner.finish(numGroups);
  }
}

/** Makes the accumulator for an aggregate call (argument type from the call). */
export function createAccumulator(call: AggregateCall): Accumulator {
  const argType = call.args[0]?.type ?? INT64;
  let acc: Accumulator;
  switch (call.fn) {
    case "count_star":
      acc = new CountAccumulator(true);
      break;
    case "count":
      acc = new CountAccumulator(false);
      break;
    case "sum":
      acc = new SumAccumulator(call.type, argType.id !== "float64");
      break;
    case "avg":
      acc = new AvgAccumulator(argType);
      break;
    case "min":
    case "max":
      acc = new MinMaxAccumulator(call.type, call.fn);
      break;
    case "any_value":
      acc = new MinMaxAccumulator(call.type, "any");
      break;
    case "stddev_samp":
    case "stddev_pop":
    case "var_samp":
    case "var_pop":
      acc = new VarianceAccumulator(call.fn, argType.id === "decimal" ? pow10(argType.scale) : 1);
      break;
    case "bool_and":
    case "bool_or":
      acc = new BoolAccumulator(call.fn === "bool_and");
      break;
    default:
      throw new SpiceError("NOT_SUPPORTED", `not supported: aggregate ${call.fn}`);
  }
  return call.distinct ? new DistinctAccumulator(acc, argType) : acc;
}

/** The partial-state column types of an aggregate call. */
export function stateTypes(call: AggregateCall): readonly DataType[] {
  return createAccumulator({ ...call, distinct: false }).stateTypes;
}

export { stringAt };
