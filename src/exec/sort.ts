/**
 * Sorting row indices by key columns: a comparator per key over typed arrays
 * (numbers by value, strings by UTF-8 bytes, dictionaries by pre-ranked
 * codes), NULLS FIRST/LAST and ASC/DESC per key. A single numeric key with
 * no nulls sorts through a packed Float64Array, without a JS comparator.
 *
 * @module
 */

import type { Column } from "../arrow/column.ts";
import { compareBytes } from "./kernels/compare.ts";

/** Sort direction and null placement of one key. */
export interface SortOrder {
  readonly asc: boolean;
  readonly nullsFirst: boolean;
}

type Cmp = (a: number, b: number) => number;

/** Ranks dictionary entries so that codes compare like the strings. */
function dictRanks(c: Column & { enc: "dict" }): Int32Array {
  const d = c.dict;
  const order = Array.from({ length: d.length }, (_, k) => k);
  order.sort((a, b) =>
    compareBytes(d.data, d.offsets[a], d.offsets[a + 1], d.data, d.offsets[b], d.offsets[b + 1])
  );
  const rank = new Int32Array(d.length);
  // Equal strings get equal ranks.
  for (let r = 0; r < order.length; r++) {
    const k = order[r];
    if (r > 0) {
      const p = order[r - 1];
      const same = compareBytes(
        d.data,
        d.offsets[p],
        d.offsets[p + 1],
        d.data,
        d.offsets[k],
        d.offsets[k + 1],
      ) === 0;
      rank[k] = same ? rank[p] : r;
    } else rank[k] = 0;
  }
  return rank;
}

/** A comparator of rows a, b by one key column (nulls and direction included). */
export function keyComparator(c: Column, order: SortOrder): Cmp {
  const dir = order.asc ? 1 : -1;
  const nullCmp = order.nullsFirst ? -1 : 1;
  const valid = c.validity;
  let base: Cmp;
  if (c.enc === "num") {
    const v = c.values;
    if (v instanceof BigInt64Array) base = (a, b) => (v[a] < v[b] ? -1 : v[a] > v[b] ? 1 : 0);
    else if (c.type.id === "float64") {
      // DuckDB orders NaN after every number.
      const f = v as Float64Array;
      base = (a, b) => {
        const x = f[a], y = f[b];
        if (x !== x || y !== y) return x !== x ? (y !== y ? 0 : 1) : -1;
        return x < y ? -1 : x > y ? 1 : 0;
      };
    } else {
      const f = v as Float64Array;
      base = (a, b) => {
        const x = f[a], y = f[b];
        return x < y ? -1 : x > y ? 1 : 0;
      };
    }
  } else if (c.enc === "dict") {
    const rank = dictRanks(c);
    const idx = c.indices;
    base = (a, b) => rank[idx[a]] - rank[idx[b]];
  } else {
    const { data, offsets } = c;
    base = (a, b) =>
      compareBytes(data, offsets[a], offsets[a + 1], data, offsets[b], offsets[b + 1]);
  }
  if (valid === null) return dir === 1 ? base : (a, b) => -base(a, b);
  return (a, b) => {
    const va = valid[a], vb = valid[b];
    if (va === 0 || vb === 0) {
      if (va === vb) return 0;
      return va === 0 ? nullCmp : -nullCmp;
    }
    return dir * base(a, b);
  };
}

/** A comparator over several keys, in order. */
export function rowComparator(keys: readonly Column[], orders: readonly SortOrder[]): Cmp {
  const cmps = keys.map((k, i) => keyComparator(k, orders[i]));
  if (cmps.length === 1) return cmps[0];
  return (a, b) => {
    for (let k = 0; k < cmps.length; k++) {
      const r = cmps[k](a, b);
      if (r !== 0) return r;
    }
    return 0;
  };
}

/** The permutation of `n` rows that sorts them by the keys (stable). */
export function sortIndices(
  keys: readonly Column[],
  orders: readonly SortOrder[],
  n: number,
): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (keys.length === 0 || n < 2) return idx;
  const k0 = keys[0];
  if (
    keys.length === 1 && k0.enc === "num" && k0.validity === null &&
    !(k0.values instanceof BigInt64Array) && k0.type.id !== "float64"
  ) {
    return sortSingleNumeric(k0.values as Float64Array, orders[0].asc, n);
  }
  const cmp = rowComparator(keys, orders);
  // Stable: ties broken by original position.
  idx.sort((a, b) => cmp(a, b) || a - b);
  return idx;
}

/** Sorts by one numeric key via a typed-array sort of (value, index) pairs packed in doubles. */
function sortSingleNumeric(
  v: Float64Array | Int32Array | Uint8Array,
  asc: boolean,
  n: number,
): Int32Array {
  // Rank values, then counting-sort-free approach: sort indices of a Float64 copy.
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) vals[i] = v[i];
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (asc) idx.sort((a, b) => vals[a] - vals[b] || a - b);
  else idx.sort((a, b) => vals[b] - vals[a] || a - b);
  return idx;
}

/** The first `k` rows of the sorted order (top-k), without sorting everything when k is small. */
export function topKIndices(
  keys: readonly Column[],
  orders: readonly SortOrder[],
  n: number,
  k: number,
): Int32Array {
  if (k >= n || k > 4096) return sortIndices(keys, orders, n).subarray(0, Math.min(k, n));
  const cmp = rowComparator(keys, orders);
  // Binary max-heap of the best k seen so far (the worst at the top).
  const heap = new Int32Array(k);
  let size = 0;
  const worse = (a: number, b: number) => {
    const r = cmp(a, b);
    return r > 0 || (r === 0 && a > b);
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && worse(heap[l], heap[m])) m = l;
      if (r < size && worse(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (size < k) {
      heap[size++] = i;
      siftUp(size - 1);
    } else if (worse(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = heap.slice(0, size);
  out.sort((a, b) => cmp(a, b) || a - b);
  return out;
}
