/**
 * What the harness needs from an engine under test. Each way of running a
 * query (our engine in this process, DuckDB, a spiced server over HTTP, a
 * cluster) is one implementation in its own module; the harness only sees
 * this interface, so a new target is one new module.
 *
 * @module
 */

/** The load of one table into the engine's memory. */
export interface TableLoad {
  readonly table: string;
  readonly rows: number;
  /** Wall time of the load, listing and footers included. */
  readonly ms: number;
}

/** The load of every table. */
export interface LoadReport {
  readonly tables: readonly TableLoad[];
  /** Wall time of all loads (tables loaded one after another unless `note` says otherwise). */
  readonly totalMs: number;
  /** How the figures were obtained, when it differs from "timed here, one table at a time". */
  readonly note?: string;
}

/** The outcome of one query run. */
export interface RunOutcome {
  /** Rows of the result (every batch drained, or the result fully materialised). */
  readonly rows: number;
}

/** Memory held by an engine once its data is loaded. */
export interface EngineMemory {
  /**
   * Bytes of the loaded data in the engine's own storage: the typed arrays of
   * our Arrow columns (a shared dictionary once), or DuckDB's buffer manager.
   */
  readonly dataBytes: number | null;
  /** `dataBytes` per table, where the engine can tell. */
  readonly dataBytesByTable?: Readonly<Record<string, number>>;
  /**
   * Bytes of the distinct ArrayBuffers behind those typed arrays: more than
   * `dataBytes` when columns are views into bigger buffers that stay alive.
   */
  readonly retainedBytes?: number | null;
  /** Peak RSS of the server process, when the engine runs in another process. */
  readonly processPeakRssBytes?: number | null;
}

/** An engine under test. */
export interface BenchEngine {
  /** Short name used in tables and JSON ("ours", "duckdb"). */
  readonly name: string;
  /** What exactly runs (for the report). */
  readonly description: string;
  /** Loads (or waits for) the tables under `dataDir/<table>/*.parquet`. */
  load(dataDir: string, tables: readonly string[]): Promise<LoadReport>;
  /** Runs one query to completion. */
  run(sql: string): Promise<RunOutcome>;
  /** The EXPLAIN ANALYZE text of a query, where the engine has one. */
  explainAnalyze?(sql: string): Promise<string>;
  /** Memory of the loaded data. */
  memory?(): Promise<EngineMemory>;
  /** Releases everything (connections, processes). */
  close(): Promise<void>;
}
