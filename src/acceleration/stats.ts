/**
 * Min/max/null-count statistics of in-memory data, computed once when a unit
 * is loaded, so that a scan's filters skip whole units without touching
 * them (the in-memory counterpart of Parquet row-group pruning).
 *
 * Numeric, date, timestamp and decimal columns get exact bounds; dictionary
 * strings get the bounds of the entries in use; plain strings and booleans
 * only a null count. A float column holding NaN gets no bounds (NaN sorts
 * above every number in SQL, which a min/max test would miss).
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { type Column, stringAt, type Value } from "../arrow/column.ts";
import type { Schema } from "../arrow/types.ts";
import { mergeRangeStats, type RangeStats, type UnitStats } from "../connectors/pruning.ts";

/** Statistics of every column of `batches`, by column index. */
export function batchStatistics(schema: Schema, batches: readonly RecordBatch[]): UnitStats {
  const columns = new Map<number, RangeStats>();
  const rows = batches.reduce((s, b) => s + b.numRows, 0);
  schema.fields.forEach((_, c) => {
    let merged: RangeStats | null = null;
    let nulls = 0;
    for (const b of batches) {
      if (b.numRows === 0) continue;
      const s = columnStatistics(b.columns[c]);
      nulls += s.nullCount;
      // A batch whose values are all null adds nulls, not bounds.
      if (s.nullCount === b.numRows) continue;
      merged = merged ? mergeRangeStats(merged, s) : s;
    }
    columns.set(c, { min: merged?.min ?? null, max: merged?.max ?? null, nullCount: nulls });
  });
  return { columns, rows };
}

/** One column's statistics (bounds null when unknown or when every value is null). */
function columnStatistics(col: Column): RangeStats & { nullCount: number } {
  const n = col.length;
  const valid = col.validity;
  let nulls = 0;
  if (valid) { for (let i = 0; i < n; i++) nulls += valid[i] === 0 ? 1 : 0; }
  const unknown = { min: null, max: null, nullCount: nulls };
  if (nulls === n) return unknown;
  const t = col.type.id;
  if (col.enc === "num") {
    if (t === "bool" || t === "null" || t === "interval") return unknown;
    const v = col.values;
    let lo: number | bigint | null = null, hi: number | bigint | null = null;
    for (let i = 0; i < n; i++) {
      if (valid && valid[i] === 0) continue;
      const x = v[i];
      if (typeof x === "number" && Number.isNaN(x)) return unknown;
      if (lo === null || x < lo) lo = x;
      if (hi === null || x > hi) hi = x;
    }
    return { min: lo as Value, max: hi as Value, nullCount: nulls };
  }
  if (col.enc === "dict") {
    const used = new Uint8Array(col.dict.length);
    for (let i = 0; i < n; i++) if (!valid || valid[i] === 1) used[col.indices[i]] = 1;
    let lo: string | null = null, hi: string | null = null;
    for (let k = 0; k < used.length; k++) {
      if (!used[k]) continue;
      const s = stringAt(col.dict, k);
      if (lo === null || s < lo) lo = s;
      if (hi === null || s > hi) hi = s;
    }
    return { min: lo, max: hi, nullCount: nulls };
  }
  return unknown;
}
