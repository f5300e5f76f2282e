/**
 * Wires a role together from the parts: spicepod -> catalog and datasets ->
 * query engine -> HTTP, Flight SQL and metrics endpoints, plus, for cluster
 * roles, the scheduler or the executor. `startRuntime` returns a handle that
 * stops everything it started.
 *
 * - standalone: everything in one process; plans run in process.
 * - scheduler: plans queries and runs them as stages on executors; holds no data.
 * - executor: loads the datasets, runs tasks, serves shuffle output.
 *
 * @module
 */

import { DatasetManager } from "./catalog/datasets.ts";
import { Catalog } from "./catalog/mod.ts";
import { type Flags, formatHostPort, VERSION } from "./cli/mod.ts";
import { ExecutorNode } from "./cluster/executor.ts";
import type { ClusterSecurity } from "./cluster/grpc.ts";
import { loadClusterSecurity } from "./cluster/security.ts";
import { Scheduler } from "./cluster/scheduler.ts";
import { startSchedulerService } from "./cluster/scheduler_service.ts";
import { SpiceError } from "./errors.ts";
import { DEFAULT_ENGINE_OPTIONS, type PlanRunner, QueryEngine } from "./query/mod.ts";
import type { ApiContext } from "./server/api.ts";
import { startFlightServer } from "./server/flight/mod.ts";
import { startHttpServer } from "./server/http.ts";
import { bindWithFallback } from "./server/listen.ts";
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
  readonly ports: { http: number; flight: number | null; metrics: number; cluster: number | null };
  readonly engine: QueryEngine | null;
  readonly datasets: DatasetManager;
  readonly queries: QueryRegistry;
  readonly scheduler: Scheduler | null;
  readonly executor: ExecutorNode | null;
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

/** Starts the runtime for the role the flags choose. */
export async function startRuntime(
  flags: Flags,
  log: Logger = stderrLogger,
): Promise<RuntimeHandle> {
  const pod = await resolveSpicepod(flags, log);
  for (const w of pod.warnings) log("WARN", w);
  const security = flags.role === "standalone" ? null : await loadClusterSecurity(flags);
  const stops: (() => Promise<void> | void)[] = [];
  try {
    return await start(flags, pod, security, log, stops);
  } catch (e) {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
    throw e;
  }
}

