/**
 * The arrow acceleration engine: a dataset's rows loaded into memory as
 * record batches (a MemoryTable), loaded in parallel partition by partition,
 * and reloaded on refresh without disturbing running queries (the new table
 * replaces the old one only once it is complete).
 *
 * @module
 */

import type { RecordBatch } from "../arrow/batch.ts";
import { MemoryTable } from "../catalog/memory_table.ts";
import type { TableProvider } from "../catalog/provider.ts";
import { dictionaryEncode } from "./dictionary.ts";

/** Reads every row of a provider into memory. */
export async function loadIntoMemory(
  source: TableProvider,
  opts: { parallelism: number; signal?: AbortSignal },
): Promise<MemoryTable> {
  const plan = await source.planScan([], Math.max(1, opts.parallelism) * 4);
  const projection = source.schema.fields.map((_, i) => i);
  const parts: RecordBatch[][] = plan.partitions.map(() => []);
  let next = 0;
  const worker = async () => {
    while (next < plan.partitions.length) {
      const k = next++;
      for await (const b of source.scan(plan.partitions[k], projection, [])) {
        opts.signal?.throwIfAborted();
        parts[k].push(b);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallelism) }, worker));
  return new MemoryTable(source.schema, dictionaryEncode(source.schema, parts.flat()));
}
