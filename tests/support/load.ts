/**
 * The load driver shared by tests/load (a bounded run) and `deno task load`
 * (scripts/load.ts, the full run): a real cluster (scheduler + executors on
 * 127.0.0.1, TPC-H scale factor 0.01 accelerated), many concurrent HTTP
 * clients sending a deterministic mix of TPC-H queries and parameterised
 * point lookups, every answer compared with the standalone engine's, and the
 * latency percentiles.
 *
 * @module
 */

import { TPCH_QUERIES, TPCH_QUERY_ORDERED } from "../../src/connectors/tpch/mod.ts";
import { canonicalRows, type Cell } from "./compare.ts";
import { startCluster } from "./cluster.ts";
import { runOurs } from "./engine.ts";
import {
  diffRows,
  getJson,
  httpRows,
  percentile,
  spicepodDir,
  standaloneEngine,
} from "./reliability.ts";

/** Settings of a load run. */
export interface LoadOptions {
  readonly queries: number;
  readonly clients: number;
  readonly executors?: number;
  /** Share of TPC-H queries in the mix (the rest are point lookups; default 0.2). */
  readonly tpchShare?: number;
  /** runtime.query.max_concurrent of the scheduler (default 8; the queue holds every client). */
  readonly maxConcurrent?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** What a run measured. */
export interface LoadReport {
  readonly queries: number;
  readonly clients: number;
  readonly answered: number;
  readonly correct: number;
  readonly failures: readonly string[];
  readonly wallMs: number;
  readonly latencyMs: {
    readonly all: { p50: number; p99: number; max: number };
    readonly tpch: { p50: number; p99: number; count: number };
    readonly lookup: { p50: number; p99: number; count: number };
  };
  /** Executors that ran tasks. */
  readonly executorsUsed: number;
}

interface Item {
  readonly kind: "tpch" | "lookup";
  readonly label: string;
  readonly sql: string;
  readonly params?: unknown[];
  readonly ordered: boolean;
}

const LOOKUPS = [
  "select * from orders where o_orderkey = $1",
  "select c_custkey, c_name, c_acctbal from customer where c_custkey = $1",
  "select l_linenumber, l_quantity, l_extendedprice from lineitem where l_orderkey = $1 order by l_linenumber",
];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** The workload: a deterministic mix for a seed. */
function workload(n: number, share: number, seed: number): Item[] {
  const r = rng(seed);
  const items: Item[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < share) {
      const q = Math.floor(r() * TPCH_QUERIES.length);
      items.push({
        kind: "tpch",
        label: `Q${q + 1}`,
        sql: TPCH_QUERIES[q],
        ordered: TPCH_QUERY_ORDERED[q],
      });
    } else {
      const which = Math.floor(r() * LOOKUPS.length);
      // TPC-H order keys are sparse (8 of every 32), so some lookups find nothing.
      const key = which === 1 ? 1 + Math.floor(r() * 1600) : 1 + Math.floor(r() * 60_100);
      items.push({
        kind: "lookup",
        label: `lookup ${which} key ${key}`,
        sql: LOOKUPS[which],
        params: [key],
        ordered: which === 2,
      });
    }
  }
  return items;
}

/** Runs the load; never throws for a failed query (they are in `failures`). */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 42;
  const items = workload(opts.queries, opts.tpchShare ?? 0.2, seed);
  const local = standaloneEngine(0.01);
  // Reference answers first (the standalone engine in this process), once per distinct query.
  const expected = new Map<string, Cell[][]>();
  const keyOf = (it: Item) => it.sql + "\u0000" + JSON.stringify(it.params ?? []);
  const t0 = performance.now();
  for (const it of items) {
    const k = keyOf(it);
    if (expected.has(k)) continue;
    const sqlText = it.params ? it.sql.replace("$1", String(it.params[0])) : it.sql;
    expected.set(k, canonicalRows(await runOurs(local, sqlText)));
  }
  log(
    `reference answers: ${expected.size} distinct queries in ${
      (performance.now() - t0).toFixed(0)
    } ms`,
  );

  const dir = await spicepodDir({
    sf: 0.01,
    runtime: `  query: { max_concurrent: ${opts.maxConcurrent ?? 8}, timeout: 120s }`,
  });
  const cluster = await startCluster({
    executors: opts.executors ?? 2,
    cwd: dir,
    env: {
      SPICED_QUERY_QUEUE_SIZE: String(opts.clients + 8),
      SPICED_QUERY_QUEUE_TIMEOUT_MS: "120000",
    },
  });
  const failures: string[] = [];
  const latency = { tpch: [] as number[], lookup: [] as number[] };
  let answered = 0, correct = 0;
  try {
    const base = cluster.scheduler.http;
    let next = 0;
    const started = performance.now();
    let lastLog = started;
    const client = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const it = items[i];
        const s = performance.now();
        try {
          const batches = await httpRows(base, it.sql, { params: it.params });
          const ms = performance.now() - s;
          answered++;
          latency[it.kind].push(ms);
          const diff = diffRows(canonicalRows(batches), expected.get(keyOf(it))!, it.ordered);
          if (diff) failures.push(`#${i} ${it.label}: wrong answer: ${diff}`);
          else correct++;
        } catch (e) {
          failures.push(`#${i} ${it.label}: ${(e as Error).message.slice(0, 300)}`);
        }
        if (performance.now() - lastLog > 10_000) {
          lastLog = performance.now();
          log(`${answered}/${items.length} answered, ${failures.length} failures`);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.clients }, client));
    const wallMs = performance.now() - started;
    const st = await getJson(`${base}/v1/status`);
    const all = [...latency.tpch, ...latency.lookup];
    return {
      queries: items.length,
      clients: opts.clients,
      answered,
      correct,
      failures,
      wallMs,
      latencyMs: {
        all: { p50: percentile(all, 50), p99: percentile(all, 99), max: Math.max(...all) },
        tpch: {
          p50: percentile(latency.tpch, 50),
          p99: percentile(latency.tpch, 99),
          count: latency.tpch.length,
        },
        lookup: {
          p50: percentile(latency.lookup, 50),
          p99: percentile(latency.lookup, 99),
          count: latency.lookup.length,
        },
      },
      executorsUsed: (st.executors as { tasks_launched: number }[])
        .filter((e) => e.tasks_launched > 0).length,
    };
  } finally {
    await cluster.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The report as a few lines of text. */
export function formatReport(r: LoadReport): string {
  const f = (n: number) => `${n.toFixed(0)} ms`;
  return [
    `${r.queries} queries from ${r.clients} clients in ${(r.wallMs / 1000).toFixed(1)} s ` +
    `(${(r.answered / (r.wallMs / 1000)).toFixed(1)} queries/s): ${r.answered} answered, ` +
    `${r.correct} correct, ${r.failures.length} failed`,
    `latency all:     p50 ${f(r.latencyMs.all.p50)}, p99 ${f(r.latencyMs.all.p99)}, max ${
      f(r.latencyMs.all.max)
    }`,
    `latency TPC-H:   p50 ${f(r.latencyMs.tpch.p50)}, p99 ${f(r.latencyMs.tpch.p99)} ` +
    `(${r.latencyMs.tpch.count} queries)`,
    `latency lookups: p50 ${f(r.latencyMs.lookup.p50)}, p99 ${f(r.latencyMs.lookup.p99)} ` +
    `(${r.latencyMs.lookup.count} queries)`,
    ...r.failures.slice(0, 20).map((x) => `  FAILED ${x}`),
  ].join("\n");
}
