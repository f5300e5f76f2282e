/**
 * Conditional kernels: coalesce, nullif, greatest and least. Unlike other
 * functions, a NULL argument does not make the result NULL: coalesce takes
 * the first non-NULL argument, greatest/least ignore NULLs (NULL only when
 * every argument is NULL, as in DuckDB) and nullif is NULL when its arguments
 * are equal. Arguments arrive cast to one common type.
 *
 * @module
 */

import {
  allocValues,
  type Column,
  dictColumn,
  type NumericArray,
  numericColumn,
  utf8Column,
} from "../../arrow/column.ts";
import type { DataType } from "../../arrow/types.ts";
import { type Datum, isScalar, type ScalarFunctionImpl, toColumn } from "../datum.ts";
import {
  argsValidity,
  bigints,
  bytesEqual,
  compareBytes,
  isWide,
  liftScalars,
  numbers,
  StringOut,
  type StrView,
  strView,
} from "./common.ts";

function isStringType(t: DataType): boolean {
  return t.id === "utf8";
}

/** Validity that is null when every row is valid. */
function compact(v: Uint8Array, n: number): Uint8Array | null {
  for (let i = 0; i < n; i++) if (v[i] === 0) return v;
  return null;
}

/**
 * Builds the result of choosing, per row, the string of argument `pick[i]`
 * (-1 = NULL). Dictionary arguments that share one dictionary stay a
 * dictionary column.
 */
function pickStrings(args: readonly Datum[], pick: Int16Array, n: number, type: DataType): Column {
  const first = args[0];
  const shared = !isScalar(first) && first.enc === "dict" ? first.dict : null;
  if (shared && args.every((a) => !isScalar(a) && a.enc === "dict" && a.dict === shared)) {
    const idx = new Int32Array(n);
    const validity = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = pick[i];
      if (k < 0) continue;
      idx[i] = (args[k] as { indices: Int32Array }).indices[i];
      validity[i] = 1;
    }
    return dictColumn(idx, shared, compact(validity, n));
  }
  const views = args.map((a) => strView(a, n));
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const k = pick[i];
    if (k >= 0) bytes += views[k].ends[i] - views[k].starts[i];
  }
  const out = new StringOut(n, bytes);
  for (let i = 0; i < n; i++) {
    const k = pick[i];
    if (k < 0) {
      out.nullRow();
      continue;
    }
    const v = views[k];
    out.copy(v.data, v.starts[i], v.ends[i]);
    out.endRow();
  }
  return out.finish(type);
}

/** Storage and per-row validity of every argument, widened to bigints when any is wide. */
function numericArgs(
  args: readonly Datum[],
  n: number,
): { values: (Float64Array | Int32Array | Uint8Array | BigInt64Array)[]; wide: boolean } {
  const wide = args.some(isWide);
  return { values: args.map((a) => wide ? bigints(a, n) : numbers(a, n)), wide };
}

function allocFor(type: DataType, n: number, wide: boolean): NumericArray {
  return wide ? new BigInt64Array(n) : allocValues(type, n);
}

const coalesce: ScalarFunctionImpl = (args, n, type) => {
  // The first argument without NULLs decides every row.
  const first = args[0];
  if (!isScalar(first) && argsValidity([first], n) === null) return first;
  if (isScalar(first) && first.value !== null) return toColumn(first, n);
  const pick = new Int16Array(n).fill(-1);
  let open = n;
  for (let k = 0; k < args.length && open > 0; k++) {
    const v = argsValidity([args[k]], n);
    for (let i = 0; i < n; i++) {
      if (pick[i] < 0 && (v === null || v[i] === 1)) {
        pick[i] = k;
        open--;
      }
    }
  }
  return gatherPicked(args, pick, n, type);
};

/** The result of choosing argument `pick[i]` per row (-1 = NULL), for any type. */
function gatherPicked(args: readonly Datum[], pick: Int16Array, n: number, type: DataType): Column {
  if (isStringType(type)) return pickStrings(args, pick, n, type);
  const { values, wide } = numericArgs(args, n);
  const out = allocFor(type, n, wide);
  const validity = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = pick[i];
    if (k < 0) continue;
    (out as Float64Array)[i] = (values[k] as Float64Array)[i];
    validity[i] = 1;
  }
  return numericColumn(type, out, compact(validity, n));
}

/** nullif(a, b): a, or NULL where a equals b (NaN equals NaN, as DuckDB compares). */
const nullif: ScalarFunctionImpl = (args, n, type) => {
  const a = toColumn(args[0], n);
  const b = args[1];
  const va = argsValidity([a], n), vb = argsValidity([b], n);
  const validity = va ? va.slice() : new Uint8Array(n).fill(1);
  if (isStringType(type)) {
    const x = strView(a, n), y = strView(b, n);
    for (let i = 0; i < n; i++) {
      if (validity[i] === 0 || (vb && vb[i] === 0)) continue;
      if (bytesEqual(x.data, x.starts[i], x.ends[i], y.data, y.starts[i], y.ends[i])) {
        validity[i] = 0;
      }
    }
  } else {
    const { values: [x, y] } = numericArgs([a, b], n);
    for (let i = 0; i < n; i++) {
      if (validity[i] === 0 || (vb && vb[i] === 0)) continue;
      const p = x[i], q = y[i];
      if (p === q || (p !== p && q !== q)) validity[i] = 0;
    }
  }
  const v = compact(validity, n);
  switch (a.enc) {
    case "num":
      return numericColumn(type, a.values, v);
    case "utf8":
      return utf8Column(type, a.offsets, a.data, v);
    case "dict":
      return dictColumn(a.indices, a.dict, v);
  }
};

/** x ranks above y: plain order, with NaN above every number (DuckDB's order for doubles). */
function above(x: number | bigint, y: number | bigint): boolean {
  return x > y || (x !== x && y === y);
}

function extremum(greatest: boolean): ScalarFunctionImpl {
  return (args, n, type) => {
    const pick = new Int16Array(n).fill(-1);
    const valids = args.map((a) => argsValidity([a], n));
    if (isStringType(type)) {
      const views: StrView[] = args.map((a) => strView(a, n));
      for (let k = 0; k < args.length; k++) {
        const v = valids[k], x = views[k];
        for (let i = 0; i < n; i++) {
          if (v && v[i] === 0) continue;
          const b = pick[i];
          if (b < 0) {
            pick[i] = k;
            continue;
          }
          const y = views[b];
          const c = compareBytes(x.data, x.starts[i], x.ends[i], y.data, y.starts[i], y.ends[i]);
          if (greatest ? c > 0 : c < 0) pick[i] = k;
        }
      }
      return pickStrings(args, pick, n, type);
    }
    const { values } = numericArgs(args, n);
    for (let k = 0; k < args.length; k++) {
      const v = valids[k], x = values[k];
      for (let i = 0; i < n; i++) {
        if (v && v[i] === 0) continue;
        const b = pick[i];
        if (b < 0 || (greatest ? above(x[i], values[b][i]) : above(values[b][i], x[i]))) {
          pick[i] = k;
        }
      }
    }
    return gatherPicked(args, pick, n, type);
  };
}

/** The conditional kernels by function name. */
export const CONDITIONAL_FUNCTIONS: Readonly<Record<string, ScalarFunctionImpl>> = {
  coalesce: liftScalars(coalesce),
  nullif: liftScalars(nullif),
  greatest: liftScalars(extremum(true)),
  least: liftScalars(extremum(false)),
};
