/**
 * The built-in TPC-H data source: a generator of the eight TPC-H tables
 * (specification v3, clause 4.2) at any scale factor, partition by partition,
 * and the 22 queries with their validation parameters.
 *
 * ```ts
 * import { generateTpchPartition, tpchPartitionCount } from "./mod.ts";
 * const parts = tpchPartitionCount("lineitem", 1);
 * for (const batch of generateTpchPartition("lineitem", 1, 0, parts)) {
 *   console.log(batch.numRows);
 * }
 * ```
 *
 * Cells depend only on (table, row, column, scale factor), so partitions can
 * be generated in parallel (Web Workers, executors) and always concatenate to
 * the same table. The data follows the specification's rules and value
 * domains but is not byte-identical to dbgen's.
 *
 * @module
 */

export {
  isTpchTable,
  TPCH_TABLES,
  type TpchScale,
  tpchScale,
  tpchSchema,
  type TpchTable,
} from "./schema.ts";
export { generateTpchPartition, tpchPartitionCount, tpchRowCount } from "./generate.ts";
export { TPCH_QUERIES, TPCH_QUERY_ORDERED } from "./queries.ts";
