/**
 * Cardinality estimates from table statistics, for join ordering and for
 * choosing build sides. Deliberately simple (fixed selectivities per
 * predicate shape, key-based join estimates), as the point is to rank
 * alternatives, not to predict exact sizes.
 *
 * @module
 */

import { conjuncts, type Expr } from "./expr.ts";
import { type LogicalPlan, outputColumns } from "./logical.ts";

const DEFAULT_ROWS = 1_000_000;

/** Estimated selectivity of one predicate. */
export function selectivity(e: Expr): number {
  switch (e.kind) {
    case "binary":
      switch (e.op) {
        case "and":
          return selectivity(e.left) * selectivity(e.right);
        case "or":
          return Math.min(1, selectivity(e.left) + selectivity(e.right));
        case "=":
        case "is_not_distinct":
          return e.left.kind === "literal" || e.right.kind === "literal" ? 0.05 : 0.1;
        case "<>":
        case "is_distinct":
          return 0.9;
        case "<":
        case "<=":
        case ">":
        case ">=":
          return 0.4;
        default:
          return 0.5;
      }
      break;
    case "like":
      return e.negated ? 0.9 : 0.15;
    case "in_list":
      return e.negated ? 0.9 : Math.min(0.5, 0.05 * e.list.length);
    case "unary":
      if (e.op === "not") return 1 - selectivity(e.arg);
      if (e.op === "is_null") return 0.05;
      return 0.9;
    default:
      return 0.5;
  }
}

/** Estimated output rows of a plan. */
export function estimateRows(p: LogicalPlan): number {
  switch (p.kind) {
    case "scan":
      // A scan's filters are pruning hints; the filter above it applies (and is estimated) again.
      return p.provider.statistics().numRows ?? DEFAULT_ROWS;
    case "values":
      return p.rows.length;
    case "empty":
      return p.oneRow ? 1 : 0;
    case "filter":
      return Math.max(
        1,
        estimateRows(p.input) * conjuncts(p.predicate).reduce((s, f) => s * selectivity(f), 1),
      );
    case "project":
    case "sort":
    case "window":
      return estimateRows(p.input);
    case "max_one_row":
      return 1;
    case "limit":
      return Math.min(estimateRows(p.input), p.fetch ?? Infinity);
    case "aggregate": {
      if (p.groupBy.length === 0) return 1;
      const n = estimateRows(p.input);
      return Math.max(
        1,
        Math.min(n, n / Math.pow(4, Math.max(0, 3 - p.groupBy.length))) *
          (p.groupingSets?.length ?? 1),
      );
    }
    case "union":
      return p.inputs.reduce((s, i) => s + estimateRows(i), 0);
    case "join": {
      const l = estimateRows(p.left), r = estimateRows(p.right);
      switch (p.joinKind) {
        case "semi":
          return Math.max(1, l * semiSelectivity(p));
        case "anti":
          return Math.max(1, l * (1 - semiSelectivity(p) * 0.9));
        case "mark":
          return l;
        default: {
          if (p.on.length === 0) return l * r * (p.filter ? selectivity(p.filter) : 1);
          // Key/foreign-key: the larger side, filtered by the smaller side's selectivity.
          const big = Math.max(l, r), small = Math.min(l, r);
          const smallBase = baseRows(l < r ? p.left : p.right);
          const est = big * Math.min(1, small / Math.max(1, smallBase));
          if (p.joinKind === "left") return Math.max(est, l);
          if (p.joinKind === "right") return Math.max(est, r);
          if (p.joinKind === "full") return Math.max(est, l, r);
          return Math.max(1, est);
        }
      }
    }
  }
}

/**
 * The share of left rows a semi join keeps: with one key and known distinct
 * counts, the share of the left key's values that the right side holds
 * (its rows bound its distinct values); one half otherwise.
 */
function semiSelectivity(p: LogicalPlan & { kind: "join" }): number {
  if (p.on.length !== 1) return 0.5;
  const [a, b] = p.on[0];
  if (a.kind !== "column" || b.kind !== "column") return 0.5;
  const dl = columnDistinct(p.left, a.id);
  if (dl === null) return 0.5;
  const dr = Math.min(columnDistinct(p.right, b.id) ?? Infinity, estimateRows(p.right));
  return Math.min(1, dr / Math.max(1, dl));
}

/** Rows of the underlying tables before filters (the largest scan below). */
export function baseRows(p: LogicalPlan): number {
  switch (p.kind) {
    case "scan":
      return p.provider.statistics().numRows ?? DEFAULT_ROWS;
    case "join":
      return Math.max(baseRows(p.left), baseRows(p.right));
    case "values":
      return p.rows.length;
    case "empty":
      return 1;
    case "union":
      return p.inputs.reduce((s, i) => s + baseRows(i), 0);
    case "aggregate":
      return estimateRows(p);
    default:
      return baseRows(p.input);
  }
}

/** Estimated bytes per row of a plan's output (for broadcast decisions). */
export function rowWidth(p: LogicalPlan): number {
  return outputColumns(p).reduce((s, c) => s + (c.type.id === "utf8" ? 24 : 8), 0);
}

/** Estimated distinct values of a column of a plan's output, traced to its table; null when unknown. */
export function columnDistinct(p: LogicalPlan, id: number): number | null {
  switch (p.kind) {
    case "scan": {
      const c = p.columns.find((x) => x.id === id);
      if (!c) return null;
      const d = p.provider.statistics().distinct?.[c.source] ?? null;
      return d === null ? null : Math.min(d, estimateRows(p));
    }
    case "project": {
      const item = p.items.find((i) => i.id === id);
      if (!item || item.expr.kind !== "column") return null;
      return columnDistinct(p.input, item.expr.id);
    }
    case "filter":
    case "sort":
    case "limit": {
      const d = columnDistinct(p.input, id);
      return d === null ? null : Math.min(d, estimateRows(p));
    }
    case "aggregate": {
      const g = p.groupBy.find((x) => x.id === id);
      if (!g || g.expr.kind !== "column") return null;
      return columnDistinct(p.input, g.expr.id);
    }
    case "join": {
      const inLeft = outputColumns(p.left).some((c) => c.id === id);
      const d = columnDistinct(inLeft ? p.left : p.right, id);
      return d === null ? null : Math.min(d, estimateRows(p));
    }
    default:
      return null;
  }
}
