/**
 * The contract between the catalog and the engine: a table knows its schema,
 * its statistics, how it splits into scan partitions, and how to scan one.
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import type { Schema } from "../arrow/types.ts";
import type { UnitStats } from "../connectors/pruning.ts";
import type { Expr } from "../plan/expr.ts";

/** Statistics the planner uses to order joins and pick build sides. */
export interface TableStatistics {
  /** Row count, exact or estimated; null when unknown. */
  readonly numRows: number | null;
  /** Estimated distinct values per column (by column index); absent entries are unknown. */
  readonly distinct?: readonly (number | null)[];
}

/**
 * One unit of scan work, serialisable so that the scheduler can send it to an
 * executor: a file with some of its row groups, a slice of an in-memory table,
 * a partition of a generated table.
 */
export interface ScanPartition {
  /** What kind of source; providers check that it is theirs. */
  readonly kind: string;
  /** A short description for EXPLAIN. */
  readonly label: string;
  /** Provider-specific JSON-serialisable data. */
  readonly data: unknown;
  /** Estimated rows (for spreading work). */
  readonly rows?: number;
}

/**
 * Filters handed to a provider: expressions whose column references use the
 * provider's column index as the id. A provider may use them to skip data
 * (partition pruning, row-group statistics); the engine applies them again.
 */
export type ScanFilters = readonly Expr[];

/** The outcome of planning a scan, with the pruning it did. */
export interface ScanPlan {
  readonly partitions: readonly ScanPartition[];
  /** e.g. "files=3/12 row_groups=5/40" for EXPLAIN; empty when nothing to say. */
  readonly pruning: string;
}

/** A table that the engine can scan. */
export interface TableProvider {
  /** The table's schema. */
  readonly schema: Schema;
  /** Statistics for planning. */
  statistics(): TableStatistics;
  /** Splits a scan into partitions, pruning what the filters exclude. */
  planScan(filters: ScanFilters, targetPartitions: number): Promise<ScanPlan>;
  /**
   * What is known of a partition's values before reading it (hive partition
   * values, Parquet min/max statistics), by column index; null when nothing.
   * Optional: the arrow accelerator keeps it per unit to prune in memory.
   */
  partitionStatistics?(partition: ScanPartition): Promise<UnitStats | null>;
  /** Reads one partition, returning only the projected columns (by index), in that order. */
  scan(
    partition: ScanPartition,
    projection: readonly number[],
    filters: ScanFilters,
  ): AsyncIterable<RecordBatch>;
}
