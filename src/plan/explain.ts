/**
 * EXPLAIN: logical and physical plans printed as indented trees, the way
 * DataFusion prints them, with per-operator metrics for EXPLAIN ANALYZE.
 *
 * @module
 */

import { typeToString } from "../arrow/types.ts";
import { formatDecimal } from "../exec/kernels/cast.ts";
import type { PhysicalPlan } from "../physical/plan.ts";
import { physicalInputs } from "../physical/plan.ts";
import { formatDate, formatInterval, formatTimestamp } from "../sql/literals.ts";
import type { Expr, IntervalValue } from "./expr.ts";
import { type LogicalPlan, planInputs } from "./logical.ts";

/** Renders an expression as SQL-like text. */
export function exprToString(e: Expr): string {
  switch (e.kind) {
    case "column":
      return e.name;
    case "literal": {
      const v = e.value;
      if (v === null) return "NULL";
      switch (e.type.id) {
        case "utf8":
          return `'${String(v).replaceAll("'", "''")}'`;
        case "date32":
          return `DATE '${formatDate(v as number)}'`;
        case "timestamp":
          return `TIMESTAMP '${formatTimestamp(v as number)}'`;
        case "decimal":
          return formatDecimal(v as number, e.type.scale);
        case "interval":
          return `INTERVAL '${formatInterval(v as IntervalValue)}'`;
        default:
          return String(v);
      }
    }
    case "binary": {
      const op = e.op === "is_distinct"
        ? "IS DISTINCT FROM"
        : e.op === "is_not_distinct"
        ? "IS NOT DISTINCT FROM"
        : e.op.toUpperCase();
      return `(${exprToString(e.left)} ${op} ${exprToString(e.right)})`;
    }
    case "unary":
      switch (e.op) {
        case "not":
          return `NOT ${exprToString(e.arg)}`;
        case "neg":
          return `-${exprToString(e.arg)}`;
        case "is_null":
          return `${exprToString(e.arg)} IS NULL`;
        case "is_not_null":
          return `${exprToString(e.arg)} IS NOT NULL`;
        case "is_true":
          return `${exprToString(e.arg)} IS TRUE`;
        case "is_false":
          return `${exprToString(e.arg)} IS FALSE`;
      }
      break;
    case "cast":
      return `CAST(${exprToString(e.arg)} AS ${typeToString(e.type)})`;
    case "call":
      return `${e.fn}(${e.args.map(exprToString).join(", ")})`;
    case "case":
      return `CASE ${
        e.whens.map(([w, t]) => `WHEN ${exprToString(w)} THEN ${exprToString(t)}`).join(" ")
      }${e.otherwise ? ` ELSE ${exprToString(e.otherwise)}` : ""} END`;
    case "in_list":
      return `${exprToString(e.arg)}${e.negated ? " NOT" : ""} IN (${
        e.list.map(exprToString).join(", ")
      })`;
    case "like":
      return `${exprToString(e.arg)}${e.negated ? " NOT" : ""} ${
        e.caseInsensitive ? "ILIKE" : "LIKE"
      } ${exprToString(e.pattern)}`;
  }
  return "?";
}

function logicalLine(p: LogicalPlan): string {
  switch (p.kind) {
    case "scan":
      return `TableScan: ${p.table} projection=[${p.columns.map((c) => c.name).join(", ")}]${
        p.filters.length ? ` filters=[${p.filters.map(exprToString).join(", ")}]` : ""
      }`;
    case "values":
      return `Values: ${p.rows.length} rows`;
    case "empty":
      return `EmptyRelation${p.oneRow ? " (one row)" : ""}`;
    case "filter":
      return `Filter: ${exprToString(p.predicate)}`;
    case "project":
      return `Projection: ${p.items.map((i) => `${exprToString(i.expr)} AS ${i.name}`).join(", ")}`;
    case "aggregate":
      return `Aggregate: groupBy=[${p.groupBy.map((g) => exprToString(g.expr)).join(", ")}]${
        p.groupingSets ? ` sets=${JSON.stringify(p.groupingSets)}` : ""
      } aggr=[${
        p.aggregates.map((a) =>
          `${a.fn}(${a.distinct ? "DISTINCT " : ""}${a.args.map(exprToString).join(", ")})`
        ).join(", ")
      }]`;
    case "join":
      return `${p.joinKind[0].toUpperCase()}${p.joinKind.slice(1)}Join: on=[${
        p.on.map(([a, b]) => `${exprToString(a)} = ${exprToString(b)}`).join(", ")
      }]${p.filter ? ` filter=${exprToString(p.filter)}` : ""}${p.nullAware ? " null_aware" : ""}`;
    case "sort":
      return `Sort: ${
        p.keys.map((k) =>
          `${exprToString(k.expr)} ${k.asc ? "ASC" : "DESC"} NULLS ${
            k.nullsFirst ? "FIRST" : "LAST"
          }`
        ).join(", ")
      }`;
    case "limit":
      return `Limit: skip=${p.skip} fetch=${p.fetch ?? "none"}`;
    case "union":
      return `Union: ${p.inputs.length} inputs`;
    case "window":
      return `Window: ${
        p.windows.map((w) => `${w.fn}(${w.args.map(exprToString).join(", ")})`).join(", ")
      }`;
    case "max_one_row":
      return "MaxOneRow";
  }
}

