/**
 * Test support for the planning tests (optimizer rules, binder, physical
 * planner): a catalog of small in-memory tables with known row counts,
 * binding SQL to a logical plan, running a logical plan end to end, and
 * walking plans.
 *
 * @module
 */

import { batchToRows } from "../../src/arrow/batch.ts";
import type { Value } from "../../src/arrow/column.ts";
import {
  type DataType,
  DATE32,
  field,
  FLOAT64,
  INT32,
  schema,
  UTF8,
} from "../../src/arrow/types.ts";
import { batchFromRows, type RecordBatch } from "../../src/arrow/batch.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { MemoryTable } from "../../src/catalog/memory_table.ts";
import { IdGen } from "../../src/plan/builder.ts";
import { formatLogical } from "../../src/plan/explain.ts";
import { type LogicalPlan, planInputs } from "../../src/plan/logical.ts";
import type { PhysicalPlan } from "../../src/physical/plan.ts";
import { physicalInputs } from "../../src/physical/plan.ts";
import { createPhysicalPlan } from "../../src/physical/planner.ts";
import { runLocal } from "../../src/query/local_runner.ts";
import { Binder, type Parameters } from "../../src/sql/binder.ts";
import { initParser, parseSqlSync } from "../../src/sql/parser.ts";
import { duck, sqlLiteral, sqlTypeName } from "../exec/kernels/support.ts";

/** Builds a memory table of `n` rows from a row function. */
export function table(
  cols: readonly [string, DataType][],
  n: number,
  row: (i: number) => Value[],
  batchRows = 64,
): MemoryTable {
  const s = schema(cols.map(([name, t]) => field(name, t)));
  const batches: RecordBatch[] = [];
  for (let i = 0; i < n; i += batchRows) {
    const rows: Value[][] = [];
    for (let k = i; k < Math.min(n, i + batchRows); k++) rows.push(row(k));
    batches.push(batchFromRows(s, rows));
  }
  return new MemoryTable(s, batches);
}

/**
 * The test catalog:
 * - fact(id, d1, d2, amount): 2000 rows; d1 -> dim1.id, d2 -> dim2.id
 * - dim1(id, name): 100 rows
 * - dim2(id, label): 10 rows
 * - t(k, a, b, s, d): 20 rows with NULLs
 * - u(k, x, y): 15 rows with NULLs
 */
export function testCatalog(): Catalog {
  const c = new Catalog();
  c.register(
    "fact",
    table(
      [["id", INT32], ["d1", INT32], ["d2", INT32], ["amount", FLOAT64]],
      2000,
      (i) => [i, i % 100, i % 10, (i % 37) * 1.5],
    ),
  );
  c.register("dim1", table([["id", INT32], ["name", UTF8]], 100, (i) => [i, `n${i % 7}`]));
  c.register("dim2", table([["id", INT32], ["label", UTF8]], 10, (i) => [i, `l${i}`]));
  c.register(
    "t",
    table(
      [["k", INT32], ["a", INT32], ["b", INT32], ["s", UTF8], ["d", DATE32]],
      20,
      (i) => [
        i % 6 === 5 ? null : i % 6,
        i,
        i % 4 === 3 ? null : i * 2,
        ["x", "y", null, "zz"][i % 4],
        i % 5 === 4 ? null : 19723 + i,
      ],
      7,
    ),
  );
  c.register(
    "u",
    table(
      [["k", INT32], ["x", INT32], ["y", UTF8]],
      15,
      (i) => [i % 8 === 7 ? null : i % 8, i * 10, i % 3 === 0 ? null : `y${i}`],
      4,
    ),
  );
  return c;
}

/** Binds one SQL statement; the plan, output names and the binder's id generator. */
export async function bind(
  catalog: Catalog,
  sql: string,
  params?: Parameters,
): Promise<{ plan: LogicalPlan; names: readonly string[]; ids: IdGen }> {
  await initParser();
  const ids = new IdGen();
  const b = new Binder(catalog, params, ids);
  const bound = b.bindStatement(parseSqlSync(sql)[0]);
  return { plan: bound.plan, names: bound.names, ids };
}

/** Plans physically and runs a logical plan; every row, in output order. */
export async function execute(
  catalog: Catalog,
  plan: LogicalPlan,
  ids: IdGen,
  opts: { targetPartitions?: number; broadcastRows?: number } = {},
): Promise<Value[][]> {
  const physical = await createPhysicalPlan(plan, {
    targetPartitions: opts.targetPartitions ?? 2,
    broadcastRows: opts.broadcastRows ?? 1_000_000,
    ids,
  });
  const rows: Value[][] = [];
  for await (
    const b of runLocal(physical, catalog, { signal: new AbortController().signal, batchSize: 16 })
  ) {
    rows.push(...batchToRows(b));
  }
  return rows;
}

/** Rows in a canonical order (for results whose order is not defined). */
export function sorted(rows: readonly (readonly Value[])[]): Value[][] {
  const key = (r: readonly Value[]) =>
    JSON.stringify(r, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  return [...rows].map((r) => [...r]).sort((
    a,
    b,
  ) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Every node of a logical plan, pre-order. */
export function nodes(p: LogicalPlan): LogicalPlan[] {
  return [p, ...planInputs(p).flatMap(nodes)];
}

/** The nodes of one kind, pre-order. */
export function find<K extends LogicalPlan["kind"]>(
  p: LogicalPlan,
  kind: K,
): (LogicalPlan & { kind: K })[] {
  return nodes(p).filter((n): n is LogicalPlan & { kind: K } => n.kind === kind);
}

/** Every node of a physical plan, pre-order. */
export function physicalNodes(p: PhysicalPlan): PhysicalPlan[] {
  return [p, ...physicalInputs(p).flatMap(physicalNodes)];
}

/** The plan as EXPLAIN prints it, for assertion messages. */
export function show(p: LogicalPlan): string {
  return "\n" + formatLogical(p);
}

/** Creates each named catalog table in the test module's DuckDB, with the same rows and types. */
export async function loadIntoDuckDB(catalog: Catalog, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const t = catalog.get(name) as MemoryTable;
    const fields = t.schema.fields;
    const rows = t.batches.flatMap(batchToRows);
    const cols = fields.map((f) => `${f.name} ${sqlTypeName(f.type)}`).join(", ");
    await duck(`CREATE OR REPLACE TABLE ${name} (${cols})`);
    if (rows.length === 0) continue;
    const values = rows.map((r) =>
      `(${r.map((v, i) => sqlLiteral(fields[i].type, v)).join(", ")})`
    );
    await duck(`INSERT INTO ${name} VALUES ${values.join(", ")}`);
  }
}

/** DuckDB's rows for a query, with DuckDB's JSON numbers, decimals and dates as strings. */
export async function duckRows(sql: string): Promise<unknown[][]> {
  return await duck(sql);
}
