/**
 * The command line of `deno task bench`, parsed and validated before any work
 * starts, so that a typo fails in a second rather than after data generation.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { tpchScale } from "../../src/connectors/tpch/mod.ts";

/** Which engine runs "ours": in this process, or a spiced server over HTTP. */
export type OursTarget =
  | { readonly kind: "in-process" }
  /** An already running spiced; its datasets must be the TPC-H tables of `--data`. */
  | { readonly kind: "http"; readonly url: string }
  /** A standalone spiced started by the harness over `--data`. */
  | { readonly kind: "http-spawn" }
  /** A scheduler and N executors started by the harness (see `cluster.ts`). */
  | { readonly kind: "cluster"; readonly executors: number };

/** The validated options of one benchmark run. */
export interface BenchOptions {
  /** TPC-H scale factor. */
  readonly sf: number;
  /** Query numbers (1-based), in the order given. */
  readonly queries: readonly number[];
  /** Timed repetitions per query and engine. */
  readonly reps: number;
  /** Untimed runs per query and engine before the timed ones. */
  readonly warmup: number;
  /** Directory holding `<table>/*.parquet`. */
  readonly data: string;
  /** Where the JSON report goes. */
  readonly out: string;
  /** Where our engine runs. */
  readonly ours: OursTarget;
  /** Whether DuckDB runs too (off: our engine alone, e.g. for a clean peak RSS). */
  readonly duckdb: boolean;
  /** Print EXPLAIN ANALYZE of this many queries with the largest ratios (0: none). */
  readonly explainTop: number;
}

/** A usage error: the message names the flag. */
export class UsageError extends Error {}

/** The usage line printed with a usage error. */
export const BENCH_USAGE = "usage: deno task bench [--sf N] [--queries 1,3,6] [--reps K] " +
  "[--warmup K] [--data DIR] [--out FILE] [--cluster N | --http-url URL | --http-spawn] " +
  "[--no-duckdb] [--explain-top N]";

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag} must be an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** Formats a scale factor the way directory and file names use it (0.1, 1, 10). */
export function sfLabel(sf: number): string {
  return String(sf);
}

/** Parses and validates the command line of the benchmark. */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        sf: { type: "string", default: "1" },
        queries: { type: "string" },
        reps: { type: "string", default: "5" },
        warmup: { type: "string", default: "1" },
        data: { type: "string" },
        out: { type: "string" },
        cluster: { type: "string" },
        "http-url": { type: "string" },
        "http-spawn": { type: "boolean", default: false },
        "no-duckdb": { type: "boolean", default: false },
        "explain-top": { type: "string", default: "0" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    // parseArgs names the offending flag ("Unknown option '--x'").
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const sf = Number(values.sf);
  if (values.sf.trim() === "" || !Number.isFinite(sf) || sf <= 0) {
    throw new UsageError(`--sf must be a positive number, got '${values.sf}'`);
  }
  try {
    tpchScale(sf);
  } catch (e) {
    throw new UsageError(`--sf ${values.sf}: ${e instanceof Error ? e.message : e}`);
  }
  let queries = Array.from({ length: 22 }, (_, i) => i + 1);
  if (values.queries !== undefined) {
    queries = values.queries.split(",").map((s) => s.trim().replace(/^q/i, "")).map((s) => {
      const n = Number(s);
      if (!/^\d+$/.test(s) || n < 1 || n > 22) {
        throw new UsageError(`--queries takes numbers 1..22 separated by commas, got '${s}'`);
      }
      return n;
    });
    if (new Set(queries).size !== queries.length) {
      throw new UsageError(`--queries lists a query twice: '${values.queries}'`);
    }
  }
  const targets: OursTarget[] = [];
  if (values.cluster !== undefined) {
    targets.push({ kind: "cluster", executors: integer("cluster", values.cluster, 1) });
  }
  if (values["http-url"] !== undefined) {
    let url: URL;
    try {
      url = new URL(values["http-url"]);
    } catch {
      throw new UsageError(`--http-url must be a URL like http://127.0.0.1:8090`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`--http-url must be http:// or https://, got '${values["http-url"]}'`);
    }
    targets.push({ kind: "http", url: url.origin });
  }
  if (values["http-spawn"]) targets.push({ kind: "http-spawn" });
  if (targets.length > 1) {
    throw new UsageError("--cluster, --http-url and --http-spawn exclude each other");
  }
  const ours = targets[0] ?? { kind: "in-process" };
  const duckdb = !values["no-duckdb"];
  // Runs of another kind get their own default file, so that they never overwrite the
  // reference result (in-process against DuckDB) of the same scale factor.
  const suffix = (ours.kind === "in-process" ? "" : `-${ours.kind}`) + (duckdb ? "" : "-ours-only");
  return {
    sf,
    queries,
    reps: integer("reps", values.reps, 1),
    warmup: integer("warmup", values.warmup, 0),
    data: values.data ?? `data/tpch-sf${sfLabel(sf)}`,
    out: values.out ?? `bench/results/tpch-sf${sfLabel(sf)}${suffix}.json`,
    ours,
    duckdb,
    explainTop: integer("explain-top", values["explain-top"], 0),
  };
}
