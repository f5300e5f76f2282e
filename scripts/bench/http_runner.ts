/**
 * Our engine behind spiced's HTTP API: `POST /v1/sql` with
 * `Accept: application/vnd.apache.arrow.stream`, the path a client (and a
 * cluster's scheduler) serves queries through. It benchmarks a spiced that is
 * already running (`--http-url`), one the harness starts over the benchmark's
 * Parquet files (`--http-spawn`), and, once `cluster.ts` can start one, a
 * cluster's scheduler.
 *
 * @module
 */

import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import type { BenchEngine, EngineMemory, LoadReport, RunOutcome, TableLoad } from "./engine.ts";
import { procPeakRss } from "./memory.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The Accept header that asks for an Arrow IPC stream. */
export const ARROW_STREAM = "application/vnd.apache.arrow.stream";

/** A spiced process started by the harness. */
export interface SpicedServer {
  /** `http://host:port` of its HTTP API. */
  readonly url: string;
  readonly pid: number;
  /** Its log lines so far (for error messages). */
  readonly logs: readonly string[];
  /** Milliseconds from spawn until its HTTP server listened. */
  readonly startMs: number;
  /** Stops it (SIGTERM, then SIGKILL after a bounded wait). */
  stop(): Promise<void>;
}

/**
 * Writes a spicepod serving the eight TPC-H tables of `dataDir` accelerated
 * into memory (what `ours.ts` does in process) and returns its path.
 */
