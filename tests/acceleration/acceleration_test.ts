/**
 * The arrow accelerator's units: pruning by the statistics kept per unit
 * (EXPLAIN's `units=kept/total`), generations (a partition planned against
 * a swapped-out table is still answered by it), and an executor's share
 * (`ShardedAcceleration`): a unit loaded on first read and kept, read
 * through when the scheduler says it is another executor's, dropped on
 * demand.
 */

import assert from "node:assert/strict";
import { type RecordBatch, recordBatch } from "../../src/arrow/batch.ts";
import { columnFromValues } from "../../src/arrow/column.ts";
import { DATE32, INT64, type Schema, UTF8 } from "../../src/arrow/types.ts";
import {
  ACCELERATED_KIND,
  type AcceleratedPartitionData,
  AcceleratedTable,
  loadIntoMemory,
} from "../../src/acceleration/mod.ts";
import { ShardedAcceleration } from "../../src/acceleration/shards.ts";
import { batchStatistics } from "../../src/acceleration/stats.ts";
import type {
  ScanPartition,
  ScanPlan,
  TableProvider,
  TableStatistics,
} from "../../src/catalog/provider.ts";
import { col, type Expr, lit } from "../../src/plan/expr.ts";

const SCHEMA: Schema = {
  fields: [
    { name: "k", type: INT64, nullable: false },
    { name: "s", type: UTF8, nullable: true },
    { name: "d", type: DATE32, nullable: true },
  ],
};

/** A source of `parts` partitions of 100 rows each; k runs 0.. across partitions; counts scans. */
class CountingSource implements TableProvider {
  readonly schema = SCHEMA;
  scans = 0;
  constructor(readonly parts: number, readonly offset = 0) {}
  statistics(): TableStatistics {
    return { numRows: this.parts * 100 };
  }
  planScan(): Promise<ScanPlan> {
    const partitions: ScanPartition[] = Array.from({ length: this.parts }, (_, p) => ({
      kind: "counting",
      label: `part ${p}`,
      data: { p },
      rows: 100,
    }));
    return Promise.resolve({ partitions, pruning: "" });
  }
  async *scan(partition: ScanPartition, projection: readonly number[]): AsyncIterable<RecordBatch> {
    this.scans++;
    const { p } = partition.data as { p: number };
    const k = Array.from({ length: 100 }, (_, i) => this.offset + p * 100 + i);
    const cols = [
      columnFromValues(INT64, k),
      columnFromValues(UTF8, k.map((x) => (x % 7 === 0 ? null : `v${p}`))),
      columnFromValues(DATE32, k.map((x) => 10_000 + Math.floor(x / 10))),
    ];
    yield recordBatch(
      { fields: projection.map((i) => SCHEMA.fields[i]) },
      projection.map((i) => cols[i]),
      100,
    );
    await Promise.resolve();
  }
}

function cmp(op: "<" | ">=" | "=", column: number, value: number | string): Expr {
  const f = SCHEMA.fields[column];
  return {
    kind: "binary",
    op,
    left: col(column, f.type, f.name),
    right: lit(value, f.type),
    type: { id: "bool" },
  };
}

async function count(table: TableProvider, partitions: readonly ScanPartition[]): Promise<number> {
  let n = 0;
  for (const p of partitions) for await (const b of table.scan(p, [0], [])) n += b.numRows;
  return n;
}

Deno.test("batchStatistics: bounds of numbers, dates and dictionary strings, null counts", () => {
  const b = recordBatch(SCHEMA, [
    columnFromValues(INT64, [5, 3, 9]),
    columnFromValues(UTF8, ["b", null, "a"]),
    columnFromValues(DATE32, [null, null, null]),
  ]);
  const s = batchStatistics(SCHEMA, [b]);
  assert.deepEqual(s.columns.get(0), { min: 3, max: 9, nullCount: 0 });
  // Plain strings: no bounds (only dictionary strings get them), but the null count.
  assert.deepEqual(s.columns.get(1), { min: null, max: null, nullCount: 1 });
  assert.deepEqual(s.columns.get(2), { min: null, max: null, nullCount: 3 });
  assert.equal(s.rows, 3);
});

