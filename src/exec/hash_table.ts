/**
 * Hash tables on typed arrays: `GroupTable` maps key tuples to dense group
 * ids (hash aggregation, DISTINCT); `JoinHashTable` indexes the build side of
 * a hash join with bucket heads and chains (`first`/`next` arrays, as
 * DataFusion and DuckDB do). Open addressing, power-of-two sizes, no Map of
 * strings, and a fast path for a single numeric key.
 *
 * @module
 */

import type { Column, DictColumn, NumericArray, Utf8Column } from "../arrow/column.ts";
import { GrowableColumn } from "../arrow/growable.ts";
import type { DataType } from "../arrow/types.ts";
import { hashColumns, hashNumber, mix32, rowsEqual } from "./kernels/hash.ts";

function pow2AtLeast(n: number): number {
  let s = 16;
  while (s < n) s *= 2;
  return s;
}

/** Assigns dense group ids to key tuples. */
export interface GroupTable {
  /** Number of groups so far. */
  readonly size: number;
  /** Group id of each of the first `n` rows of `keys`. */
  insert(keys: readonly Column[], n: number): Int32Array;
  /** The key columns, one row per group id. */
  keyColumns(): Column[];
}

/** Makes a group table for keys of these types. */
export function createGroupTable(types: readonly DataType[]): GroupTable {
  if (
    types.length === 1 && types[0].id !== "utf8" &&
    !(types[0].id === "decimal" && types[0].precision > 18)
  ) {
    return new NumericGroupTable(types[0]);
  }
  return new GenericGroupTable(types);
}

/**
 * Single numeric key: open addressing with each slot's key stored beside its
 * group id (one probe touches one slot, not the slot and then the group's
 * key), keys by group in a Float64Array; NULL and NaN are groups of their own.
 */
class NumericGroupTable implements GroupTable {
  #slotGroup = new Int32Array(1024); // group id + 1; 0 = empty
  #slotKey = new Float64Array(1024);
  #mask = 1023;
  #keys = new Float64Array(512);
  #size = 0;
  #nullGroup = -1;
  #nanGroup = -1;
  readonly #type: DataType;

  constructor(type: DataType) {
    this.#type = type;
  }

  get size(): number {
    return this.#size;
  }

