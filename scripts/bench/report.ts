/**
 * The benchmark report: its JSON shape (`bench/results/tpch-sf<N>.json`),
 * the summary figures computed from raw timings, and the fixed-width text
 * printed to stdout.
 *
 * @module
 */

import type { EngineMemory, LoadReport } from "./engine.ts";
import type { SelfTime } from "./explain.ts";
import { geometricMean, median } from "./stats.ts";

/** Raw runs of one query on one engine. */
export interface EngineRuns {
  /** Wall time of each timed repetition, in order (warm-up runs excluded). */
  readonly timesMs: number[];
  /** Median of `timesMs`; null when the query failed. */
  medianMs: number | null;
  /** Result rows (of the first run); null when the query failed. */
  rows: number | null;
  /** The error of a failed run (the query is not run again after one). */
  error: string | null;
}

/** One query's figures. */
export interface QueryReport {
  readonly query: number;
  readonly ours: EngineRuns;
  readonly duckdb: EngineRuns | null;
  /** ours median / DuckDB median; null when either failed or DuckDB did not run. */
  ratio: number | null;
  /** Whether both engines returned the same number of rows; null when unknown. */
  rowsMatch: boolean | null;
}

/** The machine the numbers come from. */
export interface MachineInfo {
  readonly cores: number;
  readonly memoryBytes: number | null;
  readonly cpu: string | null;
  readonly os: string;
  readonly osRelease: string;
  readonly arch: string;
  readonly deno: string;
  readonly v8: string;
  readonly typescript: string;
  /** 1, 5 and 15 minute load averages when the run started and ended: others share the cores. */
  readonly loadAverageStart: readonly number[] | null;
  loadAverageEnd: readonly number[] | null;
}

/** Summary figures over the queries both engines answered. */
export interface BenchSummary {
  /** Queries the totals, geometric mean and maximum are over. */
  readonly comparedQueries: readonly number[];
  readonly oursTotalMs: number;
  readonly duckdbTotalMs: number | null;
  readonly totalRatio: number | null;
  readonly geomeanRatio: number | null;
  readonly maxRatio: { readonly query: number; readonly ratio: number } | null;
  /** Queries that failed on our engine. */
  readonly failedOurs: readonly number[];
  /** Queries that failed on DuckDB. */
  readonly failedDuckdb: readonly number[];
  /** Queries whose row counts differ between the engines. */
  readonly rowMismatches: readonly number[];
}

/** Process memory figures, in bytes. */
export interface RssReport {
  readonly baselineBytes: number;
  readonly afterOursLoadBytes: number | null;
  readonly afterDuckdbLoadBytes: number | null;
  /** Highest `Deno.memoryUsage().rss` sampled (includes DuckDB when it ran in-process). */
  readonly peakSampledBytes: number;
  /** The kernel's peak (Linux VmHWM), which sampling cannot miss; null elsewhere. */
  readonly peakHwmBytes: number | null;
}

/** EXPLAIN ANALYZE of one of the slowest queries relative to DuckDB. */
export interface ExplainReport {
  readonly query: number;
  readonly ratio: number | null;
  /** Operators by estimated own time, largest first (top 10). */
  readonly topOperators: readonly SelfTime[];
  readonly plan: string;
}

/** The whole report, as written to JSON. */
export interface BenchReport {
  readonly benchmark: "tpch";
  readonly formatVersion: 1;
  readonly date: string;
  readonly sf: number;
  readonly dataDir: string;
  readonly machine: MachineInfo;
  readonly options: {
    readonly reps: number;
    readonly warmup: number;
    readonly queries: readonly number[];
    readonly target: string;
  };
  readonly engines: { readonly ours: string; readonly duckdb: string | null };
  readonly load: {
    readonly ours: LoadReport;
    readonly duckdb: LoadReport | null;
    /** ours total / DuckDB total (the target: within 2x). */
    readonly ratio: number | null;
  };
  readonly memory: {
    readonly ours: EngineMemory | null;
    readonly duckdb: EngineMemory | null;
    readonly rss: RssReport;
  };
  readonly queries: readonly QueryReport[];
  readonly summary: BenchSummary;
  readonly explain: readonly ExplainReport[];
}

/** Fills in medians, ratios and the row check of each query, and the summary. */
export function summarize(queries: readonly QueryReport[]): BenchSummary {
  for (const q of queries) {
    for (const r of [q.ours, q.duckdb]) {
      if (r) r.medianMs = r.error === null && r.timesMs.length > 0 ? median(r.timesMs) : null;
    }
    const d = q.duckdb;
    q.ratio = d && q.ours.medianMs !== null && d.medianMs !== null && d.medianMs > 0
      ? q.ours.medianMs / d.medianMs
      : null;
    q.rowsMatch = d && q.ours.rows !== null && d.rows !== null ? q.ours.rows === d.rows : null;
  }
  const withDuck = queries.some((q) => q.duckdb !== null);
  const compared = queries.filter((q) =>
    q.ours.medianMs !== null && (!withDuck || q.duckdb?.medianMs != null)
  );
  const oursTotal = compared.reduce((s, q) => s + q.ours.medianMs!, 0);
  const duckTotal = withDuck ? compared.reduce((s, q) => s + q.duckdb!.medianMs!, 0) : null;
  const ratios = compared.filter((q) => q.ratio !== null);
  const max = ratios.reduce<QueryReport | null>(
    (m, q) => (m === null || q.ratio! > m.ratio! ? q : m),
    null,
  );
  return {
    comparedQueries: compared.map((q) => q.query),
    oursTotalMs: oursTotal,
    duckdbTotalMs: duckTotal,
    totalRatio: duckTotal ? oursTotal / duckTotal : null,
    geomeanRatio: geometricMean(ratios.map((q) => q.ratio!)),
    maxRatio: max ? { query: max.query, ratio: max.ratio! } : null,
    failedOurs: queries.filter((q) => q.ours.error !== null).map((q) => q.query),
    failedDuckdb: queries.filter((q) => q.duckdb?.error != null).map((q) => q.query),
    rowMismatches: queries.filter((q) => q.rowsMatch === false).map((q) => q.query),
  };
}

