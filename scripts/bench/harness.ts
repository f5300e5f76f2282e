/**
 * The benchmark proper: load both engines, run the queries interleaved
 * (ours Q1, DuckDB Q1, ours Q2, ...) so that a slow spell of the shared
 * machine hits both engines alike, warm-up runs first, then K timed
 * repetitions, and build the report.
 *
 * @module
 */

import { TPCH_QUERIES, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import type { BenchOptions } from "./args.ts";
import type { BenchEngine, EngineMemory } from "./engine.ts";
import { parseAnalyzedPlan, selfTimes } from "./explain.ts";
import { procPeakRss, RssSampler } from "./memory.ts";
import {
  type BenchReport,
  type EngineRuns,
  type ExplainReport,
  type MachineInfo,
  type QueryReport,
  summarize,
} from "./report.ts";

/** Where progress lines go (stderr by default, so stdout carries only the report). */
export type ProgressLog = (line: string) => void;

async function cpuModel(): Promise<string | null> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? null;
  } catch {
    return null;
  }
}

function loadAverage(): number[] | null {
  try {
    return Deno.loadavg().map((v) => Math.round(v * 100) / 100);
  } catch {
    return null;
  }
}

/** Facts about this machine and runtime for the report. */
export async function machineInfo(): Promise<MachineInfo> {
  let memoryBytes: number | null = null;
  try {
    memoryBytes = Deno.systemMemoryInfo().total;
  } catch { /* not available on this platform */ }
  return {
    cores: navigator.hardwareConcurrency,
    memoryBytes,
    cpu: await cpuModel(),
    os: Deno.build.os,
    osRelease: Deno.osRelease(),
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    loadAverageStart: loadAverage(),
    loadAverageEnd: null,
  };
}

