/**
 * Pruning: deciding from what is known before reading (hive partition
 * values of a file, min/max statistics of a Parquet row group) that a filter
 * cannot be true for any row, so the file or row group is never read.
 * Conservative: anything it does not understand keeps the data.
 *
 * @module
 */

import type { Value } from "../arrow/column.ts";
import type { Expr } from "../plan/expr.ts";

/** Min/max/null-count of one column over a unit of data (row group or file). */
export interface RangeStats {
  readonly min: Value;
  readonly max: Value;
  readonly nullCount: number | null;
}

/** Statistics of the columns of a unit, by provider column index, and its row count. */
export interface UnitStats {
  readonly columns: ReadonlyMap<number, RangeStats>;
  readonly rows: number;
}

function cmp(a: Value, b: Value): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a), y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The statistics of two units taken together (e.g. the row groups of one
 * scan partition): the smaller min, the larger max, the summed null counts.
 * An unknown bound stays unknown.
 */
export function mergeRangeStats(a: RangeStats, b: RangeStats): RangeStats {
  const unknown = a.min === null || a.max === null || b.min === null || b.max === null;
  return {
    min: unknown ? null : cmp(a.min, b.min) <= 0 ? a.min : b.min,
    max: unknown ? null : cmp(a.max, b.max) >= 0 ? a.max : b.max,
    nullCount: a.nullCount === null || b.nullCount === null ? null : a.nullCount + b.nullCount,
  };
}

/** The provider column index read by `e` if it is a plain column (or a value-preserving cast of one). */
function columnOf(e: Expr): number | null {
  if (e.kind === "column") return e.id;
  if (e.kind === "cast" && e.arg.kind === "column") {
    const from = e.arg.type.id, to = e.type.id;
    const numeric = (t: string) => t === "int32" || t === "int64" || t === "float64";
    if (numeric(from) && numeric(to)) return e.arg.id;
    const a = e.arg.type, t = e.type;
    if (a.id === "decimal" && t.id === "decimal" && a.scale === t.scale) return e.arg.id;
  }
  return null;
}

function literalOf(e: Expr): Value | undefined {
  if (e.kind === "literal" && typeof e.value !== "object") return e.value as Value;
  if (e.kind === "literal" && e.value === null) return null;
  return undefined;
}

const FLIP: Record<string, string> = {
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
  "=": "=",
  "<>": "<>",
};

/** True when `e` is certainly not TRUE for any row described by `stats`. */
export function canSkip(e: Expr, stats: UnitStats): boolean {
  switch (e.kind) {
    case "binary": {
      if (e.op === "and") return canSkip(e.left, stats) || canSkip(e.right, stats);
      if (e.op === "or") return canSkip(e.left, stats) && canSkip(e.right, stats);
      if (!(e.op in FLIP)) return false;
      let c = columnOf(e.left), v = literalOf(e.right), op = e.op as string;
      if (c === null || v === undefined) {
        c = columnOf(e.right);
        v = literalOf(e.left);
        op = FLIP[op];
      }
      if (c === null || v === undefined) return false;
      if (v === null) return true; // a comparison with NULL is never TRUE
      const s = stats.columns.get(c);
      if (!s) return false;
      if (s.nullCount !== null && s.nullCount === stats.rows) return true; // all NULL
      if (s.min === null || s.max === null) return false;
      switch (op) {
        case "=":
          return cmp(v, s.min) < 0 || cmp(v, s.max) > 0;
        case "<>":
          return cmp(s.min, s.max) === 0 && cmp(s.min, v) === 0 && s.nullCount === 0;
        case "<":
          return cmp(s.min, v) >= 0;
        case "<=":
          return cmp(s.min, v) > 0;
        case ">":
          return cmp(s.max, v) <= 0;
        case ">=":
          return cmp(s.max, v) < 0;
      }
      return false;
    }
    case "in_list": {
      if (e.negated) return false;
      const c = columnOf(e.arg);
      if (c === null) return false;
      const s = stats.columns.get(c);
      if (!s || s.min === null || s.max === null) return false;
      return e.list.every((x) => {
        const v = literalOf(x);
        if (v === undefined) return false;
        return v === null || cmp(v, s.min) < 0 || cmp(v, s.max) > 0;
      });
    }
    case "unary": {
      const c = columnOf(e.arg);
      if (c === null) return false;
      const s = stats.columns.get(c);
      if (!s || s.nullCount === null) return false;
      if (e.op === "is_null") return s.nullCount === 0;
      if (e.op === "is_not_null") return s.nullCount === stats.rows;
      return false;
    }
    case "literal":
      return e.value === false || e.value === null;
    default:
      return false;
  }
}
