/**
 * The logical plan: an immutable tree whose nodes each know their output
 * columns. Output columns carry plan-wide unique ids (see `expr.ts`).
 *
 * @module
 */

import type { DataType } from "../arrow/types.ts";
import type { TableProvider } from "../catalog/provider.ts";
import type { AggregateCall, Expr } from "./expr.ts";

/** A column a plan node produces. */
export interface OutputColumn {
  readonly id: number;
  readonly name: string;
  readonly type: DataType;
  readonly nullable: boolean;
  /** The table alias the column is visible under (for name resolution only). */
  readonly qualifier?: string;
}

/** A named expression computed by a Project node. */
export interface ProjectItem {
  readonly id: number;
  readonly name: string;
  readonly expr: Expr;
}

/** A sort key. */
export interface SortKey {
  readonly expr: Expr;
  readonly asc: boolean;
  readonly nullsFirst: boolean;
}

/** Join kinds. `mark` keeps every left row and adds a boolean "has a match" column. */
export type JoinKind = "inner" | "left" | "right" | "full" | "semi" | "anti" | "mark";

/** A window frame. Offsets are row counts (ROWS) or values (RANGE); null is UNBOUNDED. */
export interface WindowFrame {
  readonly units: "rows" | "range";
  readonly start: {
    readonly kind: "unbounded" | "current" | "preceding" | "following";
    readonly offset?: number;
  };
  readonly end: {
    readonly kind: "unbounded" | "current" | "preceding" | "following";
    readonly offset?: number;
  };
}

/** One window function call in a Window node. */
export interface WindowCall {
  readonly id: number;
  readonly name: string;
  readonly fn: string;
  readonly args: readonly Expr[];
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly SortKey[];
  readonly frame: WindowFrame | null;
  readonly type: DataType;
}

/** Every kind of logical plan node. */
export type LogicalPlan =
  | {
    readonly kind: "scan";
    readonly table: string;
    readonly provider: TableProvider;
    /** Output columns; `source` is the provider's column index for each. */
    readonly columns: readonly (OutputColumn & { readonly source: number })[];
    /** Predicates pushed into the scan (the provider prunes with them; they are still applied). */
    readonly filters: readonly Expr[];
  }
  | {
    readonly kind: "values";
    readonly columns: readonly OutputColumn[];
    readonly rows: readonly (readonly Expr[])[];
  }
  | { readonly kind: "filter"; readonly input: LogicalPlan; readonly predicate: Expr }
  | {
    readonly kind: "project";
    readonly input: LogicalPlan;
    readonly items: readonly ProjectItem[];
  }
  | {
    readonly kind: "aggregate";
    readonly input: LogicalPlan;
    readonly groupBy: readonly ProjectItem[];
    readonly aggregates: readonly AggregateCall[];
    /** GROUPING SETS as indexes into groupBy; null means one set of all keys. */
    readonly groupingSets: readonly (readonly number[])[] | null;
    /** Id of the grouping-id column (bitmask of keys NOT in the set), when grouping sets are used. */
    readonly groupingId: number | null;
  }
  | {
    readonly kind: "join";
    readonly left: LogicalPlan;
    readonly right: LogicalPlan;
    readonly joinKind: JoinKind;
    /** Equi-join key pairs (left expression, right expression). */
    readonly on: readonly (readonly [Expr, Expr])[];
    /** Non-equi residual condition over both sides. */
    readonly filter: Expr | null;
    /** NOT IN semantics: a NULL key on either side makes the match unknown. */
    readonly nullAware: boolean;
    /** Keys compare NULL = NULL as equal (set operations, IS NOT DISTINCT FROM). */
    readonly nullsEqual: boolean;
    /** For mark joins: the id of the boolean output column. */
    readonly markId: number | null;
    /** A scalar subquery's join: more than one match for a left row is an error. */
    readonly singleMatch?: boolean;
  }
  | { readonly kind: "sort"; readonly input: LogicalPlan; readonly keys: readonly SortKey[] }
  | {
    readonly kind: "limit";
    readonly input: LogicalPlan;
    readonly skip: number;
    readonly fetch: number | null;
  }
  | {
    readonly kind: "union";
    readonly inputs: readonly LogicalPlan[];
    readonly columns: readonly OutputColumn[];
    /** Input column ids per input, in output order. */
    readonly inputColumns: readonly (readonly number[])[];
  }
  | {
    readonly kind: "window";
    readonly input: LogicalPlan;
    readonly windows: readonly WindowCall[];
  }
  | { readonly kind: "max_one_row"; readonly input: LogicalPlan }
  | { readonly kind: "empty"; readonly columns: readonly OutputColumn[]; readonly oneRow: boolean };