function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return "-";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function ratio(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : v.toFixed(2);
}

/** Bytes as MiB with one decimal ("-" for unknown). */
export function mib(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : `${(v / 1024 / 1024).toFixed(1)} MiB`;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
    .trimEnd();
}

/** The report as fixed-width text: queries, totals, loads and memory. */
export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const duck = r.engines.duckdb !== null;
  out.push(
    `TPC-H SF ${r.sf}: median of ${r.options.reps} runs after ${r.options.warmup} warm-up, ` +
      `engines interleaved per query`,
    `  ours:   ${r.engines.ours}`,
    `  duckdb: ${r.engines.duckdb ?? "(not run)"}`,
    `  machine: ${r.machine.cores} cores, ${mib(r.machine.memoryBytes)}, ${
      r.machine.cpu ?? "?"
    }, ` +
      `deno ${r.machine.deno}, load average ${r.machine.loadAverageStart?.join(" ") ?? "?"}`,
  );
  const busy = r.machine.loadAverageStart?.[0];
  if (busy !== undefined && busy > r.machine.cores) {
    out.push(`  WARNING: load average ${busy} > ${r.machine.cores} cores: timings are noisy`);
  }
  out.push("");
  const qw = [6, 10, 10, 7, 9, 9, 0];
  out.push(row(["query", "ours ms", "duckdb ms", "ratio", "rows", "duck rows", "check"], qw));
  for (const q of r.queries) {
    let check = "";
    if (q.ours.error !== null) check = `OURS FAILED: ${q.ours.error.split("\n")[0].slice(0, 80)}`;
    else if (q.duckdb?.error) {
      check = `DUCKDB FAILED: ${q.duckdb.error.split("\n")[0].slice(0, 80)}`;
    } else if (q.rowsMatch === false) check = "WARNING: row counts differ";
    else if (q.rowsMatch) check = "ok";
    out.push(row([
      `Q${q.query}`,
      ms(q.ours.medianMs),
      duck ? ms(q.duckdb?.medianMs) : "-",
      ratio(q.ratio),
      q.ours.rows === null ? "-" : String(q.ours.rows),
      q.duckdb?.rows == null ? "-" : String(q.duckdb.rows),
      check,
    ], qw));
  }
  const s = r.summary;
  out.push(row(["total", ms(s.oursTotalMs), ms(s.duckdbTotalMs), ratio(s.totalRatio)], qw));
  if (s.comparedQueries.length < r.queries.length) {
    out.push(`  (totals over ${s.comparedQueries.map((q) => `Q${q}`).join(",")})`);
  }
  out.push(
    "",
    `geometric mean of ratios: ${ratio(s.geomeanRatio)}   max ratio: ${
      s.maxRatio ? `${ratio(s.maxRatio.ratio)} (Q${s.maxRatio.query})` : "-"
    }   row count mismatches: ${
      s.rowMismatches.length ? s.rowMismatches.map((q) => `Q${q}`).join(",") : "none"
    }${s.failedOurs.length ? `   failed (ours): ${s.failedOurs.map((q) => `Q${q}`)}` : ""}`,
    "",
  );
  const lw = [10, 10, 10, 7, 10];
  out.push(row(["load", "ours ms", "duckdb ms", "ratio", "rows"], lw));
  for (const t of r.load.ours.tables) {
    const d = r.load.duckdb?.tables.find((x) => x.table === t.table);
    out.push(row([
      t.table,
      ms(t.ms),
      ms(d?.ms),
      ratio(d && d.ms > 0 ? t.ms / d.ms : null),
      String(t.rows),
    ], lw));
  }
  out.push(
    row(["total", ms(r.load.ours.totalMs), ms(r.load.duckdb?.totalMs), ratio(r.load.ratio)], lw),
  );
  if (r.load.ours.note) out.push(`  (ours: ${r.load.ours.note})`);
  const m = r.memory;
  out.push(
    "",
    `memory: ours arrow data ${mib(m.ours?.dataBytes)} (buffers retained ${
      mib(m.ours?.retainedBytes)
    })` +
      (m.ours?.processPeakRssBytes != null
        ? `, peak RSS of its server process(es) ${mib(m.ours.processPeakRssBytes)}`
        : "") +
      (duck ? `; duckdb buffer manager ${mib(m.duckdb?.dataBytes)}` : "") +
      (m.duckdb?.processPeakRssBytes != null
        ? `, peak RSS of its own process ${mib(m.duckdb.processPeakRssBytes)}`
        : ""),
    `        process RSS: baseline ${mib(m.rss.baselineBytes)}, after our load ${
      mib(m.rss.afterOursLoadBytes)
    }` +
      (duck ? `, after duckdb load ${mib(m.rss.afterDuckdbLoadBytes)}` : "") +
      `, peak ${mib(m.rss.peakSampledBytes)} sampled / ${mib(m.rss.peakHwmBytes)} VmHWM` +
      (!duck
        ? ""
        : m.ours?.processPeakRssBytes != null
        ? " (DuckDB only: ours runs in its server)"
        : m.duckdb?.processPeakRssBytes != null
        ? " (ours only: DuckDB runs in its own process)"
        : " (both engines in this process)"),
  );
  return out.join("\n");
}
