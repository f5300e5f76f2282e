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
import { ClusterMetrics } from "./cluster/cluster_metrics.ts";
import { ExecutorNode } from "./cluster/executor.ts";
import type { ClusterSecurity } from "./cluster/grpc.ts";
import { loadClusterSecurity } from "./cluster/security.ts";
import { Scheduler } from "./cluster/scheduler.ts";
import { startSchedulerService } from "./cluster/scheduler_service.ts";
import { ShardWarmup } from "./cluster/warmup.ts";
import { formatStages } from "./distributed/explain.ts";
import { splitStages } from "./distributed/stages.ts";
import { SpiceError } from "./errors.ts";
import { DEFAULT_ENGINE_OPTIONS, type PlanRunner, QueryEngine } from "./query/mod.ts";
import { workerCount, WorkerPool } from "./parallel/pool.ts";
import { ParallelRunner } from "./parallel/runner.ts";
import { Admission } from "./server/admission.ts";
import type { ApiContext } from "./server/api.ts";
import { serveDashboard } from "./server/dashboard/mod.ts";
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
  /** The query gate (runtime.query.max_concurrent) shared by HTTP and Flight SQL. */
  readonly admission: Admission;
  /**
   * Stops every server and timer this runtime started. With `graceMs`, first
   * a graceful shutdown: no new queries or tasks are accepted, running
   * queries get up to `graceMs` to finish (then they are cancelled), and an
   * executor deregisters and hands its tasks back to the scheduler.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

/** The grace period of a graceful shutdown (env SPICED_SHUTDOWN_GRACE_MS, default 10 s). */
export function shutdownGraceMs(): number {
  return envMs("SPICED_SHUTDOWN_GRACE_MS") ?? 10_000;
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
  // Flags first: a bad certificate file is reported alone, before any spicepod message.
  const security = flags.role === "standalone" ? null : await loadClusterSecurity(flags);
  const pod = await resolveSpicepod(flags, log);
  for (const w of pod.warnings) log("WARN", w);
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
  const memoryLimitBytes = pod.runtime.memoryLimitBytes;
  // Accelerated data: loaded whole in standalone; on a cluster each executor holds its
  // share of the units and the scheduler only plans (src/cluster/affinity.ts).
  let warmup: ShardWarmup | null = null;
  const datasets = new DatasetManager(catalog, pod.datasets, {
    parallelism,
    mode: role === "scheduler" ? "plan" : role === "executor" ? "shard" : "load",
    prepare: (name, table) => warmup?.prepare(name, table) ?? Promise.resolve(),
    events: {
      loaded: (name, rows, ms) =>
        log("INFO", `dataset ${name}: loaded ${rows} rows into memory in ${ms.toFixed(0)} ms`),
      failed: (name, e) => log("ERROR", `dataset ${name}: ${e.message}`),
    },
  });
  await datasets.initialize();
  stops.push(() => datasets.close());
  const queries = new QueryRegistry();
  let stopping: Promise<void> | null = null;
  const metrics = new NodeMetrics(datasets, queries, role);
  const endpoints: Record<string, string> = {};

  let scheduler: Scheduler | null = null;
  let executor: ExecutorNode | null = null;
  let clusterPort: number | null = null;
  let engine: QueryEngine | null = null;
  const bind = flags.nodeBindAddress;

  if (role === "scheduler") {
    const heartbeatTimeoutMs = envMs("SPICED_HEARTBEAT_TIMEOUT_MS");
    // A finished job's summary (stages, tasks and time per executor) stays on its query record.
    const keepDetails = (id: string, details: Record<string, unknown> | null) => {
      const q = queries.get(id);
      if (q && details) Object.assign(q.details, details);
    };
    const s = new Scheduler({
      security: security!,
      log,
      heartbeatTimeoutMs,
      heartbeatIntervalMs: envMs("SPICED_HEARTBEAT_INTERVAL_MS"),
      noExecutorTimeoutMs: envMs("SPICED_NO_EXECUTOR_TIMEOUT_MS"),
      onJobEnd: keepDetails,
      currentGeneration: (t) => (catalog.get(t) as { generation?: string } | undefined)?.generation,
    });
    scheduler = s;
    stops.push(() => s.close());
    queries.onFinish((q) => keepDetails(q.id, s.jobDetails(q.id)));
    const cluster = new ClusterMetrics(s, { staleAfterMs: heartbeatTimeoutMs });
    metrics.clusterText = () => cluster.text();
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
      distributedPlan: (plan, analyzed) => {
        const stages = splitStages(plan);
        if (!analyzed) return formatStages(stages);
        const details = s.jobDetails(analyzed.queryId);
        const perStage = (details?.stages ?? []) as {
          stage: number;
          executors: Record<string, { tasks: number; ms: number }>;
        }[];
        return formatStages(stages, {
          figures: analyzed.figures,
          executors: new Map(perStage.map((st) => [st.stage, st.executors])),
        });
      },
    };
    engine = new QueryEngine(catalog, { memoryLimitBytes }, runner);
    const w = new ShardWarmup({
      scheduler: s,
      catalog,
      runner,
      datasets: () => datasets.acceleratedNames(),
      datasetsReady: () => datasets.ready,
      log,
    });
    warmup = w;
    w.start();
    stops.push(() => w.stop());
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
          shardHoldings: () => datasets.shardHoldings(),
          dropShards: (units) => void datasets.dropShards(units),
          version: VERSION,
          log,
          heartbeatIntervalMs: envMs("SPICED_HEARTBEAT_INTERVAL_MS"),
          memoryLimitBytes,
        }),
      (m) => log("INFO", m),
    );
    executor = ex;
    stops.push(() => ex.stop());
    clusterPort = ex.port;
    endpoints.cluster = ex.address;
    metrics.executorCounters = () => ({
      ...ex.refreshCounters(),
      slots: flags.executorSlots,
      running_tasks: ex.runningTasks,
    });
    ex.onTaskEnd((t) => metrics.taskDuration?.observe({ state: t.state }, t.seconds));
  } else {
    // Standalone: queries on accelerated data run on a pool of workers, one
    // per core, so every core works and this thread stays free for I/O.
    const workers = workerCount();
    if (workers > 0) {
      const pool = new WorkerPool(workers);
      stops.push(() => pool.close());
      engine = new QueryEngine(
        catalog,
        { targetPartitions: Math.max(parallelism, workers), memoryLimitBytes },
        new ParallelRunner(catalog, pool, { batchSize: DEFAULT_ENGINE_OPTIONS.batchSize }),
      );
      log("INFO", `query workers: ${workers}`);
    } else engine = new QueryEngine(catalog, { memoryLimitBytes });
  }

  const tls = flags.tls
    ? {
      cert: await Deno.readTextFile(flags.tls.certFile),
      key: await Deno.readTextFile(flags.tls.keyFile),
    }
    : null;
  // Every query (HTTP and Flight SQL) passes this gate; it also counts what a graceful stop waits for.
  const admission = new Admission({
    maxConcurrent: pod.runtime.maxConcurrent,
    maxQueued: envCount("SPICED_QUERY_QUEUE_SIZE"),
    queueTimeoutMs: envMs("SPICED_QUERY_QUEUE_TIMEOUT_MS"),
  });
  let draining = false;
  const ctx: ApiContext = {
    role,
    version: VERSION,
    startedAt: new Date(),
    endpoints,
    engine: engine ?? new QueryEngine(catalog, { memoryLimitBytes }),
    datasets,
    queries,
    apiKeys: pod.runtime.apiKeys,
    queryTimeoutMs: pod.runtime.queryTimeoutMs,
    maxRequestBodyBytes: pod.runtime.maxRequestBodyBytes ?? 10 * 1024 * 1024,
    insecure: flags.allowInsecureConnections && role !== "standalone",
    log: (m) => log("INFO", m),
    admit: (signal) => admission.acquire(signal),
    ready: () =>
      !draining && (scheduler
        ? datasets.ready && scheduler!.executors.size > 0 &&
          [...scheduler!.executors.values()].some((e) => e.ready) && !!warmup?.ready
        : executor
        ? datasets.ready && executor!.registered
        : datasets.ready),
    sqlUnavailable: role === "executor"
      ? "executors do not answer queries: send them to the scheduler's /v1/sql"
      : undefined,
    extraStatus: scheduler
      ? () => {
        const executors = scheduler!.executorStatus();
        return {
          executors_active: executors.length,
          slots_total: executors.reduce((n, e) => n + (e.slots as number), 0),
          executors,
        };
      }
      : executor
      ? () => ({
        scheduler: flags.schedulerAddress!.url,
        registered: executor!.registered,
        executor_id: executor!.id,
        slots: flags.executorSlots,
        running_tasks: executor!.runningTasks,
      })
      : undefined,
    queryDetails: scheduler ? (id) => scheduler!.jobDetails(id) : undefined,
    extraRoutes: serveDashboard,
  };
  const http = await startHttpServer(
    { host: flags.http.host, port: flags.http.port, explicit: flags.explicit.has("http"), tls },
    () => ctx,
  ).catch((e: unknown) => {
    if (!flags.tls || e instanceof SpiceError) throw e;
    // rustls refuses certificates it cannot use (an X.509 v1 certificate,
    // as the cluster's openssl lines make, is one): name the flag.
    const msg = (e as Error).message;
    throw new SpiceError(
      "CONFIG",
      `--tls-certificate-file ${flags.tls.certFile}: ${msg}` +
        (/UnsupportedCertVersion/.test(msg)
          ? " (HTTPS needs an X.509 v3 certificate; the cluster's mTLS accepts v1)"
          : ""),
    );
  });
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
          onQuery: (info) => {
            const q = queries.recordFinished(info.sql, "flight", info.queryId, info.durationMs, {
              rows: info.rows,
              bytes: info.bytes,
              error: info.error
                ? new SpiceError(info.error.code as never, info.error.message)
                : undefined,
            });
            const details = scheduler?.jobDetails(info.queryId);
            if (details) Object.assign(q.details, details);
          },
          admit: (signal) => admission.acquire(signal),
          queryTimeoutMs: pod.runtime.queryTimeoutMs,
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
    admission,
    stop(opts = {}) {
      stopping ??= (async () => {
        if ((opts.graceMs ?? 0) > 0) await drain(opts.graceMs!);
        // Each part gets a bounded time to stop: a shutdown never hangs.
        for (const s of [...stops].reverse()) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            Promise.resolve().then(s).catch(() => {}),
            new Promise<void>((r) => (timer = setTimeout(r, 5000))),
          ]);
          clearTimeout(timer);
        }
      })();
      return stopping;
    },
  };

  /** The graceful part of a stop: refuse new work, let running work finish within the grace. */
  async function drain(graceMs: number): Promise<void> {
    draining = true;
    admission.close(`spiced (${role}) is shutting down and accepts no new queries`);
    if (executor) {
      log("INFO", `shutting down: ${executor.runningTasks} running tasks, grace ${graceMs} ms`);
      await executor.drain(graceMs);
      return;
    }
    const running = admission.stats.running;
    log("INFO", `shutting down: waiting up to ${graceMs} ms for ${running} running queries`);
    if (await admission.idle(graceMs)) return;
    log("WARN", `grace period over: cancelling ${admission.stats.running} running queries`);
    const why = new SpiceError(
      "UNAVAILABLE",
      `spiced shut down before the query finished (grace period of ${graceMs} ms over)`,
    );
    for (const q of queries.running()) q.controller.abort(why);
    await admission.idle(2000);
  }
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

function envCount(name: string): number | undefined {
  const v = Deno.env.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new SpiceError("CONFIG", `environment variable ${name} must be a non-negative integer`);
  }
  return n;
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
