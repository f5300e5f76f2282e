/**
 * dealScanPartitions: scan partitions go to output partitions by rows (the
 * largest first onto the least loaded), round-robin when rows are unknown,
 * and the same way every time.
 */

import assert from "node:assert/strict";
import type { ScanPartition } from "../../src/catalog/provider.ts";
import { dealScanPartitions } from "../../src/physical/plan.ts";

const part = (rows?: number): ScanPartition => ({ kind: "t", label: "", data: null, rows });

Deno.test("uneven units (a file's big and small halves) are balanced by rows", () => {
  // Round-robin would give output 0 every big unit.
  const parts = [500, 40, 500, 40, 500, 40, 500, 40].map((r) => part(r));
  const owner = dealScanPartitions(parts, 2);
  const load = [0, 0];
  owner.forEach((o, i) => (load[o] += parts[i].rows!));
  assert.deepEqual(load, [1080, 1080]);
  assert.deepEqual([...dealScanPartitions(parts, 2)], [...owner], "deterministic");
});

Deno.test("unknown row counts are dealt round-robin; one output takes everything", () => {
  assert.deepEqual([...dealScanPartitions([part(), part(5), part(), part()], 3)], [0, 1, 2, 0]);
  assert.deepEqual([...dealScanPartitions([part(1), part(2)], 1)], [0, 0]);
});
