/**
 * Prometheus metrics (prom-client) served on --metrics: queries by status,
 * query duration, rows and bytes returned, dataset sizes and load times, the
 * process metrics, and on executors their tasks, task durations, shuffle
 * traffic and busy slots. `/metrics?scope=cluster` on the scheduler appends
 * the cluster-scope metrics (`src/cluster/cluster_metrics.ts`).
 *
 * @module
 */

import client from "prom-client";
import type { DatasetManager } from "../catalog/datasets.ts";
import type { QueryRegistry } from "./queries.ts";
import { bindWithFallback } from "./listen.ts";

/** The metrics of one node. */
export class NodeMetrics {
  readonly registry: client.Registry;
  readonly queries: client.Counter<"status" | "protocol">;
  readonly queryDuration: client.Histogram<"protocol">;
  readonly rowsReturned: client.Counter<"protocol">;
  readonly bytesReturned: client.Counter<"protocol">;
  /** Task wall-clock time by outcome (executors only; observed by the executor role). */
  readonly taskDuration: client.Histogram<"state"> | null = null;
  /** Extra text appended for ?scope=cluster (set by the scheduler). */
  clusterText: (() => Promise<string> | string) | null = null;
  /** Executor counters (set on executors). */
  executorCounters: (() => Record<string, number>) | null = null;

  /** Registers the node metrics, reading datasets and queries when scraped. */
  constructor(datasets: DatasetManager, queries: QueryRegistry, role: string) {
    this.registry = new client.Registry();
    this.registry.setDefaultLabels({ role });
    client.collectDefaultMetrics({ register: this.registry, prefix: "spiced_" });
    this.queries = new client.Counter({
      name: "spiced_queries_total",
      help: "Queries run, by final status",
      labelNames: ["status", "protocol"],
      registers: [this.registry],
    });
    this.queryDuration = new client.Histogram({
      name: "spiced_query_duration_seconds",
      help: "Query wall-clock time",
      labelNames: ["protocol"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    this.rowsReturned = new client.Counter({
      name: "spiced_query_rows_returned_total",
      help: "Rows returned to clients",
      labelNames: ["protocol"],
      registers: [this.registry],
    });
    this.bytesReturned = new client.Counter({
      name: "spiced_query_bytes_returned_total",
      help: "Bytes of encoded results sent to clients (HTTP body, Flight data bodies)",
      labelNames: ["protocol"],
      registers: [this.registry],
    });
    new client.Gauge({
      name: "spiced_dataset_rows",
      help: "Rows in each dataset (accelerated: in memory)",
      labelNames: ["dataset"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of datasets.statuses()) {
          if (d.rows !== null) this.set({ dataset: d.name }, d.rows);
        }
      },
    });
    new client.Gauge({
      name: "spiced_dataset_load_seconds",
      help: "Time the last acceleration load took",
      labelNames: ["dataset"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of datasets.statuses()) {
          if (d.load_time_ms !== null) this.set({ dataset: d.name }, d.load_time_ms / 1000);
        }
      },
    });
    new client.Gauge({
      name: "spiced_dataset_last_refresh_timestamp_seconds",
      help: "When each accelerated dataset was last loaded",
      labelNames: ["dataset"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of datasets.statuses()) {
          if (d.last_refresh) this.set({ dataset: d.name }, Date.parse(d.last_refresh) / 1000);
        }
      },
    });
    new client.Gauge({
      name: "spiced_queries_running",
      help: "Queries running now",
      registers: [this.registry],
      collect() {
        this.set(queries.running().length);
      },
    });
    if (role === "executor") this.taskDuration = this.#executorMetrics();
    queries.onFinish((q) => {
      this.queries.inc({ status: q.state, protocol: q.protocol });
      if (q.durationMs !== null) {
        this.queryDuration.observe({ protocol: q.protocol }, q.durationMs / 1000);
      }
      if (q.rows) this.rowsReturned.inc({ protocol: q.protocol }, q.rows);
      if (q.bytes) this.bytesReturned.inc({ protocol: q.protocol }, q.bytes);
    });
  }

