/**
 * Observability of a real cluster (a scheduler and 2 executor processes):
 * Prometheus metrics on every node and `?scope=cluster` on the scheduler
 * (names, executor labels, counters that grow with queries, series of a
 * stopped executor gone after the heartbeat timeout), `/v1/status`,
 * `/v1/queries` with the stages of finished queries, and EXPLAIN /
 * EXPLAIN ANALYZE with the distributed plan.
 */

import assert from "node:assert/strict";
import { startCluster, type TestCluster } from "../support/cluster.ts";
import { type Exposition, samplesOf, scrape as scrapeUrl, valueOf } from "../support/prometheus.ts";
import { sql, startSpiced } from "../support/spiced.ts";

const JOIN = "SELECT o_orderpriority, COUNT(*) AS n FROM orders JOIN lineitem " +
  "ON l_orderkey = o_orderkey WHERE l_quantity > 5 GROUP BY 1 ORDER BY 1";

/** The cluster-scope metric names the README documents. */
const CLUSTER_EXECUTOR_METRICS = [
  "spiced_cluster_executor_info",
  "spiced_cluster_executor_ready",
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
  "spiced_cluster_executor_shuffle_spilled_bytes_total",
  "spiced_cluster_executor_shuffle_fetch_retries_total",
];

async function spicepodDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "spiced-observability-" });
  const datasets = ["lineitem", "orders", "nation"].map((t) =>
    `  - from: tpch:${t}\n    name: ${t}\n    params: { scale_factor: 0.01 }\n` +
    `    acceleration: { enabled: true, engine: arrow }\n`
  ).join("");
  await Deno.writeTextFile(
    `${dir}/spicepod.yaml`,
    `version: v1\nkind: Spicepod\nname: observability\ndatasets:\n${datasets}`,
  );
  return dir;
}

async function query(base: string, text: string): Promise<{ id: string; rows: unknown }> {
  const r = await sql(base, text);
  const body = await r.json();
  if (!r.ok) throw new Error(`query failed (${r.status}): ${JSON.stringify(body)}`);
  return { id: r.headers.get("x-spice-query-id")!, rows: body };
}

async function status(cluster: TestCluster): Promise<Record<string, unknown>> {
  return await (await fetch(`${cluster.scheduler.http}/v1/status`)).json();
}

async function liveIds(cluster: TestCluster): Promise<string[]> {
  const st = await status(cluster);
  return (st.executors as { id: string }[]).map((e) => e.id).sort();
}

function clusterScrape(cluster: TestCluster): Promise<Exposition> {
  return scrapeUrl(`${cluster.scheduler.metrics}/metrics?scope=cluster`);
}

