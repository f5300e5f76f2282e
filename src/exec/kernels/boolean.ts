/**
 * Boolean kernels with SQL's three-valued logic: FALSE AND NULL is FALSE,
 * TRUE OR NULL is TRUE, NOT NULL is NULL.
 *
 * @module
 */

import { type Column, type NumericColumn, numericColumn } from "../../arrow/column.ts";
import { BOOL } from "../../arrow/types.ts";
import { type Datum, isScalar, scalar } from "../datum.ts";

/** Kleene AND / OR. */
export function logical(op: "and" | "or", l: Datum, r: Datum, n: number): Datum {
  const isAnd = op === "and";
  if (isScalar(l) && isScalar(r)) {
    const a = l.value as boolean | null, b = r.value as boolean | null;
    if (isAnd) {
      if (a === false || b === false) return scalar(BOOL, false);
      if (a === null || b === null) return scalar(BOOL, null);
      return scalar(BOOL, true);
    }
    if (a === true || b === true) return scalar(BOOL, true);
    if (a === null || b === null) return scalar(BOOL, null);
    return scalar(BOOL, false);
  }
  if (isScalar(l)) return logical(op, r, l, n);
  const a = l as NumericColumn;
  const av = a.values as Uint8Array;
  if (isScalar(r)) {
    const b = r.value as boolean | null;
    if (isAnd) {
      if (b === false) return scalar(BOOL, false);
      if (b === true) return a;
      // x AND NULL: FALSE where x is FALSE, else NULL.
      const validity = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        validity[i] = (!a.validity || a.validity[i]) && av[i] === 0 ? 1 : 0;
      }
      return numericColumn(BOOL, new Uint8Array(n), validity);
    }
    if (b === true) return scalar(BOOL, true);
    if (b === false) return a;
    const validity = new Uint8Array(n);
    for (let i = 0; i < n; i++) validity[i] = (!a.validity || a.validity[i]) && av[i] === 1 ? 1 : 0;
    return numericColumn(BOOL, new Uint8Array(n).fill(1), validity);
  }
  const b = r as NumericColumn;
  const bv = b.values as Uint8Array;
  const out = new Uint8Array(n);
  if (!a.validity && !b.validity) {
    if (isAnd) { for (let i = 0; i < n; i++) out[i] = av[i] & bv[i]; }
    else for (let i = 0; i < n; i++) out[i] = av[i] | bv[i];
    return numericColumn(BOOL, out, null);
  }
  const validity = new Uint8Array(n);
  const va = a.validity, vb = b.validity;
  for (let i = 0; i < n; i++) {
    const x = va && !va[i] ? 2 : av[i]; // 2 = NULL
    const y = vb && !vb[i] ? 2 : bv[i];
    if (isAnd) {
      if (x === 0 || y === 0) {
        out[i] = 0;
        validity[i] = 1;
      } else if (x === 2 || y === 2) validity[i] = 0;
      else {
        out[i] = 1;
        validity[i] = 1;
      }
    } else {
      if (x === 1 || y === 1) {
        out[i] = 1;
        validity[i] = 1;
      } else if (x === 2 || y === 2) validity[i] = 0;
      else validity[i] = 1;
    }
  }
  return numericColumn(BOOL, out, validity);
}

/** NOT. */
export function not(d: Datum, n: number): Datum {
  if (isScalar(d)) return scalar(BOOL, d.value === null ? null : !d.value);
  const c = d as NumericColumn;
  const v = c.values as Uint8Array;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = v[i] ^ 1;
  return numericColumn(BOOL, out, c.validity);
}

/** IS NULL / IS NOT NULL. */
export function isNull(d: Datum, n: number, negate: boolean): Datum {
  if (isScalar(d)) return scalar(BOOL, (d.value === null) !== negate);
  const c = d as Column;
  if (!c.validity) return scalar(BOOL, negate);
  const out = new Uint8Array(n);
  const v = c.validity;
  if (negate) out.set(v.subarray(0, n));
  else for (let i = 0; i < n; i++) out[i] = v[i] ^ 1;
  return numericColumn(BOOL, out, null);
}

/** IS TRUE / IS FALSE (never NULL). */
export function isBool(d: Datum, n: number, want: boolean): Datum {
  if (isScalar(d)) return scalar(BOOL, d.value === want);
  const c = d as NumericColumn;
  const v = c.values as Uint8Array;
  const w = want ? 1 : 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (!c.validity || c.validity[i]) && v[i] === w ? 1 : 0;
  return numericColumn(BOOL, out, null);
}

/**
 * The row indices where a boolean datum is TRUE (NULL and FALSE drop), the
 * selection vector a filter keeps.
 */
export function selectTrue(d: Datum, n: number): Int32Array | "all" | "none" {
  if (isScalar(d)) return d.value === true ? "all" : "none";
  const c = d as NumericColumn;
  const v = c.values as Uint8Array;
  const valid = c.validity;
  let count = 0;
  if (valid) { for (let i = 0; i < n; i++) count += v[i] & valid[i]; }
  else for (let i = 0; i < n; i++) count += v[i];
  if (count === n) return "all";
  if (count === 0) return "none";
  const out = new Int32Array(count);
  let k = 0;
  if (valid) {
    for (let i = 0; i < n; i++) if (v[i] & valid[i]) out[k++] = i;
  } else {
    for (let i = 0; i < n; i++) if (v[i]) out[k++] = i;
  }
  return out;
}
