/**
 * Cluster-scope metrics, served by the scheduler on `/metrics?scope=cluster`:
 * the live executors with an `executor` label: slots and busy slots, the
 * age of their last heartbeat, the tasks the scheduler distributed to each,
 * and the counters each executor reports in its heartbeats (tasks succeeded
 * and failed, task time, shuffle bytes and rows written, served and
 * fetched). Everything is read from the scheduler's executor registry when
 * scraped: no request goes to an executor on the scrape path. An executor
 * that missed heartbeats for longer than the timeout has no series (the
 * scheduler drops it from its registry; a scrape in between skips it).
 *
 * @module
 */

import client from "prom-client";
import type { ExecutorInfo } from "./scheduler.ts";

/** What the cluster metrics read: the scheduler's live executors. */
export interface ClusterMetricsSource {
  readonly executors: ReadonlyMap<string, ExecutorInfo>;
}

/** Options of `ClusterMetrics`. */
export interface ClusterMetricsOptions {
  /** An executor silent this long has no series (the scheduler's heartbeat timeout; default 10 s). */
  readonly staleAfterMs?: number;
  /** The clock (tests). */
  readonly now?: () => number;
}

/** A heartbeat counter exposed per executor: metric name, help, key in the heartbeat's metrics. */
const HEARTBEAT_COUNTERS: readonly (readonly [string, string, string])[] = [
  [
    "spiced_cluster_executor_tasks_succeeded_total",
    "Tasks the executor ran to completion (from its heartbeats)",
    "tasksSucceeded",
  ],
  [
    "spiced_cluster_executor_tasks_failed_total",
    "Tasks that failed or were cancelled on the executor (from its heartbeats)",
    "tasksFailed",
  ],
  [
    "spiced_cluster_executor_task_seconds_total",
    "Wall-clock seconds the executor spent running query tasks (from its heartbeats)",
    "taskSeconds",
  ],
  [
    "spiced_cluster_executor_shuffle_written_bytes_total",
    "Shuffle bytes the executor wrote (from its heartbeats)",
    "shuffleBytesWritten",
  ],
  [
    "spiced_cluster_executor_shuffle_written_rows_total",
    "Shuffle rows the executor wrote (from its heartbeats)",
    "shuffleRowsWritten",
  ],
  [
    "spiced_cluster_executor_shuffle_read_bytes_total",
    "Shuffle bytes the executor served to readers (from its heartbeats)",
    "shuffleBytesRead",
  ],
  [
    "spiced_cluster_executor_shuffle_read_rows_total",
    "Shuffle rows the executor served to readers (from its heartbeats)",
    "shuffleRowsRead",
  ],
  [
    "spiced_cluster_executor_shuffle_fetched_bytes_total",
    "Shuffle bytes the executor fetched from its peers (from its heartbeats)",
    "shuffleBytesFetched",
  ],
  [
    "spiced_cluster_executor_shuffle_spilled_bytes_total",
    "Shuffle bytes the executor spilled to disk (from its heartbeats)",
    "shuffleBytesSpilled",
  ],
  [
    "spiced_cluster_executor_shuffle_fetch_retries_total",
    "Shuffle fetches from peers that failed and were tried again (from its heartbeats)",
    "shuffleFetchRetries",
  ],
];

/** The cluster-scope metrics of a scheduler, in their own registry. */
export class ClusterMetrics {
  readonly registry: client.Registry;
  readonly #source: ClusterMetricsSource;
  readonly #staleAfterMs: number;
  readonly #now: () => number;

  /** Registers the cluster metrics over a scheduler's executor registry. */
  constructor(source: ClusterMetricsSource, opts: ClusterMetricsOptions = {}) {
    this.#source = source;
    this.#staleAfterMs = opts.staleAfterMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
    this.registry = new client.Registry();
    const live = () => this.liveExecutors();
    const registers = [this.registry];
    new client.Gauge({
      name: "spiced_cluster_executors_active",
      help: "Executors registered with the scheduler and heartbeating",
      registers,
      collect() {
        this.set(live().length);
      },
    });
    new client.Gauge({
      name: "spiced_cluster_executors_ready",
      help: "Active executors whose datasets are loaded",
      registers,
      collect() {
        this.set(live().filter((e) => e.ready).length);
      },
    });
    const perExecutorGauge = (name: string, help: string, value: (e: ExecutorInfo) => number) =>
      new client.Gauge({
        name,
        help,
        labelNames: ["executor"],
        registers,
        collect() {
          this.reset();
          for (const e of live()) this.set({ executor: e.id }, value(e));
        },
      });
    new client.Gauge({
      name: "spiced_cluster_executor_info",
      help: "One series per active executor: its id and the address peers reach it at",
      labelNames: ["executor", "address"],
      registers,
      collect() {
        this.reset();
        for (const e of live()) this.set({ executor: e.id, address: e.address }, 1);
      },
    });
    perExecutorGauge(
      "spiced_cluster_executor_ready",
      "1 when the executor's datasets are loaded, else 0",
      (e) => (e.ready ? 1 : 0),
    );
    perExecutorGauge("spiced_cluster_executor_slots", "Task slots of the executor", (e) => e.slots);
    perExecutorGauge(
      "spiced_cluster_executor_slots_busy",
      "Task slots the scheduler has running tasks in",
      (e) => e.running.size,
    );
    perExecutorGauge(
      "spiced_cluster_executor_heartbeat_age_seconds",
      "Seconds since the executor's last heartbeat",
      (e) => Math.max(0, this.#now() - e.lastHeartbeat) / 1000,
    );
    new client.Counter({
      name: "spiced_cluster_executor_tasks_launched_total",
      help: "Tasks the scheduler distributed to the executor",
      labelNames: ["executor"],
      registers,
      collect() {
        this.reset();
        for (const e of live()) this.inc({ executor: e.id }, e.tasksLaunched);
      },
    });
    for (const [name, help, key] of HEARTBEAT_COUNTERS) {
      new client.Counter({
        name,
        help,
        labelNames: ["executor"],
        registers,
        collect() {
          this.reset();
          // Before its first heartbeat report an executor's counters start at 0.
          for (const e of live()) {
            const v = e.counters[key];
            const ok = typeof v === "number" && Number.isFinite(v) && v >= 0;
            this.inc({ executor: e.id }, ok ? v : 0);
          }
        },
      });
    }
  }

  /** The executors with a heartbeat within the timeout, by id. */
  liveExecutors(): ExecutorInfo[] {
    const now = this.#now();
    return [...this.#source.executors.values()]
      .filter((e) => now - e.lastHeartbeat <= this.#staleAfterMs)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The exposition text. */
  async text(): Promise<string> {
    return await this.registry.metrics();
  }
}
