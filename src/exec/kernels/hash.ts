/**
 * Vectorised hashing of key columns (for hash joins, hash aggregation and
 * hash repartitioning) and row equality between key columns. Hashes depend
 * only on the values, never on storage (a dictionary and a plain string
 * column hash alike), and are the same in every process, so a row lands in
 * the same shuffle partition wherever it is hashed.
 *
 * @module
 */

import type { Column } from "../../arrow/column.ts";

const NULL_HASH = 0x5bd1e995;

/** Murmur3's 32-bit finaliser. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a number; integers hash by value whatever their storage. */
export function hashNumber(x: number): number {
  // Every NaN hashes alike (they group and join together, as in DuckDB).
  if (x !== x) return 0x7ff80000;
  const lo = x | 0;
  if (lo === x) return mix32(lo);
  const hi = Math.floor(x / 4294967296) | 0;
  if (Number.isInteger(x)) return mix32(lo ^ mix32(hi + 0x27d4eb2f));
  // Non-integers: hash the IEEE bits.
  SCRATCH_F64[0] = x;
  return mix32(SCRATCH_U32[0] ^ mix32(SCRATCH_U32[1] + 0x165667b1));
}

const SCRATCH_F64 = new Float64Array(1);
const SCRATCH_U32 = new Uint32Array(SCRATCH_F64.buffer);

/** FNV-1a over a byte range, finalised. */
export function hashBytes(data: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let k = s; k < e; k++) h = Math.imul(h ^ data[k], 16777619);
  return mix32(h ^ (e - s));
}

/** Hashes one column into `out` (combining with what is there when `combine`). */
export function hashColumn(c: Column, n: number, out: Uint32Array, combine: boolean): void {
  const valid = c.validity;
  const put = combine
    ? (i: number, h: number) => {
      const a = out[i];
      out[i] = mix32(a ^ (h + 0x9e3779b9 + (a << 6) + (a >>> 2)));
    }
    : (i: number, h: number) => {
      out[i] = h;
    };
  if (c.enc === "num") {
    const v = c.values;
    if (v instanceof BigInt64Array) {
      for (let i = 0; i < n; i++) put(i, valid && !valid[i] ? NULL_HASH : hashNumber(Number(v[i])));
      return;
    }
    if (v instanceof Int32Array && !combine && !valid) {
      for (let i = 0; i < n; i++) out[i] = mix32(v[i]);
      return;
    }
    if (v instanceof Int32Array) {
      for (let i = 0; i < n; i++) put(i, valid && !valid[i] ? NULL_HASH : mix32(v[i]));
      return;
    }
    const f = v as Float64Array;
    for (let i = 0; i < n; i++) put(i, valid && !valid[i] ? NULL_HASH : hashNumber(f[i]));
    return;
  }
  if (c.enc === "dict") {
    const d = c.dict;
    const dh = new Uint32Array(d.length);
    for (let k = 0; k < d.length; k++) dh[k] = hashBytes(d.data, d.offsets[k], d.offsets[k + 1]);
    const idx = c.indices;
    for (let i = 0; i < n; i++) put(i, valid && !valid[i] ? NULL_HASH : dh[idx[i]]);
    return;
  }
  const { data, offsets } = c;
  for (let i = 0; i < n; i++) {
    put(i, valid && !valid[i] ? NULL_HASH : hashBytes(data, offsets[i], offsets[i + 1]));
  }
}

/** Hashes rows of several key columns. */
export function hashColumns(cols: readonly Column[], n: number): Uint32Array {
  const out = new Uint32Array(n);
  cols.forEach((c, k) => hashColumn(c, n, out, k > 0));
  return out;
}

/** True when row i of `a` equals row j of `b` (both assumed non-null; same logical type). */
export function valuesEqual(a: Column, i: number, b: Column, j: number): boolean {
  if (a.enc === "num") {
    const x = a.values[i], y = (b as typeof a).values[j];
    return x === y || (typeof x !== typeof y && Number(x) === Number(y)) || (x !== x && y !== y);
  }
  let ad: Uint8Array, as: number, ae: number;
  if (a.enc === "dict") {
    const k = a.indices[i];
    if (b.enc === "dict" && b.dict === a.dict) return k === b.indices[j];
    ad = a.dict.data;
    as = a.dict.offsets[k];
    ae = a.dict.offsets[k + 1];
  } else {
    ad = a.data;
    as = a.offsets[i];
    ae = a.offsets[i + 1];
  }
  let bd: Uint8Array, bs: number, be: number;
  if (b.enc === "dict") {
    const k = b.indices[j];
    bd = b.dict.data;
    bs = b.dict.offsets[k];
    be = b.dict.offsets[k + 1];
  } else if (b.enc === "utf8") {
    bd = b.data;
    bs = b.offsets[j];
    be = b.offsets[j + 1];
  } else {
    return false;
  }
  const len = ae - as;
  if (len !== be - bs) return false;
  for (let k = 0; k < len; k++) if (ad[as + k] !== bd[bs + k]) return false;
  return true;
}

/** True when every key column is equal at (i, j); NULLs are equal only when `nullsEqual`. */
export function rowsEqual(
  a: readonly Column[],
  i: number,
  b: readonly Column[],
  j: number,
  nullsEqual: boolean,
): boolean {
  for (let k = 0; k < a.length; k++) {
    const ca = a[k], cb = b[k];
    const va = ca.validity === null || ca.validity[i] === 1;
    const vb = cb.validity === null || cb.validity[j] === 1;
    if (!va || !vb) {
      if (!nullsEqual || va !== vb) return false;
      continue;
    }
    if (!valuesEqual(ca, i, cb, j)) return false;
  }
  return true;
}

/** Rows with a NULL in any key column (they never join unless NULLs compare equal). */
export function anyNullMask(cols: readonly Column[], n: number): Uint8Array | null {
  let out: Uint8Array | null = null;
  for (const c of cols) {
    if (!c.validity) continue;
    out ??= new Uint8Array(n);
    for (let i = 0; i < n; i++) if (!c.validity[i]) out[i] = 1;
  }
  return out;
}