/** Polls until `cond` holds (bounded); returns the last value. */
async function until<T>(
  what: string,
  get: () => Promise<T>,
  cond: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (cond(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Prometheus naming conventions for our own families. */
function checkConventions(e: Exposition): void {
  for (const [name, type] of e.types) {
    if (!name.startsWith("spiced_") || name.startsWith("spiced_nodejs_")) continue;
    if (name.startsWith("spiced_process_")) continue;
    assert.match(name, /^spiced_[a-z0-9_]+$/, name);
    if (type === "counter") assert.ok(name.endsWith("_total"), `counter ${name} ends in _total`);
    else assert.ok(!name.endsWith("_total"), `${type} ${name} does not end in _total`);
    if (/(_seconds|_bytes)(_total)?$/.test(name) || type !== "histogram") continue;
    assert.fail(`histogram ${name} names its unit`);
  }
}

Deno.test({
  name: "observability of a 2-executor cluster: metrics, status, queries, EXPLAIN",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await spicepodDir();
    const cluster = await startCluster({ executors: 2, cwd: dir, executorSlots: 2 });
    try {
      const base = cluster.scheduler.http;
      const ids = await liveIds(cluster);
      assert.equal(ids.length, 2);
      await query(base, JOIN);

      await t.step("scheduler /metrics: node metrics; ?scope=cluster adds executors", async () => {
        const node = await scrapeUrl(`${cluster.scheduler.metrics}/metrics`);
        checkConventions(node);
        assert.equal(node.types.get("spiced_queries_total"), "counter");
        assert.equal(node.types.get("spiced_query_duration_seconds"), "histogram");
        assert.equal(node.types.get("spiced_query_rows_returned_total"), "counter");
        assert.equal(node.types.get("spiced_query_bytes_returned_total"), "counter");
        assert.ok(node.types.has("spiced_process_cpu_seconds_total"));
        assert.ok(node.types.has("spiced_process_resident_memory_bytes"));
        assert.ok(
          ![...node.types.keys()].some((n) => n.startsWith("spiced_cluster_")),
          "cluster metrics only with ?scope=cluster",
        );
        assert.ok(
          ![...node.types.keys()].some((n) => n.startsWith("spiced_executor_")),
          "executor series only on executors",
        );

        const c = await until(
          "heartbeat counters of both executors",
          () => clusterScrape(cluster),
          (e) =>
            ids.every((id) =>
              valueOf(e, "spiced_cluster_executor_tasks_succeeded_total", { executor: id }) > 0
            ),
        );
        checkConventions(c);
        assert.equal(valueOf(c, "spiced_cluster_executors_active"), 2);
        assert.equal(valueOf(c, "spiced_cluster_executors_ready"), 2);
        for (const name of CLUSTER_EXECUTOR_METRICS) {
          assert.ok(c.types.has(name), `${name} is exposed`);
          const labels = samplesOf(c, name).map((s) => s.labels.executor).sort();
          assert.deepEqual(labels, ids, `${name} has one series per live executor`);
        }
        for (const id of ids) {
          assert.equal(valueOf(c, "spiced_cluster_executor_slots", { executor: id }), 2);
          assert.ok(
            valueOf(c, "spiced_cluster_executor_tasks_launched_total", { executor: id }) > 0,
          );
          assert.ok(valueOf(c, "spiced_cluster_executor_task_seconds_total", { executor: id }) > 0);
          assert.ok(
            valueOf(c, "spiced_cluster_executor_heartbeat_age_seconds", { executor: id }) < 3,
          );
        }
        assert.ok(valueOf(c, "spiced_cluster_executor_shuffle_written_bytes_total") > 0);
        assert.ok(valueOf(c, "spiced_cluster_executor_shuffle_read_rows_total") > 0);
      });

      await t.step("counters grow after queries", async () => {
        const before = await clusterScrape(cluster);
        const nodeBefore = await scrapeUrl(`${cluster.scheduler.metrics}/metrics`);
        for (let i = 0; i < 3; i++) await query(base, JOIN);
        const bad = await sql(base, "SELECT no_such_column FROM orders");
        assert.equal(bad.status, 400);
        await bad.body?.cancel();
        const grew = (name: string, e: Exposition, labels: Record<string, string> = {}) =>
          valueOf(e, name, labels) > valueOf(before, name, labels);
        const after = await until(
          "cluster counters to grow",
          () => clusterScrape(cluster),
          (e) =>
            ids.every((id) =>
              grew("spiced_cluster_executor_tasks_launched_total", e, { executor: id }) &&
              grew("spiced_cluster_executor_tasks_succeeded_total", e, { executor: id }) &&
              grew("spiced_cluster_executor_task_seconds_total", e, { executor: id })
            ) &&
            grew("spiced_cluster_executor_shuffle_written_bytes_total", e) &&
            grew("spiced_cluster_executor_shuffle_written_rows_total", e) &&
            grew("spiced_cluster_executor_shuffle_read_bytes_total", e) &&
            grew("spiced_cluster_executor_shuffle_fetched_bytes_total", e),
        );
        assert.ok(after);
        const node = await scrapeUrl(`${cluster.scheduler.metrics}/metrics`);
        const d = (name: string, labels: Record<string, string> = {}) =>
          valueOf(node, name, labels) - valueOf(nodeBefore, name, labels);
        assert.equal(d("spiced_queries_total", { status: "finished", protocol: "http" }), 3);
        assert.equal(d("spiced_queries_total", { status: "failed", protocol: "http" }), 1);
        assert.equal(d("spiced_query_duration_seconds_count", { protocol: "http" }), 4);
        assert.equal(d("spiced_query_rows_returned_total", { protocol: "http" }), 15);
        assert.ok(d("spiced_query_bytes_returned_total", { protocol: "http" }) > 3 * 100);
      });

      await t.step(
        "executor /metrics: tasks, task durations, shuffle, slots, datasets",
        async () => {
          for (const ex of cluster.executors) {
            const e = await scrapeUrl(`${ex.metrics}/metrics`);
            checkConventions(e);
            assert.equal(e.types.get("spiced_executor_task_duration_seconds"), "histogram");
            assert.ok(
              valueOf(e, "spiced_executor_task_duration_seconds_count", { state: "succeeded" }) > 0,
            );
            const ok = valueOf(e, "spiced_executor_tasks_succeeded_total");
            assert.ok(ok > 0);
            assert.equal(
              valueOf(e, "spiced_executor_task_duration_seconds_count"),
              ok + valueOf(e, "spiced_executor_tasks_failed_total"),
              "every task is in the histogram",
            );
            assert.equal(e.types.get("spiced_executor_tasks_failed_total"), "counter");
            for (
              const n of [
                "spiced_executor_shuffle_written_bytes_total",
                "spiced_executor_shuffle_written_rows_total",
                "spiced_executor_shuffle_read_bytes_total",
                "spiced_executor_shuffle_read_rows_total",
              ]
            ) assert.equal(e.types.get(n), "counter", n);
            assert.equal(valueOf(e, "spiced_executor_slots"), 2);
            assert.equal(samplesOf(e, "spiced_executor_slots_busy").length, 1);
            assert.equal(valueOf(e, "spiced_dataset_rows", { dataset: "lineitem" }), 60016);
            assert.ok(e.types.has("spiced_process_cpu_seconds_total"));
          }
        },
      );

      await t.step(
        "/v1/status: role, version, uptime, endpoints, insecure, executors",
        async () => {
          const st = await status(cluster);
          assert.equal(st.role, "scheduler");
          assert.match(st.version as string, /^\d+\.\d+\.\d+/);
          assert.equal(typeof st.uptime_seconds, "number");
          const ep = st.endpoints as Record<string, string>;
          for (const k of ["http", "flight", "metrics", "cluster"]) assert.ok(ep[k], k);
          assert.equal(st.insecure, true);
          assert.match(st.warning as string, /insecure/);
          assert.equal(st.executors_active, 2);
          assert.equal(st.slots_total, 4);
          assert.ok(Array.isArray(st.running_queries));
          for (const e of st.executors as Record<string, unknown>[]) {
            assert.ok(ids.includes(e.id as string));
            assert.match(e.address as string, /^127\.0\.0\.1:\d+$/);
            assert.equal(e.slots, 2);
            assert.equal(e.state, "ready");
            assert.ok((e.last_heartbeat_age_ms as number) < 2500);
            assert.ok((e.tasks_launched as number) > 0);
            const counters = e.counters as Record<string, number>;
            assert.ok(counters.tasksSucceeded > 0);
          }
        },
      );

      await t.step("/v1/status and /v1/queries show a running query's stages", async () => {
        // A query runs for a few hundred ms at this scale: poll while it runs (bounded retries).
        let seen: Record<string, unknown> | null = null;
        for (let attempt = 0; attempt < 8 && !seen; attempt++) {
          const pending = query(base, JOIN);
          let done = false;
          pending.finally(() => (done = true));
          while (!done && !seen) {
            const st = await status(cluster);
            const q = (st.running_queries as Record<string, unknown>[]).find((q) =>
              q.sql === JOIN && Array.isArray(q.stages)
            );
            if (q) seen = q;
            await new Promise((r) => setTimeout(r, 5));
          }
          await pending;
        }
        assert.ok(seen, "a running query appeared in /v1/status with its stages");
        assert.equal(seen.state, "running");
        const stages = seen.stages as Record<string, number>[];
        assert.ok(stages.length >= 2);
        for (const s of stages) {
          assert.equal(s.pending + s.running + s.succeeded, s.tasks);
        }
      });

      await t.step(
        "/v1/queries keeps finished queries with stages and per-executor time",
        async () => {
          const { id } = await query(base, JOIN);
          const list = await (await fetch(`${base}/v1/queries`)).json();
          assert.ok(Array.isArray(list.running));
          const inList = (list.recent as Record<string, unknown>[]).find((q) => q.id === id);
          assert.ok(inList, "the query is among the recent ones");
          const q = await (await fetch(`${base}/v1/queries/${id}`)).json();
          assert.equal(q.sql, JOIN);
          assert.equal(q.state, "finished");
          assert.equal(q.rows, 5);
          assert.ok(q.bytes > 0);
          assert.ok(q.duration_ms >= 0);
          assert.equal(q.job_state, "succeeded");
          assert.ok(q.stages.length >= 3);
          let tasks = 0;
          for (const s of q.stages) {
            assert.equal(s.succeeded, s.tasks, `stage ${s.stage} finished all its tasks`);
            assert.equal(s.pending + s.running, 0);
            assert.match(s.output, /^(hash\(\d+\)|single|result)$/);
            const per = Object.values(s.executors) as { tasks: number; ms: number }[];
            assert.equal(per.reduce((a, v) => a + v.tasks, 0), s.tasks);
            for (const e of Object.keys(s.executors)) assert.ok(ids.includes(e));
            tasks += s.tasks;
          }
          const perQuery = Object.entries(q.executors) as [string, { tasks: number; ms: number }][];
          assert.deepEqual(perQuery.map(([e]) => e).sort(), ids, "both executors ran tasks");
          assert.equal(perQuery.reduce((a, [, v]) => a + v.tasks, 0), tasks);
          for (const [, v] of perQuery) assert.ok(v.ms > 0);
          const missing = await fetch(`${base}/v1/queries/no-such-query`);
          assert.equal(missing.status, 404);
          await missing.body?.cancel();
        },
      );

      await t.step(
        "EXPLAIN lists the stages; EXPLAIN ANALYZE adds figures per executor",
        async () => {
          const plain = (await query(base, "EXPLAIN " + JOIN)).rows as Record<string, string>[];
          assert.deepEqual(plain.map((r) => r.plan_type), [
            "logical_plan",
            "physical_plan",
            "distributed_plan",
          ]);
          const stageLines = plain[2].plan.split("\n").filter((l) => l.startsWith("Stage "));
          assert.ok(stageLines.length >= 3, plain[2].plan);
          for (const l of stageLines) {
            assert.match(l, /^Stage \d+( \(final\))?: tasks=\d+ output=\S+.* inputs=\[/);
          }
          assert.match(stageLines.at(-1)!, /^Stage 0 \(final\)/);
          assert.match(plain[2].plan, /ShuffleReaderExec: stage=\d+/);

          const analyzed = (await query(base, "EXPLAIN ANALYZE " + JOIN)).rows as Record<
            string,
            string
          >[];
          assert.deepEqual(analyzed.map((r) => r.plan_type), [
            "logical_plan",
            "physical_plan_with_metrics",
            "distributed_plan_with_metrics",
          ]);
          assert.match(analyzed[1].plan, /stage=\d+ tasks=\d+ \[/);
          assert.match(analyzed[1].plan, /output_rows=\d+, output_batches=\d+, elapsed=[\d.]+ms/);
          const d = analyzed[2].plan;
          const heads = d.split("\n").filter((l) => l.startsWith("Stage "));
          assert.equal(heads.length, stageLines.length);
          for (const h of heads) {
            assert.match(h, /output_rows=\d+ output_batches=\d+ task_time=[\d.]+ms executors=\[/);
          }
          for (const id of ids) assert.ok(d.includes(`${id}: `), `${id} appears with its tasks`);
          assert.match(d, /\d+ tasks [\d.]+ms/);
          assert.match(d, /ScanExec: lineitem .*metrics=\[output_rows=60016, output_batches=\d+/);
          assert.match(d, /Total: 5 rows in [\d.]+ ms$/);
        },
      );

      await t.step(
        "a stopped executor's series disappear after the heartbeat timeout",
        async () => {
          const victim = cluster.executors[1];
          const victimId = (await (await fetch(`${victim.http}/v1/status`)).json())
            .executor_id as string;
          assert.ok(ids.includes(victimId));
          const survivor = ids.find((id) => id !== victimId)!;
          await victim.stop("SIGKILL");
          const killedAt = Date.now();
          // Still listed right after the kill: the scheduler only knows from missed heartbeats.
          const right = await clusterScrape(cluster);
          if (Date.now() - killedAt < 1500) {
            assert.ok(right.samples.some((s) => s.labels.executor === victimId));
          }
          const gone = await until(
            "the stopped executor's series to go",
            () => clusterScrape(cluster),
            (e) => !e.samples.some((s) => s.labels.executor === victimId),
            15_000,
          );
          const after = Date.now() - killedAt;
          assert.ok(after < 2500 + 4000, `gone ${after} ms after the kill`);
          assert.equal(valueOf(gone, "spiced_cluster_executors_active"), 1);
          for (const name of CLUSTER_EXECUTOR_METRICS) {
            assert.deepEqual(samplesOf(gone, name).map((s) => s.labels.executor), [survivor], name);
          }
          // The scheduler's registry drops it at its next timer tick (every 500 ms).
          await until(
            "/v1/status to drop the stopped executor",
            () => liveIds(cluster),
            (l) => l.length === 1 && l[0] === survivor,
            3000,
          );
          // The cluster still answers, on the survivor.
          assert.equal(((await query(base, JOIN)).rows as unknown[]).length, 5);
        },
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "standalone /metrics: queries, rows and bytes returned, datasets, process",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "spiced-observability-standalone-" });
    await Deno.writeTextFile(
      `${dir}/spicepod.yaml`,
      "version: v1\nkind: Spicepod\nname: s\ndatasets:\n" +
        "  - from: tpch:nation\n    name: nation\n    params: { scale_factor: 0.01 }\n" +
        "    acceleration: { enabled: true, engine: arrow }\n",
    );
    const s = await startSpiced([], { cwd: dir });
    try {
      await s.ready();
      const before = await scrapeUrl(`${s.metrics}/metrics`);
      const r = await sql(s.http, "SELECT n_name FROM nation ORDER BY n_name");
      const body = await r.text();
      assert.equal(r.status, 200);
      const e = await scrapeUrl(`${s.metrics}/metrics`);
      checkConventions(e);
      const d = (name: string, labels: Record<string, string> = {}) =>
        valueOf(e, name, labels) - valueOf(before, name, labels);
      assert.equal(d("spiced_queries_total", { status: "finished", protocol: "http" }), 1);
      assert.equal(d("spiced_query_duration_seconds_count", { protocol: "http" }), 1);
      assert.equal(d("spiced_query_rows_returned_total", { protocol: "http" }), 25);
      assert.equal(
        d("spiced_query_bytes_returned_total", { protocol: "http" }),
        new TextEncoder().encode(body).length,
        "bytes returned are the response body's bytes",
      );
      assert.equal(valueOf(e, "spiced_dataset_rows", { dataset: "nation" }), 25);
      assert.ok(samplesOf(e, "spiced_dataset_load_seconds", { dataset: "nation" }).length === 1);
      const refreshed = valueOf(e, "spiced_dataset_last_refresh_timestamp_seconds", {
        dataset: "nation",
      });
      assert.ok(Math.abs(refreshed - Date.now() / 1000) < 600, "last refresh is recent");
      assert.ok(valueOf(e, "spiced_process_resident_memory_bytes") > 0);
      assert.ok(![...e.types.keys()].some((n) => /^spiced_(cluster|executor)_/.test(n)));
      // ?scope=cluster on a node without a cluster adds nothing.
      const scoped = await scrapeUrl(`${s.metrics}/metrics?scope=cluster`);
      assert.ok(![...scoped.types.keys()].some((n) => n.startsWith("spiced_cluster_")));
      // The record of the query carries its bytes too.
      const q = await (await fetch(`${s.http}/v1/queries/${r.headers.get("x-spice-query-id")}`))
        .json();
      assert.equal(q.rows, 25);
      assert.equal(q.bytes, new TextEncoder().encode(body).length);
      const st = await (await fetch(`${s.http}/v1/status`)).json();
      assert.equal(st.role, "standalone");
      assert.equal(st.insecure, false);
      assert.equal(st.executors, undefined);
      const page = await fetch(`${s.http}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>spiced<\/title>/);
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