async function start(
  flags: Flags,
  pod: Spicepod,
  security: ClusterSecurity | null,
  log: Logger,
  stops: (() => Promise<void> | void)[],
): Promise<RuntimeHandle> {
  const role = flags.role;
  const catalog = new Catalog();
  const parallelism = DEFAULT_ENGINE_OPTIONS.targetPartitions;
  const datasets = new DatasetManager(catalog, pod.datasets, {
    parallelism,
    // The scheduler plans against the sources; executors and standalone hold the data.
    accelerate: role !== "scheduler",
    events: {
      loaded: (name, rows, ms) =>
        log("INFO", `dataset ${name}: loaded ${rows} rows into memory in ${ms.toFixed(0)} ms`),
      failed: (name, e) => log("ERROR", `dataset ${name}: ${e.message}`),
    },
  });
  await datasets.initialize();
  stops.push(() => datasets.close());
  const queries = new QueryRegistry();
  const metrics = new NodeMetrics(datasets, queries, role);
  const endpoints: Record<string, string> = {};

  let scheduler: Scheduler | null = null;
  let executor: ExecutorNode | null = null;
  let clusterPort: number | null = null;
  let engine: QueryEngine | null = null;
  const bind = flags.nodeBindAddress;

  if (role === "scheduler") {
    const s = new Scheduler({
      security: security!,
      log,
      heartbeatTimeoutMs: envMs("SPICED_HEARTBEAT_TIMEOUT_MS"),
      heartbeatIntervalMs: envMs("SPICED_HEARTBEAT_INTERVAL_MS"),
      noExecutorTimeoutMs: envMs("SPICED_NO_EXECUTOR_TIMEOUT_MS"),
    });
    scheduler = s;
    stops.push(() => s.close());
    const svc = await bindWithFallback(
      "cluster",
      bind.host,
      bind.port,
      flags.explicit.has("node-bind-address"),
      (port) =>
        startSchedulerService(
          s,
          `${formatHostPort({ host: bind.host, port })}`,
          security!,
          (m) => log("WARN", m),
        ),
      (m) => log("INFO", m),
    );
    stops.push(() => svc.stop());
    clusterPort = svc.port;
    endpoints.cluster = formatHostPort({ host: bind.host, port: svc.port });
    const runner: PlanRunner = {
      run: (plan, o) => s.run(plan, { ...o, sql: queries.get(o.queryId)?.sql }),
      describe: (id) => s.describeJob(id),
      targetPartitions: () => s.totalSlots(),
    };
    engine = new QueryEngine(catalog, {}, runner);
  } else if (role === "executor") {
    const sched = flags.schedulerAddress!;
    const advertise = advertiseHost(flags);
    const ex = await bindWithFallback(
      "cluster",
      bind.host,
      bind.port,
      flags.explicit.has("node-bind-address"),
      (port) =>
        ExecutorNode.start({
          id: `${advertise}-${crypto.randomUUID().slice(0, 8)}`,
          bindHost: bind.host,
          bindPort: port,
          advertiseHost: advertise,
          slots: flags.executorSlots,
          scheduler: formatHostPort({ host: sched.host, port: sched.port }),
          security: security!,
          catalog,
          ready: () => datasets.ready,
          version: VERSION,
          log,
          heartbeatIntervalMs: envMs("SPICED_HEARTBEAT_INTERVAL_MS"),
        }),
      (m) => log("INFO", m),
    );
    executor = ex;
    stops.push(() => ex.stop());
    clusterPort = ex.port;
    endpoints.cluster = ex.address;
    metrics.executorCounters = () => ({
      ...ex.counters,
      slots: flags.executorSlots,
      running_tasks: ex.runningTasks,
    });
  } else {
    engine = new QueryEngine(catalog);
  }

  const tls = flags.tls
    ? {
      cert: await Deno.readTextFile(flags.tls.certFile),
      key: await Deno.readTextFile(flags.tls.keyFile),
    }
    : null;
  const ctx: ApiContext = {
    role,
    version: VERSION,
    startedAt: new Date(),
    endpoints,
    engine: engine ?? new QueryEngine(catalog),
    datasets,
    queries,
    apiKeys: pod.runtime.apiKeys,
    queryTimeoutMs: pod.runtime.queryTimeoutMs,
    maxRequestBodyBytes: pod.runtime.maxRequestBodyBytes ?? 10 * 1024 * 1024,
    insecure: flags.allowInsecureConnections && role !== "standalone",
    log: (m) => log("INFO", m),
    ready: scheduler
      ? () =>
        datasets.ready && scheduler!.executors.size > 0 &&
        [...scheduler!.executors.values()].some((e) => e.ready)
      : executor
      ? () => datasets.ready && executor!.registered
      : undefined,
    sqlUnavailable: role === "executor"
      ? "executors do not answer queries: send them to the scheduler's /v1/sql"
      : undefined,
    extraStatus: scheduler
      ? () => ({
        executors: scheduler!.executorStatus(),
        running_queries: queries.running().map((q) => ({
          id: q.id,
          sql: q.sql,
          started_at: q.startedAt.toISOString(),
          ...(scheduler!.jobDetails(q.id) ?? {}),
        })),
      })
      : executor
      ? () => ({
        scheduler: flags.schedulerAddress!.url,
        registered: executor!.registered,
        executor_id: executor!.id,
        slots: flags.executorSlots,
        running_tasks: executor!.runningTasks,
      })
      : undefined,
  };
  const http = await startHttpServer(
    { host: flags.http.host, port: flags.http.port, explicit: flags.explicit.has("http"), tls },
    () => ctx,
  );
  stops.push(() => http.close());
  endpoints.http = formatHostPort({ host: flags.http.host, port: http.port });
  let flightPort: number | null = null;
  if (engine) {
    const eng = engine;
    const flight = await bindWithFallback(
      "Flight",
      flags.flight.host,
      flags.flight.port,
      flags.explicit.has("flight"),
      (port) =>
        startFlightServer({
          engine: eng,
          host: flags.flight.host,
          port,
          apiKeys: pod.runtime.apiKeys,
          tls: tls
            ? { cert: new TextEncoder().encode(tls.cert), key: new TextEncoder().encode(tls.key) }
            : null,
          onQuery: (info) =>
            queries.recordFinished(info.sql, "flight", info.queryId, info.durationMs, {
              rows: info.rows,
              error: info.error
                ? new SpiceError(info.error.code as never, info.error.message)
                : undefined,
            }),
        }),
      (msg) => log("INFO", msg),
    );
    stops.push(() => flight.close());
    flightPort = flight.port;
    endpoints.flight = formatHostPort({ host: flags.flight.host, port: flight.port });
  }
  const m = await startMetricsServer(
    { host: flags.metrics.host, port: flags.metrics.port, explicit: flags.explicit.has("metrics") },
    metrics,
    (msg) => log("INFO", msg),
  );
  stops.push(() => m.close());
  endpoints.metrics = formatHostPort({ host: flags.metrics.host, port: m.port });
  log(
    "INFO",
    `spiced ${VERSION} (${role}): HTTP on ${endpoints.http}, ${
      endpoints.flight ? `Flight SQL on ${endpoints.flight}, ` : ""
    }metrics on ${endpoints.metrics}${
      endpoints.cluster ? `, cluster on ${endpoints.cluster}` : ""
    }`,
  );
  datasets.whenLoaded().then(() => {
    if (datasets.ready) log("INFO", "all datasets loaded: ready");
  });
  return {
    role,
    ports: { http: http.port, flight: flightPort, metrics: m.port, cluster: clusterPort },
    engine,
    datasets,
    queries,
    scheduler,
    executor,
    stop: async () => {
      for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
    },
  };
}

/** The host an executor advertises: the flag (or NODE_ADVERTISE_ADDRESS), else a loopback-safe default. */
function advertiseHost(flags: Flags): string {
  const a = flags.nodeAdvertiseAddress;
  if (a) {
    // HOST or HOST:PORT: the port is always the bound one.
    const m = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
    if (m) return m[1];
    return a.includes(":") && a.split(":").length === 2 ? a.split(":")[0] : a;
  }
  const h = flags.nodeBindAddress.host;
  if (h === "0.0.0.0" || h === "::" || h === "") return "127.0.0.1";
  return h;
}

function envMs(name: string): number | undefined {
  const v = Deno.env.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0)) {
    throw new SpiceError(
      "CONFIG",
      `environment variable ${name} must be a positive number of milliseconds`,
    );
  }
  return n;
}
