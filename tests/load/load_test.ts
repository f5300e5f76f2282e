/**
 * Load, bounded for the normal suite: 200 queries (TPC-H and point lookups)
 * from 20 concurrent clients against a 2-executor cluster, every answer
 * compared with the standalone engine, none lost; p50 and p99 printed.
 * `deno task load` runs the full version (1,000 queries, 50 clients).
 */

import assert from "node:assert/strict";
import { formatReport, runLoad } from "../support/load.ts";

Deno.test({
  name: "load: 200 queries from 20 clients, every answer correct, none lost",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const report = await runLoad({ queries: 200, clients: 20, executors: 2, seed: 7 });
    console.log(formatReport(report));
    assert.equal(report.answered, report.queries, "every query answered");
    assert.deepEqual(report.failures, []);
    assert.equal(report.correct, report.queries);
    assert.equal(report.executorsUsed, 2, "both executors ran tasks");
  },
});
