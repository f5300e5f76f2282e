/**
 * Projection pushdown: every node keeps only the columns someone above it
 * reads, so scans read only the columns a query needs (for Parquet, only
 * those column chunks are fetched and decoded).
 *
 * @module
 */

import { type Expr, exprColumns } from "../expr.ts";
import { type LogicalPlan, outputColumns, outputIds } from "../logical.ts";

function idsOf(exprs: readonly (Expr | null)[], into: Set<number>): Set<number> {
  for (const e of exprs) if (e) exprColumns(e, into);
  return into;
}

/** Prunes unused columns everywhere below the root (whose columns are all kept). */
export function pruneColumns(plan: LogicalPlan): LogicalPlan {
  return prune(plan, outputIds(plan));
}

function prune(p: LogicalPlan, required: ReadonlySet<number>): LogicalPlan {
  switch (p.kind) {
    case "scan": {
      const need = idsOf(p.filters, new Set(required));
      let columns = p.columns.filter((c) => need.has(c.id));
      // Keep one column so that the scan still yields row counts (COUNT(*)).
      if (columns.length === 0 && p.columns.length > 0) columns = [smallest(p.columns)];
      return { ...p, columns };
    }
    case "values":
    case "empty":
      return p;
    case "filter":
      return narrow(
        { ...p, input: prune(p.input, idsOf([p.predicate], new Set(required))) },
        required,
      );
    case "project": {
      const items = p.items.filter((i) => required.has(i.id));
      return { ...p, items, input: prune(p.input, idsOf(items.map((i) => i.expr), new Set())) };
    }
    case "aggregate": {
      const aggregates = p.aggregates.filter((a) => required.has(a.id));
      const need = idsOf(p.groupBy.map((g) => g.expr), new Set());
      for (const a of aggregates) idsOf([...a.args, a.filter], need);
      return { ...p, aggregates, input: prune(p.input, need) };
    }
    case "join": {
      const need = idsOf([...p.on.flat(), p.filter], new Set(required));
      const l = outputIds(p.left), r = outputIds(p.right);
      return narrow({
        ...p,
        left: prune(p.left, new Set([...need].filter((id) => l.has(id)))),
        right: prune(p.right, new Set([...need].filter((id) => r.has(id)))),
      }, required);
    }
    case "sort":
      return { ...p, input: prune(p.input, idsOf(p.keys.map((k) => k.expr), new Set(required))) };
    case "limit":
    case "max_one_row":
      return { ...p, input: prune(p.input, required) };
    case "window": {
      const windows = p.windows.filter((w) => required.has(w.id));
      if (windows.length === 0) return prune(p.input, required);
      const need = new Set(required);
      for (const w of windows) {
        idsOf([...w.args, ...w.partitionBy, ...w.orderBy.map((k) => k.expr)], need);
      }
      const inputIds = outputIds(p.input);
      return {
        ...p,
        windows,
        input: prune(p.input, new Set([...need].filter((id) => inputIds.has(id)))),
      };
    }
    case "union": {
      let keep = p.columns.map((c, i) => (required.has(c.id) ? i : -1)).filter((i) => i >= 0);
      if (keep.length === 0) keep = [0];
      const columns = keep.map((i) => p.columns[i]);
      const inputColumns = p.inputColumns.map((ids) => keep.map((i) => ids[i]));
      const inputs = p.inputs.map((inp, k) => prune(inp, new Set(inputColumns[k])));
      return { ...p, columns, inputColumns, inputs };
    }
  }
}

/**
 * A filter or join that reads columns nobody above needs (a predicate's
 * column, a join key) would still carry them: the join would gather them for
 * every output row. An identity projection of the required columns drops
 * them (the physical planner folds it into the hash join's output).
 */
function narrow(p: LogicalPlan, required: ReadonlySet<number>): LogicalPlan {
  const cols = outputColumns(p);
  if (cols.every((c) => required.has(c.id))) return p;
  const keep = cols.filter((c) => required.has(c.id));
  if (keep.length === 0) return p;
  return {
    kind: "project",
    input: p,
    items: keep.map((c) => ({
      id: c.id,
      name: c.name,
      expr: { kind: "column", id: c.id, type: c.type, name: c.name },
    })),
  };
}

function smallest<T extends { type: { id: string } }>(cols: readonly T[]): T {
  return cols.find((c) => c.type.id !== "utf8") ?? cols[0];
}

export { outputColumns };