function describeTarget(o: BenchOptions): string {
  switch (o.ours.kind) {
    case "in-process":
      return "in-process";
    case "http":
      return `http ${o.ours.url}`;
    case "http-spawn":
      return "http (spawned standalone spiced)";
    case "cluster":
      return `cluster of ${o.ours.executors} executors`;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}` : String(e);
}

/** Runs one query once; records rows or the error, and returns the wall time. */
async function runOnce(
  engine: BenchEngine,
  sql: string,
  runs: EngineRuns,
  sampler: RssSampler,
): Promise<number | null> {
  if (runs.error !== null) return null; // failed before: its time would mean nothing
  const t0 = performance.now();
  try {
    const { rows } = await engine.run(sql);
    const ms = performance.now() - t0;
    if (runs.rows === null) runs.rows = rows;
    else if (runs.rows !== rows) {
      runs.error = `row count changed between runs: ${runs.rows} then ${rows}`;
    }
    return ms;
  } catch (e) {
    runs.error = errorText(e);
    return null;
  } finally {
    sampler.sample();
  }
}

/** The engines of one run: ours, and DuckDB unless `--no-duckdb`. */
export interface BenchEngines {
  readonly ours: BenchEngine;
  readonly duckdb: BenchEngine | null;
}

/**
 * Loads the data into both engines, runs the queries and returns the
 * report. The engines are not closed here.
 */
export async function runBenchmark(
  opts: BenchOptions,
  dataDir: string,
  engines: BenchEngines,
  log: ProgressLog = (l) => console.error(l),
): Promise<BenchReport> {
  const machine = await machineInfo();
  const busy = machine.loadAverageStart?.[0];
  if (busy !== undefined && busy > machine.cores) {
    // Neither engine gets its cores: DuckDB's threads suffer most (a preempted
    // worker stalls its pipeline), so ratios shift. Say so rather than hide it.
    log(
      `WARNING: load average ${busy} on ${machine.cores} cores: other processes share the ` +
        `machine, timings will be noisy`,
    );
  }
  const sampler = new RssSampler();
  const baseline = sampler.mark("baseline");
  sampler.start();
  try {
    // Loads one engine at a time, so that neither competes with the other for the cores.
    log(`loading ${TPCH_TABLES.length} tables into ${engines.ours.name} ...`);
    const oursLoad = await engines.ours.load(dataDir, TPCH_TABLES);
    const afterOurs = sampler.mark("after_ours_load");
    log(`  ${engines.ours.name}: ${oursLoad.totalMs.toFixed(0)} ms`);
    let duckLoad = null;
    let afterDuck: number | null = null;
    if (engines.duckdb) {
      log(`loading ${TPCH_TABLES.length} tables into ${engines.duckdb.name} ...`);
      duckLoad = await engines.duckdb.load(dataDir, TPCH_TABLES);
      afterDuck = sampler.mark("after_duckdb_load");
      log(`  ${engines.duckdb.name}: ${duckLoad.totalMs.toFixed(0)} ms`);
      for (const t of oursLoad.tables) {
        const d = duckLoad.tables.find((x) => x.table === t.table);
        if (d && d.rows !== t.rows) {
          log(`WARNING: ${t.table} has ${t.rows} rows in ours but ${d.rows} in DuckDB`);
        }
      }
    }

    const queries: QueryReport[] = opts.queries.map((q) => ({
      query: q,
      ours: { timesMs: [], medianMs: null, rows: null, error: null },
      duckdb: engines.duckdb ? { timesMs: [], medianMs: null, rows: null, error: null } : null,
      ratio: null,
      rowsMatch: null,
    }));
    const rounds = opts.warmup + opts.reps;
    for (let round = 0; round < rounds; round++) {
      const warm = round < opts.warmup;
      const label = warm
        ? `warm-up ${round + 1}/${opts.warmup}`
        : `run ${round - opts.warmup + 1}/${opts.reps}`;
      for (const q of queries) {
        const sql = TPCH_QUERIES[q.query - 1];
        const a = await runOnce(engines.ours, sql, q.ours, sampler);
        const b = engines.duckdb ? await runOnce(engines.duckdb, sql, q.duckdb!, sampler) : null;
        if (!warm) {
          if (a !== null) q.ours.timesMs.push(a);
          if (b !== null) q.duckdb!.timesMs.push(b);
        }
        log(
          `${label.padEnd(12)} Q${String(q.query).padEnd(3)} ours ${fmt(a, q.ours)}` +
            (engines.duckdb ? `  duckdb ${fmt(b, q.duckdb!)}` : ""),
        );
      }
    }
    const summary = summarize(queries);

    const explain: ExplainReport[] = [];
    if (opts.explainTop > 0 && engines.ours.explainAnalyze) {
      const worst = queries.filter((q) => q.ours.error === null)
        .sort((x, y) => (y.ratio ?? y.ours.medianMs ?? 0) - (x.ratio ?? x.ours.medianMs ?? 0))
        .slice(0, opts.explainTop);
      for (const q of worst) {
        log(`EXPLAIN ANALYZE Q${q.query} ...`);
        const plan = await engines.ours.explainAnalyze(TPCH_QUERIES[q.query - 1]);
        explain.push({
          query: q.query,
          ratio: q.ratio,
          topOperators: selfTimes(parseAnalyzedPlan(plan)).slice(0, 10),
          plan,
        });
      }
    }

    const oursMemory: EngineMemory | null = (await engines.ours.memory?.()) ?? null;
    const duckMemory: EngineMemory | null = (await engines.duckdb?.memory?.()) ?? null;
    sampler.stop();
    machine.loadAverageEnd = loadAverage();
    return {
      benchmark: "tpch",
      formatVersion: 1,
      date: new Date().toISOString(),
      sf: opts.sf,
      dataDir,
      machine,
      options: {
        reps: opts.reps,
        warmup: opts.warmup,
        queries: opts.queries,
        target: describeTarget(opts),
      },
      engines: {
        ours: engines.ours.description,
        duckdb: engines.duckdb?.description ?? null,
      },
      load: {
        ours: oursLoad,
        duckdb: duckLoad,
        ratio: duckLoad && duckLoad.totalMs > 0 ? oursLoad.totalMs / duckLoad.totalMs : null,
      },
      memory: {
        ours: oursMemory,
        duckdb: duckMemory,
        rss: {
          baselineBytes: baseline,
          afterOursLoadBytes: afterOurs,
          afterDuckdbLoadBytes: afterDuck,
          peakSampledBytes: sampler.peak,
          peakHwmBytes: await procPeakRss(),
        },
      },
      queries,
      summary,
      explain,
    };
  } finally {
    sampler.stop();
  }
}

function fmt(ms: number | null, runs: EngineRuns): string {
  if (ms !== null) return `${ms.toFixed(1).padStart(9)} ms`;
  return runs.error ? `FAILED (${runs.error.split("\n")[0].slice(0, 60)})` : "-";
}
