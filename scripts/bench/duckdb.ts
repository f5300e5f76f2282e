/**
 * DuckDB, the reference: the same Parquet files loaded into in-memory tables
 * (`CREATE TABLE t AS SELECT * FROM read_parquet(...)`), so that both sides
 * query data already in memory, and results materialised with
 * `runAndReadAll`, as ours are drained. Needs --allow-ffi (`deno task` runs
 * with -A).
 *
 * @module
 */

import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { BenchEngine, EngineMemory, LoadReport, RunOutcome, TableLoad } from "./engine.ts";

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** DuckDB in this process with an in-memory database. */
export class DuckDbEngine implements BenchEngine {
  /** @inheritdoc */
  readonly name = "duckdb";
  /** @inheritdoc */
  readonly description: string;
  readonly #instance: DuckDBInstance;
  readonly #conn: DuckDBConnection;

  private constructor(instance: DuckDBInstance, conn: DuckDBConnection, description: string) {
    this.#instance = instance;
    this.#conn = conn;
    this.description = description;
  }

  /**
   * Opens an in-memory database with `threads` worker threads: the number of
   * cores by default, the same parallelism our engine gets.
   */
  static async open(threads = navigator.hardwareConcurrency || 1): Promise<DuckDbEngine> {
    const instance = await DuckDBInstance.create(":memory:", { threads: String(threads) });
    const conn = await instance.connect();
    const version = (await conn.runAndReadAll("SELECT version()")).getRows()[0][0];
    return new DuckDbEngine(instance, conn, `DuckDB ${version} in process (threads=${threads})`);
  }

  /** DuckDB's version string. */
  get version(): string {
    return this.description.split(" ")[1];
  }

  /** Creates one table per Parquet directory, one after another, each timed. */
  async load(dataDir: string, tables: readonly string[]): Promise<LoadReport> {
    const loads: TableLoad[] = [];
    for (const t of tables) {
      const t0 = performance.now();
      await this.#conn.run(
        `CREATE OR REPLACE TABLE ${t} AS SELECT * FROM read_parquet(${
          sqlString(`${dataDir}/${t}/*.parquet`)
        })`,
      );
      const ms = performance.now() - t0;
      // Counted outside the timed section: it is not part of the load.
      const rows = Number(
        (await this.#conn.runAndReadAll(`SELECT count(*) FROM ${t}`))
          .getRows()[0][0],
      );
      loads.push({ table: t, rows, ms });
    }
    return { tables: loads, totalMs: loads.reduce((s, l) => s + l.ms, 0) };
  }

  /** Runs the query and materialises the whole result. */
  async run(sql: string): Promise<RunOutcome> {
    const r = await this.#conn.runAndReadAll(sql);
    return { rows: r.currentRowCount };
  }

  /** DuckDB's own EXPLAIN ANALYZE (its profile tree), for side-by-side reading. */
  async explainAnalyze(sql: string): Promise<string> {
    const r = await this.#conn.runAndReadAll(`EXPLAIN ANALYZE ${sql}`);
    return r.getRows().map((row) => String(row[row.length - 1])).join("\n");
  }

  /** Bytes DuckDB's buffer manager holds (its tables and caches). */
  async memory(): Promise<EngineMemory> {
    const rows = (await this.#conn.runAndReadAll(
      "SELECT tag, memory_usage_bytes FROM duckdb_memory()",
    )).getRows();
    let total = 0;
    for (const [, bytes] of rows) total += Number(bytes);
    return { dataBytes: total };
  }

  /** Closes the connection and the database. */
  close(): Promise<void> {
    this.#conn.closeSync();
    this.#instance.closeSync();
    return Promise.resolve();
  }
}