export async function writeTpchSpicepod(
  dataDir: string,
  tables: readonly string[],
  dir: string,
): Promise<string> {
  const lines = ["version: v1", "kind: Spicepod", "name: spiced_bench", "datasets:"];
  for (const t of tables) {
    // JSON strings are YAML strings: paths with any characters stay one scalar.
    lines.push(
      `  - from: ${JSON.stringify(`file:${join(dataDir, t)}/`)}`,
      `    name: ${t}`,
      `    params: { file_format: parquet }`,
      `    acceleration: { enabled: true, engine: arrow }`,
    );
  }
  const path = join(dir, "spicepod.yaml");
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/**
 * Starts `deno run -A main.ts ARGS` on 127.0.0.1 with free ports and
 * resolves once its HTTP server listens (read from the start-up log line,
 * which names the bound port). A cluster runner starts its scheduler and
 * executors with this too.
 */
export async function spawnSpiced(
  args: readonly string[],
  opts: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<SpicedServer> {
  const withPorts = [...args];
  for (const flag of ["--http", "--metrics", "--flight"]) {
    if (!withPorts.includes(flag)) withPorts.push(flag, "127.0.0.1:0");
  }
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...withPorts],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs: string[] = [];
  const listening = Promise.withResolvers<string>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        logs.push(line);
        opts.log?.(line);
        const m = /HTTP on (\S+?),? /.exec(line);
        if (m) listening.resolve(`http://${m[1]}`);
      }
    }
  };
  void pump(child.stdout);
  void pump(child.stderr);
  const exited = child.status;
  void exited.then((s) =>
    listening.reject(
      new Error(`spiced exited with ${s.code} before listening:\n${logs.join("\n")}`),
    )
  );
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const timer = setTimeout(
    () => listening.reject(new Error(`spiced did not listen in ${timeoutMs} ms`)),
    timeoutMs,
  );
  let url: string;
  try {
    url = await listening.promise;
  } catch (e) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const startMs = performance.now() - t0;
  return {
    url,
    pid: child.pid,
    logs,
    startMs,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
      const kill = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

interface DatasetStatusJson {
  name: string;
  status: string;
  rows: number | null;
  load_time_ms: number | null;
  error: string | null;
}

/** Options of an HTTP engine. */
export interface HttpEngineOptions {
  /** Name in the report (default "ours"). */
  readonly name?: string;
  /** What runs behind the URL (for the report). */
  readonly description?: string;
  /** A process the engine owns: stopped on close, its peak RSS reported. */
  readonly server?: SpicedServer;
  /** Sent as `X-API-Key` when the runtime requires one. */
  readonly apiKey?: string;
  /** How long `load` waits for /v1/ready (default 30 minutes: SF 10 loads take a while). */
  readonly readyTimeoutMs?: number;
}

/** Queries a spiced over its HTTP API. */
export class HttpEngine implements BenchEngine {
  /** @inheritdoc */
  readonly name: string;
  /** @inheritdoc */
  readonly description: string;
  readonly #url: string;
  readonly #opts: HttpEngineOptions;

  /** An engine for the spiced at `url` (`http://host:port`). */
  constructor(url: string, opts: HttpEngineOptions = {}) {
    this.#url = url.replace(/\/+$/, "");
    this.#opts = opts;
    this.name = opts.name ?? "ours";
    this.description = opts.description ?? `spiced over HTTP at ${this.#url} (Arrow IPC stream)`;
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    return this.#opts.apiKey ? { ...extra, "X-API-Key": this.#opts.apiKey } : extra;
  }

  /**
   * Waits for /v1/ready, then reads the load times the runtime measured from
   * /v1/datasets. The runtime loads its datasets concurrently, so the
   * per-table times overlap and their sum is not a wall time; the report
   * says so.
   */
  async load(_dataDir: string, tables: readonly string[]): Promise<LoadReport> {
    const t0 = performance.now();
    const timeout = this.#opts.readyTimeoutMs ?? 30 * 60_000;
    for (;;) {
      const r = await fetch(`${this.#url}/v1/ready`).catch((e) => e as Error);
      if (r instanceof Response) {
        await r.body?.cancel();
        if (r.status === 200) break;
      }
      if (performance.now() - t0 > timeout) {
        throw new Error(
          `${this.#url} not ready after ${timeout} ms` +
            (r instanceof Error ? `: ${r.message}` : ` (status ${r.status})`),
        );
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    const waitedMs = performance.now() - t0;
    const res = await fetch(`${this.#url}/v1/datasets`, { headers: this.#headers({}) });
    if (!res.ok) throw new Error(`GET /v1/datasets: ${res.status} ${await res.text()}`);
    const statuses = await res.json() as DatasetStatusJson[];
    const byName = new Map(statuses.map((s) => [s.name.toLowerCase(), s]));
    const missing = tables.filter((t) => !byName.has(t));
    if (missing.length > 0) {
      throw new Error(`${this.#url} does not serve ${missing.join(", ")}`);
    }
    const loads: TableLoad[] = tables.map((t) => {
      const s = byName.get(t)!;
      if (s.status === "error") throw new Error(`dataset ${t}: ${s.error}`);
      return { table: t, rows: s.rows ?? 0, ms: s.load_time_ms ?? 0 };
    });
    const server = this.#opts.server;
    return {
      tables: loads,
      // With a spawned server, start-up to ready is the honest wall time of the load.
      totalMs: server ? server.startMs + waitedMs : loads.reduce((s, l) => s + l.ms, 0),
      note: server
        ? "per table: the runtime's load_time_ms (tables load concurrently); " +
          "total: spawn until /v1/ready"
        : "the runtime's load_time_ms; tables load concurrently, so the total overlaps",
    };
  }

  /** Posts the SQL and decodes the whole Arrow IPC stream (as DuckDB materialises its result). */
  async run(sql: string): Promise<RunOutcome> {
    const res = await fetch(`${this.#url}/v1/sql`, {
      method: "POST",
      headers: this.#headers({ "Content-Type": "text/plain", Accept: ARROW_STREAM }),
      body: sql,
    });
    if (!res.ok) throw new Error(await errorMessage(res));
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    return { rows: table.numRows };
  }

  /** The server's EXPLAIN ANALYZE (physical plan with metrics). */
  async explainAnalyze(sql: string): Promise<string> {
    const res = await fetch(`${this.#url}/v1/sql`, {
      method: "POST",
      headers: this.#headers({ "Content-Type": "text/plain", Accept: "application/json" }),
      body: `explain analyze ${sql}`,
    });
    if (!res.ok) throw new Error(await errorMessage(res));
    const rows = await res.json() as { plan_type: string; plan: string }[];
    return rows.filter((r) => r.plan_type.startsWith("physical")).map((r) => r.plan).join("\n");
  }

  /** The server process's peak RSS, when the harness started it (Linux only). */
  async memory(): Promise<EngineMemory> {
    const server = this.#opts.server;
    return {
      dataBytes: null,
      processPeakRssBytes: server ? await procPeakRss(server.pid) : null,
    };
  }

  /** Stops the server if the harness started it. */
  async close(): Promise<void> {
    await this.#opts.server?.stop();
  }
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const e = JSON.parse(text).error;
    if (e?.message) return `${res.status} ${e.code}: ${e.message}`;
  } catch { /* not JSON */ }
  return `${res.status}: ${text.slice(0, 500)}`;
}

/**
 * Starts a standalone spiced serving the TPC-H tables of `dataDir` and
 * returns an engine over it (the server stops when the engine closes).
 */
export async function spawnStandaloneEngine(
  dataDir: string,
  tables: readonly string[],
): Promise<HttpEngine> {
  const dir = await Deno.makeTempDir({ prefix: "spiced-bench-" });
  const spicepod = await writeTpchSpicepod(dataDir, tables, dir);
  const server = await spawnSpiced(["--spicepod", spicepod]);
  return new HttpEngine(server.url, {
    server: {
      ...server,
      stop: async () => {
        await server.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    },
    description: `standalone spiced (pid ${server.pid}) over HTTP at ${server.url}, ` +
      `arrow acceleration, results as Arrow IPC stream`,
  });
}