  #rehash(): void {
    const cap = this.#slotGroup.length * 2;
    const slotGroup = new Int32Array(cap), slotKey = new Float64Array(cap);
    const mask = cap - 1;
    const old = this.#slotGroup, oldKey = this.#slotKey;
    for (let s = 0; s < old.length; s++) {
      const g1 = old[s];
      if (g1 === 0) continue;
      const x = oldKey[s];
      const xi = x | 0;
      let t = (xi === x ? mix32(xi) : hashNumber(x)) & mask;
      while (slotGroup[t] !== 0) t = (t + 1) & mask;
      slotGroup[t] = g1;
      slotKey[t] = x;
    }
    this.#slotGroup = slotGroup;
    this.#slotKey = slotKey;
    this.#mask = mask;
  }

  insert(keys: readonly Column[], n: number): Int32Array {
    const c = keys[0];
    const vals = (c as { values: NumericArray }).values as Float64Array;
    const valid = c.validity;
    const out = new Int32Array(n);
    // Locals, refreshed after a rehash: the loop runs once per input row.
    let slotGroup = this.#slotGroup, slotKey = this.#slotKey, mask = this.#mask;
    // Sorted or clustered input (lineitem by order key) repeats the last key.
    let lastKey = NaN, lastGroup = -1;
    for (let i = 0; i < n; i++) {
      if (valid !== null && valid[i] === 0) {
        if (this.#nullGroup < 0) this.#nullGroup = this.#newGroup(0);
        out[i] = this.#nullGroup;
        continue;
      }
      const x = vals[i];
      if (x === lastKey) {
        out[i] = lastGroup;
        continue;
      }
      if (x !== x) {
        // NaN is one group (NaN !== NaN would make each its own).
        if (this.#nanGroup < 0) this.#nanGroup = this.#newGroup(NaN);
        out[i] = this.#nanGroup;
        continue;
      }
      const xi = x | 0;
      let s = (xi === x ? mix32(xi) : hashNumber(x)) & mask;
      let g1 = slotGroup[s];
      while (g1 !== 0 && slotKey[s] !== x) {
        s = (s + 1) & mask;
        g1 = slotGroup[s];
      }
      let g: number;
      if (g1 === 0) {
        g = this.#newGroup(x);
        slotGroup[s] = g + 1;
        slotKey[s] = x;
        if (this.#size * 2 > slotGroup.length) {
          this.#rehash();
          slotGroup = this.#slotGroup;
          slotKey = this.#slotKey;
          mask = this.#mask;
        }
      } else g = g1 - 1;
      out[i] = g;
      lastKey = x;
      lastGroup = g;
    }
    return out;
  }

  #newGroup(x: number): number {
    if (this.#size === this.#keys.length) {
      const k = new Float64Array(this.#keys.length * 2);
      k.set(this.#keys);
      this.#keys = k;
    }
    this.#keys[this.#size] = x;
    return this.#size++;
  }

  keyColumns(): Column[] {
    const n = this.#size;
    const t = this.#type;
    let values: NumericArray;
    if (t.id === "int32" || t.id === "date32") values = Int32Array.from(this.#keys.subarray(0, n));
    else if (t.id === "bool" || t.id === "null") {
      values = Uint8Array.from(this.#keys.subarray(0, n));
    } else values = this.#keys.slice(0, n);
    let validity: Uint8Array | null = null;
    if (this.#nullGroup >= 0) {
      validity = new Uint8Array(n).fill(1);
      validity[this.#nullGroup] = 0;
    }
    return [{ enc: "num", type: t, length: n, values, validity }];
  }
}

/** Most dense dictionary-code combinations looked up by array instead of by hash. */
const DICT_CODE_SPACE = 1 << 16;

/** Any keys: vectorised hashes, keys copied into growable columns. */
class GenericGroupTable implements GroupTable {
  #slots = new Int32Array(1024);
  #mask = 1023;
  #hashes = new Uint32Array(512);
  #size = 0;
  readonly #cols: GrowableColumn[];
  /** Group of each dense dictionary code, for the dictionaries it was made for. */
  #codeCache: { dicts: readonly Utf8Column[]; groups: Int32Array } | null = null;

  constructor(types: readonly DataType[]) {
    this.#cols = types.map((t) =>
      new GrowableColumn(t, 512, t.id === "decimal" && t.precision > 18)
    );
  }

  get size(): number {
    return this.#size;
  }

  #rehash(): void {
    const cap = this.#slots.length * 2;
    const slots = new Int32Array(cap);
    const mask = cap - 1;
    for (let g = 0; g < this.#size; g++) {
      let s = this.#hashes[g] & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = g + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  insert(keys: readonly Column[], n: number): Int32Array {
    const codes = this.#dictCodes(keys, n);
    if (codes) return this.#insertByCode(keys, n, codes);
    const hashes = hashColumns(keys, n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.#insertRow(keys, i, hashes[i]);
    return out;
  }

  /** The group of row i of `keys` (hash h), added when new. */
  #insertRow(keys: readonly Column[], i: number, h: number): number {
    const cols = this.#cols;
    const k = cols.length;
    let s = h & this.#mask;
    for (;;) {
      const g1 = this.#slots[s];
      if (g1 === 0) {
        const g = this.#size++;
        if (g === this.#hashes.length) {
          const nh = new Uint32Array(this.#hashes.length * 2);
          nh.set(this.#hashes);
          this.#hashes = nh;
        }
        this.#hashes[g] = h;
        for (let c = 0; c < k; c++) cols[c].append(keys[c], i);
        this.#slots[s] = g + 1;
        if (this.#size * 2 > this.#slots.length) this.#rehash();
        return g;
      }
      const g = g1 - 1;
      if (this.#hashes[g] === h) {
        let eq = true;
        for (let c = 0; c < k && eq; c++) eq = cols[c].equalsAt(g, keys[c], i);
        if (eq) return g;
      }
      s = (s + 1) & this.#mask;
    }
  }

  /**
   * Dictionary-encoded keys with few combinations (TPC-H Q1's return flag and
   * line status): one dense code per row, each dictionary entry (or NULL)
   * a digit; null when the keys are not all such columns.
   */
  #dictCodes(keys: readonly Column[], n: number): Int32Array | null {
    let space = 1;
    for (const c of keys) {
      if (c.enc !== "dict") return null;
      space *= c.dict.length + 1;
      if (space > DICT_CODE_SPACE) return null;
    }
    const codes = new Int32Array(n);
    let scale = 1;
    for (const c of keys as DictColumn[]) {
      const idx = c.indices, valid = c.validity, nullCode = c.dict.length;
      if (valid === null) { for (let i = 0; i < n; i++) codes[i] += idx[i] * scale; }
      else for (let i = 0; i < n; i++) codes[i] += (valid[i] ? idx[i] : nullCode) * scale;
      scale *= nullCode + 1;
    }
    return codes;
  }

  /** Groups by dense code, through a code -> group array valid for these dictionaries. */
  #insertByCode(keys: readonly Column[], n: number, codes: Int32Array): Int32Array {
    const dicts = (keys as DictColumn[]).map((c) => c.dict);
    let cache = this.#codeCache;
    if (!cache || cache.dicts.some((d, k) => d !== dicts[k])) {
      let space = 1;
      for (const d of dicts) space *= d.length + 1;
      cache = this.#codeCache = { dicts, groups: new Int32Array(space).fill(-1) };
    }
    const groups = cache.groups;
    const out = new Int32Array(n);
    let hashes: Uint32Array | null = null;
    for (let i = 0; i < n; i++) {
      let g = groups[codes[i]];
      if (g < 0) {
        hashes ??= hashColumns(keys, n);
        g = groups[codes[i]] = this.#insertRow(keys, i, hashes[i]);
      }
      out[i] = g;
    }
    return out;
  }

  keyColumns(): Column[] {
    return this.#cols.map((c) => c.finish());
  }
}

/** Matched (probe row, build row) pairs from probing a batch. */
export interface JoinMatches {
  readonly probe: Int32Array;
  readonly build: Int32Array;
}

/** The build side of a hash join: all build rows' keys indexed by hash. */
export class JoinHashTable {
  readonly #first: Int32Array;
  readonly #next: Int32Array;
  readonly #hashes: Uint32Array;
  readonly #mask: number;
  readonly #keys: readonly Column[];
  readonly #nullsEqual: boolean;
  readonly #numeric: Float64Array | Int32Array | null;
  /** Number of build rows. */
  readonly size: number;
  /** True when some build row has a NULL key (NOT IN needs to know). */
  readonly hasNullKey: boolean;

  /** Indexes `n` build rows with these (concatenated) key columns. */
  constructor(keys: readonly Column[], n: number, nullsEqual: boolean) {
    this.size = n;
    this.#keys = keys;
    this.#nullsEqual = nullsEqual;
    const cap = pow2AtLeast(n * 2);
    this.#mask = cap - 1;
    this.#first = new Int32Array(cap).fill(-1);
    this.#next = new Int32Array(n);
    this.#hashes = hashColumns(keys, n);
    let hasNull = false;
    const single = keys.length === 1 && keys[0].enc === "num" &&
      !(keys[0].values instanceof BigInt64Array) && !(keys[0].values instanceof Uint8Array);
    this.#numeric = single ? (keys[0] as { values: Float64Array | Int32Array }).values : null;
    // Insert in reverse so that each chain lists build rows in ascending order.
    for (let i = n - 1; i >= 0; i--) {
      let isNull = false;
      for (const c of keys) if (c.validity !== null && c.validity[i] === 0) isNull = true;
      if (isNull) {
        hasNull = true;
        if (!nullsEqual) {
          this.#next[i] = -1;
          continue;
        }
      }
      const b = this.#hashes[i] & this.#mask;
      this.#next[i] = this.#first[b];
      this.#first[b] = i;
    }
    this.hasNullKey = hasNull;
  }

  /** All matching (probe, build) pairs for the first `n` rows of `keys`. */
  probe(keys: readonly Column[], n: number): JoinMatches {
    return this.probeRange(keys, hashColumns(keys, n), 0, n, Infinity);
  }

  /**
   * The matching pairs of probe rows `from`, `from + 1`, ... (below `n`),
   * stopping after the first row at which `limit` pairs are reached; `next`
   * is the row to resume from (`n` when done). Bounds the index arrays of
   * a probe batch whose keys fan out to many build rows. `hashes` are the
   * rows' key hashes (hashColumns), computed once per batch.
   */
  probeRange(
    keys: readonly Column[],
    hashes: Uint32Array,
    from: number,
    n: number,
    limit: number,
  ): JoinMatches & { readonly next: number } {
    let cap = Math.max(16, Math.min(n - from, limit));
    let probe = new Int32Array(cap);
    let build = new Int32Array(cap);
    let m = 0;
    const first = this.#first, next = this.#next, mask = this.#mask, bh = this.#hashes;
    const numeric = this.#numeric;
    const pk = keys[0];
    const pv = numeric && pk.enc === "num" ? (pk.values as Float64Array | Int32Array) : null;
    const pvalid = pk.validity;
    const bkeys = this.#keys;
    const nullsEqual = this.#nullsEqual;
    let i = from;
    for (; i < n; i++) {
      if (m >= limit) break;
      const h = hashes[i];
      let j = first[h & mask];
      if (j < 0) continue;
      if (pv !== null && numeric !== null && keys.length === 1) {
        if (pvalid !== null && pvalid[i] === 0 && !nullsEqual) continue;
        const x = pv[i];
        const bvalid = bkeys[0].validity;
        const pNull = pvalid !== null && pvalid[i] === 0;
        for (; j >= 0; j = next[j]) {
          const bNull = bvalid !== null && bvalid[j] === 0;
          if (bNull !== pNull) continue;
          // Two NULLs match (nullsEqual) whatever lies under them; NaN matches NaN.
          if (!bNull && numeric[j] !== x && !(x !== x && numeric[j] !== numeric[j])) continue;
          if (m === cap) {
            cap *= 2;
            const np = new Int32Array(cap), nb = new Int32Array(cap);
            np.set(probe);
            nb.set(build);
            probe = np;
            build = nb;
          }
          probe[m] = i;
          build[m++] = j;
        }
        continue;
      }
      for (; j >= 0; j = next[j]) {
        if (bh[j] !== h || !rowsEqual(keys, i, bkeys, j, nullsEqual)) continue;
        if (m === cap) {
          cap *= 2;
          const np = new Int32Array(cap), nb = new Int32Array(cap);
          np.set(probe);
          nb.set(build);
          probe = np;
          build = nb;
        }
        probe[m] = i;
        build[m++] = j;
      }
    }
    return { probe: probe.subarray(0, m), build: build.subarray(0, m), next: i };
  }
}
