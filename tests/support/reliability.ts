/**
 * Helpers of the reliability suites (tests/reliability, tests/chaos, the load
 * test): spicepods in temporary directories, the standalone engine whose
 * answers are the reference, reading Arrow results over HTTP, bounded polling
 * and process checks.
 *
 * @module
 */

import * as arrow from "apache-arrow";
import type { RecordBatch } from "../../src/arrow/batch.ts";
import { fromArrowBatch } from "../../src/arrow/interop.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import { canonicalRows, type Cell, diffResults } from "./compare.ts";
import { runOurs } from "./engine.ts";
import { type SpicedProcess, sql } from "./spiced.ts";

/** What goes into a test spicepod. */
export interface PodOptions {
  /** TPC-H scale factor of the eight tables (default 0.01). */
  readonly sf?: number;
  /** Accelerate the TPC-H tables into memory (default true). */
  readonly accelerate?: boolean;
  /** YAML of the `runtime:` block's children, indented by two spaces. */
  readonly runtime?: string;
  /** Extra dataset entries (YAML list items). */
  readonly extraDatasets?: string;
}

/** Writes a spicepod serving the TPC-H tables into a new temporary directory. */
export async function spicepodDir(opts: PodOptions = {}): Promise<string> {
  const sf = opts.sf ?? 0.01;
  const dir = await Deno.makeTempDir({ prefix: "spiced-rel-" });
  const datasets = TPCH_TABLES.map((t) =>
    `  - from: tpch:${t}\n    name: ${t}\n    params: { scale_factor: ${sf} }\n${
      opts.accelerate ?? true ? "    acceleration: { enabled: true, engine: arrow }\n" : ""
    }`
  ).join("");
  await Deno.writeTextFile(
    `${dir}/spicepod.yaml`,
    `version: v1\nkind: Spicepod\nname: t\n${opts.runtime ? `runtime:\n${opts.runtime}\n` : ""}` +
      `datasets:\n${datasets}${opts.extraDatasets ?? ""}`,
  );
  return dir;
}

/** The standalone engine over the TPC-H generator: the reference answers. */
export function standaloneEngine(sf: number): QueryEngine {
  const catalog = new Catalog();
  for (const t of TPCH_TABLES) catalog.register(t, new TpchTableProvider(t, sf));
  return new QueryEngine(catalog);
}

/** The canonical rows of a query on an engine. */
export async function referenceRows(engine: QueryEngine, query: string): Promise<Cell[][]> {
  return canonicalRows(await runOurs(engine, query));
}

/** Runs SQL over HTTP and reads the Arrow stream; throws with the status and body on failure. */
export async function httpRows(
  base: string,
  query: string,
  opts: { params?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<RecordBatch[]> {
  const r = await sql(base, query, {
    accept: "application/vnd.apache.arrow.stream",
    params: opts.params,
    headers: opts.headers,
  });
  if (!r.ok) {
    throw Object.assign(new Error(`HTTP ${r.status}: ${await r.text()}`), { status: r.status });
  }
  const table = arrow.tableFromIPC(new Uint8Array(await r.arrayBuffer()));
  return table.batches.map((b) => fromArrowBatch(b));
}

/** Null when the rows match, else the difference. */
export function diffRows(got: Cell[][], expected: Cell[][], ordered: boolean): string | null {
  return diffResults(got, expected, ordered);
}

/** Polls `cond` every `everyMs` until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 50,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

const exitedProcs = new WeakMap<SpicedProcess, { code: number | null }>();

/** Starts tracking a process's exit (call once, right after starting it). */
export function track(p: SpicedProcess): SpicedProcess {
  if (!exitedProcs.has(p)) {
    const state = { code: null as number | null };
    exitedProcs.set(p, state);
    p.child.status.then((s) => (state.code = s.code));
  }
  return p;
}

/** True while the process has not exited (it must have been tracked). */
export function alive(p: SpicedProcess): boolean {
  const s = exitedProcs.get(p);
  if (!s) throw new Error("process not tracked: call track() after starting it");
  return s.code === null;
}

/** The JSON of a GET. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return await r.json();
}

/** User plus system CPU time of a process so far, in milliseconds (Linux /proc). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 here.
  return (Number(fields[11]) + Number(fields[12])) * 10; // USER_HZ = 100
}

/** Percentiles (nearest rank) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
