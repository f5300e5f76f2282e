/**
 * DuckDB, the reference engine: every SQL result of ours is compared with
 * DuckDB's answer on the same data. Needs --allow-ffi.
 *
 * @module
 */

import { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

/** A DuckDB connection with the tables of a data directory loaded. */
export class Reference {
  private constructor(readonly conn: DuckDBConnection, private readonly inst: DuckDBInstance) {}

  /** Opens an in-memory DuckDB. */
  static async open(): Promise<Reference> {
    const inst = await DuckDBInstance.create(":memory:");
    return new Reference(await inst.connect(), inst);
  }

  /** Creates a view per table over `dir/<table>/*.parquet`. */
  async loadParquetDir(dir: string, tables: readonly string[]): Promise<void> {
    for (const t of tables) {
      await this.conn.run(
        `CREATE OR REPLACE VIEW ${t} AS SELECT * FROM read_parquet('${dir}/${t}/*.parquet')`,
      );
    }
  }

  /** Runs SQL; rows of JSON-like values (decimals and big ints as strings). */
  async rows(sql: string): Promise<{ columns: string[]; types: string[]; rows: unknown[][] }> {
    const r = await this.conn.runAndReadAll(sql);
    return {
      columns: r.columnNames(),
      types: r.columnTypes().map(String),
      rows: r.getRowsJson() as unknown[][],
    };
  }

  /** Closes the connection. */
  close(): void {
    this.conn.closeSync();
    this.inst.closeSync();
  }
}