  /** The executor's series: tasks, task durations, shuffle traffic, slots (read from `executorCounters`). */
  #executorMetrics(): client.Histogram<"state"> {
    const counters = () => this.executorCounters?.();
    const executorCounter = (name: string, help: string, key: string) =>
      new client.Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          const c = counters();
          this.reset();
          if (c && key in c) this.inc(c[key]);
        },
      });
    const executorGauge = (name: string, help: string, key: string) =>
      new client.Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const c = counters();
          this.reset();
          if (c && key in c) this.set(c[key]);
        },
      });
    executorCounter(
      "spiced_executor_tasks_succeeded_total",
      "Tasks this executor ran to completion",
      "tasksSucceeded",
    );
    executorCounter(
      "spiced_executor_tasks_failed_total",
      "Tasks this executor failed or had cancelled",
      "tasksFailed",
    );
    executorCounter(
      "spiced_executor_task_seconds_total",
      "Wall-clock seconds spent in tasks",
      "taskSeconds",
    );
    const taskDuration = new client.Histogram({
      name: "spiced_executor_task_duration_seconds",
      help: "Wall-clock time of each task on this executor, by outcome",
      labelNames: ["state"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [this.registry],
    });
    executorCounter(
      "spiced_executor_shuffle_written_bytes_total",
      "Shuffle bytes written (Arrow IPC)",
      "shuffleBytesWritten",
    );
    executorCounter(
      "spiced_executor_shuffle_written_rows_total",
      "Shuffle rows written",
      "shuffleRowsWritten",
    );
    executorCounter(
      "spiced_executor_shuffle_read_bytes_total",
      "Shuffle bytes served to consumers (Flight DoGet)",
      "shuffleBytesRead",
    );
    executorCounter(
      "spiced_executor_shuffle_read_rows_total",
      "Shuffle rows served to consumers",
      "shuffleRowsRead",
    );
    executorCounter(
      "spiced_executor_shuffle_fetched_bytes_total",
      "Shuffle bytes fetched from peers",
      "shuffleBytesFetched",
    );
    executorCounter(
      "spiced_executor_shuffle_spilled_bytes_total",
      "Shuffle bytes spilled to disk past the memory budget",
      "shuffleBytesSpilled",
    );
    executorCounter(
      "spiced_executor_shuffle_fetch_retries_total",
      "Shuffle fetches from peers that failed and were tried again",
      "shuffleFetchRetries",
    );
    executorGauge("spiced_executor_slots", "Task slots", "slots");
    executorGauge("spiced_executor_slots_busy", "Task slots in use", "running_tasks");
    return taskDuration;
  }

  /** The exposition text (with cluster metrics when asked and available). */
  async text(scope: string | null): Promise<string> {
    let out = await this.registry.metrics();
    if (scope === "cluster" && this.clusterText) out += "\n" + await this.clusterText();
    return out;
  }
}

/** Serves /metrics. */
export async function startMetricsServer(
  opts: { host: string; port: number; explicit: boolean },
  metrics: NodeMetrics,
  log: (m: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = await bindWithFallback(
    "metrics",
    opts.host,
    opts.port,
    opts.explicit,
    (port) =>
      new Promise<Deno.HttpServer<Deno.NetAddr>>((resolve, reject) => {
        try {
          const s = Deno.serve({ hostname: opts.host, port, onListen: () => {} }, async (req) => {
            const url = new URL(req.url);
            if (url.pathname !== "/metrics") return new Response("not found", { status: 404 });
            return new Response(await metrics.text(url.searchParams.get("scope")), {
              headers: { "content-type": metrics.registry.contentType },
            });
          });
          resolve(s);
        } catch (e) {
          reject(e);
        }
      }),
    log,
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}
