/**
 * The worker pool runner: TPC-H on accelerated tables runs in Web Workers
 * (stages over shared memory) and still matches DuckDB; a failing task's
 * error reaches the caller with its code and the pool keeps serving; a
 * cancelled query stops; plans over tables that are not accelerated run in
 * this process; a refreshed table's new generation reaches the workers.
 */

import assert from "node:assert/strict";
import { loadIntoMemory } from "../../src/acceleration/mod.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { ListingTable } from "../../src/connectors/listing_table.ts";
import { localStore } from "../../src/connectors/local_file.ts";
import { TPCH_QUERIES, TPCH_QUERY_ORDERED, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { SpiceError } from "../../src/errors.ts";
import { WorkerPool } from "../../src/parallel/pool.ts";
import { ParallelRunner } from "../../src/parallel/runner.ts";
import { isShared } from "../../src/parallel/shared_memory.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import { compareQuery, runOurs } from "../support/engine.ts";
import { Reference } from "../support/duckdb.ts";
import { tpchParquet } from "../support/tpch_data.ts";

async function listing(dir: string, t: string) {
  return await ListingTable.create(localStore(`${dir}/${t}`), {
    format: "parquet",
    hivePartitioning: false,
    partitionCols: [],
  });
}

async function setup(sf: number, accelerate: (t: string) => boolean = () => true) {
  const dir = await tpchParquet(sf);
  const catalog = new Catalog();
  for (const t of TPCH_TABLES) {
    const src = await listing(dir, t);
    catalog.register(t, accelerate(t) ? await loadIntoMemory(src, { parallelism: 2 }) : src);
  }
  const pool = new WorkerPool(2);
  const engine = new QueryEngine(
    catalog,
    { targetPartitions: 2 },
    new ParallelRunner(catalog, pool, { batchSize: 65536 }),
  );
  return { dir, catalog, pool, engine };
}

Deno.test("TPC-H at SF 0.1 on the worker pool matches DuckDB", async (t) => {
  const { dir, pool, engine } = await setup(0.1);
  const reference = await Reference.open();
  try {
    await reference.loadParquetDir(dir, TPCH_TABLES);
    for (let q = 0; q < TPCH_QUERIES.length; q++) {
      await t.step(`Q${q + 1}`, async () => {
        const diff = await compareQuery(
          { engine, reference },
          TPCH_QUERIES[q],
          TPCH_QUERY_ORDERED[q],
        );
        if (diff) throw new Error(`Q${q + 1} differs from DuckDB: ${diff}`);
      });
    }
  } finally {
    reference.close();
    pool.close();
  }
});

Deno.test("worker pool: results come from workers, errors keep their code, cancel stops", async (t) => {
  const { catalog, pool, engine } = await setup(0.01);
  try {
    await t.step(
      "accelerated data is in shared memory and results arrive from workers",
      async () => {
        const lineitem = catalog.get("lineitem") as unknown as {
          batches: { columns: { enc: string; values?: Float64Array }[] }[];
        };
        const col = lineitem.batches[0].columns[0];
        assert.ok(col.values && isShared(col.values), "accelerated columns are shared");
        const before = pool.tasksCompleted;
        const out = await runOurs(engine, "SELECT l_orderkey FROM lineitem WHERE l_orderkey < 100");
        assert.ok(out.length > 0);
        assert.ok(pool.tasksCompleted > before, "the query ran on the workers");
      },
    );

    await t.step("an error inside a worker reaches the caller with its code", async () => {
      const sql = "SELECT CAST(l_comment AS INTEGER) FROM lineitem";
      // The same query in this process gives the reference error.
      const local = await runOurs(new QueryEngine(catalog), sql).then(
        () => assert.fail("the cast must fail"),
        (e: unknown) => e as SpiceError,
      );
      assert.ok(local instanceof SpiceError);
      await assert.rejects(
        runOurs(engine, sql),
        (e: unknown) =>
          e instanceof SpiceError && e.code === local.code && e.message === local.message,
      );
      // The pool still serves queries afterwards.
      const [b] = await runOurs(engine, "SELECT count(*) FROM orders");
      assert.equal(Number((b.columns[0] as { values: Float64Array }).values[0]), 15000);
    });

    await t.step("a cancelled query stops with CANCELLED and the pool keeps serving", async () => {
      const ctl = new AbortController();
      const res = await engine.query(
        "SELECT l1.l_orderkey FROM lineitem l1, lineitem l2 WHERE l1.l_partkey = l2.l_partkey",
        { signal: ctl.signal },
      );
      setTimeout(() => ctl.abort(new SpiceError("CANCELLED", "stop")), 50);
      await assert.rejects(
        (async () => {
          for await (const _ of res.batches) { /* drain */ }
        })(),
        (e: unknown) => e instanceof SpiceError && e.code === "CANCELLED",
      );
      const [b] = await runOurs(engine, "SELECT count(*) FROM nation");
      assert.equal(Number((b.columns[0] as { values: Float64Array }).values[0]), 25);
    });

    await t.step("a large result streams back in full", async () => {
      const out = await runOurs(engine, "SELECT l_orderkey, l_comment FROM lineitem");
      const rows = catalog.get("lineitem")!.statistics().numRows;
      assert.ok(rows !== null && rows > 50_000);
      assert.equal(out.reduce((s, b) => s + b.numRows, 0), rows);
    });
  } finally {
    pool.close();
  }
});

Deno.test("worker pool: a plan reading a table that is not accelerated runs in this process", async () => {
  const { dir, pool, engine } = await setup(0.01, (t) => t !== "nation");
  const reference = await Reference.open();
  try {
    await reference.loadParquetDir(dir, TPCH_TABLES);
    const sql = "SELECT n_name, count(*) AS c FROM nation, supplier " +
      "WHERE n_nationkey = s_nationkey GROUP BY n_name";
    assert.equal(await compareQuery({ engine, reference }, sql, false), null);
    const before = pool.tasksCompleted;
    await runOurs(engine, sql);
    assert.equal(pool.tasksCompleted, before, "ran in this process");
  } finally {
    reference.close();
    pool.close();
  }
});

Deno.test("worker pool: a new generation of a table reaches the workers", async () => {
  const { dir, catalog, pool, engine } = await setup(0.01, (t) => t === "region");
  try {
    const before = await runOurs(engine, "SELECT count(*) FROM region");
    assert.equal(Number((before[0].columns[0] as { values: Float64Array }).values[0]), 5);
    // A refresh builds a new table (new generation) and swaps it in.
    const fresh = await loadIntoMemory(await listing(dir, "region"), {
      parallelism: 1,
      salt: "r2",
    });
    const old = catalog.get("region")!;
    assert.notEqual((old as unknown as { generation: string }).generation, fresh.generation);
    fresh.retire(old);
    catalog.register("region", fresh);
    const tasksBefore = pool.tasksCompleted;
    const after = await runOurs(engine, "SELECT r_name FROM region ORDER BY r_name");
    assert.equal(after.reduce((s, b) => s + b.numRows, 0), 5);
    assert.ok(pool.tasksCompleted > tasksBefore, "the new generation was read in a worker");
  } finally {
    pool.close();
  }
});
