/**
 * Dictionary encoding of low-cardinality string columns at load time: one
 * dictionary per column shared by all batches, so that comparisons, LIKE,
 * grouping and hashing work on small integer codes (the dictionary entry is
 * examined once, not once per row).
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../arrow/batch.ts";
import { type Column, dictColumn, type Utf8Column } from "../arrow/column.ts";
import { GrowableColumn } from "../arrow/growable.ts";
import { sharedArray } from "../arrow/alloc.ts";
import { shareColumn } from "../parallel/shared_memory.ts";
import type { Schema } from "../arrow/types.ts";
import { hashBytes } from "../exec/kernels/hash.ts";

/** Columns with at most this many distinct values (and at most this share of rows) are encoded. */
const MAX_DISTINCT = 65536;
const MAX_RATIO = 0.5;

/** Dictionary-encodes the string columns of batches where that pays off. */
export function dictionaryEncode(schema: Schema, batches: readonly RecordBatch[]): RecordBatch[] {
  const total = batches.reduce((s, b) => s + b.numRows, 0);
  if (total === 0) return [...batches];
  const out = batches.map((b) => [...b.columns]);
  schema.fields.forEach((f, c) => {
    if (f.type.id !== "utf8") return;
    const encoded = encodeColumn(
      batches.map((b) => b.columns[c]),
      Math.min(MAX_DISTINCT, total * MAX_RATIO),
    );
    if (encoded) encoded.forEach((col, k) => (out[k][c] = col));
  });
  return batches.map((b, k) => recordBatch(b.schema, out[k], b.numRows));
}

function encodeColumn(cols: readonly Column[], limit: number): Column[] | null {
  const dict = new GrowableColumn({ id: "utf8" }, 1024);
  let slots = new Int32Array(2048);
  let mask = 2047;
  let hashes = new Uint32Array(1024);
  let size = 0;
  /** The code of string i of `c`, added when new; -1 past the limit. */
  const codeOf = (c: Utf8Column, i: number): number => {
    const h = hashBytes(c.data, c.offsets[i], c.offsets[i + 1]);
    let s = h & mask;
    for (;;) {
      const g1 = slots[s];
      if (g1 === 0) {
        if (size >= limit) return -1;
        dict.append(c, i);
        if (size === hashes.length) {
          const nh = new Uint32Array(hashes.length * 2);
          nh.set(hashes);
          hashes = nh;
        }
        hashes[size] = h;
        slots[s] = ++size;
        if (size * 2 > slots.length) {
          slots = new Int32Array(slots.length * 2);
          mask = slots.length - 1;
          for (let g = 0; g < size; g++) {
            let t = hashes[g] & mask;
            while (slots[t] !== 0) t = (t + 1) & mask;
            slots[t] = g + 1;
          }
        }
        return size - 1;
      }
      if (hashes[g1 - 1] === h && dict.equalsAt(g1 - 1, c, i)) return g1 - 1;
      s = (s + 1) & mask;
    }
  };
  const parts: { idx: Int32Array; validity: Uint8Array | null }[] = [];
  for (const c of cols) {
    const n = c.length;
    const idx = sharedArray(Int32Array, n);
    if (c.enc === "dict") {
      // Already dictionary-encoded (Parquet's own dictionary): each entry is
      // looked up once and the row codes remapped, without decoding the rows.
      const local = new Int32Array(c.dict.length);
      for (let k = 0; k < local.length; k++) {
        if ((local[k] = codeOf(c.dict, k)) < 0) return null;
      }
      const ix = c.indices, valid = c.validity;
      for (let i = 0; i < n; i++) if (!valid || valid[i]) idx[i] = local[ix[i]];
    } else {
      const u = c as Utf8Column;
      for (let i = 0; i < n; i++) {
        if (u.validity && !u.validity[i]) continue;
        if ((idx[i] = codeOf(u, i)) < 0) return null;
      }
    }
    parts.push({ idx, validity: c.validity });
  }
  // In shared memory, as the rest of an accelerated table (see arrow/alloc.ts).
  const d = shareColumn(dict.finish()) as Utf8Column;
  return parts.map(({ idx, validity }) => dictColumn(idx, d, validity));
}
