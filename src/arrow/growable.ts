/**
 * A column that grows one row at a time by copying rows out of other columns
 * of the same type (group keys of a hash table, rows of a sort run).
 *
 * @module
 */

import {
  allocValues,
  type Column,
  type NumericArray,
  numericColumn,
  type Utf8Column,
  utf8Column,
} from "./column.ts";
import type { DataType } from "./types.ts";

/** A growable copy of rows of one type. */
export class GrowableColumn {
  readonly type: DataType;
  #values: NumericArray | null = null;
  #offsets: Int32Array | null = null;
  #data: Uint8Array | null = null;
  #bytes = 0;
  #validity: Uint8Array;
  #anyNull = false;
  #length = 0;
  readonly #string: boolean;

  /** A growable column of `type` with initial room for `capacity` rows. */
  constructor(type: DataType, capacity = 1024, wide = false) {
    this.type = type;
    this.#string = type.id === "utf8";
    if (this.#string) {
      this.#offsets = new Int32Array(capacity + 1);
      this.#data = new Uint8Array(capacity * 16);
    } else {
      this.#values = wide ? new BigInt64Array(capacity) : allocValues(type, capacity);
    }
    this.#validity = new Uint8Array(capacity);
  }

  /** Rows so far. */
  get length(): number {
    return this.#length;
  }

  #grow(): void {
    const cap = this.#validity.length * 2;
    const v = new Uint8Array(cap);
    v.set(this.#validity);
    this.#validity = v;
    if (this.#values) {
      const nv = new (this.#values.constructor as { new (n: number): NumericArray })(cap);
      (nv as Float64Array).set(this.#values as Float64Array);
      this.#values = nv;
    } else {
      const no = new Int32Array(cap + 1);
      no.set(this.#offsets!);
      this.#offsets = no;
    }
  }

  /** Appends row `i` of `src` (same logical type). */
  append(src: Column, i: number): void {
    if (this.#length === this.#validity.length) this.#grow();
    const at = this.#length++;
    const valid = src.validity === null || src.validity[i] === 1;
    this.#validity[at] = valid ? 1 : 0;
    if (!valid) this.#anyNull = true;
    if (!this.#string) {
      if (valid) {
        const v = (src as { values: NumericArray }).values[i];
        if (this.#values instanceof BigInt64Array) this.#values[at] = BigInt(v);
        else if (typeof v === "bigint") {
          this.#upgradeToWide();
          (this.#values as unknown as BigInt64Array)[at] = v;
        } else (this.#values as Float64Array)[at] = v;
      }
      return;
    }
    let data: Uint8Array, s = 0, e = 0;
    if (valid) {
      if (src.enc === "dict") {
        const k = src.indices[i];
        data = src.dict.data;
        s = src.dict.offsets[k];
        e = src.dict.offsets[k + 1];
      } else {
        const u = src as Utf8Column;
        data = u.data;
        s = u.offsets[i];
        e = u.offsets[i + 1];
      }
      const len = e - s;
      if (this.#bytes + len > this.#data!.length) {
        const nd = new Uint8Array(Math.max(this.#data!.length * 2, this.#bytes + len));
        nd.set(this.#data!.subarray(0, this.#bytes));
        this.#data = nd;
      }
      const d = this.#data!;
      if (len < 16) { for (let k = 0; k < len; k++) d[this.#bytes + k] = data[s + k]; }
      else d.set(data.subarray(s, e), this.#bytes);
      this.#bytes += len;
    }
    this.#offsets![at + 1] = this.#bytes;
  }

  /** True when stored row g equals row i of `src` (NULL equals NULL: grouping semantics). */
  equalsAt(g: number, src: Column, i: number): boolean {
    const validSrc = src.validity === null || src.validity[i] === 1;
    const validG = this.#validity[g] === 1;
    if (!validSrc || !validG) return validSrc === validG;
    if (!this.#string) {
      const v = (src as { values: NumericArray }).values[i];
      const w = this.#values![g];
      return v === w || (typeof v !== typeof w && Number(v) === Number(w)) || (v !== v && w !== w);
    }
    let data: Uint8Array, s: number, e: number;
    if (src.enc === "dict") {
      const k = src.indices[i];
      data = src.dict.data;
      s = src.dict.offsets[k];
      e = src.dict.offsets[k + 1];
    } else {
      const u = src as Utf8Column;
      data = u.data;
      s = u.offsets[i];
      e = u.offsets[i + 1];
    }
    const o = this.#offsets!;
    const gs = o[g], ge = o[g + 1];
    const len = e - s;
    if (len !== ge - gs) return false;
    const d = this.#data!;
    for (let k = 0; k < len; k++) if (d[gs + k] !== data[s + k]) return false;
    return true;
  }

  /** Appends a NULL. */
  appendNull(): void {
    if (this.#length === this.#validity.length) this.#grow();
    const at = this.#length++;
    this.#validity[at] = 0;
    this.#anyNull = true;
    if (this.#string) this.#offsets![at + 1] = this.#bytes;
  }

  #upgradeToWide(): void {
    const old = this.#values as Float64Array;
    const w = new BigInt64Array(old.length);
    for (let k = 0; k < this.#length - 1; k++) w[k] = BigInt(old[k]);
    this.#values = w;
  }

  /** The rows appended so far, as a column (the builder may keep growing afterwards). */
  finish(): Column {
    const n = this.#length;
    const validity = this.#anyNull ? this.#validity.slice(0, n) : null;
    if (this.#string) {
      return utf8Column(
        this.type,
        this.#offsets!.slice(0, n + 1),
        this.#data!.slice(0, this.#bytes),
        validity,
      );
    }
    return numericColumn(this.type, this.#values!.slice(0, n) as NumericArray, validity);
  }

  /** A read-only view of the current rows without copying (valid until the next append). */
  view(): Column {
    const n = this.#length;
    const validity = this.#anyNull ? this.#validity.subarray(0, n) : null;
    if (this.#string) {
      return utf8Column(this.type, this.#offsets!.subarray(0, n + 1), this.#data!, validity);
    }
    return numericColumn(this.type, this.#values!.subarray(0, n) as NumericArray, validity);
  }
}
