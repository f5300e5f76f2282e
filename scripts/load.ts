/**
 * The full load run (`deno task load`): 1,000 queries, a mix of TPC-H
 * queries and parameterised point lookups, from 50 concurrent HTTP clients
 * against a real cluster (a scheduler and 2 executors on 127.0.0.1), every
 * answer compared with the standalone engine's; prints p50/p99 latency and
 * exits 1 if any query was lost or wrong.
 *
 *   deno task load [--queries N] [--clients N] [--executors N] [--seed N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatReport, runLoad } from "../tests/support/load.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    queries: { type: "string", default: "1000" },
    clients: { type: "string", default: "50" },
    executors: { type: "string", default: "2" },
    seed: { type: "string", default: "42" },
  },
});
const report = await runLoad({
  queries: Number(values.queries),
  clients: Number(values.clients),
  executors: Number(values.executors),
  seed: Number(values.seed),
  log: (l) => console.error(l),
});
console.log(formatReport(report));
Deno.exit(report.failures.length === 0 && report.answered === report.queries ? 0 : 1);