Deno.test("loadIntoMemory keeps min/max per unit and prunes units by the filters", async () => {
  const source = new CountingSource(8);
  const table = await loadIntoMemory(source, { parallelism: 2 });
  assert.equal(table.unitCount, 8);
  const all = await table.planScan([], 4);
  assert.equal(all.pruning, "units=8/8 (in memory)");
  const some = await table.planScan([cmp("<", 0, 250)], 4);
  assert.equal(some.pruning, "units=3/8 (in memory)");
  assert.equal(await count(table, some.partitions), 300);
  const none = await table.planScan([cmp(">=", 0, 10_000)], 4);
  assert.equal(none.pruning, "units=0/8 (in memory)");
  // Dictionary-encoded strings have bounds after the load.
  const s = await table.planScan([cmp("=", 1, "v3")], 4);
  assert.equal(s.pruning, "units=1/8 (in memory)");
  const d = await table.planScan([cmp(">=", 2, 10_075)], 4);
  assert.equal(d.pruning, "units=1/8 (in memory)");
  assert.equal(source.scans, 8, "each unit read once, by the load");
});

Deno.test("a partition planned against a swapped-out generation is answered by it", async () => {
  const old = await loadIntoMemory(new CountingSource(4), { parallelism: 1 });
  const planned = await old.planScan([], 4);
  const next = await loadIntoMemory(new CountingSource(6, 1000), { parallelism: 1, salt: "r1" });
  assert.notEqual(next.generation, old.generation);
  next.retire(old);
  assert.equal(await count(next, planned.partitions), 400);
  const fresh = await next.planScan([], 4);
  assert.equal(await count(next, fresh.partitions), 600);
});

Deno.test("planOnly: units and their source statistics, no data, 'sharded on executors'", async () => {
  const source = new CountingSource(5);
  const table = await AcceleratedTable.planOnly(source);
  const plan = await table.planScan([], 4);
  assert.equal(plan.pruning, "units=5/5 (sharded on executors)");
  assert.equal(source.scans, 0);
  const d = plan.partitions[2].data as AcceleratedPartitionData;
  assert.equal(d.unit, 2);
  assert.equal(d.of, 5);
  assert.equal(d.gen, table.generation);
  assert.deepEqual(d.source.data, { p: 2 });
  // Same listing, same generation on every node; a refresh salt makes a new one.
  assert.equal((await AcceleratedTable.planOnly(source)).generation, table.generation);
  assert.notEqual(
    (await AcceleratedTable.planOnly(source, { salt: "x" })).generation,
    table.generation,
  );
});

Deno.test("ShardedAcceleration: loads on first read, keeps, reads through, drops", async () => {
  const source = new CountingSource(4);
  const plan = await (await AcceleratedTable.planOnly(source)).planScan([], 4);
  const shard = new ShardedAcceleration(source);
  const p = (i: number, keep?: boolean): ScanPartition => ({
    ...plan.partitions[i],
    data: { ...(plan.partitions[i].data as AcceleratedPartitionData), keep },
  });
  assert.equal(plan.partitions[0].kind, ACCELERATED_KIND);
  // Two concurrent readers share one load.
  const [a, b] = await Promise.all([count(shard, [p(0, true)]), count(shard, [p(0, true)])]);
  assert.equal(a + b, 200);
  assert.equal(source.scans, 1);
  assert.equal(await count(shard, [p(0, true)]), 100);
  assert.equal(source.scans, 1, "held: read from memory");
  // Another executor's unit: read through, not kept.
  assert.equal(await count(shard, [p(1, false), p(1, false)]), 200);
  assert.equal(source.scans, 3);
  const gen = (plan.partitions[0].data as AcceleratedPartitionData).gen;
  assert.deepEqual(shard.holdings(), { [gen]: [0] });
  assert.equal(shard.held.units, 1);
  assert.equal(shard.held.rows, 100);
  assert.ok(shard.held.bytes > 0);
  assert.equal(shard.drop({ [gen]: [0, 3] }), 1);
  assert.deepEqual(shard.holdings(), {});
  assert.equal(await count(shard, [p(0)]), 100);
  assert.equal(source.scans, 4, "dropped: loaded again");
});
