/**
 * Test support for the operator tests: in-memory tables registered in a
 * catalog, hand-built physical nodes over them, a task context, and running
 * every partition of a plan through `executePlan`.
 *
 * @module
 */

import { batchFromRows, batchToRows, type RecordBatch } from "../../../src/arrow/batch.ts";
import type { Value } from "../../../src/arrow/column.ts";
import { type DataType, field, schema } from "../../../src/arrow/types.ts";
import { Catalog } from "../../../src/catalog/mod.ts";
import { MemoryTable } from "../../../src/catalog/memory_table.ts";
import { MetricsSink, type TaskContext } from "../../../src/exec/context.ts";
import { executePlan } from "../../../src/exec/execute.ts";
import { LocalExchanges } from "../../../src/exec/local_exchange.ts";
import type { PhysicalPlan } from "../../../src/physical/plan.ts";
import { col, type Expr } from "../../../src/plan/expr.ts";
import type { OutputColumn } from "../../../src/plan/logical.ts";

let nextId = 1000;

/** A fresh id for a node or a column. */
export function id(): number {
  return nextId++;
}

/** A column of a test table. */
export interface ColumnDef {
  readonly name: string;
  readonly type: DataType;
}

/** A table: its columns and rows, split into batches of `batchRows`. */
export function memoryTable(
  columns: readonly ColumnDef[],
  rows: readonly (readonly Value[])[],
  batchRows = 3,
): MemoryTable {
  const s = schema(columns.map((c) => field(c.name, c.type)));
  const batches: RecordBatch[] = [];
  for (let i = 0; i < rows.length; i += batchRows) {
    batches.push(batchFromRows(s, rows.slice(i, i + batchRows)));
  }
  return new MemoryTable(s, batches);
}

/** A catalog holding the given tables. */
export function catalogOf(tables: Record<string, MemoryTable>): Catalog {
  const c = new Catalog();
  for (const [name, t] of Object.entries(tables)) c.register(name, t);
  return c;
}

/** A task context over a catalog. */
export function context(catalog: Catalog, batchSize = 4): TaskContext {
  return {
    signal: new AbortController().signal,
    catalog,
    exchanges: new LocalExchanges(executePlan),
    metrics: new MetricsSink(),
    batchSize,
    shared: new Map(),
  };
}

/** A scan node over a registered table, with fresh column ids, split into `partitions`. */
export async function scan(
  catalog: Catalog,
  table: string,
  partitions = 1,
): Promise<PhysicalPlan & { op: "scan" }> {
  const provider = catalog.get(table)!;
  const plan = await provider.planScan([], partitions);
  const columns: OutputColumn[] = provider.schema.fields.map((f) => ({
    id: id(),
    name: f.name,
    type: f.type,
    nullable: true,
  }));
  return {
    op: "scan",
    id: id(),
    table,
    columns,
    projection: columns.map((_, i) => i),
    filters: [],
    scanPartitions: plan.partitions,
    pruning: "",
    partitions: Math.max(1, Math.min(partitions, plan.partitions.length)),
  };
}

/** A reference to a node's output column by name. */
export function ref(node: PhysicalPlan, name: string): Expr {
  const c = node.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${node.op}`);
  return col(c.id, c.type, c.name);
}

/** The batches of every output partition, partition by partition. */
export async function runPartitions(
  plan: PhysicalPlan,
  ctx: TaskContext,
): Promise<RecordBatch[][]> {
  const out: RecordBatch[][] = [];
  for (let p = 0; p < plan.partitions; p++) {
    const batches: RecordBatch[] = [];
    for await (const b of executePlan(plan, p, ctx)) batches.push(b);
    out.push(batches);
  }
  return out;
}

/** Every output row of a plan, partitions in order. */
export async function run(plan: PhysicalPlan, ctx: TaskContext): Promise<Value[][]> {
  return (await runPartitions(plan, ctx)).flat().flatMap(batchToRows);
}

/** Rows sorted by their JSON text (for results whose order is not defined). */
export function sorted(rows: readonly (readonly Value[])[]): Value[][] {
  const key = (r: readonly Value[]) =>
    JSON.stringify(r, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  return [...rows].map((r) => [...r]).sort((
    a,
    b,
  ) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** An output column description. */
export function out(name: string, type: DataType): OutputColumn {
  return { id: id(), name, type, nullable: true };
}
