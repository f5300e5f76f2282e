/**
 * Cluster-scope metrics over a scheduler's executor registry (no processes):
 * names and types follow Prometheus conventions, every series of an
 * executor carries its id, values come from heartbeat counters, and an
 * executor silent past the heartbeat timeout has no series.
 */

import assert from "node:assert/strict";
import { ClusterMetrics } from "../../src/cluster/cluster_metrics.ts";
import type { ExecutorInfo } from "../../src/cluster/scheduler.ts";
import { parsePrometheus, samplesOf, valueOf } from "../support/prometheus.ts";

function executor(id: string, lastHeartbeat: number, counters: Record<string, number> = {}) {
  return {
    id,
    address: `10.0.0.${id.length}:50052`,
    slots: 4,
    registeredAt: new Date(0),
    lastHeartbeat,
    freeSlots: 3,
    running: new Set(["job/1/0/0"]),
    ready: true,
    counters,
    tasksLaunched: 7,
    client: null,
  } as unknown as ExecutorInfo;
}

Deno.test("cluster metrics: per-executor series from the registry and heartbeats", async () => {
  let now = 100_000;
  const executors = new Map<string, ExecutorInfo>([
    ["ex-a", executor("ex-a", now - 500, { tasksSucceeded: 5, taskSeconds: 1.5 })],
    ["ex-b", executor("ex-b", now - 100, { shuffleBytesWritten: 1024, tasksFailed: 1 })],
  ]);
  const m = new ClusterMetrics({ executors }, { staleAfterMs: 2000, now: () => now });
  let e = parsePrometheus(await m.text());
  assert.equal(valueOf(e, "spiced_cluster_executors_active"), 2);
  assert.equal(e.types.get("spiced_cluster_executors_active"), "gauge");
  for (const [name, type] of e.types) {
    assert.match(name, /^spiced_cluster_[a-z_]+$/);
    // Counters end in _total; nothing else does.
    assert.equal(name.endsWith("_total"), type === "counter", `${name} is a ${type}`);
  }
  for (
    const name of [
      "spiced_cluster_executor_slots",
      "spiced_cluster_executor_slots_busy",
      "spiced_cluster_executor_heartbeat_age_seconds",
      "spiced_cluster_executor_tasks_launched_total",
      "spiced_cluster_executor_tasks_succeeded_total",
      "spiced_cluster_executor_tasks_failed_total",
      "spiced_cluster_executor_task_seconds_total",
      "spiced_cluster_executor_shuffle_written_bytes_total",
      "spiced_cluster_executor_shuffle_written_rows_total",
      "spiced_cluster_executor_shuffle_read_bytes_total",
      "spiced_cluster_executor_shuffle_read_rows_total",
      "spiced_cluster_executor_shuffle_fetched_bytes_total",
    ]
  ) {
    const ids = samplesOf(e, name).map((s) => s.labels.executor).sort();
    assert.deepEqual(ids, ["ex-a", "ex-b"], name);
  }
  assert.equal(
    valueOf(e, "spiced_cluster_executor_tasks_succeeded_total", { executor: "ex-a" }),
    5,
  );
  // A counter an executor has not reported yet starts at 0.
  assert.equal(
    valueOf(e, "spiced_cluster_executor_tasks_succeeded_total", { executor: "ex-b" }),
    0,
  );
  assert.equal(valueOf(e, "spiced_cluster_executor_task_seconds_total", { executor: "ex-a" }), 1.5);
  assert.equal(
    valueOf(e, "spiced_cluster_executor_shuffle_written_bytes_total", { executor: "ex-b" }),
    1024,
  );
  assert.equal(valueOf(e, "spiced_cluster_executor_tasks_launched_total", { executor: "ex-a" }), 7);
  assert.equal(valueOf(e, "spiced_cluster_executor_slots_busy", { executor: "ex-a" }), 1);
  assert.equal(
    valueOf(e, "spiced_cluster_executor_heartbeat_age_seconds", { executor: "ex-a" }),
    0.5,
  );
  assert.equal(
    samplesOf(e, "spiced_cluster_executor_info", { executor: "ex-b" })[0].labels.address,
    "10.0.0.4:50052",
  );

  // ex-a goes silent past the timeout: its series go, ex-b's stay.
  now += 1800;
  e = parsePrometheus(await m.text());
  assert.equal(valueOf(e, "spiced_cluster_executors_active"), 1);
  assert.ok(!e.samples.some((s) => s.labels.executor === "ex-a"), "no series of a stale executor");
  assert.ok(e.samples.some((s) => s.labels.executor === "ex-b"));

  // And once the scheduler drops it from the registry, it stays gone.
  executors.delete("ex-a");
  executors.get("ex-b")!.lastHeartbeat = now;
  e = parsePrometheus(await m.text());
  assert.equal(valueOf(e, "spiced_cluster_executors_active"), 1);
  assert.ok(!e.samples.some((s) => s.labels.executor === "ex-a"));
});
