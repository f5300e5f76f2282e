/**
 * Comparing our results with DuckDB's: both sides become canonical strings
 * per cell (decimals at their scale, dates as YYYY-MM-DD, timestamps without
 * a zone), doubles are compared with a relative tolerance of 1e-9, and row
 * order is compared only where the query's ORDER BY fixes it.
 *
 * @module
 */

import { type RecordBatch } from "../../src/arrow/batch.ts";
import { isValid, type NumericColumn, stringAt } from "../../src/arrow/column.ts";
import { formatDecimal } from "../../src/exec/kernels/cast.ts";
import { formatDate, formatTimestamp } from "../../src/sql/literals.ts";

/** A cell in canonical form: a string, a number (doubles) or null. */
export type Cell = string | number | null;

/** Our batches as canonical rows. */
export function canonicalRows(batches: readonly RecordBatch[]): Cell[][] {
  const rows: Cell[][] = [];
  for (const b of batches) {
    for (let r = 0; r < b.numRows; r++) {
      rows.push(b.columns.map((c): Cell => {
        if (!isValid(c, r)) return null;
        if (c.enc !== "num") return stringAt(c, r);
        const v = (c as NumericColumn).values[r];
        switch (c.type.id) {
          case "decimal":
            return formatDecimal(v as number | bigint, c.type.scale);
          case "date32":
            return formatDate(v as number);
          case "timestamp":
            return formatTimestamp(v as number);
          case "float64":
            return v as number;
          case "bool":
            return v ? "true" : "false";
          default:
            return String(v);
        }
      }));
    }
  }
  return rows;
}

/** DuckDB's JSON rows as canonical rows (types from DuckDB's column types). */
export function canonicalReference(rows: unknown[][], types: string[]): Cell[][] {
  return rows.map((row) =>
    row.map((v, i): Cell => {
      if (v === null || v === undefined) return null;
      const t = types[i];
      if (t === "DOUBLE" || t === "FLOAT") {
        if (typeof v === "number") return v;
        if (v === "Infinity") return Infinity;
        if (v === "-Infinity") return -Infinity;
        if (v === "NaN") return NaN;
        return Number(v);
      }
      if (t === "BOOLEAN") return v ? "true" : "false";
      if (t === "TIMESTAMP" && typeof v === "string") {
        return v.replace(/\.?0+$/, (m) => (m.startsWith(".") ? "" : m));
      }
      return String(v);
    })
  );
}

function cellKey(c: Cell): string {
  if (typeof c === "number") return Number.isFinite(c) ? c.toPrecision(9) : String(c);
  return c === null ? "\u0000NULL" : c;
}

function cellsEqual(a: Cell, b: Cell): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a === "number" || typeof b === "number") {
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) && Number.isNaN(y)) return true;
    if (x === y) return true;
    return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)) || Math.abs(x - y) < 1e-12;
  }
  // A date compared with a midnight timestamp (engines differ on date +/- interval).
  if (a.length === 10 && b === a + " 00:00:00") return true;
  if (b.length === 10 && a === b + " 00:00:00") return true;
  return false;
}

/** Describes the first difference between two results, or null when they agree. */
export function diffResults(ours: Cell[][], reference: Cell[][], ordered: boolean): string | null {
  if (ours.length !== reference.length) {
    return `row count differs: ours ${ours.length}, DuckDB ${reference.length}\n ours: ${
      JSON.stringify(ours.slice(0, 3))
    }\n duckdb: ${JSON.stringify(reference.slice(0, 3))}`;
  }
  let a = ours, b = reference;
  if (!ordered) {
    const sortRows = (rows: Cell[][]) =>
      [...rows].sort((x, y) => {
        const kx = x.map(cellKey).join("\u0001"), ky = y.map(cellKey).join("\u0001");
        return kx < ky ? -1 : kx > ky ? 1 : 0;
      });
    a = sortRows(ours);
    b = sortRows(reference);
  }
  for (let r = 0; r < a.length; r++) {
    if (a[r].length !== b[r].length) {
      return `row ${r}: column count differs (${a[r].length} vs ${b[r].length})`;
    }
    for (let c = 0; c < a[r].length; c++) {
      if (!cellsEqual(a[r][c], b[r][c])) {
        return `row ${r} column ${c}: ours ${JSON.stringify(a[r][c])}, DuckDB ${
          JSON.stringify(b[r][c])
        }\n ours row: ${JSON.stringify(a[r])}\n duckdb row: ${JSON.stringify(b[r])}`;
      }
    }
  }
  return null;
}
