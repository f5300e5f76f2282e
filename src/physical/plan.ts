/**
 * The physical plan: plain data (so that the distributed plan codec is just
 * JSON), partitioned. Every node lists its output columns (ids, names, types)
 * and its output partition count. Exchange nodes (`repartition`, `coalesce`,
 * `broadcast`) are where a query splits into stages.
 *
 * @module
 */

import type { DataType, Schema } from "../arrow/types.ts";
import type { ScanPartition } from "../catalog/provider.ts";
import type { AggregateCall, Expr } from "../plan/expr.ts";
import type { JoinKind, OutputColumn, ProjectItem, SortKey, WindowCall } from "../plan/logical.ts";

/** How an aggregate node runs: partial (per input partition), final (merges partials), or single. */
export type AggregateMode = "partial" | "final" | "single";

/** A physical plan node. */
export type PhysicalPlan =
  | {
    readonly op: "scan";
    readonly id: number;
    readonly table: string;
    readonly columns: readonly OutputColumn[];
    /** Provider column index of each output column. */
    readonly projection: readonly number[];
    /** Filters in provider column indexes (for pruning inside the provider). */
    readonly filters: readonly Expr[];
    readonly scanPartitions: readonly ScanPartition[];
    readonly pruning: string;
    readonly partitions: number;
    /** Set on task plans: the list holds this task's share only, read it all. */
    readonly taskLocal?: boolean;
  }
  | {
    readonly op: "values";
    readonly id: number;
    readonly columns: readonly OutputColumn[];
    readonly rows: readonly (readonly Expr[])[];
    readonly partitions: 1;
  }
  | {
    readonly op: "empty";
    readonly id: number;
    readonly columns: readonly OutputColumn[];
    readonly oneRow: boolean;
    readonly partitions: 1;
  }
  | {
    readonly op: "filter";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly predicate: Expr;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "project";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly items: readonly ProjectItem[];
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "aggregate";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly mode: AggregateMode;
    readonly groupBy: readonly ProjectItem[];
    readonly aggregates: readonly AggregateCall[];
    readonly groupingSets: readonly (readonly number[])[] | null;
    readonly groupingId: number | null;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "hash_join";
    readonly id: number;
    /** Logical left and right (output is left columns then right columns). */
    readonly left: PhysicalPlan;
    readonly right: PhysicalPlan;
    /** Which side the hash table is built on. */
    readonly buildSide: "left" | "right";
    /** collect: build side is gathered whole (broadcast); partitioned: both sides co-partitioned. */
    readonly mode: "collect" | "partitioned";
    readonly kind: JoinKind;
    readonly on: readonly (readonly [Expr, Expr])[];
    readonly filter: Expr | null;
    readonly nullAware: boolean;
    readonly nullsEqual: boolean;
    readonly markId: number | null;
    /** More than one build match for a probe row is an error (scalar subqueries). */
    readonly singleMatch?: boolean;
    /**
     * The output, as positions in left columns then right columns; absent:
     * all of them. `columns` lists the output columns.
     */
    readonly projection?: readonly number[];
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "nested_loop_join";
    readonly id: number;
    readonly left: PhysicalPlan;
    /** The right side is gathered whole. */
    readonly right: PhysicalPlan;
    readonly kind: JoinKind;
    readonly filter: Expr | null;
    readonly markId: number | null;
    readonly nullAware: boolean;
    readonly singleMatch?: boolean;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "sort";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly keys: readonly SortKey[];
    /** Top-k: keep only the first `fetch` rows of each partition. */
    readonly fetch: number | null;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "merge";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly keys: readonly SortKey[];
    readonly fetch: number | null;
    readonly columns: readonly OutputColumn[];
    readonly partitions: 1;
  }
  | {
    readonly op: "limit";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly skip: number;
    readonly fetch: number | null;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "window";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly windows: readonly WindowCall[];
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "union";
    readonly id: number;
    readonly inputs: readonly PhysicalPlan[];
    readonly inputColumns: readonly (readonly number[])[];
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    readonly op: "max_one_row";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly columns: readonly OutputColumn[];
    readonly partitions: 1;
  }
  | {
    /** Exchange: hash-partitions rows by `keys` (or round-robin when keys is null). */
    readonly op: "repartition";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly keys: readonly Expr[] | null;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    /** Exchange: gathers every input partition into one. */
    readonly op: "coalesce";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly columns: readonly OutputColumn[];
    readonly partitions: 1;
  }
  | {
    /** Exchange: every output partition sees all input rows. */
    readonly op: "broadcast";
    readonly id: number;
    readonly input: PhysicalPlan;
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  }
  | {
    /** Reads the output of an exchange computed by an earlier stage (cluster and staged runs). */
    readonly op: "exchange_read";
    readonly id: number;
    /** The exchange node's id (the producing stage). */
    readonly exchangeId: number;
    /** How the consumer reads: its own partition, all partitions, or one partition's slice. */
    readonly read: "partition" | "all";
    readonly columns: readonly OutputColumn[];
    readonly partitions: number;
  };

