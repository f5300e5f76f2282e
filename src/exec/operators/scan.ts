/**
 * Table scan: reads the scan partitions assigned to this output partition
 * through the table's provider, with projection and pruning filters.
 *
 * @module
 */

import { type RecordBatch, recordBatch } from "../../arrow/batch.ts";
import { SpiceError } from "../../errors.ts";
import { dealScanPartitions, type PhysicalPlan, physicalSchema } from "../../physical/plan.ts";
import type { TaskContext } from "../context.ts";

type ScanNode = PhysicalPlan & { op: "scan" };

/** Streams partition `partition` of a scan node. */
export async function* executeScan(
  node: ScanNode,
  partition: number,
  ctx: TaskContext,
): AsyncIterable<RecordBatch> {
  const provider = ctx.catalog.get(node.table);
  if (!provider) {
    throw new SpiceError("TABLE_NOT_FOUND", `table "${node.table}" not found on this node`);
  }
  const schema = physicalSchema(node);
  // Scan partitions are dealt over the node's output partitions by rows (a
  // task plan's scan already lists only its own share).
  const owner = node.taskLocal ? null : dealScanPartitions(node.scanPartitions, node.partitions);
  for (let i = 0; i < node.scanPartitions.length; i++) {
    if (owner && owner[i] !== partition) continue;
    for await (const b of provider.scan(node.scanPartitions[i], node.projection, node.filters)) {
      if (ctx.signal.aborted) {
        throw ctx.signal.reason ?? new SpiceError("CANCELLED", "query cancelled");
      }
      if (b.numRows === 0) continue;
      yield recordBatch(schema, b.columns, b.numRows);
    }
  }
}
