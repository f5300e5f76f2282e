/**
 * Cluster mode with real processes: a scheduler and executors on 127.0.0.1
 * answer all 22 TPC-H queries exactly as the standalone engine does; a query
 * survives the SIGKILL of an executor; executors come back after a
 * scheduler restart.
 */

import assert from "node:assert/strict";
import * as arrow from "apache-arrow";
import { fromArrowBatch } from "../../src/arrow/interop.ts";
import type { RecordBatch } from "../../src/arrow/batch.ts";
import { Catalog } from "../../src/catalog/mod.ts";
import { TpchTableProvider } from "../../src/connectors/tpch/provider.ts";
import { TPCH_QUERIES, TPCH_QUERY_ORDERED, TPCH_TABLES } from "../../src/connectors/tpch/mod.ts";
import { QueryEngine } from "../../src/query/mod.ts";
import { canonicalRows, diffResults } from "../support/compare.ts";
import { runOurs } from "../support/engine.ts";
import { startCluster } from "../support/cluster.ts";
import { type SpicedProcess, sql } from "../support/spiced.ts";

/** The first executor the scheduler reports running tasks on (polled, bounded). */
async function runningExecutor(
  base: string,
  executors: SpicedProcess[],
  timeoutMs: number,
): Promise<SpicedProcess> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const st = await (await fetch(`${base}/v1/status`)).json();
    for (const e of st.executors ?? []) {
      if (e.running_tasks > 0) {
        const port = e.address.split(":").pop();
        const proc = executors.find((p) =>
          p.logs.some((l) => l.includes(`cluster on 127.0.0.1:${port}`))
        );
        if (proc) return proc;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("no executor ran a task of the query in time");
}

async function clusterRows(base: string, query: string): Promise<RecordBatch[]> {
  const r = await sql(base, query, { accept: "application/vnd.apache.arrow.stream" });
  if (!r.ok) throw new Error(`cluster query failed (${r.status}): ${await r.text()}`);
  const table = arrow.tableFromIPC(new Uint8Array(await r.arrayBuffer()));
  return table.batches.map((b) => fromArrowBatch(b));
}

function standalone(sf: number): QueryEngine {
  const catalog = new Catalog();
  for (const t of TPCH_TABLES) catalog.register(t, new TpchTableProvider(t, sf));
  return new QueryEngine(catalog);
}

async function spicepodDir(sf: number, accelerate: boolean): Promise<string> {
  const dir = await Deno.makeTempDir();
  const datasets = TPCH_TABLES.map((t) =>
    `  - from: tpch:${t}\n    name: ${t}\n    params: { scale_factor: ${sf} }\n${
      accelerate ? "    acceleration: { enabled: true, engine: arrow }\n" : ""
    }`
  ).join("");
  await Deno.writeTextFile(
    `${dir}/spicepod.yaml`,
    `version: v1\nkind: Spicepod\nname: t\ndatasets:\n${datasets}`,
  );
  return dir;
}

Deno.test({
  name: "cluster of a scheduler and 3 executors answers TPC-H exactly as standalone",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await spicepodDir(0.01, true);
    const cluster = await startCluster({ executors: 3, cwd: dir });
    const local = standalone(0.01);
    try {
      for (let q = 0; q < TPCH_QUERIES.length; q++) {
        await t.step(`Q${q + 1}`, async () => {
          const ours = canonicalRows(await clusterRows(cluster.scheduler.http, TPCH_QUERIES[q]));
          const ref = canonicalRows(await runOurs(local, TPCH_QUERIES[q]));
          const diff = diffResults(ours, ref, TPCH_QUERY_ORDERED[q]);
          if (diff) throw new Error(`Q${q + 1} on the cluster differs from standalone: ${diff}`);
        });
      }
      await t.step("/v1/status lists the executors with slots and heartbeats", async () => {
        const st = await (await fetch(`${cluster.scheduler.http}/v1/status`)).json();
        assert.equal(st.role, "scheduler");
        assert.equal(st.executors.length, 3);
        for (const e of st.executors) {
          assert.match(e.address, /^127\.0\.0\.1:\d+$/);
          assert.ok(e.slots >= 1);
          assert.ok(e.last_heartbeat_age_ms < 5000);
          assert.ok(e.tasks_launched > 0, "every executor ran tasks");
        }
        assert.equal(st.insecure, true);
      });
      await t.step("EXPLAIN ANALYZE shows stages and tasks per executor", async () => {
        const rows = await (await sql(cluster.scheduler.http, "explain analyze " + TPCH_QUERIES[2]))
          .json();
        const plan = rows[1].plan as string;
        assert.match(plan, /stage=\d+ tasks=\d+ \[/);
        assert.match(plan, /HashJoinExec/);
      });
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a query survives the SIGKILL of an executor in its middle",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir(0.1, false);
    const cluster = await startCluster({ executors: 3, cwd: dir });
    const local = standalone(0.1);
    try {
      // Multi-stage: scan + join + partial/final aggregation + sort.
      const query = TPCH_QUERIES[17]; // Q18
      const expected = canonicalRows(await runOurs(local, query));
      const pending = clusterRows(cluster.scheduler.http, query);
      // Kill an executor while it is running tasks of this query.
      const victim = await runningExecutor(cluster.scheduler.http, cluster.executors, 20_000);
      await victim.stop("SIGKILL");
      const got = canonicalRows(await pending);
      const diff = diffResults(got, expected, TPCH_QUERY_ORDERED[17]);
      assert.equal(diff, null, `result after losing an executor differs: ${diff}`);
      // The scheduler notices the loss (missed heartbeats) within its timeout.
      const end = Date.now() + 10_000;
      while (
        !cluster.scheduler.logs.some((l) => /executor \S+ .* lost/.test(l)) && Date.now() < end
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(
        cluster.scheduler.logs.some((l) => /executor \S+ .* lost/.test(l)),
        "the scheduler noticed the lost executor",
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "executors re-register after the scheduler restarts; new queries succeed",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir(0.01, true);
    const cluster = await startCluster({ executors: 2, cwd: dir });
    try {
      const before = await (await sql(cluster.scheduler.http, "select count(*) as n from orders"))
        .json();
      assert.deepEqual(before, [{ n: 15000 }]);
      await cluster.restartScheduler("SIGKILL");
      await cluster.waitForExecutors(2, 20_000);
      const after = await (await sql(cluster.scheduler.http, "select count(*) as n from orders"))
        .json();
      assert.deepEqual(after, [{ n: 15000 }]);
      assert.ok(
        cluster.executors.some((e) =>
          e.logs.some((l) => /registering again|registered with scheduler/.test(l))
        ),
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "a query with no executors fails clearly after the wait",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await spicepodDir(0.01, false);
    const cluster = await startCluster({
      executors: 0,
      cwd: dir,
      env: { SPICED_NO_EXECUTOR_TIMEOUT_MS: "1500" },
    });
    try {
      const r = await sql(cluster.scheduler.http, "select count(*) from nation");
      assert.equal(r.status, 503);
      const e = (await r.json()).error;
      assert.equal(e.code, "NO_EXECUTORS");
      assert.match(e.message, /no executors/);
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
