/**
 * Our engine in this process, over arrow-accelerated data: each table is a
 * `ListingTable` over its Parquet directory loaded into memory by
 * `loadIntoMemory`, which is what the runtime does for a dataset with
 * `acceleration: {enabled: true, engine: arrow}`.
 *
 * @module
 */

import { join } from "node:path";
import { loadIntoMemory } from "../../src/acceleration/mod.ts";
import { batchToRows } from "../../src/arrow/batch.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { ListingTable } from "../../src/connectors/listing_table.ts";
import { localStore } from "../../src/connectors/local_file.ts";
import { DEFAULT_ENGINE_OPTIONS, QueryEngine } from "../../src/query/mod.ts";
import { workerCount, WorkerPool } from "../../src/parallel/pool.ts";
import { ParallelRunner } from "../../src/parallel/runner.ts";
import type { BenchEngine, EngineMemory, LoadReport, RunOutcome, TableLoad } from "./engine.ts";
import { arrowSize, type HeldTable } from "./memory.ts";

/** Our `QueryEngine` over tables accelerated into memory in this process. */
export class InProcessEngine implements BenchEngine {
  /** @inheritdoc */
  readonly name = "ours";
  /** @inheritdoc */
  readonly description: string;
  readonly #catalog = new Catalog();
  readonly #tables = new Map<string, HeldTable>();
  readonly #engine: QueryEngine;

  readonly #pool: WorkerPool | null;

  /**
   * An engine with the standalone runtime's settings: one partition per
   * core, and queries on the worker pool (SPICED_WORKERS, default one per core).
   */
  constructor() {
    const workers = workerCount();
    this.#pool = workers > 0 ? new WorkerPool(workers) : null;
    this.#engine = new QueryEngine(
      this.#catalog,
      { targetPartitions: Math.max(DEFAULT_ENGINE_OPTIONS.targetPartitions, workers) },
      this.#pool
        ? new ParallelRunner(this.#catalog, this.#pool, {
          batchSize: DEFAULT_ENGINE_OPTIONS.batchSize,
        })
        : undefined,
    );
    const o = this.#engine.options;
    this.description = `spiced QueryEngine in process, arrow acceleration ` +
      `(target_partitions=${o.targetPartitions}, batch_size=${o.batchSize}, workers=${workers})`;
  }

  /** The engine (for ad-hoc queries such as EXPLAIN). */
  get engine(): QueryEngine {
    return this.#engine;
  }

  /**
   * Loads the tables one after another, so that each load time is the
   * table's own; each load uses the runtime's parallelism (one scan stream
   * per core). Listing the files and reading footers count, as they do in
   * DuckDB's `CREATE TABLE ... AS SELECT * FROM read_parquet(...)`.
   */
  async load(dataDir: string, tables: readonly string[]): Promise<LoadReport> {
    const loads: TableLoad[] = [];
    for (const t of tables) {
      const t0 = performance.now();
      // The options the file connector gives a Parquet dataset by default.
      const source = await ListingTable.create(localStore(join(dataDir, t)), {
        format: "parquet",
        hivePartitioning: true,
        partitionCols: [],
      });
      const table = await loadIntoMemory(source, {
        parallelism: DEFAULT_ENGINE_OPTIONS.targetPartitions,
      });
      this.#catalog.register(t, table);
      this.#tables.set(t, table);
      loads.push({ table: t, rows: table.statistics().numRows ?? 0, ms: performance.now() - t0 });
    }
    return { tables: loads, totalMs: loads.reduce((s, l) => s + l.ms, 0) };
  }

  /** Plans and runs the query, draining every batch. */
  async run(sql: string): Promise<RunOutcome> {
    const r = await this.#engine.query(sql);
    let rows = 0;
    for await (const b of r.batches) rows += b.numRows;
    return { rows };
  }

  /** The physical plan with per-operator metrics. */
  async explainAnalyze(sql: string): Promise<string> {
    const r = await this.#engine.query(`explain analyze ${sql}`);
    const lines: string[] = [];
    for await (const b of r.batches) {
      for (const row of batchToRows(b)) {
        if (row[0] === "physical_plan_with_metrics") lines.push(String(row[1]));
      }
    }
    return lines.join("\n");
  }

  /** The Arrow size of the loaded tables. */
  memory(): Promise<EngineMemory> {
    const size = arrowSize(this.#tables);
    return Promise.resolve({
      dataBytes: size.bytes,
      dataBytesByTable: size.byTable,
      retainedBytes: size.retainedBytes,
    });
  }

  /** Drops the tables. */
  close(): Promise<void> {
    for (const t of this.#tables.keys()) this.#catalog.deregister(t);
    this.#tables.clear();
    this.#pool?.close();
    return Promise.resolve();
  }
}