/** The logical plan as an indented tree. */
export function formatLogical(p: LogicalPlan, indent = 0): string {
  const lines = ["  ".repeat(indent) + logicalLine(p)];
  for (const c of planInputs(p)) lines.push(formatLogical(c, indent + 1));
  return lines.join("\n");
}

function physicalLine(p: PhysicalPlan): string {
  switch (p.op) {
    case "scan":
      return `ScanExec: ${p.table} projection=[${
        p.columns.map((c) => c.name).join(", ")
      }] partitions=${p.partitions}${
        p.filters.length ? ` pruning_filters=${p.filters.length}` : ""
      }${p.pruning ? ` ${p.pruning}` : ""}`;
    case "values":
      return `ValuesExec: ${p.rows.length} rows`;
    case "empty":
      return `EmptyExec${p.oneRow ? " (one row)" : ""}`;
    case "filter":
      return `FilterExec: ${exprToString(p.predicate)}`;
    case "project":
      return `ProjectionExec: ${
        p.items.map((i) => `${exprToString(i.expr)} AS ${i.name}`).join(", ")
      }`;
    case "aggregate":
      return `AggregateExec: mode=${p.mode} groupBy=[${
        p.groupBy.map((g) => exprToString(g.expr)).join(", ")
      }] aggr=[${
        p.aggregates.map((a) =>
          `${a.fn}(${a.distinct ? "DISTINCT " : ""}${a.args.map(exprToString).join(", ")})`
        ).join(", ")
      }]`;
    case "hash_join":
      return `HashJoinExec: mode=${p.mode} kind=${p.kind} build=${p.buildSide} on=[${
        p.on.map(([a, b]) => `${exprToString(a)} = ${exprToString(b)}`).join(", ")
      }]${p.filter ? ` filter=${exprToString(p.filter)}` : ""}`;
    case "nested_loop_join":
      return `NestedLoopJoinExec: kind=${p.kind}${
        p.filter ? ` filter=${exprToString(p.filter)}` : ""
      }`;
    case "sort":
      return `SortExec: ${p.fetch !== null ? `TopK(fetch=${p.fetch}) ` : ""}[${
        p.keys.map((k) => `${exprToString(k.expr)} ${k.asc ? "ASC" : "DESC"}`).join(", ")
      }]`;
    case "merge":
      return "SortPreservingMergeExec";
    case "limit":
      return `LimitExec: skip=${p.skip} fetch=${p.fetch ?? "none"}`;
    case "window":
      return `WindowExec: ${p.windows.map((w) => w.fn).join(", ")}`;
    case "union":
      return "UnionExec";
    case "max_one_row":
      return "MaxOneRowExec";
    case "repartition":
      return `RepartitionExec: ${
        p.keys
          ? `Hash([${p.keys.map(exprToString).join(", ")}], ${p.partitions})`
          : `RoundRobin(${p.partitions})`
      }`;
    case "coalesce":
      return "CoalescePartitionsExec";
    case "broadcast":
      return `BroadcastExec: partitions=${p.partitions}`;
    case "exchange_read":
      return `ShuffleReaderExec: stage=${p.exchangeId} read=${p.read}`;
  }
}

/** Per-node figures shown by EXPLAIN ANALYZE. */
export interface NodeFigures {
  readonly rows: number;
  readonly batches: number;
  readonly elapsedMs: number;
  readonly extra?: string;
}

/** The physical plan as an indented tree, with metrics when given. */
export function formatPhysical(
  p: PhysicalPlan,
  figures?: ReadonlyMap<number, NodeFigures>,
  indent = 0,
): string {
  const f = figures?.get(p.id);
  const m = f
    ? `, metrics=[output_rows=${f.rows}, output_batches=${f.batches}, elapsed=${
      f.elapsedMs.toFixed(1)
    }ms${f.extra ? `, ${f.extra}` : ""}]`
    : "";
  const lines = ["  ".repeat(indent) + physicalLine(p) + m];
  for (const c of physicalInputs(p)) lines.push(formatPhysical(c, figures, indent + 1));
  return lines.join("\n");
}
