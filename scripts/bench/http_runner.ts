/**
 * Our engine behind spiced's HTTP API: `POST /v1/sql` with
 * `Accept: application/vnd.apache.arrow.stream`, the path a client (and a
 * cluster's scheduler) serves queries through. It benchmarks a spiced that is
 * already running (`--http-url`), one the harness starts over the benchmark's
 * Parquet files (`--http-spawn`), and a cluster's scheduler (`cluster.ts`
 * starts the cluster with `spawnSpiced` and queries it with `HttpEngine`).
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
  return {
    url,
    pid: child.pid,
    logs,
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
  /** Processes the engine owns: stopped on close, their peak RSS summed in the report. */
  readonly servers?: readonly SpicedServer[];
  /**
   * URLs whose /v1/datasets report the loads (default: the engine's URL). A
   * cluster's scheduler holds no data: its executors report the loads.
   */
  readonly loadSources?: readonly string[];
  /** Sent as `X-API-Key` when the runtime requires one. */
  readonly apiKey?: string;
  /** How long `load` waits for /v1/ready (default 30 minutes: SF 10 loads take a while). */
  readonly readyTimeoutMs?: number;
  /** When the harness began starting the servers (`performance.now()`): the load's wall time starts there. */
  readonly spawnedAt?: number;
  /** Whether the service is ready (default: `GET /v1/ready` answers 200). */
  readonly ready?: () => Promise<boolean>;
}

/** Queries a spiced over its HTTP API. */
export class HttpEngine implements BenchEngine {
  /** @inheritdoc */
  readonly name: string;
  /** @inheritdoc */
  readonly description: string;
  readonly #url: string;
  readonly #opts: HttpEngineOptions;

  /** The spiced's base URL. */
  get url(): string {
    return this.#url;
  }

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

  async #datasets(url: string): Promise<Map<string, DatasetStatusJson>> {
    const res = await fetch(`${url}/v1/datasets`, { headers: this.#headers({}) });
    if (!res.ok) throw new Error(`GET ${url}/v1/datasets: ${res.status} ${await res.text()}`);
    const statuses = await res.json() as DatasetStatusJson[];
    return new Map(statuses.map((s) => [s.name.toLowerCase(), s]));
  }

  /**
   * Waits for /v1/ready, then reads the load times the runtime measured from
   * /v1/datasets. The runtime loads its datasets concurrently, so the
   * per-table times overlap and their sum is not a wall time; the report
   * says so. With several sources (executors) a table's time is the slowest
   * node's.
   */
  async load(_dataDir: string, tables: readonly string[]): Promise<LoadReport> {
    const t0 = performance.now();
    const timeout = this.#opts.readyTimeoutMs ?? 30 * 60_000;
    const ready = this.#opts.ready ?? (async () => {
      const r = await fetch(`${this.#url}/v1/ready`).catch(() => null);
      await r?.body?.cancel();
      return r?.status === 200;
    });
    while (!(await ready())) {
      if (performance.now() - t0 > timeout) {
        throw new Error(`${this.#url} not ready after ${timeout} ms`);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    const readyAt = performance.now();
    const sources = this.#opts.loadSources ?? [this.#url];
    const reports = await Promise.all(sources.map((u) => this.#datasets(u)));
    const loads: TableLoad[] = tables.map((t) => {
      let rows = 0, ms = 0;
      reports.forEach((byName, k) => {
        const s = byName.get(t);
        if (!s) throw new Error(`${sources[k]} does not serve ${t}`);
        if (s.status === "error") throw new Error(`dataset ${t} on ${sources[k]}: ${s.error}`);
        rows = Math.max(rows, s.rows ?? 0);
        ms = Math.max(ms, s.load_time_ms ?? 0);
      });
      return { table: t, rows, ms };
    });
    const spawnedAt = this.#opts.spawnedAt;
    const spawned = spawnedAt !== undefined;
    return {
      tables: loads,
      // With spawned servers, start-up to ready is the honest wall time of the load.
      totalMs: spawned ? readyAt - spawnedAt : loads.reduce((s, l) => s + l.ms, 0),
      note: spawned
        ? "per table: the runtime's load_time_ms (tables load concurrently" +
          (sources.length > 1 ? `; slowest of ${sources.length} nodes` : "") +
          "); total: spawn until ready"
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

  /** The summed peak RSS of the processes the harness started (Linux only). */
  async memory(): Promise<EngineMemory> {
    const servers = this.#opts.servers ?? [];
    let total: number | null = null;
    for (const s of servers) {
      const peak = await procPeakRss(s.pid);
      if (peak !== null) total = (total ?? 0) + peak;
    }
    return { dataBytes: null, processPeakRssBytes: total };
  }

  /** Stops the servers the harness started. */
  async close(): Promise<void> {
    await Promise.all((this.#opts.servers ?? []).map((s) => s.stop()));
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
  const spawnedAt = performance.now();
  const server = await spawnSpiced(["--spicepod", spicepod]).catch(async (e) => {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  });
  return new HttpEngine(server.url, {
    servers: [{
      ...server,
      stop: async () => {
        await server.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    }],
    spawnedAt,
    description: `standalone spiced (pid ${server.pid}) over HTTP at ${server.url}, ` +
      `arrow acceleration, results as Arrow IPC stream`,
  });
}