/** Node kinds. */
export type PhysicalOp = PhysicalPlan["op"];

/** The exchange node kinds, where stages split. */
export const EXCHANGES: ReadonlySet<PhysicalOp> = new Set(["repartition", "coalesce", "broadcast"]);

/** The inputs of a physical node. */
export function physicalInputs(p: PhysicalPlan): readonly PhysicalPlan[] {
  switch (p.op) {
    case "scan":
    case "values":
    case "empty":
    case "exchange_read":
      return [];
    case "hash_join":
    case "nested_loop_join":
      return [p.left, p.right];
    case "union":
      return p.inputs;
    default:
      return [p.input];
  }
}

/** Rebuilds a node with new inputs (same order as physicalInputs). */
export function withPhysicalInputs(p: PhysicalPlan, inputs: readonly PhysicalPlan[]): PhysicalPlan {
  switch (p.op) {
    case "scan":
    case "values":
    case "empty":
    case "exchange_read":
      return p;
    case "hash_join":
    case "nested_loop_join":
      return { ...p, left: inputs[0], right: inputs[1] };
    case "union":
      return { ...p, inputs };
    default:
      return { ...p, input: inputs[0] } as PhysicalPlan;
  }
}

/** The schema (names and types) of a node's output. */
export function physicalSchema(p: PhysicalPlan): Schema {
  return {
    fields: p.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
  };
}

/** Column ids of a node's output, in order. */
export function columnIds(p: PhysicalPlan): number[] {
  return p.columns.map((c) => c.id);
}

/** Makes output columns. */
export function outCol(id: number, name: string, type: DataType, nullable = true): OutputColumn {
  return { id, name, type, nullable };
}

/**
 * Which output partition of a scan reads each of its scan partitions: the
 * largest first, each onto the output partition with the fewest rows so far
 * (units of one file can differ tenfold in rows, and dealing them round-robin
 * left one task with most of a table); round-robin where rows are unknown.
 * Deterministic, so the standalone runner and the scheduler deal alike.
 */
export function dealScanPartitions(parts: readonly ScanPartition[], outputs: number): Int32Array {
  const owner = new Int32Array(parts.length);
  if (outputs <= 1) return owner;
  if (parts.some((p) => p.rows === undefined)) {
    for (let i = 0; i < parts.length; i++) owner[i] = i % outputs;
    return owner;
  }
  const order = parts.map((_, i) => i).sort((a, b) => parts[b].rows! - parts[a].rows! || a - b);
  const load = new Float64Array(outputs);
  for (const i of order) {
    let best = 0;
    for (let k = 1; k < outputs; k++) if (load[k] < load[best]) best = k;
    owner[i] = best;
    load[best] += parts[i].rows!;
  }
  return owner;
}
