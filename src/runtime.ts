/**
 * Wires a role together: spicepod -> catalog and datasets -> query engine ->
 * HTTP, Flight SQL and metrics endpoints (and, for cluster roles, the
 * scheduler or executor). `startRuntime` returns a handle that stops
 * everything it started.
 *
 * @module
 */

import { DatasetManager } from "./catalog/datasets.ts";
import { Catalog } from "./catalog/mod.ts";
import { type Flags, formatHostPort, VERSION } from "./cli/mod.ts";
import { SpiceError } from "./errors.ts";
import { DEFAULT_ENGINE_OPTIONS, QueryEngine } from "./query/mod.ts";
import type { ApiContext } from "./server/api.ts";
import { startHttpServer } from "./server/http.ts";
import { NodeMetrics, startMetricsServer } from "./server/metrics.ts";
import { QueryRegistry } from "./server/queries.ts";
import { loadSpicepod, parseSpicepod, type Spicepod } from "./spicepod/mod.ts";

/** A line-oriented logger. */
export type Logger = (level: "INFO" | "WARN" | "ERROR", msg: string) => void;

/** Logs to stderr with a timestamp. */
export const stderrLogger: Logger = (level, msg) => {
  console.error(`${new Date().toISOString()} ${level} ${msg}`);
};

/** A running runtime. */
export interface RuntimeHandle {
  readonly role: string;
  readonly ports: { http: number; flight: number | null; metrics: number };
  readonly engine: QueryEngine;
  readonly datasets: DatasetManager;
  readonly queries: QueryRegistry;
  /** Stops every server and timer this runtime started. */
  stop(): Promise<void>;
}

/** Loads the spicepod the flags name, or the built-in sample when the default path has none. */
export async function resolveSpicepod(flags: Flags, log: Logger): Promise<Spicepod> {
  if (flags.spicepodExplicit) return await loadSpicepod(flags.spicepod);
  try {
    await Deno.stat(flags.spicepod);
    return await loadSpicepod(flags.spicepod);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  log(
    "INFO",
    `no ${flags.spicepod}: serving the built-in sample spicepod (TPC-H, scale factor 0.01)`,
  );
  const text = await Deno.readTextFile(new URL("../spicepod.yaml", import.meta.url));
  return parseSpicepod(text, { baseDir: Deno.cwd(), fileName: "built-in sample spicepod" });
}

/** Starts the standalone runtime (the embedded default: everything in one process). */
export async function startRuntime(
  flags: Flags,
  log: Logger = stderrLogger,
): Promise<RuntimeHandle> {
  if (flags.role !== "standalone") {
    throw new SpiceError("CONFIG", `--role ${flags.role} is not available in this build yet`);
  }
  const pod = await resolveSpicepod(flags, log);
  for (const w of pod.warnings) log("WARN", w);
  const catalog = new Catalog();
  const parallelism = DEFAULT_ENGINE_OPTIONS.targetPartitions;
  const datasets = new DatasetManager(catalog, pod.datasets, {
    parallelism,
    events: {
      loaded: (name, rows, ms) =>
        log("INFO", `dataset ${name}: loaded ${rows} rows into memory in ${ms.toFixed(0)} ms`),
      failed: (name, e) => log("ERROR", `dataset ${name}: ${e.message}`),
    },
  });
  await datasets.initialize();
  const engine = new QueryEngine(catalog);
  const queries = new QueryRegistry();
  const metrics = new NodeMetrics(datasets, queries, "standalone");
  const tls = flags.tls
    ? {
      cert: await Deno.readTextFile(flags.tls.certFile),
      key: await Deno.readTextFile(flags.tls.keyFile),
    }
    : null;
  const startedAt = new Date();
  const endpoints: Record<string, string> = {};
  const ctx: ApiContext = {
    role: "standalone",
    version: VERSION,
    startedAt,
    endpoints,
    engine,
    datasets,
    queries,
    apiKeys: pod.runtime.apiKeys,
    queryTimeoutMs: pod.runtime.queryTimeoutMs,
    maxRequestBodyBytes: pod.runtime.maxRequestBodyBytes ?? 10 * 1024 * 1024,
    insecure: false,
    log: (m) => log("INFO", m),
  };
  const stops: (() => Promise<void>)[] = [];
  try {
    const http = await startHttpServer(
      { host: flags.http.host, port: flags.http.port, explicit: flags.explicit.has("http"), tls },
      () => ctx,
    );
    stops.push(() => http.close());
    endpoints.http = formatHostPort({ host: flags.http.host, port: http.port });
    const m = await startMetricsServer(
      {
        host: flags.metrics.host,
        port: flags.metrics.port,
        explicit: flags.explicit.has("metrics"),
      },
      metrics,
      (msg) => log("INFO", msg),
    );
    stops.push(() => m.close());
    endpoints.metrics = formatHostPort({ host: flags.metrics.host, port: m.port });
    log(
      "INFO",
      `spiced ${VERSION} (standalone): HTTP on ${endpoints.http}, metrics on ${endpoints.metrics}`,
    );
    datasets.whenLoaded().then(() => {
      if (datasets.ready) log("INFO", "all datasets loaded: ready");
    });
    return {
      role: "standalone",
      ports: { http: http.port, flight: null, metrics: m.port },
      engine,
      datasets,
      queries,
      stop: async () => {
        datasets.close();
        for (const s of stops.reverse()) await s().catch(() => {});
      },
    };
  } catch (e) {
    datasets.close();
    for (const s of stops.reverse()) await s().catch(() => {});
    throw e;
  }
}