/** The columns a plan node outputs, in order. */
export function outputColumns(p: LogicalPlan): readonly OutputColumn[] {
  switch (p.kind) {
    case "scan":
      return p.columns;
    case "values":
    case "union":
    case "empty":
      return p.columns;
    case "filter":
    case "sort":
    case "limit":
    case "max_one_row":
      return outputColumns(p.input);
    case "project": {
      // A column passed through keeps its nullability.
      const below = p.items.some((i) => i.expr.kind === "column")
        ? new Map(outputColumns(p.input).map((c) => [c.id, c.nullable]))
        : null;
      return p.items.map((i) => ({
        id: i.id,
        name: i.name,
        type: i.expr.type,
        nullable: i.expr.kind === "column" ? below!.get(i.expr.id) ?? true : true,
      }));
    }
    case "aggregate": {
      const cols: OutputColumn[] = p.groupBy.map((g) => ({
        id: g.id,
        name: g.name,
        type: g.expr.type,
        nullable: true,
      }));
      for (const a of p.aggregates) {
        cols.push({ id: a.id, name: a.name, type: a.type, nullable: true });
      }
      if (p.groupingId !== null) {
        cols.push({
          id: p.groupingId,
          name: "__grouping_id",
          type: { id: "int64" },
          nullable: false,
        });
      }
      return cols;
    }
    case "join": {
      const left = outputColumns(p.left);
      if (p.joinKind === "semi" || p.joinKind === "anti") return left;
      if (p.joinKind === "mark") {
        return [...left, { id: p.markId!, name: "__mark", type: { id: "bool" }, nullable: true }];
      }
      const right = outputColumns(p.right);
      const nullLeft = p.joinKind === "right" || p.joinKind === "full";
      const nullRight = p.joinKind === "left" || p.joinKind === "full";
      return [
        ...left.map((c) => (nullLeft ? { ...c, nullable: true } : c)),
        ...right.map((c) => (nullRight ? { ...c, nullable: true } : c)),
      ];
    }
    case "window":
      return [
        ...outputColumns(p.input),
        ...p.windows.map((w) => ({ id: w.id, name: w.name, type: w.type, nullable: true })),
      ];
  }
}

/** The inputs of a plan node. */
export function planInputs(p: LogicalPlan): readonly LogicalPlan[] {
  switch (p.kind) {
    case "scan":
    case "values":
    case "empty":
      return [];
    case "join":
      return [p.left, p.right];
    case "union":
      return p.inputs;
    default:
      return [p.input];
  }
}

/** Rebuilds a node with new inputs (same order as planInputs). */
export function withInputs(p: LogicalPlan, inputs: readonly LogicalPlan[]): LogicalPlan {
  switch (p.kind) {
    case "scan":
    case "values":
    case "empty":
      return p;
    case "join":
      return { ...p, left: inputs[0], right: inputs[1] };
    case "union":
      return { ...p, inputs };
    default:
      return { ...p, input: inputs[0] } as LogicalPlan;
  }
}

/** The ids a node outputs, as a set. */
export function outputIds(p: LogicalPlan): Set<number> {
  return new Set(outputColumns(p).map((c) => c.id));
}
