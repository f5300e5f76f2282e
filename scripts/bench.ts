/**
 * `deno task bench`: TPC-H on our engine against DuckDB on the same Parquet
 * files, both with the data loaded into memory.
 *
 * ```sh
 * deno task bench [--sf 1] [--queries 1,3,6] [--reps 5] [--warmup 1] [--data DIR] [--out FILE]
 *                 [--http-url URL | --http-spawn | --cluster N] [--no-duckdb] [--explain-top N]
 * ```
 *
 * The data (`--data`, default `data/tpch-sf<N>`) is generated with
 * `scripts/tpch.ts` when missing. The report (median per query and engine,
 * ratios, load times, memory) is printed and written as JSON to `--out`
 * (default `bench/results/tpch-sf<N>.json`). Progress goes to stderr.
 *
 * Targets for "ours": in this process (default); a running spiced over HTTP
 * (`--http-url`); a standalone spiced the harness starts (`--http-spawn`);
 * a scheduler and N executors the harness starts (`--cluster N`).
 *
 * @module
 */

import { dirname } from "node:path";
import { TPCH_TABLES } from "../src/connectors/tpch/mod.ts";
import { BENCH_USAGE, type BenchOptions, parseBenchArgs, UsageError } from "./bench/args.ts";
import {
  CLUSTER_UNAVAILABLE,
  clusterAvailable,
  ClusterUnavailableError,
  startClusterEngine,
} from "./bench/cluster.ts";
import { ensureTpchData } from "./bench/data.ts";
import { DuckDbProcessEngine } from "./bench/duckdb_process.ts";
import type { BenchEngine } from "./bench/engine.ts";
import { summarizeSelfTimes } from "./bench/explain.ts";
import { runBenchmark } from "./bench/harness.ts";
import { HttpEngine, spawnStandaloneEngine } from "./bench/http_runner.ts";
import { InProcessEngine } from "./bench/ours.ts";
import { type BenchReport, formatReport } from "./bench/report.ts";

/** Creates the engine that stands for "ours" under the chosen target. */
export function createOursEngine(opts: BenchOptions, dataDir: string): Promise<BenchEngine> {
  switch (opts.ours.kind) {
    case "in-process":
      return Promise.resolve(new InProcessEngine());
    case "http":
      return Promise.resolve(
        new HttpEngine(opts.ours.url, {
          apiKey: Deno.env.get("SPICE_API_KEY"),
        }),
      );
    case "http-spawn":
      return spawnStandaloneEngine(dataDir, TPCH_TABLES);
    case "cluster":
      return startClusterEngine(dataDir, {
        executors: opts.ours.executors,
        tables: TPCH_TABLES,
      });
  }
}

/** Writes the report as JSON (through a temporary file, so a reader never sees half of it). */
export async function writeReport(path: string, report: BenchReport): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(report, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** Runs the benchmark for a command line; resolves with the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}`);
    console.error(BENCH_USAGE);
    return 2;
  }
  // Checked before generating data: no point in waiting for SF 10 files first.
  if (opts.ours.kind === "cluster" && !(await clusterAvailable())) {
    console.error(CLUSTER_UNAVAILABLE);
    return 1;
  }
  const dataDir = await ensureTpchData(opts.sf, opts.data, (l) => console.error(l));
  let ours: BenchEngine | null = null;
  let duckdb: BenchEngine | null = null;
  try {
    ours = await createOursEngine(opts, dataDir);
    duckdb = opts.duckdb ? await DuckDbProcessEngine.open() : null;
    const report = await runBenchmark(opts, dataDir, { ours, duckdb });
    await writeReport(opts.out, report);
    console.log(formatReport(report));
    for (const e of report.explain) {
      console.log(
        `\nQ${e.query}${
          e.ratio === null ? "" : ` (ratio ${e.ratio.toFixed(2)})`
        }: operators by own time (elapsed minus children's; rough with parallel partitions)`,
      );
      for (const line of summarizeSelfTimes(e.plan, 5)) console.log(line);
    }
    console.log(`\nwrote ${opts.out}`);
    return report.summary.failedOurs.length > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ClusterUnavailableError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  } finally {
    await ours?.close();
    await duckdb?.close();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    Deno.exit(1);
  }
}
