/**
 * Writes the eight TPC-H tables as Parquet, one directory per table:
 *
 * ```sh
 * deno task tpch --sf 1 --out data/tpch-sf1 [--files-per-table N] [--workers N]
 * ```
 *
 * gives `data/tpch-sf1/lineitem/part-0.parquet`, `part-1.parquet`, ... Each
 * file is one partition of the generator, generated and encoded by a Web
 * Worker (`tpch_worker.ts`), all cores at once, biggest files first.
 *
 * Flags:
 * - `--sf` scale factor (default 1)
 * - `--out` output directory (required)
 * - `--files-per-table` files for every table but nation and region (default:
 *   about one per 500,000 rows, see `tpchPartitionCount`)
 * - `--workers` number of workers (default: the number of cores)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  TPCH_TABLES,
  tpchPartitionCount,
  tpchScale,
  type TpchTable,
} from "../src/connectors/tpch/mod.ts";
import type { TpchFileResult, TpchFileTask } from "./tpch_worker.ts";

/** Validated options of the script. */
export interface TpchScriptOptions {
  readonly sf: number;
  readonly out: string;
  /** Files per table (not for nation and region); undefined for the default split. */
  readonly filesPerTable?: number;
  readonly workers: number;
}

/** A usage error: the message names the flag. */
export class UsageError extends Error {}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${flag} must be a positive integer, got '${value}'`);
  }
  return n;
}

/** Parses and validates the command line. */
export function parseTpchArgs(args: readonly string[]): TpchScriptOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        sf: { type: "string", default: "1" },
        out: { type: "string" },
        "files-per-table": { type: "string" },
        workers: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    // parseArgs names the offending flag ("Unknown option '--x'", "Option '--sf <value>' ...").
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
  if (values.out === undefined || values.out === "") {
    throw new UsageError("--out is required: the directory to write the tables to");
  }
  return {
    sf,
    out: values.out,
    filesPerTable: positiveInteger("files-per-table", values["files-per-table"]),
    workers: positiveInteger("workers", values.workers) ?? navigator.hardwareConcurrency,
  };
}

/** The number of files of a table under the options. */
function fileCount(table: TpchTable, opts: TpchScriptOptions): number {
  if (table === "nation" || table === "region") return 1;
  return opts.filesPerTable ?? tpchPartitionCount(table, opts.sf);
}

/** Totals of one table. */
export interface TpchTableReport {
  readonly table: TpchTable;
  readonly rows: number;
  readonly files: number;
  readonly bytes: number;
  /** Wall time from the table's first file started to its last file written. */
  readonly seconds: number;
}

/** Empties the table directories of files an earlier run with more files may have left. */
async function prepareDirectory(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /^part-\d+\.parquet$/.test(entry.name)) {
      await Deno.remove(join(dir, entry.name));
    }
  }
}

/** Generates every table as Parquet files under `opts.out`; returns per-table totals. */
export async function writeTpch(
  opts: TpchScriptOptions,
  onTable: (report: TpchTableReport) => void = () => {},
): Promise<TpchTableReport[]> {
  const tasks: TpchFileTask[] = [];
  for (const table of TPCH_TABLES) {
    const dir = join(opts.out, table);
    await prepareDirectory(dir);
    const files = fileCount(table, opts);
    for (let p = 0; p < files; p++) {
      tasks.push({
        table,
        sf: opts.sf,
        partition: p,
        numPartitions: files,
        path: join(dir, `part-${p}.parquet`),
      });
    }
  }
  // Biggest tables first, so that the small ones fill the gaps at the end.
  tasks.reverse();

  const stats = new Map<
    TpchTable,
    { rows: number; bytes: number; left: number; start: number; end: number }
  >();
  for (const table of TPCH_TABLES) {
    stats.set(table, { rows: 0, bytes: 0, left: fileCount(table, opts), start: Infinity, end: 0 });
  }
  const reports = new Map<TpchTable, TpchTableReport>();

  const workerCount = Math.max(1, Math.min(opts.workers, tasks.length));
  const workers = Array.from(
    { length: workerCount },
    () => new Worker(new URL("./tpch_worker.ts", import.meta.url).href, { type: "module" }),
  );
  let next = 0;
  try {
    await Promise.all(workers.map(async (worker) => {
      while (next < tasks.length) {
        const task = tasks[next++];
        const s = stats.get(task.table)!;
        s.start = Math.min(s.start, performance.now());
        const result = await run(worker, task);
        if (!result.ok) {
          throw new Error(`${task.table} partition ${task.partition}: ${result.error}`);
        }
        s.rows += result.rows;
        s.bytes += result.bytes;
        s.end = performance.now();
        if (--s.left === 0) {
          const report: TpchTableReport = {
            table: task.table,
            rows: s.rows,
            files: fileCount(task.table, opts),
            bytes: s.bytes,
            seconds: (s.end - s.start) / 1000,
          };
          reports.set(task.table, report);
          onTable(report);
        }
      }
    }));
  } finally {
    for (const w of workers) w.terminate();
  }
  return TPCH_TABLES.map((t) => reports.get(t)!);
}

function run(worker: Worker, task: TpchFileTask): Promise<TpchFileResult> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<TpchFileResult>) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`worker failed on ${task.table} partition ${task.partition}: ${e.message}`));
    };
    worker.postMessage(task);
  });
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function formatRow(cells: readonly string[]): string {
  const widths = [10, 12, 6, 12, 8];
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" ");
}

async function main(): Promise<void> {
  let opts: TpchScriptOptions;
  try {
    opts = parseTpchArgs(Deno.args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`tpch: ${e.message}`);
    console.error("usage: deno task tpch --sf 1 --out DIR [--files-per-table N] [--workers N]");
    Deno.exit(2);
  }
  const started = performance.now();
  console.log(`TPC-H SF ${opts.sf} -> ${opts.out} (${opts.workers} workers)`);
  console.log(formatRow(["table", "rows", "files", "bytes", "seconds"]));
  const reports = await writeTpch(opts, (r) => {
    console.log(
      formatRow([
        r.table,
        String(r.rows),
        String(r.files),
        formatBytes(r.bytes),
        r.seconds.toFixed(2),
      ]),
    );
  });
  const rows = reports.reduce((n, r) => n + r.rows, 0);
  const bytes = reports.reduce((n, r) => n + r.bytes, 0);
  const files = reports.reduce((n, r) => n + r.files, 0);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    formatRow(["total", String(rows), String(files), formatBytes(bytes), seconds.toFixed(2)]),
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`tpch: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
